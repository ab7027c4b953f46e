// What the package exports is shared by every execution in a process: it is frozen, so an actor that
// writes to it fails at once (an internal error naming it) instead of changing later executions; and
// a user switch cannot take a built-in one's name in another case.

import test from 'ava';
import { runCampaign } from '../fuzz/campaign.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { ARCH_IDS, ARCHES, type Arch } from '../src/mm/arch.js';
import { ModelError } from '../src/mm/errors.js';
import { buildScenario, findActor } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import { ERA_IDS, ERAS, parseVariant, registerVariant, VARIANT_IDS, VARIANTS } from '../src/mm/switches.js';
import { frozenClock } from './helpers.js';

test('the exported tables are frozen, deeply', (t) => {
  for (const x of [ACTORS, ARCHES, ARCH_IDS, VARIANTS, VARIANT_IDS, ERA_IDS, ERAS, ARCHES['x86-ipi'], ARCHES['x86-pae'], VARIANTS[0], VARIANTS[0]?.eras, ERAS['v6.6'].bugs, ACTORS[0], ACTORS[0]?.params]) {
    t.true(Object.isFrozen(x));
  }
});

const mutator: ActorDef = {
  name: 'arch_mutator', summary: 'turns the architecture into PAE', follows: '(test)', inMm: false, daemon: 'no', params: [],
  *run(c) { (c.m.arch as { pae: boolean }).pae = true; yield step('set pae'); },
};

test('an actor that sets c.m.arch.pae is an internal error naming it, and the built-in architecture is unchanged', (t) => {
  const r = runCampaign({
    archs: ['x86-ipi'], era: 'v6.6', variants: [], pool: [mutator, findActor('fault')], fixedActors: undefined,
    strategy: 'random', depth: 3, preemptions: 2, timeMs: null, runs: 200, seed: 1, shrinkMs: 1000,
  }, { now: frozenClock });
  t.true(r.internalErrors.length >= 1);
  t.true(r.internalErrors[0]!.actors.includes('arch_mutator'));
  t.regex(r.internalErrors[0]!.message, /read.only|pae/);
  t.false(ARCHES['x86-ipi'].pae);
});

test('an actor that replaces c.m.arch does not reach the next execution of the scenario', (t) => {
  const seen: boolean[] = [];
  const replacer: ActorDef = {
    name: 'arch_replacer', summary: 'replaces the architecture', follows: '(test)', inMm: false, daemon: 'no', params: [],
    *run(c) { seen.push(c.m.arch.pae); (c.m as { arch: Arch }).arch = { ...c.m.arch, pae: true }; yield step('replaced'); },
  };
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'arch_replacer' }] }, [replacer]);
  execute(scn, follow({ preemptions: [], choices: [] }));
  execute(scn, follow({ preemptions: [], choices: [] }));
  t.deepEqual(seen, [false, false]);
});

test("a user variant 'v1' (V1 in another case) is refused, and V1 still names the built-in", (t) => {
  t.throws(() => registerVariant({ id: 'v1', summary: 'mine' }, '/tmp/m.mjs'), { instanceOf: ModelError, message: "variant 'v1' differs from V1 'retract-no-exit-test' only by case: choose another id" });
  t.is(parseVariant('V1').id, 'retract-no-exit-test');
  t.is(parseVariant('v1').id, 'retract-no-exit-test', 'tags are case-insensitive, as before');
});
