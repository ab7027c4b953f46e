// Bounded exhaustive search (iterative context bounding, exhaustive.ts): every canonical schedule
// of a fixed scenario with at most --preemptions preemption points.

import { exhaustive as search } from '../exhaustive.js';
import type { ExhaustiveStrategy } from './strategy.js';

export const exhaustive: ExhaustiveStrategy = {
  kind: 'exhaustive',
  name: 'exhaustive',
  summary: 'every schedule of the --actors scenario with at most --preemptions preemptions',
  run: search,
};
