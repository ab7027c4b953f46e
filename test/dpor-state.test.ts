// Stateful DPOR (src/explore/dpor.ts): the search cuts at a state explored before. What must hold:
// it still reaches every final state and every violation kind the unreduced search reaches; it does
// cut where it should, with fewer executions; and each soundness measure matters: a cut on the
// weaker key (no actor's locals), or a cut without the races of the steps below the earlier visit,
// misses a final state.

import test from 'ava';
import fc from 'fast-check';
import { dpor, type DporOptions } from '../src/explore/dpor.js';
import type { Execution } from '../src/explore/executor.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { buildScenario, type Scenario } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import type { Model } from '../src/mm/types.js';
import { cost, everySchedule, finalOf, op, scenarioOf, type Op } from './dpor-programs.js';

/** A clean end by its final state; a violation by its kind (the state an execution stopped in is
 *  not the search's business: steps independent of the violating one may or may not have run). */
const verdictOf = (m: Model, e: Execution, raw?: <T extends object>(o: T) => T) =>
  (e.outcome === 'clean' && !e.violation ? finalOf(m, e, raw) : `${e.outcome}:${e.violation?.kind ?? ''}`);

function search(scn: Scenario, opts: DporOptions = {}): { finals: Set<string>; runs: number; cuts: number } {
  const finals = new Set<string>();
  const r = dpor(scn, { isFailure: () => false, onFinal: (m, e, raw) => finals.add(verdictOf(m, e, raw)), ...opts });
  if (!r.complete) throw new Error('dpor: not complete');
  return { finals, runs: r.explored, cuts: r.cuts };
}

function unreduced(scn: Scenario): Set<string> {
  return new Set([...everySchedule(scn).finals].map((f) => (f.startsWith('clean::') ? f : f.split(':').slice(0, 2).join(':'))));
}

// Three actors; besides the writes and reads, sections that only take and drop a ptl (which leave
// nothing in the oracle and read the same whatever the order: states the search can merge), and
// writes without the ptl (a violation).
const opS: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: op, weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('l' as const), t: fc.constantFrom(5, 2), i: fc.constant(2) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('u' as const), t: fc.constant(5), i: fc.constant(2), v: fc.integer({ min: 1, max: 2 }) }), weight: 1 },
);
const programs3 = fc.array(fc.array(opS, { minLength: 1, maxLength: 2 }), { minLength: 3, maxLength: 3 })
  .filter((ps) => ps.flat().reduce((n, o) => n + cost(o), 0) <= 5);

test('stateful DPOR reaches the same final states and violation kinds as the unreduced search (property)', (t) => {
  let cut = 0;
  let violations = 0;
  fc.assert(fc.property(programs3, (ps) => {
    const all = unreduced(scenarioOf(ps));
    const red = search(scenarioOf(ps));
    t.deepEqual([...red.finals].sort(), [...all].sort(), JSON.stringify(ps));
    if (red.cuts > 0) cut++;
    if ([...all].some((f) => f.startsWith('violation:'))) violations++;
  }), { seed: 7, numRuns: 10 });
  t.true(cut >= 1, 'no program was cut: the property tests the stateless search only');
  t.true(violations >= 1, 'no program had a violation');
});

// Two actors that each, in one step, set a flag of their own and write the same value to a shared
// key (so their steps are dependent, and the search runs both orders), and readers that read both
// flags without a lock and record what they saw (and write a key of their own kind: two readers run
// in both orders too). After both flags, the state is the same in either order and so is
// everything each flagger read (nothing): the state after A;B is cut when B;A reaches it.
const flagger = (name: string): ActorDef => ({
  name, summary: '(test) sets a flag', follows: '(test)', inMm: true, daemon: 'no', params: [],
  *run(c) {
    c.m.actorState.set('x', 1);
    c.m.actorState.set(name, 1);
    yield step(`set ${name}`);
  },
});
const reader = (name: string): ActorDef => ({
  name, summary: '(test) reads both flags', follows: '(test)', inMm: true, daemon: 'no', params: [],
  *run(c) {
    const seen = (c.m.actorState.get('fa') === 1 ? 2 : 0) + (c.m.actorState.get('fb') === 1 ? 1 : 0);
    c.m.actorState.set('y', 1);
    c.m.actorState.set(`seen-${name}`, seen);
    yield step(`saw ${seen}`);
  },
});
const flags = (readers: number) => {
  const defs = [flagger('fa'), flagger('fb'), ...Array.from({ length: readers }, (_, i) => reader(`r${i}`))];
  return buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: defs.map((d) => ({ actor: d.name })) }, [...ACTORS, ...defs]);
};

test('a state reached again is cut, with fewer executions, and nothing is lost', (t) => {
  const all = unreduced(flags(2));
  const stateless = search(flags(2), { stateful: false });
  const stateful = search(flags(2));
  t.true(stateful.cuts > 0);
  t.true(stateful.runs < stateless.runs, `${stateful.runs} vs ${stateless.runs}`);
  t.deepEqual([...stateful.finals].sort(), [...all].sort());
  t.deepEqual([...stateless.finals].sort(), [...all].sort());
});

test('a cut without the races of the steps below the earlier visit misses a final state', (t) => {
  // The reader seeing fb set and fa not (B, the read, A) is reachable only by moving the read before
  // A's step in the order B;A, where the read is below the state cut: the race of the read with A's
  // step is known only from the earlier visit's summary.
  const all = unreduced(flags(1));
  const naive = search(flags(1), { unsoundForTest: { noSummary: true } });
  const sound = search(flags(1));
  t.true(naive.cuts > 0 && sound.cuts > 0);
  const missing = [...all].filter((f) => !naive.finals.has(f));
  t.deepEqual(missing.map((f) => /seen-r0:(\d)/.exec(f)?.[1]), ['1']);
  t.deepEqual([...sound.finals].sort(), [...all].sort());
});

test('a cut on the weaker key (the model and the steps taken, not what the actors read) misses a final state', (t) => {
  // cp reads 5[2] into a local, then writes it (+10) to 5[3]: after its read and the other actor's
  // write, the model and the steps taken are the same whether the read saw 0 or 1.
  const ps: Op[][] = [[{ k: 'cp', t: 5, i: 2, to: 5 }], [{ k: 'w', t: 5, i: 2, v: 1 }]];
  const all = unreduced(scenarioOf(ps));
  const weak = search(scenarioOf(ps), { unsoundForTest: { weakKey: true } });
  const sound = search(scenarioOf(ps));
  t.true(weak.cuts > 0);
  t.true([...all].some((f) => !weak.finals.has(f)), 'the weak key lost nothing: the test shows nothing');
  t.deepEqual([...sound.finals].sort(), [...all].sort());
});
