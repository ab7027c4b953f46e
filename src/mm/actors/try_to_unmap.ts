// Reclaim unmapping a file THP mapped by ptes: shrink_folio_list() holds the folio lock, then
// try_to_unmap() → rmap_walk_file() under i_mmap_rwsem read (no mmap_lock) → try_to_unmap_one() →
// page_vma_mapped_walk().
//
// ≤ v6.2 page_vma_mapped_walk(): pmde = pmdp_get_lockless(pmd); map_pte(): pte_offset_map(pmd) and
// pte_lockptr(mm, pmd) each read *pmd again, and nothing re-checks it under the ptl.
// v6.6 map_pte(): pte_offset_map_nolock() under RCU, and the ptl of that mapping.

import type { ActorDef } from '../actor.js';
import { page_remove_rmap, set_page_dirty } from '../rmap.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE, pmd_present, pmd_trans_huge } from '../entries.js';
import { vma_address, vma_interval_tree_foreach } from '../model.js';
import { put_page, trylock_page, unlock_page } from '../frames.js';
import { down_read, up_read } from '../locks.js';
import { pmd_off, pmd_read, pmd_table, pmdp_get_lockless, type PmdPtr, pte_read, ptep_get_and_clear, spin_lock_ptl, type Stepper, type TablePtr } from '../pgtable.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import type { Mm } from '../types.js';
import { flush_tlb_page } from '../tlbflush.js';
import { mayFailPteMap, pte_offset_map_rcu, pte_unmap_unlock } from '../walk.js';
import { add_mm_counter } from '../counters.js';
import { eraAtLeast } from '../switches.js';

/** page_vma_mapped_walk() up to map_pte(): the locked table, or null if nothing is mapped there. */
export function* pvmw_map_pte(c: Ctx, slot: PmdPtr): Stepper<TablePtr | null> {
  const pmde = yield* pmdp_get_lockless(c, slot, 'page_vma_mapped_walk(): pmde = pmdp_get_lockless(pvmw->pmd)');
  if (!pmd_present(c.m.arch, pmde.entry) || pmd_trans_huge(c.m.arch, pmde.entry)) return null;
  if (mayFailPteMap(c)) {
    const map = yield* pte_offset_map_rcu(c, slot);
    if (!map) return null;
    yield* spin_lock_ptl(c, map.ptr);
    return map.ptr;
  }
  const v = yield* pmd_read(c, slot, 'map_pte(): pvmw->pte = pte_offset_map(pvmw->pmd, address)');
  const ptr = pmd_table(c, v);
  const present = pte_read(c, ptr, 0).t === 'present';
  yield step(`map_pte(): pte_present(*pvmw->pte) [table ${ptr.pfn}]`);
  if (!present) return null;
  const l = yield* pmd_read(c, slot, 'map_pte(): pvmw->ptl = pte_lockptr(mm, pvmw->pmd)');
  const locked = pmd_table(c, l);
  yield* spin_lock_ptl(c, locked);
  return locked;
}

/** TTU_BATCH_FLUSH (shrink_folio_list()'s reclaim): whether should_defer_flush() defers this mm's
 *  flush, and set_tlb_ubc_flush_pending() when it does. */
export interface TtuBatch {
  readonly defer: (mm: Mm) => boolean;
  readonly pending: (mm: Mm, writable: boolean) => void;
}

/** try_to_unmap_one()'s page_vma_mapped_walk() loop over one VMA mapping `hpage` at `base`: each pte
 *  cleared with ptep_clear_flush(), or, with `batch` and should_defer_flush(), ptep_get_and_clear()
 *  and the flush left pending. */
export function* try_to_unmap_one(c: Ctx, mm: Mm, base: number, hpage: number, batch?: TtuBatch): ActorGen {
  const m = c.m;
  // page_vma_mapped_walk(): pvmw->pmd = mm_find_pmd() (pgd, p4d, pud present).
  const pmd = pmd_off(c, base, mm);
  if (!pmd) return;
  const ptr = yield* pvmw_map_pte(c, pmd);
  if (!ptr) return;
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    const pte = pte_read(c, ptr, i);
    if (pte.t !== 'present' || pte.pfn !== hpage) continue;
    ptep_get_and_clear(c, ptr, i);
    if (batch?.defer(mm)) {
      batch.pending(mm, pte.dirty);
      yield step(`try_to_unmap_one(): should_defer_flush(): ptep_get_and_clear(addr ${base + i}); set_tlb_ubc_flush_pending()`);
    } else {
      yield step(`try_to_unmap_one(): ptep_clear_flush(addr ${base + i})`);
      yield* flush_tlb_page(c, mm, base + i, 'ptep_clear_flush(): flush_tlb_page()');
    }
    if (pte.dirty) set_page_dirty(c, hpage);
    add_mm_counter(c, mm, -1);
    page_remove_rmap(c, hpage);
    put_page(m, hpage);
    // put_page(page) until the folio conversion of 5.18 (869f7ee6f647 "mm/rmap: Convert try_to_unmap()
    // to take a folio"), folio_put(folio) after.
    yield step(`try_to_unmap_one(): ${pte.dirty ? 'set_page_dirty(); ' : ''}page_remove_rmap(); ${eraAtLeast(m.sw, 'v6.2') ? 'folio_put' : 'put_page'}()`);
  }
  pte_unmap_unlock(c, ptr);
  yield step('page_vma_mapped_walk_done(): pte_unmap_unlock()');
}

export const try_to_unmap: ActorDef = {
  name: 'try_to_unmap',
  summary: 'reclaim unmaps the pte-mapped file THP: folio lock, i_mmap_rwsem read, page_vma_mapped_walk(), ptep_clear_flush()',
  follows: 'mm/vmscan.c shrink_folio_list() → mm/rmap.c try_to_unmap(), rmap_walk_file(), try_to_unmap_one(); mm/page_vma_mapped.c page_vma_mapped_walk(), map_pte(); ≤ v6.2 and v6.6 forms',
  inMm: false,
  daemon: 'no',
  params: [{ name: 'slot', min: 3, max: 3, default: 3, doc: 'the file range (file page / HPAGE_PMD_NR) whose THP is mapped by ptes; in the default world the same number as its pmd slot' }],
  *run(c, args) {
    const m = c.m;
    const slot = args['slot'] ?? 3;
    const file = m.files[0]!;
    const hpage = file.hpage[slot] ?? 0;
    if (!trylock_page(c, hpage)) {
      yield step(`shrink_folio_list(): folio_trylock(${hpage}) failed: keep`);
      return;
    }
    yield step(`shrink_folio_list(): folio_trylock(${hpage})`);
    yield* down_read(c, file.i_mmap_rwsem);
    const pgoff = slot * HPAGE_PMD_NR;
    for (const vma of vma_interval_tree_foreach(m.files, file.id, pgoff)) {
      const mm = m.mms[vma.mm]!;
      const base = vma_address(vma, pgoff);
      // try_to_unmap_one() (v5.8–v6.6): mmu_notifier_range_init(MMU_NOTIFY_CLEAR, address,
      // address + page_size(page)); mmu_notifier_invalidate_range_start() before the
      // page_vma_mapped_walk() loop, mmu_notifier_invalidate_range_end() after it. A file page needs
      // no mmu_notifier_invalidate_range() under the ptl (v5.10's comment: it is locked, so it cannot
      // be replaced before _end()).
      const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, base, base + HPAGE_PMD_NR);
      yield* mmu_notifier_invalidate_range_start(c, range);
      yield* call(try_to_unmap_one(c, mm, base, hpage));
      yield* mmu_notifier_invalidate_range_end(c, range);
    }
    up_read(c, file.i_mmap_rwsem);
    unlock_page(c, hpage);
    yield step(`rmap_walk_file(): i_mmap_unlock_read(); folio_unlock(${hpage})`);
  },
};

