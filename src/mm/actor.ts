// What an actor is: a generator function written after one kernel function, with the arguments it
// takes and the facts the executor needs (does it run in the mm, is it a background daemon).

import type { ActorGen, Ctx } from './step.js';
import type { EraId } from './switches.js';

export interface ParamSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
  readonly doc: string;
}

export type Args = Readonly<Record<string, number>>;

export interface ActorDef {
  readonly name: string;
  readonly summary: string;
  /** The kernel functions it follows and the releases, e.g. "mm/mmap.c exit_mmap(), v5.8–v6.6". */
  readonly follows: string;
  /** A user thread of the mm (in mm_cpumask, so flush IPIs reach its CPU), or a kernel thread. */
  readonly inMm: boolean;
  /** `drain`: a daemon the executor keeps stepping after the others end (the RCU callback runner).
   *  `background`: a daemon that just stops when the others end (the hardware walker). */
  readonly daemon: 'no' | 'drain' | 'background';
  readonly params: readonly ParamSpec[];
  /** The eras it is modelled in; all of them when absent. */
  readonly eras?: readonly EraId[];
  readonly run: (c: Ctx, args: Args) => ActorGen;
}
