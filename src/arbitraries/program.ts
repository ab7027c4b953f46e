// Programs: a few threads, each a short sequence of operations (actor calls with their arguments)
// drawn from a pool, in a world whose mms they run in. With one operation per thread this draws
// exactly what actorsArb() does (the campaigns of before programs draw the same scenarios).

import fc from 'fast-check';
import type { ActorDef } from '../mm/actor.js';
import { allActors } from '../mm/registry.js';
import { findActor, threadProblem, type ActorCall, type OpCall } from '../mm/scenario.js';
import type { World } from '../mm/world/types.js';
import { DEFAULT_WORLD } from '../mm/world/worlds.js';
import { actorCallArb, actorsArb, type PoolEntry } from './scenario.js';
import { directed, type DirectedWeights } from './directed.js';

/** A count: exactly n, or a range. */
export type Count = number | { readonly min: number; readonly max: number };

export interface ProgramOptions {
  /** The actors to draw from: names, definitions, or entries that fix some arguments. Default: every
   *  actor registered (built-in and the user's), when the arbitrary is made. */
  readonly pool?: readonly (string | ActorDef | PoolEntry)[];
  /** Threads (each on its own CPU): 2 to 4 by default. */
  readonly threads?: Count;
  /** Operations per thread: 1 by default. Further operations are drawn among the pool's actors that
   *  can share the thread (the same kind of thread, no daemon, no fork; nothing after exit_mmap or
   *  coredump). */
  readonly opsPerThread?: Count;
  /** The world the program runs in (its mms): default. */
  readonly world?: World;
  /** Focus groups (actor names; a campaign's come from src/explore/focus.ts): when some are in the
   *  pool, most programs are drawn directed at them (directed.ts), each with an actor of every group.
   *  Absent, or none in the pool: the draw is the undirected one, unchanged. */
  readonly focus?: readonly (readonly string[])[];
  /** How the directed draw is shared out (default DIRECTED_WEIGHTS). */
  readonly focusWeights?: DirectedWeights;
}

/** A program: its threads, each an ActorCall whose `then` holds the operations after the first. */
export type Program = readonly ActorCall[];

const range = (c: Count | undefined, d: { min: number; max: number }) => (c === undefined ? d : typeof c === 'number' ? { min: c, max: c } : c);

export function poolEntries(pool: readonly (string | ActorDef | PoolEntry)[] | undefined): PoolEntry[] {
  return (pool ?? allActors()).map((x) => (typeof x === 'string' ? { def: findActor(x) } : 'def' in x ? x : { def: x }));
}

/** The operations drawn after `first` that can share its thread, in order: each kept where the thread
 *  so far with it is one buildScenario() accepts (threadProblem(); so nothing after one that ends it). */
function keepFitting(first: ActorCall, rest: readonly OpCall[], defs: ReadonlyMap<string, ActorDef>): OpCall[] {
  const a = defs.get(first.actor);
  if (!a) return [];
  const thread = [a];
  const out: OpCall[] = [];
  for (const op of rest) {
    const b = defs.get(op.actor);
    if (!b || threadProblem([...thread, b]) !== null) continue;
    thread.push(b);
    out.push(op);
  }
  return out;
}

export function program(opts: ProgramOptions = {}): fc.Arbitrary<Program> {
  const entries = poolEntries(opts.pool);
  if (entries.length === 0) throw new Error('program(): the pool is empty');
  const threads = range(opts.threads, { min: 2, max: 4 });
  const ops = range(opts.opsPerThread, { min: 1, max: 1 });
  const mms = (opts.world ?? DEFAULT_WORLD).mms.length;
  const groups = (opts.focus ?? []).map((g) => entries.filter((e) => g.includes(e.def.name))).filter((g) => g.length > 0);
  const focus = entries.filter((e) => groups.some((g) => g.includes(e)));
  const aim = (undirected: fc.Arbitrary<ActorCall[]>, threadOf: (es: readonly PoolEntry[]) => fc.Arbitrary<ActorCall>): fc.Arbitrary<ActorCall[]> =>
    (focus.length === 0 ? undirected : directed(undirected, groups.map(threadOf), threadOf(focus), threadOf(entries), threads, focus.length, opts.focusWeights));
  if (ops.max <= 1) return aim(actorsArb(entries, threads.min, threads.max, mms), (es) => fc.oneof(...es.map((e) => actorCallArb(e, mms))));
  const defs = new Map(entries.map((e) => [e.def.name, e.def]));
  const opArb = fc.oneof(...entries.map((e) => actorCallArb({ def: e.def, ...(e.args ? { args: e.args } : {}) }).map(({ actor, args }): OpCall => ({ actor, ...(args ? { args } : {}) }))));
  // A thread: its first operation among `es`, the others among the whole pool.
  const threadOf = (es: readonly PoolEntry[]) => fc.tuple(fc.oneof(...es.map((e) => actorCallArb(e, mms))), fc.array(opArb, { minLength: Math.max(0, ops.min - 1), maxLength: ops.max - 1 }))
    .map(([first, rest]): ActorCall => {
      if (first.then) return first; // a thread the user wrote stays as written
      const then = keepFitting(first, rest, defs);
      return then.length ? { ...first, then } : first;
    });
  return aim(fc.array(threadOf(entries), { minLength: threads.min, maxLength: threads.max }), threadOf);
}

/** A world among `worlds` and a program for it (its mms drawn among the world's). With one world
 *  this draws exactly what program() does. */
export function worldProgram(worlds: readonly World[], opts: Omit<ProgramOptions, 'world'> = {}): fc.Arbitrary<{ world: World; program: Program }> {
  const one = (w: World) => program({ ...opts, world: w }).map((p) => ({ world: w, program: p }));
  if (worlds.length === 0) throw new Error('worldProgram(): name at least one world');
  if (worlds.length === 1) return one(worlds[0]!);
  return fc.nat({ max: worlds.length - 1 }).chain((i) => one(worlds[i]!));
}
