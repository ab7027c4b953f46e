// Unmapping, as mm/memory.c and mm/huge_memory.c do it: unmap_vmas() → zap_pmd_range() →
// zap_huge_pmd() / zap_pte_range(), and free_pgtables(). The callers (exit_mmap, munmap,
// MADV_DONTNEED) decide which mmap_lock they hold; that is the protocol under test.

import { HPAGE_PMD_NR, PTRS_PER_PTE, pmd_none, pmd_trans_huge, pteIndex } from './entries.js';
import { down_write, spin_lock, spin_unlock, up_write } from './locks.js';
import { pmd_clear, pmd_clear_bad, pmd_lockptr, pmd_read, pmdEntryAt, pmdp_huge_get_and_clear, pte_read, ptep_get_and_clear, type Stepper } from './pgtable.js';
import { step, type ActorGen, type Ctx } from './step.js';
import { pte_free, tlb_remove_page, tlb_remove_table, type MmuGather } from './tlbflush.js';
import type { Vma } from './types.js';
import { mayFailPteMap, pmd_trans_unstable, pte_offset_map_lock, pte_unmap_unlock } from './walk.js';

/** zap_pte_range(): clear each present pte under the table's ptl and gather its page. Returns false
 *  when (v6.5+) pte_offset_map_lock() failed, so that zap_pmd_range() looks at the pmd again. */
export function* zap_pte_range(c: Ctx, tlb: MmuGather, slot: number, start: number, end: number): Stepper<boolean> {
  const ptr = yield* pte_offset_map_lock(c, slot);
  if (!ptr) return false;
  for (let a = start; a < end; a++) {
    const pte = pte_read(c, ptr, pteIndex(a));
    if (pte.t !== 'present') continue;
    ptep_get_and_clear(c, ptr, pteIndex(a));
    tlb_remove_page(tlb, pte.pfn);
    c.m.mm.rss--;
    yield step(`zap_pte_range(): ptep_get_and_clear_full(addr ${a}) → page ${pte.pfn}`);
  }
  pte_unmap_unlock(c, ptr);
  yield step('zap_pte_range(): pte_unmap_unlock()');
  return true;
}

/** zap_huge_pmd(): under pmd_lock (__pmd_trans_huge_lock), clear the huge pmd, free the deposited
 *  table (zap_deposited_table, anon) and gather the huge page. False if it was no longer huge. */
export function* zap_huge_pmd(c: Ctx, tlb: MmuGather, vma: Vma, slot: number): Stepper<boolean> {
  const m = c.m;
  const pml = pmd_lockptr(m);
  yield* spin_lock(c, pml);
  if (!pmd_trans_huge(pmdEntryAt(m, slot))) {
    spin_unlock(c, pml);
    yield step('zap_huge_pmd(): __pmd_trans_huge_lock() failed: spin_unlock(pmd_lock)');
    return false;
  }
  const orig = pmdp_huge_get_and_clear(c, slot);
  const dep = m.mm.deposited[slot] ?? 0;
  if (vma.kind === 'anon' && dep) {
    m.mm.deposited[slot] = 0;
    pte_free(m, dep);
    m.mm.nr_ptes--;
  }
  m.mm.rss -= HPAGE_PMD_NR;
  yield step(`zap_huge_pmd(): pmdp_huge_get_and_clear_full()${dep ? `; zap_deposited_table(${dep})` : ''}`);
  spin_unlock(c, pml);
  if (orig.t === 'huge' || orig.t === 'invalid-huge') tlb_remove_page(tlb, orig.pfn);
  yield step('zap_huge_pmd(): spin_unlock(pmd_lock); tlb_remove_page_size()');
  return true;
}

/** zap_pmd_range() for one pmd, over [start, end) within it. */
export function* zap_pmd_range(c: Ctx, tlb: MmuGather, vma: Vma, slot: number, start: number, end: number): ActorGen {
  for (;;) {
    const v = yield* pmd_read(c, slot, 'zap_pmd_range(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd)');
    // Zaps in the model cover whole pmds, so a huge pmd is zapped, never split.
    if (pmd_trans_huge(v.entry) && (yield* zap_huge_pmd(c, tlb, vma, slot))) return;
    if (!mayFailPteMap(c)) {
      // "Here there can be other concurrent MADV_DONTNEED or trans huge page faults running, and if
      // the pmd is none or trans huge it can change under us."
      if (yield* pmd_trans_unstable(c, slot)) return;
      yield* zap_pte_range(c, tlb, slot, start, end);
      return;
    }
    const n = yield* pmd_read(c, slot, 'zap_pmd_range(): pmd_none(*pmd)');
    if (pmd_none(n.entry)) return;
    if (yield* zap_pte_range(c, tlb, slot, start, end)) return;
    // addr != next: pmd--, and look at this pmd again.
  }
}

/** unmap_vmas(): zap every pmd of each VMA. */
export function* unmap_vmas(c: Ctx, tlb: MmuGather, vmas: readonly Vma[]): ActorGen {
  for (const vma of vmas) {
    for (let a = vma.start; a < vma.end; a += PTRS_PER_PTE) {
      yield* zap_pmd_range(c, tlb, vma, a / PTRS_PER_PTE, a, a + PTRS_PER_PTE);
    }
  }
}

/** free_pgtables(): first hide each VMA from rmap (unlink_anon_vmas under the anon_vma lock,
 *  unlink_file_vma under i_mmap_rwsem), then free_pgd_range() → free_pmd_range(): for each pmd,
 *  pmd_none_or_clear_bad(), then free_pte_range(): pmd_clear(), pte_free_tlb(), mm_dec_nr_ptes(). */
export function* free_pgtables(c: Ctx, tlb: MmuGather, vmas: readonly Vma[]): ActorGen {
  const m = c.m;
  for (const vma of vmas) {
    const sem = vma.kind === 'file' ? m.file.i_mmap_rwsem : m.mm.anon_vma_lock;
    yield* down_write(c, sem);
    vma.inRmap = false;
    up_write(c, sem);
    yield step(`free_pgtables(): ${vma.kind === 'file' ? 'unlink_file_vma()' : 'unlink_anon_vmas()'}; up_write(${sem.name})`);
  }
  for (const vma of vmas) {
    for (let a = vma.start; a < vma.end; a += PTRS_PER_PTE) {
      const slot = a / PTRS_PER_PTE;
      const v = yield* pmd_read(c, slot, `free_pmd_range(): pmd_none_or_clear_bad(pmd ${slot})`);
      if (pmd_none(v.entry)) continue;
      if (v.entry.t !== 'table') {
        pmd_clear_bad(c, slot, v);
        yield step('free_pmd_range(): pmd_clear_bad(pmd)');
        continue;
      }
      yield* pmd_clear(c, slot, `free_pte_range(): pmd_clear(pmd ${slot})`);
      tlb_remove_table(tlb, v.entry.pfn);
      m.mm.nr_ptes--;
    }
  }
}

