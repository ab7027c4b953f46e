// A world among the named ones (each registered world, or the shipped ones; `default` when none is
// named).

import fc from 'fast-check';
import { parseWorld } from '../mm/world/registry.js';
import type { World } from '../mm/world/types.js';

export function world(names: readonly string[] = ['default']): fc.Arbitrary<World> {
  const worlds = names.map(parseWorld);
  if (worlds.length === 0) throw new Error('world(): name at least one world');
  return worlds.length === 1 ? fc.constant(worlds[0]!) : fc.constantFrom(...worlds);
}
