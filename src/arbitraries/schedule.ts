// Canonical schedules (src/explore/schedule.ts): preemption points "after actor a's n-th step, run b",
// and data choices. fast-check shrinks them by dropping points and lowering step counts.

import fc from 'fast-check';
import type { Scheduler } from '../explore/executor.js';
import { follow, recording, type Schedule } from '../explore/schedule.js';
import { scheduleCandidates } from '../explore/shrink.js';
import { findStrategy, type SampleContext, type StrategyName } from '../explore/strategies/index.js';
import { customArbitrary, streamOf } from './custom.js';

export function scheduleArb(actors: number, maxSteps = 40, maxPreemptions = 6): fc.Arbitrary<Schedule> {
  const actor = fc.nat({ max: Math.max(0, actors - 1) });
  const point = fc.record({ after: actor, steps: fc.integer({ min: 1, max: maxSteps }), to: actor });
  return fc.record({
    preemptions: fc.array(point, { maxLength: maxPreemptions }),
    choices: fc.array(fc.nat({ max: 31 }), { maxLength: 8 }),
  });
}

/** A schedule as a value: a sampling strategy's scheduler from a seed that fast-check's random
 *  source drew (so fc.assert's seed and path give it back), or, once shrunk, a canonical schedule to
 *  follow. Each scheduler it makes writes down what it decided: `recorded()` is the canonical form
 *  of its last run, which the domain shrinker starts from. */
export interface ScheduleValue {
  readonly strategy: ScheduleStrategy;
  readonly seed: number;
  readonly depth: number;
  /** The canonical schedule followed, or null for the strategy's own. */
  readonly fixed: Schedule | null;
  /** A scheduler for one execution: `ctx` says the scenario's actors and PCT's k. Without `record`
   *  (a campaign's search, for speed) it writes nothing down. */
  scheduler(ctx: SampleContext, record?: boolean): Scheduler;
  /** The canonical schedule of the last execution it scheduled (null before any). */
  recorded(): Schedule | null;
}

/** The sampling strategies (exhaustive is a search, not a sample). */
export type ScheduleStrategy = Exclude<StrategyName, 'exhaustive'>;

export interface ScheduleOptions {
  readonly strategy?: ScheduleStrategy;
  /** The bug depth asked for (PCT's d): 3 by default, as the command line's --depth. */
  readonly depth?: number;
}

/** The value for a strategy and seed (what the campaign makes from its seeds). */
export function scheduleValue(strategy: ScheduleStrategy, seed: number, depth: number, fixed: Schedule | null = null): ScheduleValue {
  const s = findStrategy(strategy);
  if (s.kind !== 'sampling') throw new Error(`schedule(): '${strategy}' is not a sampling strategy`);
  let rec: (Scheduler & { schedule(): Schedule }) | null = null;
  const v: ScheduleValue & { [fc.toStringMethod](): string } = {
    strategy, seed, depth, fixed,
    scheduler(ctx, record = true) {
      const inner = fixed ? follow(fixed) : s.make(seed, { ...ctx, depth });
      if (!record) return inner;
      rec = recording(inner);
      return rec;
    },
    recorded: () => (rec ? rec.schedule() : null),
    [fc.toStringMethod]: () => (fixed ? `schedule(${JSON.stringify(fixed)})` : `schedule(${strategy}, seed ${seed}, depth ${depth})`),
  };
  return v;
}

/** The schedulers as a fast-check arbitrary. Generation draws the strategy's seed from fast-check's
 *  random source; shrinking is the domain shrinker of src/explore/shrink.ts (fewer preemptions,
 *  earlier points, fewer data choices) on the canonical form of the last run. */
export function schedule(opts: ScheduleOptions = {}): fc.Arbitrary<ScheduleValue> {
  const strategy = opts.strategy ?? 'pct';
  const depth = opts.depth ?? 3;
  scheduleValue(strategy, 0, depth); // an unknown or exhaustive strategy is refused now, not at the first run
  return customArbitrary<ScheduleValue>({
    generate: (mrng) => new fc.Value(scheduleValue(strategy, mrng.nextInt(0, 0x7fffffff), depth), undefined),
    canShrinkWithoutContext: (_v: unknown): _v is ScheduleValue => false,
    shrink: (v) => {
      const from = v.fixed ?? v.recorded();
      if (!from) return fc.Stream.nil();
      return streamOf(scheduleCandidates(from)).map((s) => new fc.Value(scheduleValue(strategy, v.seed, depth, s), undefined));
    },
  });
}
