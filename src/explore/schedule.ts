// The canonical schedule: "run the current actor until it blocks or ends, except at these preemption
// points", plus the data choices in the order the model asks for them. Removing a point leaves a
// simpler schedule that still means something, which is what shrinking needs.
//
// A point says "after actor `after` has taken its `steps`-th step, run `to` next" (`after` = -1 and
// `steps` = 0: before anyone has stepped). It is counted in the running actor's own steps, so that
// removing another actor, or a point elsewhere, leaves it pointing at the same moment. Where the
// default would have chosen `to` anyway there is no point: the count of points is the number of
// preemptions. Actor numbers are indices into the scenario.

import type { Scheduler } from './executor.js';

export interface Preemption {
  readonly after: number;
  readonly steps: number;
  readonly to: number;
}

export interface Schedule {
  readonly preemptions: readonly Preemption[];
  readonly choices: readonly number[];
}

/** The default rule: keep running the last actor if it can run, else the lowest-numbered one. */
export function defaultPick(runnable: readonly number[], last: number): number {
  return runnable.includes(last) ? last : (runnable[0] ?? 0);
}

/** Tracks who stepped last and how many steps each actor has taken. */
function stepCounter() {
  const steps: number[] = [];
  let last = -1;
  return {
    get last() { return last; },
    count: (a: number) => steps[a] ?? 0,
    observe(actor: number) {
      steps[actor] = (steps[actor] ?? 0) + 1;
      last = actor;
    },
  };
}

/** Follow a canonical schedule. A point whose `to` cannot run at that moment is skipped. */
export function follow(s: Schedule): Scheduler {
  const counter = stepCounter();
  const used = s.preemptions.map(() => false);
  let c = 0;
  return {
    pick(runnable, last) {
      const at = counter.last;
      const n = at < 0 ? 0 : counter.count(at);
      for (let i = 0; i < s.preemptions.length; i++) {
        const p = s.preemptions[i]!;
        if (used[i] || p.after !== at || p.steps !== n) continue;
        used[i] = true;
        if (runnable.includes(p.to)) return p.to;
      }
      return defaultPick(runnable, last);
    },
    choose(n) {
      const v = s.choices[c++] ?? 0;
      return v < n ? v : 0;
    },
    observe(actor) {
      counter.observe(actor);
    },
  };
}

/** Wrap a scheduler and write down, as a canonical schedule, what it decided.
 *  A pick can run no step (the actor blocked again, or ended, having done nothing), so several picks
 *  can meet at one point's moment, and follow() gives a point to the first of them. When a pick that
 *  is not the default's comes after such default picks, each of those is written down too (a point
 *  to the actor the default chose): rare, and it keeps the replay the same run. */
export function recording(inner: Scheduler): Scheduler & { schedule(): Schedule; written(): number } {
  const counter = stepCounter();
  const preemptions: Preemption[] = [];
  const choices: number[] = [];
  /** The default's picks since the last step (picks that ran none). */
  const silent: number[] = [];
  return {
    pick(runnable, last) {
      const id = inner.pick(runnable, last);
      if (id !== defaultPick(runnable, last)) {
        const after = counter.last;
        const steps = after < 0 ? 0 : counter.count(after);
        for (const to of silent) preemptions.push({ after, steps, to });
        silent.length = 0;
        preemptions.push({ after, steps, to: id });
      } else silent.push(id);
      return id;
    },
    choose(n, what) {
      const v = inner.choose(n, what);
      choices.push(v);
      return v;
    },
    observe(actor, label, events) {
      counter.observe(actor);
      silent.length = 0;
      inner.observe?.(actor, label, events);
    },
    schedule: () => ({ preemptions: preemptions.slice(), choices: trimZeros(choices) }),
    /** Points written so far (a pick can write several: the silent default picks before it). */
    written: () => preemptions.length,
  };
}

/** Trailing zero choices are what the schedule gives anyway. */
export function trimZeros(xs: readonly number[]): number[] {
  let n = xs.length;
  while (n > 0 && xs[n - 1] === 0) n--;
  return xs.slice(0, n);
}

/** The bug's depth as PCT counts it: preemptions + 1. */
export function depth(s: Schedule): number {
  return s.preemptions.length + 1;
}
