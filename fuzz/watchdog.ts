// The watchdog on executions. The executor's step limit catches an actor that yields for ever; an
// actor whose step never returns (a loop without a yield) holds its thread, so it is watched from
// another one: the executor counts the steps it begins in shared memory (watchExecutions), and a
// count that stays still past the deadline is a step that never returned. Whoever owns the thread
// then ends it and reports the actor by name.

import { HEARTBEAT_BYTES, readHeartbeat } from '../src/explore/executor.js';
import type { Clock } from './timers.js';

/** A step this long is not a slow step: it never returns. */
export const STEP_DEADLINE_MS = 30_000;

export interface Stuck {
  /** The actor whose step never returned (its name in the scenario, e.g. 'spin' or 'spin#2'). */
  readonly actor: string;
  readonly arch: string;
  readonly steps: number;
}

export const newHeartbeat = (): SharedArrayBuffer => new SharedArrayBuffer(HEARTBEAT_BYTES);

/** Watch `heartbeat` on `clock`: when a step is running and the count has stayed still for
 *  `deadlineMs`, call `onStuck` (once). Returns a function that stops watching. */
export function watchdog(heartbeat: SharedArrayBuffer, clock: Clock, deadlineMs: number, onStuck: (s: Stuck) => void): () => void {
  const every = Math.max(10, Math.floor(deadlineMs / 4));
  let last = readHeartbeat(heartbeat).steps;
  let since = clock.now();
  let stopped = false;
  let cancel = () => {};
  const check = () => {
    if (stopped) return;
    const hb = readHeartbeat(heartbeat);
    const t = clock.now();
    if (hb.steps !== last) {
      last = hb.steps;
      since = t;
    } else if (hb.inStep && t - since >= deadlineMs) {
      stopped = true;
      onStuck({ actor: hb.actor, arch: hb.arch, steps: hb.steps });
      return;
    }
    cancel = clock.setTimer(every, check);
  };
  cancel = clock.setTimer(every, check);
  return () => {
    stopped = true;
    cancel();
  };
}

/** The message for an actor whose step never returned. */
export function stuckMessage(s: Stuck, deadlineMs: number): string {
  return `actor '${s.actor.replace(/#\d+$/, '')}' did not return from a step within ${deadlineMs / 1000} s: it loops without yielding`;
}
