// khugepaged collapsing an anonymous range into a THP: collapse_huge_page() (mm/khugepaged.c).
//
// mmap_read_unlock → allocate the huge page → mmap_read_lock, revalidate → mmap_read_unlock →
// mmap_write_lock, revalidate (v5.8: and mmget_still_valid()) → anon_vma_lock_write → pmd_lock,
// pmdp_collapse_flush(), spin_unlock → (v6.1+, 2ba99c5e0881) tlb_remove_table_sync_one() →
// under the pte ptl, __collapse_huge_page_isolate() (refuses pages with extra references: a GUP pin)
// → anon_vma_unlock_write → __collapse_huge_page_copy() → pmd_lock, deposit the old table,
// set_pmd_at(huge) → mmap_write_unlock. The old pte table is deposited, not freed.
// ≤ v6.2 the pte pointer and ptl are taken from *pmd before the flush; v6.6 from the value _pmd.

import type { ActorDef } from '../actor.js';
import { page_add_rmap, page_remove_rmap } from '../rmap.js';
import { PTRS_PER_PTE, pmd_none, pmdAddr } from '../entries.js';
import { alloc_page, copy_user_highpage, frameOf, put_page } from '../frames.js';
import { down_read, down_write, spin_unlock, up_read, up_write } from '../locks.js';
import { find_vma } from '../model.js';
import {
  pgtable_trans_huge_deposit, pmd_lock, pmd_lockptr, pmd_off_present, pmd_populate, pmd_read, pmd_table, pmdEntryAt,
  pmdp_collapse_flush, pte_lockptr, pte_read, ptep_get_and_clear, set_pmd_at, spin_lock_ptl, type Stepper, type TablePtr,
} from '../pgtable.js';
import { step, type ActorGen, type Ctx } from '../step.js';
import { eraAtLeast, has } from '../switches.js';
import { tlb_remove_table_sync_one } from '../tlbflush.js';
import { pte_unmap } from '../walk.js';
import { rcu_read_lock } from '../cpu.js';
import { mmget_still_valid } from './coredump.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import { find_pmd, test_exit } from './khugepaged.js';
import { add_mm_counter } from '../counters.js';
import { vma_start_write_folded } from '../vma_lock.js';
import { PROT_WRITE, vma_prot } from '../mprotect.js';

function revalidate(c: Ctx, slot: number): boolean {
  const vma = find_vma(c.mm, pmdAddr(slot));
  return !test_exit(c.mm) && vma !== undefined && vma.kind === 'anon' && vma.start <= pmdAddr(slot) && pmdAddr(slot) + PTRS_PER_PTE <= vma.end;
}

export const collapse_huge_page: ActorDef = {
  name: 'collapse_huge_page',
  summary: 'khugepaged collapses an anon pmd range: mmap_lock write, anon_vma write, pmdp_collapse_flush, isolate, copy, set huge pmd',
  follows: 'mm/khugepaged.c collapse_huge_page(), __collapse_huge_page_isolate(), __collapse_huge_page_copy(); v5.8 (mmget_still_valid), v6.1+ (tlb_remove_table_sync_one), v6.6',
  inMm: false,
  daemon: 'no',
  params: [{ name: 'slot', min: 0, max: 1, default: 0, doc: 'the anon pmd range to collapse' }],
  *run(c, args) {
    const m = c.m;
    const mm = c.mm;
    const slot = args['slot'] ?? 0;
    const hpage = alloc_page(c, 'huge');
    yield step(`collapse_huge_page(): mmap_read_unlock(mm); alloc_charge_hpage() → ${hpage}`);
    const give_up = function* (label: string): ActorGen {
      put_page(m, hpage);
      yield step(`${label}: put_page(hpage)`);
    };
    yield* down_read(c, mm.mmap_lock);
    const ok = revalidate(c, slot) && (yield* find_pmd(c, mm, pmdAddr(slot), 'find_pmd_or_thp_or_none(): pmdp_get_lockless(pmd)')) !== null;
    up_read(c, mm.mmap_lock);
    if (!ok) return yield* give_up('collapse_huge_page(): revalidate failed: mmap_read_unlock(mm)');
    yield step('collapse_huge_page(): mmap_read_unlock(mm)');
    yield* down_write(c, mm.mmap_lock);
    const out_up_write = function* (label: string): ActorGen {
      up_write(c, mm.mmap_lock);
      yield* give_up(`${label}: mmap_write_unlock(mm)`);
    };
    if (!mmget_still_valid(m, mm)) return yield* out_up_write('collapse_huge_page(): !mmget_still_valid(mm)');
    if (!revalidate(c, slot) || (yield* find_pmd(c, mm, pmdAddr(slot), 'check_pmd_still_valid()')) === null) {
      return yield* out_up_write('collapse_huge_page(): hugepage_vma_revalidate() failed');
    }
    // Under mmap_lock for write with the VMA revalidated, the pmd table is there.
    const pmd = pmd_off_present(c, pmdAddr(slot));
    // v6.6: vma_start_write(vma) before anon_vma_lock_write(): no fault under the VMA lock may
    // populate the pmd while it is collapsed (folded into the next step; see vma_lock.ts).
    const vma = find_vma(mm, pmdAddr(slot));
    if (vma) yield* vma_start_write_folded(c, vma);
    yield* down_write(c, mm.anon_vma_lock);
    // collapse_huge_page() (v5.8–v6.6): mmu_notifier_range_init(MMU_NOTIFY_CLEAR, address,
    // address + HPAGE_PMD_SIZE); mmu_notifier_invalidate_range_start() after anon_vma_lock_write(),
    // before pmdp_collapse_flush(); _end() after spin_unlock(pmd_ptl).
    const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, pmdAddr(slot), pmdAddr(slot) + PTRS_PER_PTE);
    yield* mmu_notifier_invalidate_range_start(c, range);
    // ≤ v6.2: pte = pte_offset_map(pmd, address); pte_ptl = pte_lockptr(mm, pmd); before the flush.
    let ptr: TablePtr | null = null;
    if (!eraAtLeast(m.sw, 'v6.6')) {
      const v = yield* pmd_read(c, pmd, 'collapse_huge_page(): pte = pte_offset_map(pmd); pte_ptl = pte_lockptr(mm, pmd)');
      ptr = pmd_table(c, v);
    }
    const pml = pmd_lockptr(m, pmd);
    yield* pmd_lock(c, pmd);
    const _pmd = yield* pmdp_collapse_flush(c, pmd);
    spin_unlock(c, pml);
    yield step('collapse_huge_page(): spin_unlock(pmd_ptl); mmu_notifier_invalidate_range_end()');
    yield* mmu_notifier_invalidate_range_end(c, range);
    if (!has(m.sw, 'khugepaged-no-ipi-sync')) yield* tlb_remove_table_sync_one(c);
    if (_pmd.t !== 'table') {
      m.events.push({ e: 'bug', msg: `collapse_huge_page(): pmdp_collapse_flush() returned ${_pmd.t}, not a table` });
      yield step('BUG');
      return;
    }
    if (ptr) {
      yield* spin_lock_ptl(c, ptr);
    } else {
      // v6.6: pte = pte_offset_map_lock(mm, &_pmd, address, &pte_ptl): from the value, under RCU.
      ptr = yield* pte_offset_map_lock_value(c, _pmd.pfn);
    }
    const table = ptr;
    let isolated = true;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const pte = pte_read(c, table, i);
      // is_refcount_suitable(): page_count(page) == total_mapcount(page); anything more is a pin.
      if (pte.t === 'present' && frameOf(m, pte.pfn).refcount !== 1) isolated = false;
      // A migration entry: !pte_present(pteval): result = SCAN_PTE_NON_PRESENT.
      if (pte.t === 'migration') isolated = false;
    }
    yield step(`__collapse_huge_page_isolate(): ${isolated ? 'every page has only its mapping reference' : 'a page has an extra reference: give up'}`);
    spin_unlock(c, pte_lockptr(m, table));
    if (!isolated) {
      yield step('collapse_huge_page(): spin_unlock(pte_ptl)');
      yield* pmd_lock(c, pmd);
      if (!pmd_none(c.m.arch, pmdEntryAt(m, pmd))) m.events.push({ e: 'bug', msg: 'collapse_huge_page(): BUG_ON(!pmd_none(*pmd))' });
      pmd_populate(c, pmd, _pmd.pfn);
      spin_unlock(c, pml);
      up_write(c, mm.anon_vma_lock);
      yield step('collapse_huge_page(): pmd_populate(pmd_pgtable(_pmd)); spin_unlock(pmd_ptl); anon_vma_unlock_write()');
      if (eraAtLeast(m.sw, 'v6.6')) pte_unmap(c);
      return yield* out_up_write('collapse_huge_page(): isolate failed');
    }
    up_write(c, mm.anon_vma_lock);
    yield step('collapse_huge_page(): spin_unlock(pte_ptl); anon_vma_unlock_write()');
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const addr = pmdAddr(slot) + i;
      const pte = pte_read(c, table, i);
      if (pte.t !== 'present') {
        add_mm_counter(c, mm, 1);
        yield step(`__collapse_huge_page_copy(): clear_user_highpage(addr ${addr}); add_mm_counter(MM_ANONPAGES, 1)`);
        continue;
      }
      copy_user_highpage(c, pte.pfn, hpage, addr);
      yield step(`__collapse_huge_page_copy(): copy_user_highpage(${pte.pfn} → ${hpage}+${i})`);
      yield* spin_lock_ptl(c, table);
      ptep_get_and_clear(c, table, i);
      page_remove_rmap(c, pte.pfn);
      spin_unlock(c, pte_lockptr(m, table));
      put_page(m, pte.pfn);
      yield step(`__collapse_huge_page_copy(): ptep_clear(); page_remove_rmap(); spin_unlock(ptl); free_page_and_swap_cache(${pte.pfn})`);
    }
    if (eraAtLeast(m.sw, 'v6.6')) pte_unmap(c);
    yield* pmd_lock(c, pmd);
    if (!pmd_none(c.m.arch, pmdEntryAt(m, pmd))) m.events.push({ e: 'bug', msg: 'collapse_huge_page(): BUG_ON(!pmd_none(*pmd))' });
    pgtable_trans_huge_deposit(m, pmd, _pmd.pfn);
    page_add_rmap(c, hpage);
    // _pmd = maybe_pmd_mkwrite(mk_huge_pmd(hpage, vma->vm_page_prot), vma)
    // (The VMA found under mmap_lock for write above; still there.)
    set_pmd_at(c, pmd, { t: 'huge', pfn: hpage, ...(vma && (vma_prot(vma) & PROT_WRITE) !== 0 ? { writable: true } : {}) });
    yield step(`collapse_huge_page(): pgtable_trans_huge_deposit(${_pmd.pfn}); set_pmd_at(huge ${hpage})`);
    spin_unlock(c, pml);
    up_write(c, mm.mmap_lock);
    yield step('collapse_huge_page(): spin_unlock(pmd_ptl); mmap_write_unlock(mm)');
  },
};

/** v6.6 pte_offset_map_lock(mm, &_pmd, ...) on a local pmd value: rcu_read_lock, lock the ptl the
 *  value names; the re-check is against the local copy, which cannot change. */
function* pte_offset_map_lock_value(c: Ctx, table: number): Stepper<TablePtr> {
  rcu_read_lock(c);
  const ptr: TablePtr = { pfn: table, gen: frameOf(c.m, table).gen };
  yield* spin_lock_ptl(c, ptr);
  return ptr;
}
