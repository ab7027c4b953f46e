// Executions to the first failure, per strategy, on catalog races with their catalog actors (the
// scenario fixed, as test/variants.test.ts gives it): 20 seeds each, median and max. Counted in
// executions, not time. Run: node dist/bench/strategies.js [budget]

import { execute } from '../src/explore/executor.js';
import { splitmix32 } from '../src/explore/schedulers.js';
import { findStrategy, type SamplingStrategy } from '../src/explore/strategies/index.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';
import { ACTORS } from '../src/mm/actors/index.js';

export const CATALOG: Readonly<Record<string, ScenarioSpec>> = {
  V2: { arch: 'rcu-table-free', era: 'v6.2', variants: ['khugepaged-no-ipi-sync'], actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }] },
  V3: { arch: 'rcu-table-free', era: 'v6.2', variants: ['gup-fast-no-pmd-recheck', 'khugepaged-no-ipi-sync'], actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }] },
  V7: { arch: 'x86-ipi', era: 'v6.6', variants: ['gup-fast-no-irq-disable'], actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }] },
};

/** Executions until the first violation (budget + 1 when none); k, as in a campaign, the mean length
 *  of the runs so far (60 before the first). */
export function toFirstFailure(spec: ScenarioSpec, strategy: SamplingStrategy, seed: number, depth: number, budget: number): number {
  const scn = buildScenario(spec, ACTORS);
  const rng = splitmix32(seed);
  // A learning strategy (greybox) keeps one guide over the runs, as a campaign does.
  const guide = strategy.guide?.(rng());
  let steps = 0;
  for (let i = 1; i <= budget; i++) {
    const k = i === 1 ? 60 : Math.max(1, Math.round(steps / (i - 1)));
    const ctx = { actors: scn.actors.length, depth, k };
    const plan = guide?.plan('fixed', ctx, rng());
    const e = execute(scn, plan ? plan.make() : strategy.make(rng(), ctx));
    if (e.violation) return i;
    if (plan) guide!.feedback(plan);
    steps += e.steps;
  }
  return budget + 1;
}

function main(): void {
  const budget = Number(process.argv[2] ?? 20000);
  for (const [v, spec] of Object.entries(CATALOG)) {
    for (const [name, depth] of [['random', 0], ['pct', 2], ['pct', 3], ['pct', 4], ['pos', 0], ['greybox', 0]] as const) {
      const s = findStrategy(name);
      if (s.kind !== 'sampling') continue;
      const xs = Array.from({ length: 20 }, (_, seed) => toFirstFailure(spec, s, seed, depth, budget)).sort((a, b) => a - b);
      const fmt = (x: number) => (x > budget ? `>${budget}` : String(x));
      console.log(`${v} ${name}${depth ? ` d=${depth}` : ''}: median ${fmt(xs[9]!)}, max ${fmt(xs[19]!)}, missed ${xs.filter((x) => x > budget).length}/20`);
    }
  }
}

if (process.argv[1]?.endsWith('strategies.js')) main();
