// The strategies by name: --strategy accepts exactly these, the campaign looks them up here.

import { exhaustive } from './exhaustive.js';
import { pctStrategy } from './pct.js';
import { pos } from './pos.js';
import { random } from './random.js';
import type { Strategy, StrategyName } from './strategy.js';

export type { SampleContext, SamplingStrategy, ExhaustiveStrategy, Strategy, StrategyName } from './strategy.js';

export const STRATEGIES: readonly Strategy[] = [random, pctStrategy, pos, exhaustive];

export const STRATEGY_NAMES: readonly StrategyName[] = STRATEGIES.map((s) => s.name);

export function findStrategy(name: string): Strategy {
  // A linear search over four: the table's order is the order --help lists them in.
  const s = STRATEGIES.find((x) => x.name === name);
  if (!s) throw new Error(`no strategy '${name}' (have ${STRATEGY_NAMES.join(', ')})`);
  return s;
}
