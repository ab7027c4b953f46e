// The sampling strategies a campaign takes in turn, one scenario each: one, or a portfolio's members
// (portfolio.ts), each with the guide of a strategy that learns (greybox).

import { findStrategy } from './index.js';
import type { Guide, Member, SamplingStrategy } from './strategy.js';

export interface Sampler {
  readonly mem: Member;
  readonly st: SamplingStrategy;
  /** Absent for a strategy that does not learn. */
  readonly guide: Guide | undefined;
}

/** One sampler per member, in order. A strategy listed more than once (greybox every other turn of
 *  the portfolio) has one guide, made from `seed()` where it is first listed: what it learns on one
 *  turn serves the next. */
export function samplersOf(members: readonly Member[], seed: () => number): Sampler[] {
  const guides = new Map<string, Guide | undefined>();
  return members.map((mem) => {
    const st = findStrategy(mem.strategy);
    if (st.kind !== 'sampling') throw new Error(`portfolio member '${mem.strategy}' is not a sampling strategy`);
    if (!guides.has(mem.strategy)) guides.set(mem.strategy, st.guide?.(seed()));
    return { mem, st, guide: guides.get(mem.strategy) };
  });
}
