// Actors are generators. Each `yield step(label)` ends one atomic step, which is one scheduling point;
// `label` is the kernel line the step stands for. A step that cannot run yet (a lock held, an IPI not
// yet taken) yields `block` with the condition it waits for, and the executor picks someone else.

import type { ActorId, Cpu, Mm, Model } from './types.js';

export type Yield =
  | { readonly kind: 'step'; readonly label: string }
  | { readonly kind: 'block'; readonly label: string; readonly until: () => boolean };

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
