// Frozen tables: what the package exports (actors, architectures, variants, eras) is shared by every
// execution in a process, so an actor that writes to it (c.m.arch.pae = true) must fail there and
// then, not change the executions after it.

/** Freeze `x` and every plain object and array inside it (functions are frozen, not walked). */
export function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  } else if (typeof x === 'function') {
    Object.freeze(x);
  }
  return x;
}
