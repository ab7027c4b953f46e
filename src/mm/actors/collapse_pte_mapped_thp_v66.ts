// collapse_pte_mapped_thp() at v6.6, after Hugh Dickins' 2023 series (1043173eb5eb "mm/khugepaged:
// collapse_pte_mapped_thp() with mmap_read_lock()", 1d65b771bc08 "mm/khugepaged: retract_page_tables()
// without mmap or vma lock", 0d940a9b270b "mm/pgtable: allow pte_offset_map[_lock]() to fail").
//
// follows: mm/khugepaged.c khugepaged_scan_mm_slot() (the SCAN_PTE_MAPPED_HUGEPAGE branch:
// mmap_read_lock; hpage_collapse_test_exit; collapse_pte_mapped_thp(mm, addr, false);
// mmap_read_unlock), find_pmd_or_thp_or_none(), collapse_pte_mapped_thp(); mm/pgtable-generic.c
// pte_offset_map_nolock(). Read at 6.6 in ExtremeXT/android_kernel_samsung_6.6 (a 6.6 tree whose
// khugepaged.c carries later folio renames, folio_remove_rmap_pte() for page_remove_rmap(),
// thp_vma_allowable_order() for hugepage_vma_check(); the locking is 6.6's).
//
//   mmap_read_lock; vma_lookup + range check; find_pmd_or_thp_or_none (fast check); filemap_lock_folio;
//   find_pmd_or_thp_or_none again; pte_offset_map_lock (may fail); step 1: every pte maps folio + i,
//   else abort; pte_unmap_unlock; mmu_notifier_invalidate_range_start; pte_offset_map_nolock (may
//   fail); spin_lock(ptl); step 2: re-check and ptep_clear + page_remove_rmap each pte; pte_unmap;
//   spin_unlock(ptl); step 3: folio_ref_sub, add_mm_counter; step 4: pmd_lock, then the ptl nested;
//   pmdp_collapse_flush; pmdp_get_lockless_sync; spin_unlock(ptl); spin_unlock(pml);
//   mmu_notifier_invalidate_range_end; mm_dec_nr_ptes; pte_free_defer (RCU). Abort after ptes were
//   cleared: flush_tlb_mm, folio_ref_sub, add_mm_counter, pte_unmap_unlock, range_end.
// Not modelled: hugepage_vma_check(), userfaultfd (the uffd-private branch that takes pml before the
// ptl: no VMA of the model is registered with userfaultfd), install_pmd (MADV_COLLAPSE's caller;
// khugepaged passes false), page_table_check.

import { HPAGE_PMD_NR, PMD_PAGES, PTRS_PER_PTE, pmd_none, pmd_present, pmd_trans_huge, pmd_bad, pmdAddr } from '../entries.js';
import { lock_page, page_ref_sub, unlock_page } from '../frames.js';
import { down_read, spin_unlock, up_read } from '../locks.js';
import { find_vma, linear_page_index } from '../model.js';
import { pmd_lock, pmd_lockptr, pmd_off, pmdp_collapse_flush, pmdp_get_lockless, pte_lockptr, pte_read, pte_write, spin_lock_ptl, type PmdPtr, type Stepper } from '../pgtable.js';
import { page_remove_rmap } from '../rmap.js';
import { step, type ActorGen, type Ctx } from '../step.js';
import { flush_tlb_mm, pmdp_get_lockless_sync, pte_free_defer } from '../tlbflush.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import { pte_offset_map_lock, pte_offset_map_rcu, pte_unmap, pte_unmap_unlock } from '../walk.js';
import { add_mm_counter, mm_dec_nr_ptes } from '../counters.js';
import type { Mm } from '../types.js';
import { test_exit } from './khugepaged.js';

type ScanResult = 'SCAN_SUCCEED' | 'SCAN_PMD_NULL' | 'SCAN_PMD_NONE' | 'SCAN_PMD_MAPPED';

/** find_pmd_or_thp_or_none() (v6.6): mm_find_pmd(), then pmdp_get_lockless() and the verdict. */
function* find_pmd_or_thp_or_none(c: Ctx, mm: Mm, addr: number, label: string): Stepper<{ readonly result: ScanResult; readonly pmd: PmdPtr | null }> {
  const pmd = pmd_off(c, addr, mm);
  if (!pmd) return { result: 'SCAN_PMD_NULL', pmd: null };
  const a = c.m.arch;
  const pmde = yield* pmdp_get_lockless(c, pmd, `${label}: pmde = pmdp_get_lockless(pmd)`);
  const result: ScanResult = pmd_none(a, pmde.entry) ? 'SCAN_PMD_NONE'
    : !pmd_present(a, pmde.entry) ? 'SCAN_PMD_NULL'
      : pmd_trans_huge(a, pmde.entry) ? 'SCAN_PMD_MAPPED'
        : pmd_bad(a, pmde.entry) ? 'SCAN_PMD_NULL' : 'SCAN_SUCCEED';
  return { result, pmd };
}

/** khugepaged_scan_mm_slot()'s SCAN_PTE_MAPPED_HUGEPAGE branch and collapse_pte_mapped_thp(mm, addr,
 *  install_pmd = false), v6.6. */
export function* collapse_pte_mapped_thp_v66(c: Ctx, slot: number): ActorGen {
  const m = c.m;
  const mm = c.mm;
  const haddr = pmdAddr(slot);
  yield* down_read(c, mm.mmap_lock);
  const out = function* (label: string): ActorGen {
    up_read(c, mm.mmap_lock);
    yield step(`${label}: mmap_read_unlock(mm)`);
  };
  if (test_exit(mm)) return yield* out('khugepaged_scan_mm_slot(): hpage_collapse_test_exit(mm)');
  // vma_lookup(); "First check VMA found, in case page tables are being torn down".
  const vma = find_vma(mm, haddr);
  const file = vma && vma.kind === 'file' ? m.files[vma.file] : undefined;
  if (!vma || !file || vma.start > haddr || vma.end < haddr + PMD_PAGES) return yield* out('collapse_pte_mapped_thp(): SCAN_VMA_CHECK');
  // "Fast check before locking page if already PMD-mapped".
  const fast = yield* find_pmd_or_thp_or_none(c, mm, haddr, 'collapse_pte_mapped_thp(): find_pmd_or_thp_or_none()');
  if (fast.result === 'SCAN_PMD_MAPPED') return yield* out('collapse_pte_mapped_thp(): SCAN_PMD_MAPPED');
  // filemap_lock_folio(): the huge page the page cache holds for this range.
  const folio = file.hpage[linear_page_index(vma, haddr) / HPAGE_PMD_NR] ?? 0;
  if (!folio) return yield* out('collapse_pte_mapped_thp(): filemap_lock_folio(): SCAN_PAGE_NULL');
  yield* lock_page(c, folio);
  const drop_folio = function* (label: string): ActorGen {
    unlock_page(c, folio);
    yield* out(`${label}: folio_unlock(${folio}); folio_put()`);
  };
  const found = yield* find_pmd_or_thp_or_none(c, mm, haddr, 'collapse_pte_mapped_thp(): find_pmd_or_thp_or_none()');
  // SCAN_PMD_NONE: "All pte entries have been removed and pmd cleared": maybe_install_pmd, which
  // with install_pmd false is SCAN_SUCCEED.
  if (found.result !== 'SCAN_SUCCEED' || !found.pmd) return yield* drop_folio(`collapse_pte_mapped_thp(): ${found.result === 'SCAN_PMD_NONE' ? 'maybe_install_pmd' : found.result}`);
  const pmd = found.pmd;
  // "mmap_lock + page lock should prevent this" failing; it may still.
  const start = yield* pte_offset_map_lock(c, pmd);
  if (!start) return yield* drop_folio('collapse_pte_mapped_thp(): pte_offset_map_lock() failed');
  // step 1: check all mapped PTEs are to the right huge page
  let ok = true;
  for (let i = 0; i < PTRS_PER_PTE && ok; i++) {
    const pte = pte_read(c, start, i);
    if (pte.t === 'none') continue;
    if (pte.t !== 'present' || pte.pfn !== folio || pte.sub !== i) ok = false; // SCAN_PTE_NON_PRESENT, or not folio_page(folio, i)
  }
  yield step(`collapse_pte_mapped_thp(): step 1: ${ok ? 'every pte maps folio_page(folio, i)' : 'a pte maps another page: goto abort'}`);
  pte_unmap_unlock(c, start);
  if (!ok) return yield* drop_folio('collapse_pte_mapped_thp(): abort: pte_unmap_unlock()');
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, haddr, haddr + PMD_PAGES);
  yield step('collapse_pte_mapped_thp(): pte_unmap_unlock(); mmu_notifier_range_init()');
  yield* mmu_notifier_invalidate_range_start(c, range);
  // pte_offset_map_nolock(): __pte_offset_map() under RCU (may fail), *ptlp = pte_lockptr(mm, &pmdval).
  const map = yield* pte_offset_map_rcu(c, pmd);
  if (!map) {
    yield* mmu_notifier_invalidate_range_end(c, range);
    return yield* drop_folio('collapse_pte_mapped_thp(): pte_offset_map_nolock() failed: abort');
  }
  const ptr = map.ptr;
  const ptl = pte_lockptr(m, ptr);
  yield* spin_lock_ptl(c, ptr);
  // step 2: clear page table and adjust rmap. "We dropped ptl after the first scan, to do the
  // mmu_notifier": check each pte again.
  let nr_ptes = 0;
  let abort = false;
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const pte = pte_read(c, ptr, i);
    if (pte.t === 'none') continue;
    if (pte.t !== 'present' || pte.pfn !== folio || pte.sub !== i) {
      abort = true;
      break;
    }
    // ptep_clear(): "TLB flush can be left until pmdp_collapse_flush() does it."
    pte_write(c, ptr, i, { t: 'none' });
    page_remove_rmap(c, folio);
    nr_ptes++;
    yield step(`collapse_pte_mapped_thp(): step 2: ptep_clear(addr ${haddr + i}); page_remove_rmap()`);
  }
  if (abort) {
    // abort: flush_tlb_mm() for the ptes already cleared, then give their references back.
    if (nr_ptes) {
      yield* flush_tlb_mm(c, mm, 'collapse_pte_mapped_thp(): abort: flush_tlb_mm()');
      page_ref_sub(c, folio, nr_ptes);
      add_mm_counter(c, mm, -nr_ptes);
    }
    pte_unmap_unlock(c, ptr);
    yield step(`collapse_pte_mapped_thp(): abort: ${nr_ptes ? `folio_ref_sub(${nr_ptes}); ` : ''}pte_unmap_unlock()`);
    yield* mmu_notifier_invalidate_range_end(c, range);
    return yield* drop_folio('collapse_pte_mapped_thp(): abort');
  }
  pte_unmap(c);
  spin_unlock(c, ptl);
  // step 3: set proper refcount and mm_counters.
  if (nr_ptes) {
    page_ref_sub(c, folio, nr_ptes);
    add_mm_counter(c, mm, -nr_ptes);
  }
  yield step(`collapse_pte_mapped_thp(): pte_unmap(); spin_unlock(ptl); step 3: folio_ref_sub(${nr_ptes}); add_mm_counter(-${nr_ptes})`);
  // step 4: remove empty page table: pml, then the ptl nested inside it.
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  if (ptl !== pml) yield* spin_lock_ptl(c, ptr);
  const pgt_pmd = yield* pmdp_collapse_flush(c, pmd);
  yield* pmdp_get_lockless_sync(c);
  if (ptl !== pml) spin_unlock(c, ptl);
  spin_unlock(c, pml);
  yield step('collapse_pte_mapped_thp(): spin_unlock(ptl); spin_unlock(pml)');
  yield* mmu_notifier_invalidate_range_end(c, range);
  mm_dec_nr_ptes(c, mm);
  // pte_free_defer(mm, pmd_pgtable(pgt_pmd)): what pmdp_collapse_flush() took out, under pml.
  const freed = pgt_pmd.t === 'table' ? pgt_pmd.pfn : 0;
  if (freed) pte_free_defer(c, freed);
  yield step(`collapse_pte_mapped_thp(): mm_dec_nr_ptes(); pte_free_defer(${freed || '-'})`);
  yield* drop_folio('collapse_pte_mapped_thp(): maybe_install_pmd: install_pmd false');
}
