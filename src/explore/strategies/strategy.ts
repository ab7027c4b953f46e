// One interface for every search strategy (as awslabs/shuttle's `Scheduler` trait, one file each).
// A sampling strategy makes one scheduler per execution from a seed and what it knows of the
// scenario; the exhaustive one walks a fixed scenario's schedules itself. The campaign looks a
// strategy up by name in STRATEGIES (index.ts) and knows nothing else about it.

import type { Scheduler } from '../executor.js';
import type { ExhaustiveOptions, ExhaustiveResult } from '../exhaustive.js';
import type { Scenario } from '../../mm/scenario.js';

/** Every strategy's name (the table in index.ts has one of each). */
export type StrategyName = 'random' | 'pct' | 'pos' | 'exhaustive';

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
}

export interface ExhaustiveStrategy {
  readonly kind: 'exhaustive';
  readonly name: StrategyName;
  readonly summary: string;
  run(scn: Scenario, maxPreemptions: number, opts: ExhaustiveOptions): ExhaustiveResult;
}

export type Strategy = SamplingStrategy | ExhaustiveStrategy;
