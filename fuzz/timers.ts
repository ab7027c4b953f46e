// Time for the command line, injectable so that tests drive it instead of waiting for it. Node fires a
// timer of 2^31 ms or more at once (with a warning), so a long deadline is armed in chunks and checked
// against the clock each time a chunk ends.

import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds, monotonic. */
  readonly now: () => number;
  /** Call `fn` after about `ms` milliseconds (at most MAX_TIMER_MS); returns a function that cancels it. */
  readonly setTimer: (ms: number, fn: () => void) => () => void;
}

/** This process's CPU time in milliseconds (user + system, V8's GC helper threads included): a budget
 *  or a measurement on it gets the same work done on a loaded machine, only later. */
export const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** The longest timer Node keeps: 2^31 - 1 ms (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Call `fn` once `ms` milliseconds have passed on `clock`, however long that is. Returns a function
 *  that cancels it. */
export function after(clock: Clock, ms: number, fn: () => void): () => void {
  const due = clock.now() + ms;
  let cancelled = false;
  let cancelTimer = () => {};
  const arm = () => {
    if (cancelled) return;
    const left = due - clock.now();
    if (left <= 0) {
      cancelled = true;
      fn();
      return;
    }
    cancelTimer = clock.setTimer(Math.min(Math.ceil(left), MAX_TIMER_MS), arm);
  };
  arm();
  return () => {
    cancelled = true;
    cancelTimer();
  };
}
