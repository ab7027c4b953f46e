// Bounded exhaustive search (iterative context bounding, as CHESS does it): every canonical schedule
// with at most P preemption points over one fixed scenario, each run once. Data choices are fixed
// (all 0 unless given).
// The search is a depth-first walk over point sets; each node is one execution, which also tells
// which actors could run at every later decision, and so which children exist.

import { execute, type Execution, type Scheduler } from './executor.js';
import type { Scenario } from '../mm/scenario.js';
import { defaultPick, follow, type Preemption, type Schedule } from './schedule.js';

export interface ExhaustiveProgress {
  readonly explored: number;
  /** Schedules generated but not yet run. */
  readonly pending: number;
}

export interface ExhaustiveResult {
  readonly explored: number;
  /** True when every schedule within the bound was run (no violation stopped the search early). */
  readonly complete: boolean;
  readonly failure: { readonly schedule: Schedule; readonly exec: Execution } | null;
}

interface Alternative {
  /** The decision's index in the run, to keep each point set generated once. */
  readonly decision: number;
  readonly point: Preemption;
}

interface Node {
  readonly points: readonly Preemption[];
  /** The decision of the last point: children add points after it. */
  readonly lastDecision: number;
}

/** Runs `s`, and records at each decision which other actors could have been run instead. */
function probe(scn: Scenario, s: Schedule): { exec: Execution; alternatives: Alternative[] } {
  const inner = follow(s);
  let decision = 0;
  let lastStepper = -1;
  const steps: number[] = [];
  const alternatives: Alternative[] = [];
  const sched: Scheduler = {
    pick(runnable, last) {
      const d = decision++;
      const id = inner.pick(runnable, last);
      const dflt = defaultPick(runnable, last);
      const after = lastStepper;
      const n = after < 0 ? 0 : (steps[after] ?? 0);
      for (const a of runnable) if (a !== dflt) alternatives.push({ decision: d, point: { after, steps: n, to: a } });
      return id;
    },
    choose: (n, w) => inner.choose(n, w),
    observe(actor, label) {
      steps[actor] = (steps[actor] ?? 0) + 1;
      lastStepper = actor;
      inner.observe?.(actor, label);
    },
  };
  return { exec: execute(scn, sched), alternatives };
}

export interface ExhaustiveOptions {
  readonly onProgress?: (p: ExhaustiveProgress) => void;
  /** Stop after this many executions (the result is then not complete). */
  readonly stopAfter?: number;
  /** The data choices every schedule uses (default: all 0). */
  readonly choices?: readonly number[];
  /** What counts as the failure searched for (default: any violation, or the step limit). */
  readonly isFailure?: (e: Execution) => boolean;
  /** Asked before each execution: give up now (a time budget). */
  readonly shouldStop?: () => boolean;
}

export function exhaustive(scn: Scenario, maxPreemptions: number, opts: ExhaustiveOptions = {}): ExhaustiveResult {
  const { onProgress, stopAfter = Infinity, choices = [] } = opts;
  const isFailure = opts.isFailure ?? ((e: Execution) => e.violation !== null || e.outcome === 'step-limit');
  const stack: Node[] = [{ points: [], lastDecision: -1 }];
  let explored = 0;
  while (stack.length > 0) {
    if (explored >= stopAfter || opts.shouldStop?.()) return { explored, complete: false, failure: null };
    const { points, lastDecision } = stack.pop()!;
    const schedule: Schedule = { preemptions: points, choices };
    const { exec, alternatives } = probe(scn, schedule);
    explored++;
    if (isFailure(exec)) return { explored, complete: false, failure: { schedule, exec } };
    if (points.length < maxPreemptions) {
      // Children: one more point, at a later decision than the last; pushed in reverse so that the
      // earliest runs first.
      for (let i = alternatives.length - 1; i >= 0; i--) {
        const alt = alternatives[i]!;
        if (alt.decision > lastDecision) stack.push({ points: [...points, alt.point], lastDecision: alt.decision });
      }
    }
    if (onProgress && explored % 256 === 0) onProgress({ explored, pending: stack.length });
  }
  onProgress?.({ explored, pending: 0 });
  return { explored, complete: true, failure: null };
}
