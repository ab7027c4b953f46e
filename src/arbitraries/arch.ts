// An architecture, from the ones a campaign runs on.

import fc from 'fast-check';
import type { ArchId } from '../mm/arch.js';

export function archArb(archs: readonly ArchId[]): fc.Arbitrary<ArchId> {
  return fc.constantFrom(...archs);
}
