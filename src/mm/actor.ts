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
  /** A kernel thread that borrowed its mm in lazy TLB mode (the CPU ran a thread of the mm and
   *  switched to a kernel thread without switching mm): it stays in mm_cpumask, and speculative walks
   *  may fill its caches, but it runs no user code. */
  readonly lazyTlb?: boolean;
  /** `drain`: a daemon the executor keeps stepping after the others end (the RCU callback runner).
   *  `background`: a daemon that just stops when the others end (the hardware walker). */
  readonly daemon: 'no' | 'drain' | 'background';
  /** It forks (copy_process() → dup_mm()): the scenario gives it a child mm of the world, whose
   *  threads start only once it has returned (src/mm/fork_child.ts). */
  readonly forks?: boolean;
  readonly params: readonly ParamSpec[];
  /** The eras it is modelled in; all of them when absent. */
  readonly eras?: readonly EraId[];
  readonly run: (c: Ctx, args: Args) => ActorGen;
}
