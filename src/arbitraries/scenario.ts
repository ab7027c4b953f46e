// Scenarios: 2 to 4 actors from a pool, each with its arguments in range, and in a world of several
// mms, the mm each one runs in. A pool entry may fix some arguments and the mm (as `--actors
// 'munmap(vma=1)'` does): those are never drawn, so fast-check neither varies nor shrinks them.

import fc from 'fast-check';
import type { ActorDef } from '../mm/actor.js';
import type { ActorCall } from '../mm/scenario.js';
import type { World } from '../mm/world/types.js';

/** An actor of the pool with what the user fixed: some of its arguments, and its mm; and, for a thread
 *  of several operations the user wrote (`--actors 'fault;gup_fast(write=1)'`), the operations after
 *  it, with the arguments fixed for each. */
export interface PoolEntry {
  readonly def: ActorDef;
  readonly args?: Readonly<Record<string, number>>;
  readonly mm?: number;
  readonly then?: readonly { readonly def: ActorDef; readonly args?: Readonly<Record<string, number>> }[];
}

const entryOf = (x: ActorDef | PoolEntry): PoolEntry => ('def' in x ? x : { def: x });

/** The arguments of `def` not fixed, drawn in their ranges. */
function argsArb(def: ActorDef, fixed: Readonly<Record<string, number>> = {}): fc.Arbitrary<Record<string, number>> {
  return fc.record(Object.fromEntries(def.params.map((p) => {
    const v = fixed[p.name];
    return [p.name, v === undefined ? fc.integer({ min: p.min, max: p.max }) : fc.constant(v)];
  })));
}

/** One call of the actor: the arguments not fixed drawn in their ranges, and the mm drawn among
 *  `mms` when the world has several (absent when it has one, so mm 0). */
export function actorCallArb(x: ActorDef | PoolEntry, mms = 1): fc.Arbitrary<ActorCall> {
  const { def, args: fixed, mm, then } = entryOf(x);
  const args = argsArb(def, fixed);
  const call = mm !== undefined ? args.map((a): ActorCall => ({ actor: def.name, args: a, mm }))
    : mms <= 1 ? args.map((a): ActorCall => ({ actor: def.name, args: a }))
      : fc.record({ a: args, mm: fc.nat({ max: mms - 1 }) }).map(({ a, mm: m }): ActorCall => ({ actor: def.name, args: a, mm: m }));
  if (!then || then.length === 0) return call;
  return fc.tuple(call, ...then.map((op) => argsArb(op.def, op.args)))
    .map(([c, ...as]): ActorCall => ({ ...c, then: as.map((a, i) => ({ actor: then[i]!.def.name, args: a })) }));
}

export function actorsArb(pool: readonly (ActorDef | PoolEntry)[], minLength = 2, maxLength = 4, mms = 1): fc.Arbitrary<ActorCall[]> {
  return fc.array(fc.oneof(...pool.map((x) => actorCallArb(x, mms))), { minLength, maxLength });
}

/** A world among `worlds` and actors for it (their mms drawn among the world's). With one world
 *  this draws exactly what actorsArb does. */
export function worldActorsArb(worlds: readonly World[], pool: readonly (ActorDef | PoolEntry)[], minLength = 2, maxLength = 4): fc.Arbitrary<{ world: World; actors: ActorCall[] }> {
  const one = (w: World) => actorsArb(pool, minLength, maxLength, w.mms.length).map((actors) => ({ world: w, actors }));
  if (worlds.length === 1) return one(worlds[0]!);
  return fc.nat({ max: worlds.length - 1 }).chain((i) => one(worlds[i]!));
}
