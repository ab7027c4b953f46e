// khugepaged turning a pte-mapped file THP into a pmd mapping: khugepaged_collapse_pte_mapped_thps()
// (mmap_write_trylock, exit test) → collapse_pte_mapped_thp(): lock the huge page, check under the
// pte ptl that every pte maps hpage + i, drop the rmap and the references, then clear the pmd and
// free the table.
//
//   ≤ v6.0   no i_mmap_rwsem: pmd_lock; pmdp_collapse_flush; spin_unlock; mm_dec_nr_ptes; pte_free.
//   v6.2     8d3c106e19e8 (v6.1): i_mmap_lock_write around the whole; collapse_and_free_pmd():
//            pmdp_collapse_flush, tlb_remove_table_sync_one, pte_free. ab0c3f1251b4 (6.2-rc): no bail on
//            vma->anon_vma (v6.1 had one), anon_vma_lock_write() around step 4 instead.
//   v5.8     no page lock either: find_lock_page() came with 119a5fc16105 ("mm/khugepaged:
//            collapse_pte_mapped_thp() protect the pmd lock", v5.9), after a page_referenced() rmap
//            walk found its page table freed under it.
//   v6.6     Hugh Dickins' rewrite (mmap_read_lock, pte_free_defer): collapse_pte_mapped_thp_v66.ts.
// V6 (retract-wrong-locks) puts the ≤ v6.0 locking back.

import type { ActorDef } from '../actor.js';
import { page_remove_rmap } from '../rmap.js';
import { HPAGE_PMD_NR, PTRS_PER_PTE, pmdAddr } from '../entries.js';
import { lock_page, page_ref_sub, unlock_page } from '../frames.js';
import { down_write, down_write_trylock, spin_unlock, up_write } from '../locks.js';
import { find_vma, linear_page_index } from '../model.js';
import { pmd_lock, pmd_lockptr, pmdp_collapse_flush, pte_read } from '../pgtable.js';
import { type ActorGen, call, step } from '../step.js';
import { eraAtLeast, has } from '../switches.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import { pte_free, tlb_remove_table_sync_one } from '../tlbflush.js';
import { pte_offset_map_lock, pte_unmap_unlock } from '../walk.js';
import { find_pmd, test_exit } from './khugepaged.js';
import { collapse_pte_mapped_thp_v66 } from './collapse_pte_mapped_thp_v66.js';
import { add_mm_counter, mm_dec_nr_ptes } from '../counters.js';

export const collapse_pte_mapped_thp: ActorDef = {
  name: 'collapse_pte_mapped_thp',
  summary: 'khugepaged maps a pte-mapped file THP by pmd: check the ptes, drop their references, clear the pmd, pte_free the table',
  follows: 'mm/khugepaged.c khugepaged_collapse_pte_mapped_thps(), collapse_pte_mapped_thp(); v5.8 (no page lock), v5.10 (119a5fc16105), v6.1+ (8d3c106e19e8), v6.6 (1043173eb5eb: khugepaged_scan_mm_slot(), mmap_read_lock, pte_free_defer)',
  inMm: false,
  daemon: 'no',
  eras: ['v5.8', 'v5.10', 'v6.2', 'v6.6'],
  params: [{ name: 'slot', min: 3, max: 3, default: 3, doc: 'the file pmd range mapped by ptes to the subpages of a THP' }],
  *run(c, args) {
    const m = c.m;
    const mm = c.mm;
    const slot = args['slot'] ?? 3;
    if (eraAtLeast(m.sw, 'v6.6')) return yield* call(collapse_pte_mapped_thp_v66(c, slot));
    const wrongLocks = has(m.sw, 'retract-wrong-locks');
    if (!down_write_trylock(c, mm.mmap_lock)) {
      yield step('khugepaged_collapse_pte_mapped_thps(): mmap_write_trylock() failed');
      return;
    }
    yield step('khugepaged_collapse_pte_mapped_thps(): mmap_write_trylock(mm)');
    const out = function* (label: string): ActorGen {
      up_write(c, mm.mmap_lock);
      yield step(`${label}: mmap_write_unlock(mm)`);
    };
    const vma = find_vma(mm, pmdAddr(slot));
    const file = vma && vma.kind === 'file' ? m.files[vma.file] : undefined;
    const hpage = vma && file ? file.hpage[linear_page_index(vma, pmdAddr(slot)) / HPAGE_PMD_NR] ?? 0 : 0;
    // 8d3c106e19e8 (v6.1) bailed out on vma->anon_vma; ab0c3f1251b4 ("mm/khugepaged: fix
    // collapse_pte_mapped_thp() to allow anon_vma", Hugh Dickins, 6.2-rc) took the bail out again and
    // takes anon_vma_lock_write() around step 4 instead. No check at all before 8d3c106e19e8.
    if (test_exit(mm) || !vma || !file || vma.kind !== 'file' || !hpage) {
      return yield* out('collapse_pte_mapped_thp(): nothing to do');
    }
    // v5.9+ (119a5fc16105): hpage = find_lock_page(mapping, linear_page_index(vma, haddr)).
    const pageLock = eraAtLeast(m.sw, 'v5.10');
    if (pageLock) yield* lock_page(c, hpage);
    const drop = function* (label: string): ActorGen {
      if (!pageLock) return yield* out(label);
      unlock_page(c, hpage);
      yield* out(`${label}: unlock_page(hpage)`);
    };
    const found = yield* find_pmd(c, mm, pmdAddr(slot), 'collapse_pte_mapped_thp(): find_pmd_or_thp_or_none()');
    if (!found) return yield* drop('no pte table');
    const pmd = found.pmd;
    if (!wrongLocks) yield* down_write(c, file.i_mmap_rwsem);
    const unlock_i_mmap = () => { if (!wrongLocks) up_write(c, file.i_mmap_rwsem); };
    const ptr = yield* pte_offset_map_lock(c, pmd);
    if (!ptr) {
      unlock_i_mmap();
      return yield* drop('pte_offset_map_lock() failed');
    }
    // step 1: check all mapped PTEs are to the right huge page
    let count = 0;
    let ok = true;
    for (let i = 0; i < PTRS_PER_PTE; i++) {
      const pte = pte_read(c, ptr, i);
      if (pte.t === 'none') continue;
      if (pte.t !== 'present' || pte.pfn !== hpage || pte.sub !== i) ok = false; // !pte_present(): SCAN_PTE_NON_PRESENT
      count++;
    }
    yield step(`collapse_pte_mapped_thp(): step 1: ${ok ? `${count} pte(s) map hpage + i` : 'a pte maps another page: abort'}`);
    // step 2: page_remove_rmap() for each (the ptes themselves stay, in the table about to go)
    pte_unmap_unlock(c, ptr);
    if (!ok) {
      unlock_i_mmap();
      return yield* drop('collapse_pte_mapped_thp(): abort: pte_unmap_unlock()');
    }
    page_remove_rmap(c, hpage, count);
    yield step('collapse_pte_mapped_thp(): step 2: page_remove_rmap(); pte_unmap_unlock()');
    // step 3: set proper refcount and mm_counters
    page_ref_sub(c, hpage, count);
    add_mm_counter(c, mm, -count);
    yield step(`collapse_pte_mapped_thp(): step 3: page_ref_sub(hpage, ${count}); add_mm_counter(-${count})`);
    // step 4: collapse pmd. v6.1+ collapse_and_free_pmd() (f268f6cf875f): mmu notifiers around
    // pmdp_collapse_flush() and tlb_remove_table_sync_one(). v5.8 and v5.10 call none (5.10.13
    // collapse_pte_mapped_thp(): pmd_lock; pmdp_collapse_flush; spin_unlock; mm_dec_nr_ptes; pte_free),
    // though the ptes just dropped mapped hpage: a secondary MMU keeps its mappings of hpage (the real
    // bug f268f6cf875f fixed, introduced by 27e1f8273113 in v5.4).
    const notifies = eraAtLeast(m.sw, 'v6.2');
    // ab0c3f1251b4: "we make no change to anon, but protect concurrent anon page lookup".
    const anonLock = !wrongLocks && vma.anon_vma;
    if (anonLock) yield* down_write(c, mm.anon_vma_lock);
    const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, pmdAddr(slot), pmdAddr(slot) + PTRS_PER_PTE);
    if (notifies) yield* mmu_notifier_invalidate_range_start(c, range);
    const pml = pmd_lockptr(m, pmd);
    if (wrongLocks) yield* pmd_lock(c, pmd);
    const _pmd = yield* pmdp_collapse_flush(c, pmd);
    if (wrongLocks) spin_unlock(c, pml);
    if (!has(m.sw, 'khugepaged-no-ipi-sync')) yield* tlb_remove_table_sync_one(c);
    if (notifies) yield* mmu_notifier_invalidate_range_end(c, range);
    if (_pmd.t === 'table') {
      mm_dec_nr_ptes(c, mm);
      pte_free(m, _pmd.pfn);
    }
    if (anonLock) up_write(c, mm.anon_vma_lock);
    unlock_i_mmap();
    yield step(`collapse_pte_mapped_thp(): mm_dec_nr_ptes(); pte_free(${_pmd.t === 'table' ? _pmd.pfn : '-'})${anonLock ? '; anon_vma_unlock_write()' : ''}${wrongLocks ? '' : '; i_mmap_unlock_write()'}`);
    yield* drop('collapse_pte_mapped_thp(): done');
  },
};
