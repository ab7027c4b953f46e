// An era and a set of variant switches that apply to it.

import fc from 'fast-check';
import { makeSwitches, parseEra, parseVariant, VARIANTS, type EraId, type VariantId } from '../mm/switches.js';

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

/** The switches of an era (or of one among several) with exactly the variants named (by id or tag,
 *  'V2'): what a test of one protocol asks for. Checked at once: a variant whose code the era lacks is
 *  an error naming the eras it applies to. */
export function switches(era: string | readonly string[] | undefined, variants: readonly string[] = []): fc.Arbitrary<SwitchChoice> {
  const ids = variants.map((v) => parseVariant(v).id);
  const eras = (era === undefined ? [undefined] : typeof era === 'string' ? [era] : era).map((e) => makeSwitches(e === undefined ? undefined : parseEra(e), ids));
  const choices = eras.map((sw): SwitchChoice => ({ era: sw.era, variants: ids }));
  return choices.length === 1 ? fc.constant(choices[0]!) : fc.constantFrom(...choices);
}
