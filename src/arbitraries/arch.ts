// An architecture, from the ones a campaign runs on.

import fc from 'fast-check';
import { allArchIds, type ArchId } from '../mm/arch.js';
import { parseArch } from '../mm/scenario.js';

export function archArb(archs: readonly ArchId[]): fc.Arbitrary<ArchId> {
  return fc.constantFrom(...archs);
}

/** An architecture among `ids` (by name; every registered one when absent). */
export function arch(ids?: readonly string[]): fc.Arbitrary<ArchId> {
  const all = ids ?? allArchIds();
  if (all.length === 0) throw new Error('arch(): name at least one architecture');
  return archArb(all.map(parseArch));
}
