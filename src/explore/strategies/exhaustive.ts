// Bounded exhaustive search (iterative context bounding, exhaustive.ts): every canonical schedule
// of a fixed scenario with at most --preemptions preemption points. With no bound (--preemptions
// none, Infinity here) the search is DPOR's (dpor.ts): one schedule per class of equivalent ones.

import { exhaustive as bounded } from '../exhaustive.js';
import { dpor } from '../dpor.js';
import type { ExhaustiveOptions, ExhaustiveResult } from '../exhaustive.js';
import type { Scenario } from '../../mm/scenario.js';
import type { ExhaustiveStrategy } from './strategy.js';

function search(scn: Scenario, maxPreemptions: number, opts: ExhaustiveOptions): ExhaustiveResult {
  return maxPreemptions === Infinity ? dpor(scn, opts) : bounded(scn, maxPreemptions, opts);
}

export const exhaustive: ExhaustiveStrategy = {
  kind: 'exhaustive',
  name: 'exhaustive',
  summary: 'every schedule of the --actors scenario with at most --preemptions preemptions (none: every one, by DPOR)',
  run: search,
};
