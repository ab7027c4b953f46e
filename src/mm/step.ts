// Actors are generators. Each `yield step(label)` ends one atomic step, which is one scheduling point;
// `label` is the kernel line the step stands for. A step that cannot run yet (a lock held, an IPI not
// yet taken) yields `block` with the condition it waits for, and the executor picks someone else.

import type { ActorId, Cpu, Model } from './types.js';

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
}

export function step(label: string): Yield {
  return { kind: 'step', label };
}

/** Wait, without taking a step, until `cond` holds. */
export function* blockUntil(label: string, cond: () => boolean): ActorGen {
  while (!cond()) yield { kind: 'block', label, until: cond };
}
