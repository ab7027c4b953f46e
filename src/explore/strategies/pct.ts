// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with Probabilistic
// Guarantees of Finding Bugs", ASPLOS 2010): random distinct priorities for the n actors, and d − 1
// distinct priority-change points k_1 < … < k_{d−1} drawn among steps 1 .. k−1. At each decision the
// runnable actor of highest priority runs; when step k_i is about to be taken, the actor about to take
// it drops to priority d − 1 − i, below every initial one. A bug of depth d (d − 1 ordering
// constraints beyond the first) is found with probability at least 1 / (n · k^(d−1)) per run.
//
// Steps are counted as the executor counts them (each step of any actor, daemons included; an
// attempt that blocks at once and does nothing is not a step), which is also how a canonical
// schedule counts them, so k is a scenario's length in the same unit.
//
// Two departures of the earlier version from the paper, fixed here (issue 12):
// - it lowered the actor that had just taken step k_i, after the step: when that step was the actor's
//   last (or it blocked), the change point went to an actor that could no longer run and was lost;
//   the paper lowers the actor about to take step k_i, so a change point always preempts someone;
// - change points were drawn with replacement: two equal ones lowered the same actor twice, which
//   left a depth-d run with d − 2 useful change points.

import { execute, type Scheduler } from '../executor.js';
import type { Scenario } from '../../mm/scenario.js';
import { drawMod, splitmix32 } from '../schedulers.js';
import type { SampleContext, SamplingStrategy } from './strategy.js';

export function pct(seed: number, actors: number, depth: number, k: number): Scheduler {
  const next = splitmix32(seed);
  // Initial priorities d .. d+n-1, shuffled (Fisher-Yates); change points lower to d-2 .. 0.
  const prio = Array.from({ length: actors }, (_, i) => depth + i);
  for (let i = prio.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [prio[i], prio[j]] = [prio[j]!, prio[i]!];
  }
  // d-1 distinct steps among 1 .. k-1 (a change before step 0 is just another initial order).
  const slots = Math.max(0, k - 1);
  const drawn = new Set<number>();
  while (drawn.size < Math.min(Math.max(0, depth - 1), slots)) drawn.add(1 + (next() % slots));
  const changes = [...drawn].sort((a, b) => a - b);
  let step = 0;
  let c = 0;
  let lowered = 0;
  const highest = (runnable: readonly number[]) => {
    let best = runnable[0] ?? 0;
    for (const id of runnable) if ((prio[id] ?? 0) > (prio[best] ?? 0)) best = id;
    return best;
  };
  return {
    pick(runnable) {
      let best = highest(runnable);
      while (c < changes.length && changes[c]! <= step) {
        prio[best] = depth - 2 - lowered;
        lowered++;
        c++;
        best = highest(runnable);
      }
      return best;
    },
    choose: (n) => drawMod(next(), n),
    observe() {
      step++;
    },
  };
}

/** PCT's per-run bound: a given bug of depth ≤ d, in a scenario of n actors and k steps. */
export function pctBound(n: number, k: number, d: number): number {
  return 1 / (Math.max(1, n) * Math.max(1, k) ** Math.max(0, d - 1));
}

export const pctStrategy: SamplingStrategy = {
  kind: 'sampling',
  name: 'pct',
  summary: 'PCT: random actor priorities, --depth − 1 change points among the scenario\'s steps',
  make: (seed, ctx: SampleContext) => pct(seed, ctx.actors, ctx.depth, ctx.k),
  bound: (ctx) => pctBound(ctx.actors, ctx.k, ctx.depth),
};

/** Runs per depth that pctFindsAt() gives PCT. */
export const PCT_PROBE_RUNS = 200;

/** The smallest --depth, from `depth` (the report's: preemptions + 1) up to depth + 2, at which PCT
 *  finds a violation of `kind` in this scenario within PCT_PROBE_RUNS runs (seeds 0, 1, ...; k the
 *  length of the shrunk run), or null when none does. The report's depth counts switches away from
 *  "run the last actor until it blocks or ends, then the lowest-numbered one"; PCT's d − 1 counts
 *  priority drops, and the two differ (issue 12): an actor that was never lowered (a daemon such as
 *  rcu or hw_walker, a third actor) stands above every lowered one, so where the preempted actor must
 *  go on before it, that actor needs a drop too (unless it blocks at once when picked); when a
 *  blocked actor of higher priority can run again PCT switches to it, where the canonical schedule
 *  goes on with the actor that released it (and the other way round); and the first actor to run is
 *  free for PCT, a preemption for the canonical schedule. So this asks PCT itself. */
export function pctFindsAt(scn: Scenario, kind: string, depth: number, k: number, runs = PCT_PROBE_RUNS): number | null {
  for (let d = depth; d <= Math.min(10, depth + 2); d++) {
    for (let seed = 0; seed < runs; seed++) {
      let e;
      try {
        e = execute(scn, pct(seed, scn.actors.length, d, k));
      } catch {
        continue;
      }
      if (e.violation?.kind === kind) return d;
    }
  }
  return null;
}
