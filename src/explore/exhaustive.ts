// Bounded exhaustive search (iterative context bounding, as CHESS does it): every canonical schedule
// with at most P preemption points over one fixed scenario, each run once. Data choices are fixed
// (all 0 unless given), or, with `enumerateChoices`, enumerated too: every value of every choice
// point (which free frame the allocator returns, which address the hardware walker touches, the PAE
// load order), with at most that many choices away from 0 per schedule. A fixed allocator choice
// hides the races that need a frame reused; enumerating multiplies the space by the values of each
// choice point.
// The search is a depth-first walk over deviations from the default run (a preemption point, or a
// data choice other than 0); each node is one execution, which also tells which deviations were
// possible at every later branch point (a decision or a data choice), and so which children exist.
// Children deviate only after their parent's last deviation, so each schedule is generated once.

import { execute, type Execution, type Scheduler } from './executor.js';
import type { Scenario } from '../mm/scenario.js';
import { defaultPick, follow, trimZeros, type Preemption, type Schedule } from './schedule.js';

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
  /** DPOR (no bound): distinct states reached, and executions cut short as equivalent to one run
   *  (sleep sets). */
  readonly states?: number;
  readonly sleepBlocked?: number;
  /** DPOR: executions cut at a state explored before. */
  readonly cuts?: number;
}

/** A deviation possible at one branch point of a run: another actor to run, or another value of a
 *  data choice (the `index`-th choice of the run). */
type Alternative =
  | { readonly pos: number; readonly point: Preemption }
  | { readonly pos: number; readonly choice: { readonly index: number; readonly value: number } };

interface Node {
  readonly points: readonly Preemption[];
  readonly choices: readonly number[];
  /** The branch point of the last deviation: children deviate after it. */
  readonly lastPos: number;
}

/** Runs `s`, and records at each decision which other actors could have been run instead, and (when
 *  `enumerate`) at each data choice which other values it could have taken. */
function probe(scn: Scenario, s: Schedule, enumerate: boolean, trace = false): { exec: Execution; alternatives: Alternative[]; drawn: number[] } {
  const inner = follow(s);
  let pos = 0;
  let index = 0;
  let lastStepper = -1;
  const steps: number[] = [];
  const alternatives: Alternative[] = [];
  const drawn: number[] = [];
  const sched: Scheduler = {
    pick(runnable, last) {
      const d = pos++;
      const id = inner.pick(runnable, last);
      const dflt = defaultPick(runnable, last);
      const after = lastStepper;
      const n = after < 0 ? 0 : (steps[after] ?? 0);
      for (const a of runnable) if (a !== dflt) alternatives.push({ pos: d, point: { after, steps: n, to: a } });
      return id;
    },
    choose(n, w) {
      const d = pos++;
      const i = index++;
      const v = inner.choose(n, w);
      drawn.push(v);
      if (enumerate) for (let value = 0; value < n; value++) if (value !== v) alternatives.push({ pos: d, choice: { index: i, value } });
      return v;
    },
    observe(actor, label, events) {
      steps[actor] = (steps[actor] ?? 0) + 1;
      lastStepper = actor;
      inner.observe?.(actor, label, events);
    },
  };
  return { exec: execute(scn, sched, trace ? { trace: true } : {}), alternatives, drawn };
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
  /** Enumerate data choices too, with at most this many away from 0 per schedule (0, the default:
   *  choices stay as given; Infinity: any number). */
  readonly enumerateChoices?: number;
  /** Run each schedule with the trace kept, for an `isFailure` that reads it (--affected). */
  readonly trace?: boolean;
  /** A schedule whose run threw (a bug in the model): told here and not explored further, instead
   *  of ending the search with the exception (the shrinker keeps it to report). */
  readonly onError?: (schedule: Schedule, e: unknown) => void;
}

const nonZero = (xs: readonly number[]) => xs.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);

export function exhaustive(scn: Scenario, maxPreemptions: number, opts: ExhaustiveOptions = {}): ExhaustiveResult {
  const { onProgress, stopAfter = Infinity, choices = [], enumerateChoices = 0 } = opts;
  const isFailure = opts.isFailure ?? ((e: Execution) => e.violation !== null || e.outcome === 'step-limit');
  const stack: Node[] = [{ points: [], choices, lastPos: -1 }];
  let explored = 0;
  while (stack.length > 0) {
    if (explored >= stopAfter || opts.shouldStop?.()) return { explored, complete: false, failure: null };
    const node = stack.pop()!;
    const schedule: Schedule = { preemptions: node.points, choices: trimZeros(node.choices) };
    const moreChoices = enumerateChoices > 0 && nonZero(node.choices) < enumerateChoices;
    let probed: ReturnType<typeof probe>;
    try {
      probed = probe(scn, schedule, moreChoices, opts.trace === true);
    } catch (e) {
      if (!opts.onError) throw e;
      explored++;
      opts.onError(schedule, e);
      continue;
    }
    const { exec, alternatives, drawn } = probed;
    explored++;
    if (isFailure(exec)) return { explored, complete: false, failure: { schedule, exec } };
    // Children: one more deviation, after the last; pushed in reverse so that the earliest runs
    // first. A data choice keeps the values drawn before it (the run is the same up to there).
    for (let i = alternatives.length - 1; i >= 0; i--) {
      const alt = alternatives[i]!;
      if (alt.pos <= node.lastPos) continue;
      if ('point' in alt) {
        if (node.points.length < maxPreemptions) stack.push({ points: [...node.points, alt.point], choices: node.choices, lastPos: alt.pos });
      } else {
        const next = [...drawn.slice(0, alt.choice.index), alt.choice.value];
        if (nonZero(next) <= enumerateChoices) stack.push({ points: node.points, choices: next, lastPos: alt.pos });
      }
    }
    if (onProgress && explored % 256 === 0) onProgress({ explored, pending: stack.length });
  }
  onProgress?.({ explored, pending: 0 });
  return { explored, complete: true, failure: null };
}
