// Trace column heads show each actor's arguments (those off their defaults) and its mm when the world
// has several; the JSON trace has them all. And shrinking keeps what the user fixed.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { shrink } from '../src/explore/shrink.js';
import { columnHead, formatCall, renderTrace, traceJson } from '../src/explore/trace.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { BUG_ON } from '../src/mm/bug.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';

const none = { preemptions: [], choices: [] };

function render(spec: ScenarioSpec, pool: readonly ActorDef[] = ACTORS) {
  const scenario = buildScenario(spec, pool);
  const exec = execute(scenario, follow(none), { trace: true });
  return { text: renderTrace({ scenario, schedule: none, exec }), json: traceJson({ scenario, schedule: none, exec }), scenario };
}

test('default world, default arguments: heads are the actor names alone, as before', (t) => {
  const { text } = render({ arch: 'x86-ipi', actors: [{ actor: 'gup_fast', args: { addr: 0, write: 1 } }, { actor: 'mincore' }] });
  t.regex(text, /^ {6}CPU 0: gup_fast {31}CPU 1: mincore/m);
  t.notRegex(text, /world|mm0/);
});

test('arguments off their defaults are shown, and the mm when the world has several', (t) => {
  const { text, json } = render({ arch: 'x86-ipi', world: 'shared-file', actors: [{ actor: 'gup_fast', args: { addr: 9, write: 1 }, mm: 1 }, { actor: 'munmap', args: { vma: 1 } }] });
  t.regex(text, /^x86-ipi, era v6\.6, world shared-file; depth 1/);
  t.regex(text, /CPU 0: gup_fast\(addr=9\) mm1 +CPU 1: munmap\(vma=1\) mm0/);
  t.is(json.world, 'shared-file');
  t.deepEqual(json.actors.slice(0, 2), [
    { cpu: 0, name: 'gup_fast', args: { addr: 9, write: 1 }, mm: 1 },
    { cpu: 1, name: 'munmap', args: { vma: 1 }, mm: 0 },
  ]);
  t.notRegex(text, /CPU \d: rcu mm/, 'the RCU callback runner belongs to no mm');
});

test('a head never passes the column: arguments that do not fit are cut to …', (t) => {
  const long: ActorDef = {
    name: 'long_named_actor', summary: 's', follows: '(test)', inMm: true, daemon: 'no',
    params: ['alpha', 'beta', 'gamma', 'delta'].map((name) => ({ name, min: 0, max: 999, default: 0, doc: '' })),
    *run() { yield step('x'); },
  };
  const { scenario } = render({ arch: 'x86-ipi', world: 'shared-file', actors: [{ actor: long.name, args: { alpha: 111, beta: 222, gamma: 333, delta: 444 }, mm: 1 }] }, [...ACTORS, long]);
  const head = columnHead(scenario, 0, long.name, 44);
  t.true(head.length <= 44, head);
  t.is(head, 'CPU 0: long_named_actor(alpha=111,…) mm1');
  t.is(columnHead(scenario, 0, long.name, 30), 'CPU 0: long_named_actor(…) mm1');
  t.is(columnHead(scenario, 0, long.name, 24), 'CPU 0: long_named_actor…');
  t.is(formatCall({ actor: 'fault', args: { addr: 5 }, mm: 1 }), 'fault(addr=5,mm=1)');
  t.is(formatCall({ actor: 'fault' }), 'fault');
});

const bug: ActorDef = {
  name: 'bug_always', summary: 'BUG_ON(1), whatever its arguments', follows: '(test)', inMm: true, daemon: 'no',
  params: [{ name: 'k', min: 0, max: 3, default: 0, doc: '' }, { name: 'j', min: 0, max: 3, default: 0, doc: '' }],
  *run(c) {
    yield step('start');
    BUG_ON(c, true, 'always');
    yield step('done');
  },
};

test('shrinking moves arguments and the mm back to their defaults, except what the user fixed', (t) => {
  const pool = [...ACTORS, bug];
  const start = { spec: { arch: 'x86-ipi', world: 'shared-file', actors: [{ actor: 'bug_always', args: { k: 2, j: 3 }, mm: 1 }] }, schedule: none };
  t.is(execute(buildScenario(start.spec, pool), follow(none)).violation?.kind, 'kernel-bug');
  let clock = 0;
  const free = shrink(start, 'kernel-bug', { budgetMs: 1e9, now: () => clock++, pool });
  t.deepEqual(free.spec.actors, [{ actor: 'bug_always', args: { k: 0, j: 0 } }]);
  const kept = shrink(start, 'kernel-bug', { budgetMs: 1e9, now: () => clock++, pool, pinned: (call, arg) => call.actor === 'bug_always' && (arg === 'j' || arg === 'mm') });
  t.deepEqual(kept.spec.actors, [{ actor: 'bug_always', args: { k: 0, j: 3 }, mm: 1 }]);
});
