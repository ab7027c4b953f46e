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
/** The actors a split of a THP migration entry involves: the split, the migration, and the paths that
 *  touch the page afterwards (and so are named by an end-audit violation). */
const SPLIT_VS_MIGRATION: readonly string[] = ['split_huge_pmd', 'migrate_pages', 'thp_fault', 'fault', 'munmap', 'madvise_dontneed', 'exit_mmap', 'gup_fast', 'gup_slow', 'mincore', 'hw_walker'];
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
  // v5.8's collapse_pte_mapped_thp() took no page lock (find_lock_page() came with 119a5fc16105, v5.9):
  // reclaim's rmap walk, under the folio lock and i_mmap_rwsem, found its table freed.
  // shrink_folio_list() is that reclaim (page_referenced() and try_to_unmap() under the folio lock):
  // it tears the pmd on PAE, or unmaps a pte the collapse has already removed from the rmap.
  { id: 'collapse-pte-mapped-thp-no-page-lock', eras: ['v5.8'], arches: ALL, actors: ['try_to_unmap', 'shrink_folio_list', 'collapse_pte_mapped_thp'],
    kinds: [...TABLE_UAF, 'torn-pmd-read', 'kernel-bug'] },
  // gup_pmd_range() read the pmd with READ_ONCE(), two 32-bit loads on PAE, until "mm/gup: Fix the
  // lockless PMD access" (v6.2) made it pmdp_get_lockless(); KVM's hva_to_pfn_fast() walks the same way.
  { id: 'gup-fast-pmd-read-once', eras: ['v5.8', 'v5.10'], arches: ['x86-pae'],
    actors: ['gup_fast', 'kvm', 'fault', 'thp_fault', 'munmap', 'madvise_dontneed', 'exit_mmap', 'unmap_mapping_range', 'collapse_file', 'collapse_huge_page', 'collapse_pte_mapped_thp'],
    kinds: TABLE_UAF },
  // x86's flush_tlb_range() skipped lazy TLB CPUs (freed_tables = false) in pmdp_collapse_flush(),
  // which khugepaged follows by freeing the table: a lazy CPU's paging-structure cache keeps it.
  { id: 'lazy-tlb-collapse-flush', eras: ['v5.8', 'v5.10', 'v6.2', 'v6.6'], arches: ['x86-ipi', 'x86-pae'],
    // A table collapse_huge_page() deposited after the flush is freed later by zap_deposited_table().
    // try_to_unmap: reclaim may have emptied the ptes first; its flush_tlb_page() skips lazy CPUs too.
    actors: ['lazy_tlb', 'collapse_file', 'collapse_huge_page', 'collapse_pte_mapped_thp', 'hw_walker', 'exit_mmap', 'munmap', 'madvise_dontneed', 'try_to_unmap'],
    kinds: ['stale-tlb', 'table-use-after-free', 'table-reused'] },
  // move_normal_pmd() took no rmap lock before 97113eb39fa7 (v5.14): an rmap walker (i_mmap_rwsem
  // read, no mmap_lock) read *pmd = T, mremap moved T to the new pmd, and the walker's
  // pte_offset_map()/pte_lockptr() read *pmd again: none, physical page 0 as a page table.
  // CONFIG_HAVE_MOVE_PMD: x86 only at these eras in the model. truncate is the same walker:
  // truncate_pagecache() → unmap_mapping_range(), the zap under i_mmap_rwsem only (a campaign
  // drawing its schedules from the arbitraries found it with truncate).
  { id: 'mremap-pmd-no-rmap-lock', eras: ['v5.8', 'v5.10'], arches: ['x86-ipi', 'x86-pae'], actors: ['mremap', 'try_to_unmap', 'unmap_mapping_range', 'truncate'], kinds: TABLE_UAF },
  // move_page_tables() chose NORMAL_PMD from a *old_pmd read before take_rmap_locks(); v6.6's
  // lockless retract_page_tables() cleared that pmd in between, and move_normal_pmd() populated the
  // new pmd with pmd_pgtable(none): physical page 0 as a page table (6fa1066fc5d0, v6.12).
  { id: 'mremap-retract-race', eras: ['v6.6'], arches: ALL, actors: ['mremap', 'collapse_file'], kinds: ['bad-entry-installed', ...TABLE_UAF] },
  // fork() shared a GUP-pinned anon page with the child (copy_one_pte() write-protects it with no
  // regard to pins) until 70e806e4e645 (v5.9) copied maybe-pinned pages for the child at once.
  { id: 'fork-shares-pinned-page', eras: ['v5.8'], arches: ALL, actors: ['fork', 'gup_fast', 'gup_slow'], kinds: ['pinned-page-cow-shared'] },
  // v5.10: GUP-fast pins between copy_present_page()'s page_maybe_dma_pinned() and the
  // write-protect; fixed by 57efa1fe5957 (v5.11, write_protect_seq).
  { id: 'fork-gup-fast-cow-race', eras: ['v5.10'], arches: ALL, actors: ['fork', 'gup_fast'], kinds: ['pinned-page-cow-shared'] },
  // shrink_page_list() / shrink_folio_list() freed a large folio at free_it (destroy_compound_page(),
  // destroy_large_folio()) before the try_to_unmap_flush() that ends the list, after try_to_unmap()
  // deferred the flush (TTU_BATCH_FLUSH, x86): a CPU's TLB still maps the freed page. Fixed in v6.9
  // by bc2ff4cbc329 "mm: free folios in a batch in shrink_folio_list()".
  { id: 'reclaim-large-folio-before-batched-flush', eras: ['v5.8', 'v5.10', 'v6.2', 'v6.6'], arches: ['x86-ipi', 'x86-pae'],
    actors: ['shrink_folio_list', 'hw_walker', 'lazy_tlb', 'touch'], kinds: ['stale-tlb', 'stale-tlb-access'] },
  // __split_huge_pmd_locked() on a THP migration entry raised the subpages' mapcounts and dropped the
  // compound one as if the page were mapped (fixed by ec0abae6dcdf, v5.9), and took HPAGE_PMD_NR - 1
  // references that no entry holds (fixed by 9d84604b845c, v5.18). Found at the end audit, by
  // whichever actor last touched the page.
  { id: 'split-migration-pmd-mapcount', eras: ['v5.8'], arches: ALL, actors: SPLIT_VS_MIGRATION, kinds: ['bad-mapcount', 'leak', 'kernel-bug'] },
  { id: 'split-migration-pmd-refcount', eras: ['v5.8', 'v5.10'], arches: ALL, actors: SPLIT_VS_MIGRATION, kinds: ['leak', 'bad-mapcount'] },
  // __split_huge_pmd_locked() calls pmdp_invalidate() on a migration entry too; arm64's
  // pmd_mkinvalid() makes it a present, trans-huge entry of a pfn the swap offset's bits give
  // (fixed by e783331c7720, v6.10).
  { id: 'split-pmd-invalidate-migration-entry', eras: ['v5.8', 'v5.10', 'v6.2', 'v6.6'], arches: ['rcu-table-free'], actors: SPLIT_VS_MIGRATION,
    kinds: ['bad-entry-installed', 'gup-wrong-page', 'ref-on-freed-frame', 'bogus-table-walked'] },
];

export function knownRace(era: EraId, arch: ArchId, actors: readonly string[], kind: ViolationKind): string | null {
  const base = actors.map((a) => a.replace(/#\d+$/, ''));
  const hit = KNOWN_RACES.find((k) => k.eras.includes(era) && k.arches.includes(arch) && k.kinds.includes(kind) && base.every((a) => k.actors.includes(a)));
  return hit?.id ?? null;
}
