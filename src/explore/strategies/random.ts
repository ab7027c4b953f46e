// Uniform random: at every step any runnable actor, with equal chance; data choices uniform.

import { uniformRandom } from '../schedulers.js';
import type { SamplingStrategy } from './strategy.js';

export const random: SamplingStrategy = {
  kind: 'sampling',
  name: 'random',
  summary: 'uniform among the runnable actors at every step',
  make: (seed) => uniformRandom(seed),
};
