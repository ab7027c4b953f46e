// Actors are generators. Each `yield step(label)` ends one atomic step, which is one scheduling point;
// `label` is the kernel line the step stands for. A step that cannot run yet (a lock held, an IPI not
// yet taken) yields `block` with the condition it waits for, and the executor picks someone else.

import type { ActorId, Cpu, Mm, Model } from './types.js';

export type Yield =
  | { readonly kind: 'step'; readonly label: string }
  | { readonly kind: 'block'; readonly label: string; readonly until: () => boolean }
  | { readonly kind: 'call'; readonly gen: Generator<Yield, unknown, undefined> };

export type ActorGen = Generator<Yield, void, undefined>;

/** What an actor runs with: its identity, its CPU and the model. */
export interface Ctx {
  readonly id: ActorId;
  readonly name: string;
  readonly m: Model;
  readonly cpu: Cpu;
  /** The mm the actor works in: its thread's mm, or for a kernel thread the mm the scenario gives it
   *  (khugepaged's scan cursor, say). Code that reaches other mms (rmap walks) takes them from VMAs. */
  readonly mm: Mm;
}

/** `yield* call(f(c, ...))` is `yield* f(c, ...)`, but the executor keeps `f` on the actor's own call
 *  stack: each step `f` takes resumes `f` alone, where under `yield*` it resumes every frame between
 *  the actor's run and `f`. Worth it where `f` is a path of several steps (unmap_vmas, not pmd_read):
 *  the call costs a small generator more than `yield*`. Not a step. */
export function* call<T>(gen: Generator<Yield, T, undefined>): Generator<Yield, T, unknown> {
  // The executor resumes this generator with the value `gen` returned.
  return (yield { kind: 'call', gen }) as T;
}

/** An actor as the executor runs it: its innermost frame (what a step resumes: its run, or a path it
 *  entered with call()) and the frames that called it, outermost first. */
export interface CallStack {
  gen: Generator<Yield, unknown, unknown>;
  readonly callers: Generator<Yield, unknown, unknown>[];
}

/** Run an actor to its next step or block (null: its run ended): into the paths it calls, and back
 *  out of those that end with their return value, all within one step, as under `yield*`. */
export function resumeActor(s: CallStack): Exclude<Yield, { kind: 'call' }> | null {
  let res = s.gen.next(undefined);
  for (;;) {
    if (res.done) {
      const caller = s.callers.pop();
      if (caller === undefined) return null;
      s.gen = caller;
      res = caller.next(res.value);
      continue;
    }
    const y = res.value;
    if (y.kind !== 'call') return y;
    s.callers.push(s.gen);
    s.gen = y.gen;
    res = s.gen.next(undefined);
  }
}

export function step(label: string): Yield {
  return { kind: 'step', label };
}

/** Wait, without taking a step, until `cond` holds. Hot callers (locks) test the condition first, so
 *  that an uncontended acquisition makes no generator, closure or label. */
export function* blockUntil(label: string, cond: () => boolean): ActorGen {
  // One Yield for the whole wait, not one per attempt: the executor reads it at once and keeps only
  // its label and condition.
  let waiting: Yield | null = null;
  while (!cond()) yield (waiting ??= { kind: 'block', label, until: cond });
}
