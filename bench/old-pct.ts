// PCT (Burckhardt et al., "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
// ASPLOS 2010): random distinct priorities for the n actors, and d - 1 priority-change points drawn
// among the first k steps. At each decision the runnable actor of highest priority runs; at the i-th
// change point the running actor drops to priority i (below every initial one). A bug of depth d is
// found with probability at least 1 / (n * k^(d-1)) per run.

import type { Scheduler } from '../src/explore/executor.js';
import { splitmix32 } from '../src/explore/schedulers.js';

export function oldPct(seed: number, actors: number, depth: number, k: number): Scheduler {
  const next = splitmix32(seed);
  // Initial priorities d .. d+n-1, shuffled (Fisher-Yates); change points lower to 0 .. d-2.
  const prio = Array.from({ length: actors }, (_, i) => depth + i);
  for (let i = prio.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [prio[i], prio[j]] = [prio[j]!, prio[i]!];
  }
  const changes = Array.from({ length: Math.max(0, depth - 1) }, () => next() % Math.max(1, k)).sort((a, b) => a - b);
  let step = 0;
  let c = 0;
  let lowered = 0;
  return {
    pick(runnable) {
      let best = runnable[0] ?? 0;
      for (const id of runnable) if ((prio[id] ?? 0) > (prio[best] ?? 0)) best = id;
      return best;
    },
    choose: (n) => next() % n,
    observe(actor) {
      step++;
      while (c < changes.length && changes[c]! < step) {
        prio[actor] = depth - 2 - lowered;
        lowered++;
        c++;
      }
    },
  };
}
