// An exception from a candidate while shrinking (a bug in the model that only a smaller scenario
// hits) is an internal error with the token that replays it; it neither ends the shrink nor escapes
// the campaign (in a worker thread it killed the worker: the v5.8 fork hunt lost its 6 workers so).

import test from 'ava';
import { runCampaign } from '../fuzz/campaign.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { shrink } from '../src/explore/shrink.js';
import { decodeToken } from '../src/explore/token.js';
import type { ActorDef } from '../src/mm/actor.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import { frozenClock } from './helpers.js';

const MESSAGE = 'model bug: bad ran without a second user thread';
// A violation with a second user thread in mm 0; an exception without one.
const bad: ActorDef = {
  name: 'bad', summary: 'test', follows: '(test)', inMm: true, daemon: 'no', params: [],
  *run(c) {
    if (c.m.cpus.filter((x) => x.inMm && x.mm === 0).length < 2) throw new Error(MESSAGE);
    c.m.events.push({ e: 'bug', msg: 'bad ran' });
    yield step('bad');
  },
};
const guard: ActorDef = { name: 'guard', summary: 'test', follows: '(test)', inMm: true, daemon: 'no', params: [], *run() { yield step('guard'); } };
const POOL = [bad, guard];

test('shrink skips a candidate that throws and keeps it, with what replays it', (t) => {
  const spec = { arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'guard' }, { actor: 'bad' }] };
  const s = shrink({ spec, schedule: { preemptions: [], choices: [] } }, 'kernel-bug', { budgetMs: 5000, now: frozenClock, pool: POOL });
  t.deepEqual(s.spec.actors.map((a) => a.actor), ['guard', 'bad']);
  t.is(s.exec.violation?.kind, 'kernel-bug');
  t.is(s.errors.length, 1);
  const e = s.errors[0]!;
  t.is(e.message, MESSAGE);
  t.deepEqual(e.spec.actors.map((a) => a.actor), ['bad']);
  t.throws(() => execute(buildScenario(e.spec, POOL), follow(e.schedule)), { message: MESSAGE });
});

test('a campaign whose shrinking hits an exception goes on, and reports it as an internal error with its token', (t) => {
  const r = runCampaign({
    archs: ['x86-ipi'], era: 'v6.6', variants: [], pool: POOL, fixedActors: undefined,
    strategy: 'random', depth: 3, preemptions: 2, timeMs: null, runs: 64, seed: 1, shrinkMs: 2000,
  }, { now: frozenClock });
  t.is(r.executions, 64, 'the campaign went on');
  t.true(r.failures.some((f) => f.kind === 'kernel-bug'));
  const err = r.internalErrors.find((e) => e.message === MESSAGE);
  t.truthy(err);
  const replay = decodeToken(err!.token);
  t.throws(() => execute(buildScenario(replay.spec, POOL), follow(replay.schedule)), { message: MESSAGE });
});
