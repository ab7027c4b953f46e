// khugepaged's file collapse, from the point where collapse_file() has put the new huge page in the
// page cache (still locked) and unmapped the small pages: retract_page_tables() walks every VMA that
// maps the range and takes its now-empty pte table out.
//
//   ≤ v6.0   i_mmap_lock_write; mm_find_pmd; mmap_write_trylock; (v5.9+, 18e77600f7a1)
//            khugepaged_test_exit; pmd_lock; pmdp_collapse_flush; spin_unlock; mm_dec_nr_ptes;
//            pte_free (v5.8: after mmap_write_unlock).
//   v6.1–6.4 the same through collapse_and_free_pmd(): no pmd_lock, mmu notifier,
//            tlb_remove_table_sync_one() (2ba99c5e0881), pte_free.
//   v6.6     1d65b771bc08: i_mmap_lock_read, no mmap or vma lock; hpage_collapse_test_exit; pmd_lock
//            and the pte ptl; re-check anon_vma; pmdp_collapse_flush; pmdp_get_lockless_sync();
//            pte_free_defer() (RCU).
// Switches: V1 retract-no-exit-test, V2 khugepaged-no-ipi-sync.

import type { ActorDef } from '../actor.js';
import { HPAGE_PMD_NR, PMD_PAGES } from '../entries.js';
import { vma_address, vma_interval_tree_foreach } from '../model.js';
import { lock_page, unlock_page } from '../frames.js';
import { down_read, down_write, down_write_trylock, spin_unlock, up_read, up_write } from '../locks.js';
import { pmd_load, pmd_lock, pmd_lockptr, pmd_table, pmdp_collapse_flush, pte_lockptr, spin_lock_ptl } from '../pgtable.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { eraAtLeast, has } from '../switches.js';
import { pmdp_get_lockless_sync, pte_free, pte_free_defer, tlb_remove_table_sync_one } from '../tlbflush.js';
import type { Mm, Vma } from '../types.js';
import { find_pmd, test_exit } from './khugepaged.js';
import { mm_dec_nr_ptes } from '../counters.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';

/** retract_page_tables() for one VMA, ≤ v6.4 (mmap_write_trylock). */
function* retract_locked(c: Ctx, mm: Mm, addr: number): ActorGen {
  const m = c.m;
  const found = yield* find_pmd(c, mm, addr, 'retract_page_tables(): pmd = mm_find_pmd(mm, addr)');
  if (!found) return;
  const pmd = found.pmd;
  if (!down_write_trylock(c, mm.mmap_lock)) {
    yield step('retract_page_tables(): mmap_write_trylock() failed: khugepaged_add_pte_mapped_thp()');
    return;
  }
  const testsExit = eraAtLeast(m.sw, 'v5.10') && !has(m.sw, 'retract-no-exit-test');
  yield step(`retract_page_tables(): mmap_write_trylock(mm)${testsExit ? '' : ' [no exit test]'}`);
  if (testsExit && test_exit(mm)) {
    up_write(c, mm.mmap_lock);
    yield step('retract_page_tables(): khugepaged_test_exit(mm): mmap_write_unlock(mm)');
    return;
  }
  const pmdLockHeld = !eraAtLeast(m.sw, 'v6.2');
  // v6.1+ collapse_and_free_pmd() (f268f6cf875f "mm/khugepaged: invoke MMU notifiers in shmem/file
  // collapse paths"): mmu_notifier_invalidate_range_start() before pmdp_collapse_flush(), _end() after
  // tlb_remove_table_sync_one(), before pte_free(). v5.8 and v5.10 call no notifier here at all
  // (mm/khugepaged.c retract_page_tables(), 5.10.13: pmd_lock; pmdp_collapse_flush; spin_unlock;
  // mm_dec_nr_ptes; pte_free). The table is empty, so no secondary MMU maps a page under it; a
  // secondary TLB that caches the tables themselves is not modelled.
  const notifies = eraAtLeast(m.sw, 'v6.2');
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, addr, addr + PMD_PAGES);
  if (notifies) yield* mmu_notifier_invalidate_range_start(c, range);
  const pml = pmd_lockptr(m, pmd);
  if (pmdLockHeld) yield* pmd_lock(c, pmd);
  const _pmd = yield* pmdp_collapse_flush(c, pmd);
  if (pmdLockHeld) spin_unlock(c, pml);
  if (!eraAtLeast(m.sw, 'v5.10')) {
    // v5.8: mmap_write_unlock() first, then mm_dec_nr_ptes() and pte_free().
    up_write(c, mm.mmap_lock);
    yield step('retract_page_tables(): spin_unlock(ptl); mmap_write_unlock(mm)');
  }
  if (!has(m.sw, 'khugepaged-no-ipi-sync')) yield* tlb_remove_table_sync_one(c);
  if (notifies) yield* mmu_notifier_invalidate_range_end(c, range);
  if (_pmd.t === 'table') {
    mm_dec_nr_ptes(c, mm);
    pte_free(m, _pmd.pfn);
  }
  if (eraAtLeast(m.sw, 'v5.10')) {
    up_write(c, mm.mmap_lock);
    yield step(`retract_page_tables(): mm_dec_nr_ptes(); pte_free(${_pmd.t === 'table' ? _pmd.pfn : '-'}); mmap_write_unlock(mm)`);
  } else {
    yield step(`retract_page_tables(): mm_dec_nr_ptes(); pte_free(${_pmd.t === 'table' ? _pmd.pfn : '-'})`);
  }
}

/** retract_page_tables() for one VMA, v6.6: no mmap_lock; pmd_lock and ptl; pte_free_defer(). */
function* retract_lockless(c: Ctx, vma: Vma, mm: Mm, addr: number): ActorGen {
  const m = c.m;
  const found = yield* find_pmd(c, mm, addr, 'retract_page_tables(): find_pmd_or_thp_or_none()');
  if (!found) return;
  const pmd = found.pmd;
  if (test_exit(mm)) {
    yield step('retract_page_tables(): hpage_collapse_test_exit(mm): skip');
    return;
  }
  // v6.6 retract_page_tables(): "PTEs were notified when unmapped; but now for the PMD?":
  // mmu_notifier_invalidate_range_start() before pmd_lock(), _end() after spin_unlock(pml), before
  // pte_free_defer().
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, addr, addr + PMD_PAGES);
  yield* mmu_notifier_invalidate_range_start(c, range);
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  const ptr = pmd_table(c, pmd_load(c, pmd));
  const ptl = pte_lockptr(m, ptr);
  if (ptl !== pml) yield* spin_lock_ptl(c, ptr);
  const skipped = vma.anon_vma;
  let freed = 0;
  if (!skipped) {
    const _pmd = yield* pmdp_collapse_flush(c, pmd);
    yield* pmdp_get_lockless_sync(c);
    if (_pmd.t === 'table') freed = _pmd.pfn;
  }
  spin_unlock(c, ptl);
  spin_unlock(c, pml);
  yield* mmu_notifier_invalidate_range_end(c, range);
  if (freed) {
    mm_dec_nr_ptes(c, mm);
    pte_free_defer(c, freed);
  }
  yield step(`retract_page_tables(): spin_unlock(ptl); spin_unlock(pml)${freed ? `; mm_dec_nr_ptes(); pte_free_defer(${freed})` : ': anon_vma appeared, skip'}`);
}

export const collapse_file: ActorDef = {
  name: 'collapse_file',
  summary: 'khugepaged file collapse: retract_page_tables() takes the empty pte table out of every VMA mapping the range',
  follows: 'mm/khugepaged.c collapse_file() → retract_page_tables(): v5.8 (no exit test), v5.10 (18e77600f7a1), v6.1+ collapse_and_free_pmd(), v6.6 (1d65b771bc08)',
  inMm: false,
  daemon: 'no',
  params: [{ name: 'slot', min: 2, max: 2, default: 2, doc: 'the file range (file page / HPAGE_PMD_NR) whose small pages collapse_file() has already unmapped; in the default world the same number as its pmd slot' }],
  *run(c, args) {
    const m = c.m;
    const slot = args['slot'] ?? 2;
    const file = m.files[0]!;
    const hpage = file.hpage[slot] ?? 0;
    yield* lock_page(c, hpage);
    const i_mmap = file.i_mmap_rwsem;
    const lockless = eraAtLeast(m.sw, 'v6.6');
    if (lockless) yield* down_read(c, i_mmap);
    else yield* down_write(c, i_mmap);
    const pgoff = slot * HPAGE_PMD_NR;
    // vma_interval_tree_foreach(): every VMA of every mm still linked in i_mmap that maps pgoff.
    for (const vma of vma_interval_tree_foreach(m.files, file.id, pgoff)) {
      if (vma.anon_vma) continue;
      const addr = vma_address(vma, pgoff);
      if (addr % PMD_PAGES !== 0 || addr + PMD_PAGES > vma.end) continue;
      const mm = m.mms[vma.mm]!;
      if (lockless) yield* call(retract_lockless(c, vma, mm, addr));
      else yield* retract_locked(c, mm, addr);
    }
    if (lockless) up_read(c, i_mmap);
    else up_write(c, i_mmap);
    unlock_page(c, hpage);
    yield step(`retract_page_tables(): i_mmap_unlock_${lockless ? 'read' : 'write'}(mapping); collapse_file(): unlock_page(${hpage})`);
  },
};
