// A portfolio (as Coyote's and Swarm's): the campaign's workers spread over several strategies and
// depths, since no one strategy finds every race fastest (PCT's depth must match the bug's, random
// finds shallow races in big pools, greybox and POS deep ones in fixed scenarios). Worker w of W runs
// the members i with i mod W = w (with more workers than members, member w mod the count), and goes
// round its members one scenario at a time. A campaign of one worker runs every member in turn.
// Each failure says which member found it (Failure.foundBy).

import type { Member, PortfolioStrategy } from './strategy.js';

const GREYBOX: Member = { strategy: 'greybox', depth: 3 };

/** Greybox every other turn (and, with two workers, one worker's whole share): in the 20-seed bench
 *  (bench/results.json, session 6) it was the one strategy that met both targets on every variant
 *  with every actor; the others keep the portfolio's spread (random for shallow races in big pools,
 *  PCT's depths). A campaign keeps one greybox guide over its turns (fuzz/campaign.ts). */
export const PORTFOLIO_MEMBERS: readonly Member[] = [
  GREYBOX, { strategy: 'random', depth: 3 },
  GREYBOX, { strategy: 'pos', depth: 3 },
  GREYBOX, { strategy: 'pct', depth: 2 },
  GREYBOX, { strategy: 'pct', depth: 3 },
  GREYBOX, { strategy: 'pct', depth: 4 },
];

/** The members worker `slot` of `workers` runs, in the order it runs them. */
export function membersOf(members: readonly Member[], slot: number, workers: number): Member[] {
  if (workers <= 1) return members.slice();
  if (workers >= members.length) return [members[slot % members.length]!];
  return members.filter((_, i) => i % workers === slot);
}

export const portfolio: PortfolioStrategy = {
  kind: 'portfolio',
  name: 'portfolio',
  summary: 'workers spread over greybox (every other turn), random, pos and pct at depths 2, 3, 4 (the default)',
  members: PORTFOLIO_MEMBERS,
};
