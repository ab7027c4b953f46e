// A schedule counts steps, so what is a step must not depend on whether a trace is kept, and a
// recorded schedule must replay the run it recorded, picks that ran no step included.

import test from 'ava';
import { execute, type Scheduler } from '../src/explore/executor.js';
import { follow, recording } from '../src/explore/schedule.js';
import { up_read, down_read } from '../src/mm/locks.js';
import { buildScenario } from '../src/mm/scenario.js';
import { blockUntil, step } from '../src/mm/step.js';
import type { ActorDef } from '../src/mm/actor.js';
import { testActor } from './helpers.js';

// The end of `unlocker` only releases mmap_lock: an event only a trace records.
const unlocker = testActor('unlocker', function* (c) {
  yield* down_read(c, c.mm.mmap_lock);
  yield step('work');
  up_read(c, c.mm.mmap_lock);
});
const other = testActor('other', function* () { yield step('a'); yield step('b'); });

test('an end that only releases a lock is a step whether a trace is kept or not', (t) => {
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'unlocker' }, { actor: 'other' }] }, [unlocker, other]);
  const s = { preemptions: [{ after: 0, steps: 2, to: 1 }], choices: [] };
  // The steps as the scheduler sees them (observe), untraced and traced.
  const seen = (trace: boolean) => {
    const out: string[] = [];
    const f = follow(s);
    execute(scn, { ...f, observe: (a, label, ev) => { out.push(`${a}:${label}`); f.observe?.(a, label, ev); } }, { trace });
    return out;
  };
  t.deepEqual(seen(true), ['0:mmap_read_lock(mmap_lock)', '0:work', '1:a', '1:b', '0:return']);
  t.deepEqual(seen(false), seen(true));
});

// `waiter` is runnable at the start; picked, it changes what `third` will see (with no event) and
// waits for `setter`: a pick that runs no step.
let flag = { set: false, ticket: false };
const waiter: ActorDef = testActor('waiter', function* () {
  flag.ticket = true;
  yield* blockUntil('wait for setter', () => flag.set);
  yield step('woken');
});
const setter = testActor('setter', function* () { flag.set = true; yield step('set'); });
const third = testActor('third', function* () { yield step(flag.ticket ? 'saw the ticket' : 'no ticket'); yield step('y'); });

test('a recorded schedule replays its run when a pick that ran no step came before a preemption', (t) => {
  const pool = [waiter, setter, third];
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'waiter' }, { actor: 'setter' }, { actor: 'third' }] }, pool);
  // First pick: waiter, the default (it runs no step); second: third, not the default (setter).
  let picks = 0;
  const inner: Scheduler = { pick: (r, last) => (picks++ === 1 && r.includes(2) ? 2 : r.includes(last) ? last : r[0]!), choose: () => 0 };
  flag = { set: false, ticket: false };
  const rec = recording(inner);
  const a = execute(scn, rec, { trace: true });
  t.is(a.trace[0]!.label, 'saw the ticket', 'third ran first, after the waiter\'s pick');
  flag = { set: false, ticket: false };
  const b = execute(scn, follow(rec.schedule()), { trace: true });
  t.deepEqual(b.trace.map((x) => x.label), a.trace.map((x) => x.label));
});
