// An era and a set of variant switches that apply to it.

import fc from 'fast-check';
import { VARIANTS, type EraId, type VariantId } from '../mm/switches.js';

export interface SwitchChoice {
  readonly era: EraId;
  readonly variants: readonly VariantId[];
}

export function switchesArb(eras: readonly EraId[], variants: readonly VariantId[] = []): fc.Arbitrary<SwitchChoice> {
  return fc.constantFrom(...eras).chain((era) => {
    const fits = variants.filter((v) => VARIANTS.find((x) => x.id === v)?.eras.includes(era));
    return fc.subarray(fits).map((vs) => ({ era, variants: vs }));
  });
}
