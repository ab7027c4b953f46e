// An exhaustive campaign keeps the campaign's promises: --time bounds it (and it then proves nothing),
// and a schedule whose run throws (a bug in the model) is an internal error with the token that
// replays it, not an exception out of the campaign (or a dead worker).

import test from 'ava';
import { runCampaign, type CampaignConfig } from '../fuzz/campaign.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import type { ActorDef } from '../src/mm/actor.js';
import { buildScenario, findActor } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import { fakeClock, frozenClock } from './helpers.js';

const MESSAGE = 'model bug: lonely ran alone';
const lonely: ActorDef = {
  name: 'lonely', summary: 'test', follows: '(test)', inMm: true, daemon: 'no', params: [],
  *run(c) {
    if (c.m.cpus.filter((x) => x.inMm && x.mm === 0).length < 2) throw new Error(MESSAGE);
    yield step('lonely');
  },
};

const base = (over: Partial<CampaignConfig>): CampaignConfig => ({
  archs: ['x86-ipi'], era: 'v6.6', variants: [], pool: [lonely, findActor('fault'), findActor('munmap'), findActor('gup_fast')],
  fixedActors: [], strategy: 'exhaustive', depth: 3, preemptions: 2, timeMs: null, runs: null, seed: 1, shrinkMs: 2000, ...over,
});

for (const preemptions of [2, Infinity]) {
  test(`an exhaustive search (preemptions ${preemptions}) whose run throws reports an internal error with its token and proves nothing`, (t) => {
    const r = runCampaign(base({ fixedActors: [{ actor: 'lonely' }], preemptions }), { now: frozenClock });
    t.is(r.complete, false);
    const err = r.internalErrors.find((e) => e.message === MESSAGE);
    t.truthy(err);
    const replay = decodeToken(err!.token);
    t.throws(() => execute(buildScenario(replay.spec, base({}).pool), follow(replay.schedule)), { message: MESSAGE });
  });
}

test('--time ends an exhaustive search, which then is not complete', (t) => {
  const actors = [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }, { actor: 'fault', args: { addr: 1 } }];
  const full = runCampaign(base({ fixedActors: actors }), { now: frozenClock });
  t.true(full.complete);
  const clock = fakeClock();
  // Each look at the clock is a millisecond later.
  const r = runCampaign(base({ fixedActors: actors, timeMs: 40 }), { now: () => clock.t++ });
  t.is(r.complete, false);
  t.true(r.executions > 0 && r.executions < full.executions, `${r.executions} of ${full.executions}`);
});

test('an exhaustive search that --runs ends between two architectures proves nothing of the one it never reached', (t) => {
  const actors = [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }];
  const one = runCampaign(base({ fixedActors: actors, preemptions: 1 }), { now: frozenClock });
  t.true(one.complete);
  const both = base({ fixedActors: actors, preemptions: 1, archs: ['x86-ipi', 'rcu-table-free'] });
  t.true(runCampaign(both, { now: frozenClock }).complete, 'both searched: proven');
  // Runs enough for x86-ipi alone: it is searched whole, rcu-table-free never.
  const cut = runCampaign({ ...both, runs: one.executions }, { now: frozenClock });
  t.is(cut.executions, one.executions);
  t.is(cut.complete, false);
});
