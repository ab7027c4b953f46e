// Executions to the first failure, per strategy, on the catalog races (V1–V9) with their catalog
// actors (the scenario fixed, as test/variants.test.ts gives it): 20 seeds each, median and max runs
// to the first failure and the hit rate (failures per execution: seeds that found it over the
// executions of every seed, a seed that missed counting its whole budget). Counted in executions, not
// time. The 20-seed table (issue 12):
//   node dist/bench/strategies.js [budget=20000] [seeds=20] [variants=all] [strategies=all]
// e.g. node dist/bench/strategies.js 20000 20 V3,V9 pct:3,greybox

import { execute } from '../src/explore/executor.js';
import { CATALOG_RACES } from '../src/explore/catalog.js';
import { splitmix32 } from '../src/explore/schedulers.js';
import { findStrategy, type SamplingStrategy } from '../src/explore/strategies/index.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';
import { ACTORS } from '../src/mm/actors/index.js';

/** The catalog's races by tag (src/explore/catalog.ts): V1..V9. */
export const CATALOG: Readonly<Record<string, ScenarioSpec>> = Object.fromEntries(CATALOG_RACES.map((r) => [r.tag, r.spec]));

/** Executions until the first violation (budget + 1 when none); k, as in a campaign, the mean length
 *  of the runs so far (60 before the first). With `kind`, only a violation of that kind counts. */
export function toFirstFailure(spec: ScenarioSpec, strategy: SamplingStrategy, seed: number, depth: number, budget: number, kind?: string): number {
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
    if (e.violation && (kind === undefined || e.violation.kind === kind)) return i;
    if (plan) guide!.feedback(plan);
    steps += e.steps;
  }
  return budget + 1;
}

/** One row of the table: runs to the first failure over `seeds` seeds (0 .. seeds − 1). */
export function strategyRow(spec: ScenarioSpec, name: string, depth: number, seeds: number, budget: number) {
  const s = findStrategy(name);
  if (s.kind !== 'sampling') throw new Error(`${name} is not a sampling strategy`);
  const xs = Array.from({ length: seeds }, (_, seed) => toFirstFailure(spec, s, seed, depth, budget)).sort((a, b) => a - b);
  const found = xs.filter((x) => x <= budget).length;
  const runs = xs.reduce((a, x) => a + Math.min(x, budget), 0);
  return { median: xs[Math.floor((seeds - 1) / 2)]!, max: xs[seeds - 1]!, found, hitRate: found / runs };
}

const ALL: readonly (readonly [string, number])[] = [['random', 0], ['pct', 2], ['pct', 3], ['pct', 4], ['pos', 0], ['greybox', 0]];

/** A bad argument: one line, exit 2. */
function usage(message: string): never {
  console.error(`bench/strategies: ${message}`);
  process.exit(2);
}

function main(): void {
  const count = (i: number, name: string, d: number) => {
    const v = process.argv[i];
    if (v === undefined) return d;
    if (!/^[1-9]\d*$/.test(v)) usage(`${name} '${v}': give a whole number above 0`);
    return Number(v);
  };
  const budget = count(2, 'budget', 20000);
  const seeds = count(3, 'seeds', 20);
  const variants = process.argv[4] && process.argv[4] !== 'all' ? process.argv[4].split(',') : Object.keys(CATALOG);
  const badVariant = variants.find((v) => !CATALOG[v]);
  if (badVariant !== undefined) usage(`no variant '${badVariant}'; accepted are ${Object.keys(CATALOG).join(', ')} or all`);
  const strategies = process.argv[5] && process.argv[5] !== 'all'
    ? process.argv[5].split(',').map((x) => {
      const [n, d = '0'] = x.split(':');
      if (!ALL.some(([a]) => a === n)) usage(`no sampling strategy '${n}'; accepted are random, pct, pos, greybox (pct:D for a depth)`);
      if (!/^\d+$/.test(d)) usage(`'${x}': the depth after ':' is a whole number`);
      return [n!, Number(d)] as const;
    })
    : ALL;
  const fmt = (x: number) => (x > budget ? `>${budget}` : String(x));
  console.log(`budget ${budget} executions, seeds 0..${seeds - 1}; hit rate = seeds found / executions to the first failure`);
  for (const v of variants) {
    const spec = CATALOG[v]!;
    for (const [name, depth] of strategies) {
      const r = strategyRow(spec, name, depth, seeds, budget);
      console.log(`${v} ${`${name}${depth ? ` d=${depth}` : ''}`.padEnd(9)} median ${fmt(r.median).padStart(6)}  max ${fmt(r.max).padStart(6)}  hit rate ${r.hitRate.toFixed(4)}  missed ${seeds - r.found}/${seeds}`);
    }
  }
}

if (process.argv[1]?.endsWith('strategies.js')) main();
