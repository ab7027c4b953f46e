// One interface for every search strategy (as awslabs/shuttle's `Scheduler` trait, one file each).
// A sampling strategy makes one scheduler per execution from a seed and what it knows of the
// scenario; the exhaustive one walks a fixed scenario's schedules itself. The campaign looks a
// strategy up by name in STRATEGIES (index.ts) and knows nothing else about it.

import type { Scheduler } from '../executor.js';
import type { ExhaustiveOptions, ExhaustiveResult } from '../exhaustive.js';
import type { Scenario } from '../../mm/scenario.js';

/** Every strategy's name (the table in index.ts has one of each). */
export type StrategyName = 'random' | 'pct' | 'pos' | 'greybox' | 'exhaustive' | 'portfolio';

/** What a sampling strategy is told for one execution. */
export interface SampleContext {
  /** Actors in the scenario, daemons included (the executor's n). */
  readonly actors: number;
  /** The bug depth asked for (--depth): PCT's d, POS ignores it. */
  readonly depth: number;
  /** Steps an execution of this scenario takes, as far as the campaign knows (PCT's k). */
  readonly k: number;
}

export interface SamplingStrategy {
  readonly kind: 'sampling';
  readonly name: StrategyName;
  readonly summary: string;
  make(seed: number, ctx: SampleContext): Scheduler;
  /** The probability one execution finds a given bug of depth ≤ ctx.depth, when the strategy
   *  promises one (PCT: 1/(n·k^(d−1))); absent when it promises nothing. */
  bound?(ctx: SampleContext): number;
  /** A strategy that learns from its runs (greybox): one guide per campaign, from the campaign's seed.
   *  Absent: every run is make(seed, ctx), independent of the others. */
  guide?(seed: number): Guide;
}

/** One execution as a guide planned it. make() gives the same scheduler every call (the campaign runs
 *  a failure's plan again to write its schedule down); the first one made is the one the guide learns
 *  from. */
export interface Plan {
  /** The scenario it runs (the campaign's key for it). */
  readonly key: string;
  make(): Scheduler;
}

/** A learning strategy's state over a campaign. */
export interface Guide {
  /** The next execution of scenario `key`; `seed` is the campaign's draw for it. */
  plan(key: string, ctx: SampleContext, seed: number): Plan;
  /** After the plan's execution: how many new things it showed (0: nothing new). The campaign gives
   *  a scenario whose runs show new things more runs. */
  feedback(plan: Plan): number;
  /** How much has been seen so far (greybox: distinct conflicting pairs). */
  coverage(): number;
  /** Whether scenario `key` has anything left worth a run (absent: always). The campaign moves on to
   *  a new scenario when not (greybox: no reversal worth trying waits, learned.ts). */
  more?(key: string): boolean;
}

export interface ExhaustiveStrategy {
  readonly kind: 'exhaustive';
  readonly name: StrategyName;
  readonly summary: string;
  run(scn: Scenario, maxPreemptions: number, opts: ExhaustiveOptions): ExhaustiveResult;
}

/** Several strategies (and depths) spread over a campaign's workers (Coyote's and Swarm's portfolio). */
export interface PortfolioStrategy {
  readonly kind: 'portfolio';
  readonly name: StrategyName;
  readonly summary: string;
  readonly members: readonly Member[];
}

/** A sampling strategy at a depth (the depth only matters to PCT). */
export interface Member {
  readonly strategy: StrategyName;
  readonly depth: number;
}

export type Strategy = SamplingStrategy | ExhaustiveStrategy | PortfolioStrategy;
