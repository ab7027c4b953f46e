// The strategies by name: --strategy accepts exactly these, the campaign looks them up here.

import { exhaustive } from './exhaustive.js';
import { greybox } from './greybox.js';
import { pctStrategy } from './pct.js';
import { portfolio } from './portfolio.js';
import { pos } from './pos.js';
import { random } from './random.js';
import type { Strategy, StrategyName } from './strategy.js';

export type { SampleContext, SamplingStrategy, ExhaustiveStrategy, Strategy, StrategyName, Guide, Plan, Member, PortfolioStrategy } from './strategy.js';

export const STRATEGIES: readonly Strategy[] = [random, pctStrategy, pos, greybox, exhaustive, portfolio];

export const STRATEGY_NAMES: readonly StrategyName[] = STRATEGIES.map((s) => s.name);

export function findStrategy(name: string): Strategy {
  // A linear search over six: the table's order is the order --help lists them in.
  const s = STRATEGIES.find((x) => x.name === name);
  if (!s) throw new Error(`no strategy '${name}' (have ${STRATEGY_NAMES.join(', ')})`);
  return s;
}
