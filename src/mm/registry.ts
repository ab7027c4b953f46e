// The actors a scenario can name: the built-in ones, and those a user module registers (npm run fuzz
// -- --load FILE). Kept sorted by name, so that nothing depends on the order modules were loaded in.

import type { ActorDef } from './actor.js';
import { ACTORS } from './actors/index.js';
import { ModelError } from './errors.js';
import { deepFreeze } from './freeze.js';

interface Registered {
  readonly def: ActorDef;
  /** Where it came from: a module's path. */
  readonly origin: string;
}

const user: Registered[] = [];

/** Why an actor definition cannot be registered, or null when it can. */
function checkActorDef(x: unknown): string | null {
  const d = x as Partial<ActorDef> | null;
  if (!d || typeof d !== 'object') return 'is not an object';
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(d.name)) return "lacks 'name' (lower-case letters, digits and _)";
  if (typeof d.run !== 'function') return `'${d.name}' lacks 'run' (a generator function)`;
  if (typeof d.summary !== 'string') return `'${d.name}' lacks 'summary'`;
  if (typeof d.follows !== 'string') return `'${d.name}' lacks 'follows' (the kernel function and release it follows)`;
  if (typeof d.inMm !== 'boolean') return `'${d.name}' lacks 'inMm' (true for a user thread of the mm)`;
  if (d.daemon !== 'no' && d.daemon !== 'drain' && d.daemon !== 'background') return `'${d.name}' has no 'daemon' ('no', 'drain' or 'background')`;
  if (!Array.isArray(d.params)) return `'${d.name}' lacks 'params' (an array, maybe empty)`;
  for (const p of d.params) {
    if (typeof p?.name !== 'string' || !Number.isInteger(p.min) || !Number.isInteger(p.max) || !Number.isInteger(p.default) || p.min > p.default || p.default > p.max) {
      return `'${d.name}' has a bad param: each needs name, and integers min <= default <= max`;
    }
  }
  return null;
}

/** Register a user actor. A duplicate name or a missing field is a ModelError. */
export function registerActor(def: ActorDef, origin: string): void {
  const bad = checkActorDef(def);
  if (bad) throw new ModelError('bad-argument', `an actor ${bad}`, []);
  // The same module loaded twice (Node caches it) registers the very same definition: nothing to do.
  if (user.some((u) => u.def === def)) return;
  const clash = ACTORS.find((a) => a.name === def.name) ? 'mmfuzz' : user.find((u) => u.def.name === def.name)?.origin;
  if (clash) throw new ModelError('bad-argument', `actor '${def.name}' is already defined (by ${clash})`, []);
  user.push({ def: deepFreeze(def), origin });
  user.sort((a, b) => (a.def.name < b.def.name ? -1 : 1));
}

/** Every actor a scenario can name: built-in and registered, by name. */
export function allActors(): readonly ActorDef[] {
  if (user.length === 0) return ACTORS;
  return [...ACTORS, ...user.map((u) => u.def)].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The module a user actor came from, or null for a built-in one. */
export function originOf(name: string): string | null {
  return user.find((u) => u.def.name === name)?.origin ?? null;
}
