// Schedulers: each is a small object behind the Scheduler interface (executor.ts). A scheduler picks
// which runnable actor steps and draws the data choices; nothing else.

import type { Scheduler } from './executor.js';
import { defaultPick } from './schedule.js';

/** Run the current actor until it blocks or ends, then the lowest-numbered runnable one. Every data
 *  choice is 0. The schedule with no preemption at all. */
export function nonPreemptive(): Scheduler {
  return { pick: defaultPick, choose: () => 0 };
}

/** One segment of a written-down schedule: run `actor` (by name) until it has taken a step whose
 *  label contains `until` (or until it blocks or ends), then go on to the next segment. */
export interface Segment {
  readonly actor: string;
  readonly until?: string;
}

/** A schedule written down the way a race is described: "Z runs until it has read *pmd, then K runs
 *  until it has freed the table, then Z goes on". A segment ends when its actor has taken a step whose
 *  label contains `until`, or when that actor cannot run (blocked or ended). After the last segment
 *  the schedule goes on non-preemptively. `choices` answers data choices by name, in order (e.g.
 *  { 'pae-load-order': [1] }); any other choice is 0. `reached()` says which `until`s were met. */
export interface Scripted extends Scheduler {
  reached(): boolean[];
}

export function scripted(names: readonly string[], segments: readonly Segment[], choices: Readonly<Record<string, readonly number[]>> = {}): Scripted {
  let seg = 0;
  const reached = segments.map(() => false);
  const used = new Map<string, number>();
  const base = nonPreemptive();
  return {
    reached: () => reached.slice(),
    pick(runnable, last) {
      while (seg < segments.length) {
        const s = segments[seg]!;
        const id = names.indexOf(s.actor);
        if (id < 0) throw new Error(`scripted schedule: no actor '${s.actor}' (have ${names.join(', ')})`);
        if (runnable.includes(id)) return id;
        seg++;
      }
      return base.pick(runnable, last);
    },
    choose(n, what) {
      const i = used.get(what) ?? 0;
      used.set(what, i + 1);
      const v = choices[what]?.[i] ?? 0;
      return v < n ? v : 0;
    },
    observe(actor, label) {
      const s = segments[seg];
      if (s && names[actor] === s.actor && s.until !== undefined && label.includes(s.until)) {
        reached[seg] = true;
        seg++;
      }
    },
  };
}

/** splitmix32: a small, fast, seedable PRNG (no Math.random anywhere). */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** `x % n` for a draw `x` of splitmix32 (an unsigned 32-bit integer) and 1 <= n < 2^31, the same
 *  value computed in integers. A draw above 2^31 - 1 is a double to V8 when the call that made it is
 *  not inlined, and V8 computes a double's `%` with the x87 `fprem` instruction: a fifth of the
 *  executor's own time under uniformRandom. `>>> 0` and `| 0` let it use an integer division. */
export function drawMod(x: number, n: number): number {
  return ((x >>> 0) % n) | 0;
}

/** Uniform among the runnable actors at every step, and uniform data choices, from a seed. */
export function uniformRandom(seed: number): Scheduler {
  const next = splitmix32(seed);
  return {
    pick: (runnable) => runnable[drawMod(next(), runnable.length)] ?? 0,
    choose: (n) => drawMod(next(), n),
  };
}

/** Picks and choices drawn from two arrays of numbers (what fast-check generates): pick i takes
 *  runnable[picks[i] mod len]; past the end of `picks`, non-preemptive. */
export function fromStreams(picks: readonly number[], choices: readonly number[]): Scheduler {
  let p = 0;
  let c = 0;
  const base = nonPreemptive();
  return {
    pick: (runnable, last) => {
      if (p >= picks.length) return base.pick(runnable, last);
      const v = picks[p++] ?? 0;
      return runnable[v % runnable.length] ?? 0;
    },
    choose: (n) => (c < choices.length ? (choices[c++] ?? 0) % n : 0),
  };
}
