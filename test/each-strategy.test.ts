// Every strategy in the table (src/explore/strategies/index.ts), the ones added later included: it
// finds a known race within a fixed budget from a fixed seed, and the same seed gives the same
// campaign (executions, failures, tokens, the member that found each).

import test from 'ava';
import { runCampaign, type CampaignConfig } from '../fuzz/campaign.js';
import { STRATEGIES, type StrategyName } from '../src/explore/strategies/index.js';
import { findActor } from '../src/mm/scenario.js';
import { frozenClock } from './helpers.js';

// V2 (khugepaged-no-ipi-sync): GUP-fast walks a pte table collapse_file frees with no IPI to wait for.
const V2 = (strategy: StrategyName): CampaignConfig => ({
  archs: ['rcu-table-free'], era: 'v6.2', variants: ['khugepaged-no-ipi-sync'],
  pool: ['gup_fast', 'collapse_file'].map((a) => findActor(a)),
  fixedActors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }],
  strategy, depth: 3, preemptions: 2, timeMs: null, runs: 4000, seed: 3, shrinkMs: 1000, stopAfterFailures: 1, pctProbeRuns: 0,
});

for (const s of STRATEGIES) {
  test(`${s.name}: finds V2 within 4000 executions from seed 3, and the same seed gives the same campaign`, (t) => {
    const a = runCampaign(V2(s.name), { now: frozenClock });
    const b = runCampaign(V2(s.name), { now: frozenClock });
    const f = a.failures.find((x) => x.kind === 'table-use-after-free');
    t.truthy(f, `${s.name}: ${a.executions} executions, failures ${a.failures.map((x) => x.kind).join(', ') || 'none'}`);
    t.true(a.executions < 4000, `${s.name}: the campaign stops at its first failure (stopAfterFailures: 1), not at the budget`);
    t.is(b.executions, a.executions);
    t.deepEqual(b.failures.map((x) => [x.token, x.foundBy ?? null]), a.failures.map((x) => [x.token, x.foundBy ?? null]));
  });
}
