// Races that were real and unfixed at a release (docs/known-races.md). A failure in such an era that
// matches one is reported as known, not new: the era is not expected to be clean of it.

import type { ArchId } from '../mm/arch.js';
import type { EraId } from '../mm/switches.js';
import type { ViolationKind } from '../oracle/violations.js';

export interface KnownRace {
  readonly id: string;
  readonly eras: readonly EraId[];
  readonly arches: readonly ArchId[];
  /** The (shrunk) scenario's actors are all among these. */
  readonly actors: readonly string[];
  readonly kinds: readonly ViolationKind[];
}

const ALL: readonly ArchId[] = ['x86-ipi', 'rcu-table-free', 'x86-pae'];
const TABLE_UAF: readonly ViolationKind[] = ['table-use-after-free', 'table-reused', 'frame-zero-walked', 'bogus-table-walked', 'torn-pmd-read'];

export const KNOWN_RACES: readonly KnownRace[] = [
  { id: 'retract-no-exit-test', eras: ['v5.8'], arches: ALL, actors: ['exit_mmap', 'collapse_file'], kinds: TABLE_UAF },
  { id: 'dump-without-mmget-still-valid', eras: ['v5.8'], arches: ALL, actors: ['coredump', 'collapse_file', 'collapse_pte_mapped_thp'], kinds: TABLE_UAF },
  { id: 'exit-mmput-window', eras: ['v5.10'], arches: ALL, actors: ['exit_mmap', 'collapse_file'], kinds: TABLE_UAF },
  // KVM's hva_to_pfn_fast() walks as GUP-fast does, so it meets the same race.
  { id: 'khugepaged-no-ipi-sync', eras: ['v5.8', 'v5.10'], arches: ['rcu-table-free'], actors: ['gup_fast', 'kvm', 'collapse_file', 'collapse_pte_mapped_thp', 'collapse_huge_page'], kinds: TABLE_UAF },
  // collapse_pte_mapped_thp() cleared the pmd of a pte-mapped THP with no mmu notifier (f268f6cf875f).
  { id: 'khugepaged-file-no-mmu-notifier', eras: ['v5.8', 'v5.10'], arches: ALL, actors: ['kvm', 'collapse_pte_mapped_thp'], kinds: ['stale-secondary-mapping', 'stale-secondary-access'] },
  { id: 'gup-fast-no-pmd-recheck', eras: ['v5.8', 'v5.10'], arches: ['rcu-table-free'], actors: ['gup_fast', 'collapse_huge_page'], kinds: ['stale-pin'] },
  // The references collapse_pte_mapped_thp() drops are dropped again by the racing zap: a GUP pin on
  // the huge page can then outlive the page.
  { id: 'retract-wrong-locks', eras: ['v5.8', 'v5.10'], arches: ALL, actors: ['unmap_mapping_range', 'truncate', 'collapse_pte_mapped_thp', 'gup_fast', 'gup_slow'],
    kinds: [...TABLE_UAF, 'kernel-bug', 'bad-refcount', 'counter-mismatch', 'freed-while-pinned'] },
  // x86's flush_tlb_range() skipped lazy TLB CPUs (freed_tables = false) in pmdp_collapse_flush(),
  // which khugepaged follows by freeing the table: a lazy CPU's paging-structure cache keeps it.
  { id: 'lazy-tlb-collapse-flush', eras: ['v5.8', 'v5.10', 'v6.2', 'v6.6'], arches: ['x86-ipi', 'x86-pae'],
    // A table collapse_huge_page() deposited after the flush is freed later by zap_deposited_table().
    actors: ['lazy_tlb', 'collapse_file', 'collapse_huge_page', 'collapse_pte_mapped_thp', 'hw_walker', 'exit_mmap', 'munmap', 'madvise_dontneed'],
    kinds: ['stale-tlb', 'table-use-after-free', 'table-reused'] },
  // shrink_page_list() / shrink_folio_list() freed a large folio at free_it (destroy_compound_page(),
  // destroy_large_folio()) before the try_to_unmap_flush() that ends the list, after try_to_unmap()
  // deferred the flush (TTU_BATCH_FLUSH, x86): a CPU's TLB still maps the freed page. Fixed in v6.9
  // by bc2ff4cbc329 "mm: free folios in a batch in shrink_folio_list()".
  { id: 'reclaim-large-folio-before-batched-flush', eras: ['v5.8', 'v5.10', 'v6.2', 'v6.6'], arches: ['x86-ipi', 'x86-pae'],
    actors: ['shrink_folio_list', 'hw_walker', 'lazy_tlb'], kinds: ['stale-tlb', 'stale-tlb-access'] },
];

export function knownRace(era: EraId, arch: ArchId, actors: readonly string[], kind: ViolationKind): string | null {
  const base = actors.map((a) => a.replace(/#\d+$/, ''));
  const hit = KNOWN_RACES.find((k) => k.eras.includes(era) && k.arches.includes(arch) && k.kinds.includes(kind) && base.every((a) => k.actors.includes(a)));
  return hit?.id ?? null;
}
