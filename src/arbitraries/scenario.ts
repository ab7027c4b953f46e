// Scenarios: 2 to 4 actors from a pool, each with its arguments in range.

import fc from 'fast-check';
import type { ActorDef } from '../mm/actor.js';
import type { ActorCall } from '../mm/scenario.js';

export function actorCallArb(def: ActorDef): fc.Arbitrary<ActorCall> {
  const args = Object.fromEntries(def.params.map((p) => [p.name, fc.integer({ min: p.min, max: p.max })]));
  return fc.record(args).map((a): ActorCall => ({ actor: def.name, args: a }));
}

export function actorsArb(pool: readonly ActorDef[], minLength = 2, maxLength = 4): fc.Arbitrary<ActorCall[]> {
  return fc.array(fc.oneof(...pool.map(actorCallArb)), { minLength, maxLength });
}
