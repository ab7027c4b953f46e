// The catalog's races (CATALOG.md, V1–V9) as data: for each, the scenario it shows in (its variant's
// home era and first architecture, the variants it needs, and the actors, with the arguments that put
// them on the same pmd) and the violation it gives. The bench, the catalog's tests and the fuzzer's
// end-to-end tests all take the races from here.

import type { ActorCall, ScenarioSpec } from '../mm/scenario.js';
import { parseVariant, type EraId, type VariantId } from '../mm/switches.js';
import type { ViolationKind } from '../oracle/violations.js';

export interface CatalogRace {
  /** V1..V9. */
  readonly tag: string;
  readonly variant: VariantId;
  /** The variant's home era and first architecture; its variants are the race's `variant` and the
   *  ones it needs on top (V3 needs V2's fix out too: the IPI sync masks it). */
  readonly spec: ScenarioSpec & { readonly era: EraId; readonly variants: readonly VariantId[] };
  readonly kind: ViolationKind;
}

function race(variant: VariantId, actors: readonly ActorCall[], kind: ViolationKind, needs: readonly VariantId[] = []): CatalogRace {
  const v = parseVariant(variant);
  return { tag: v.tag, variant, spec: { arch: v.arches[0]!, era: v.home, variants: [variant, ...needs], actors }, kind };
}

export const CATALOG_RACES: readonly CatalogRace[] = [
  race('retract-no-exit-test', [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }], 'frame-zero-walked'),
  race('khugepaged-no-ipi-sync', [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }], 'table-use-after-free'),
  race('gup-fast-no-pmd-recheck', [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }], 'stale-pin', ['khugepaged-no-ipi-sync']),
  race('pae-torn-pmd-read', [{ actor: 'gup_fast', args: { addr: 4 } }, { actor: 'fault', args: { addr: 4 } }], 'torn-pmd-read'),
  race('pmd-bad-clears-huge', [{ actor: 'madvise_dontneed', args: { slot: 1 } }, { actor: 'thp_fault', args: { slot: 1 } }], 'valid-mapping-cleared'),
  race('retract-wrong-locks', [{ actor: 'unmap_mapping_range', args: { slot: 3 } }, { actor: 'collapse_pte_mapped_thp' }], 'table-use-after-free'),
  race('gup-fast-no-irq-disable', [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }], 'table-use-after-free'),
  race('paravirt-flush-no-rcu', [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }], 'table-use-after-free'),
  race('coredump-unlocked', [{ actor: 'coredump', args: { addr: 0 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }], 'bogus-table-walked'),
];

/** The race of a catalog tag (V1..V9). */
export function catalogRace(tag: string): CatalogRace {
  const r = CATALOG_RACES.find((x) => x.tag === tag);
  if (!r) throw new Error(`no catalog race ${tag}; the catalog has ${CATALOG_RACES.map((x) => x.tag).join(', ')}`);
  return r;
}
