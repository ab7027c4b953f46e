// Unmapping, as mm/memory.c and mm/huge_memory.c do it: unmap_vmas() → zap_pmd_range() →
// zap_huge_pmd() / zap_pte_range(), and free_pgtables() → free_pgd_range() → free_pud_range() →
// free_pmd_range() → free_pte_range(). The callers (exit_mmap, munmap, MADV_DONTNEED) decide which
// mmap_lock they hold; that is the protocol under test.

import { HPAGE_PMD_NR, PGDIR_PAGES, PMD_PAGES, PUD_PAGES, pgdIndex, pmd_none, pmd_trans_huge, pmdAddr, pteIndex, pudIndex } from './entries.js';
import { down_write, spin_unlock, up_write } from './locks.js';
import {
  pgtable_trans_huge_withdraw, pmd_clear, pmd_clear_bad, pmd_lock, pmd_lockptr, pmd_off, pmd_offset, pmd_read, pmdEntryAt,
  pmdp_huge_get_and_clear_x86, pte_read, ptep_get_and_clear, tableNow, upperEntry, upperStore, type PmdPtr, type Stepper, type TablePtr,
} from './pgtable.js';
import { page_remove_rmap, set_page_dirty } from './rmap.js';
import { type ActorGen, call, type Ctx, step } from './step.js';
import { pte_free, tlb_finish_mmu, tlb_flush_mmu, tlb_flush_mmu_tlbonly, tlb_gather_mmu, tlb_remove_page, tlb_remove_table, type MmuGather } from './tlbflush.js';
import { eraAtLeast } from './switches.js';
import type { AddressSpace, Mm, Vma } from './types.js';
import { vma_interval_tree_foreach_range } from './model.js';
import { anon_vma_interval_tree_remove, vma_interval_tree_remove } from './rmap_tree.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from './mmu_notifier.js';
import { mayFailPteMap, pmd_trans_unstable, pte_offset_map_lock, pte_unmap_unlock } from './walk.js';
import { add_mm_counter, mm_dec_nr_pmds, mm_dec_nr_ptes, mm_dec_nr_puds } from './counters.js';

/** struct zap_details, as unmap_mapping_pages() passes it: with `even_cows` false (truncation's
 *  second, per-page unmap) the anon COW copies of a private file mapping are left alone
 *  (v5.10: details->check_mapping != page_rmapping(page); v5.17+: should_zap_page() → !PageAnon). */
export interface ZapDetails {
  readonly even_cows: boolean;
}

/** zap_pte_range(): clear each present pte under the table's ptl and gather its page. Returns false
 *  when (v6.5+) pte_offset_map_lock() failed, so that zap_pmd_range() looks at the pmd again. */
export function* zap_pte_range(c: Ctx, tlb: MmuGather, vma: Vma, pmd: PmdPtr, start: number, end: number, details?: ZapDetails): Stepper<boolean> {
  const ptr = yield* pte_offset_map_lock(c, pmd);
  if (!ptr) return false;
  // A dirty pte of a file page: set_page_dirty() and force_flush, so that the TLB is flushed before
  // the ptl is dropped (5.10.13 and v6.6 mm/memory.c zap_pte_range(): "Do the actual TLB flush
  // before dropping ptl"), and no CPU writes through a dirty TLB entry after page_mkclean() could
  // have found the pte. From v6.2 (5df397dec7c4 "mm: delay page_remove_rmap() until after the TLB
  // has been flushed") the rmap of such a page is dropped only after that flush (tlb_delay_rmap(),
  // true where pages are batched), by tlb_flush_rmaps().
  const delayRmap = eraAtLeast(c.m.sw, 'v6.2');
  let force_flush = false;
  const delayed: number[] = [];
  for (let a = start; a < end; a++) {
    const pte = pte_read(c, ptr, pteIndex(a));
    if (pte.t === 'migration') {
      // A migration entry: rss[mm_counter(page)]--; pte_clear_not_present_full(). It holds no
      // mapcount and no reference; remove_migration_ptes() will find nothing here.
      ptep_get_and_clear(c, ptr, pteIndex(a));
      add_mm_counter(c, tlb.mm, -1);
      yield step(`zap_pte_range(): migration entry at ${a}: rss[mm_counter(page)]--; pte_clear_not_present_full()`);
      continue;
    }
    if (pte.t !== 'present') continue;
    if (details && !details.even_cows && (c.m.frames[pte.pfn]?.mapping ?? -1) < 0) continue;
    ptep_get_and_clear(c, ptr, pteIndex(a));
    // A file page's dirty bit goes to the page (anon pages are written to swap whatever it says).
    const dirtyFile = pte.dirty === true && vma.kind === 'file';
    if (dirtyFile) {
      set_page_dirty(c, pte.pfn);
      force_flush = true;
    }
    if (dirtyFile && delayRmap) delayed.push(pte.pfn);
    else page_remove_rmap(c, pte.pfn);
    tlb_remove_page(tlb, pte.pfn, a);
    add_mm_counter(c, tlb.mm, -1);
    yield step(`zap_pte_range(): ptep_get_and_clear_full(addr ${a}) → page ${pte.pfn}${dirtyFile ? ': set_page_dirty(); force_flush = 1' : ''}`);
  }
  if (force_flush) {
    yield* tlb_flush_mmu_tlbonly(c, tlb);
    for (const pfn of delayed) page_remove_rmap(c, pfn);
    if (delayed.length) yield step('zap_pte_range(): tlb_flush_rmaps(): page_remove_rmap()');
  }
  pte_unmap_unlock(c, ptr);
  yield step('zap_pte_range(): pte_unmap_unlock()');
  if (force_flush) yield* tlb_flush_mmu(c, tlb);
  return true;
}

/** zap_huge_pmd(): under pmd_lock (__pmd_trans_huge_lock), clear the huge pmd, free the deposited
 *  table (zap_deposited_table, anon) and gather the huge page. False if it was no longer huge. */
export function* zap_huge_pmd(c: Ctx, tlb: MmuGather, vma: Vma, pmd: PmdPtr): Stepper<boolean> {
  const m = c.m;
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  // __pmd_trans_huge_lock(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd) || pmd_devmap(*pmd).
  const cur = pmdEntryAt(m, pmd);
  if (!pmd_trans_huge(c.m.arch, cur) && cur.t !== 'migration') {
    spin_unlock(c, pml);
    yield step(`zap_huge_pmd(): __pmd_trans_huge_lock() failed: spin_unlock(${pml.name})`);
    return false;
  }
  const orig = yield* pmdp_huge_get_and_clear_x86(c, pmd, 'zap_huge_pmd(): pmdp_huge_get_and_clear_full()');
  const dep = vma.kind === 'anon' ? pgtable_trans_huge_withdraw(m, pmd) : 0;
  if (dep) {
    pte_free(m, dep);
    mm_dec_nr_ptes(c, tlb.mm);
  }
  add_mm_counter(c, tlb.mm, -HPAGE_PMD_NR);
  if (orig.t === 'huge' || orig.t === 'invalid-huge') page_remove_rmap(c, orig.pfn);
  yield step(`zap_huge_pmd(): pmdp_huge_get_and_clear_full()${dep ? `; zap_deposited_table(${dep})` : ''}`);
  spin_unlock(c, pml);
  if (orig.t === 'huge' || orig.t === 'invalid-huge') tlb_remove_page(tlb, orig.pfn, pmdAddr(pmd.slot), HPAGE_PMD_NR);
  yield step(`zap_huge_pmd(): spin_unlock(${pml.name}); tlb_remove_page_size()`);
  return true;
}

/** zap_pmd_range() for one pmd, over [start, end) within it. */
export function* zap_pmd_range(c: Ctx, tlb: MmuGather, vma: Vma, pmd: PmdPtr, start: number, end: number, details?: ZapDetails): ActorGen {
  for (;;) {
    const v = yield* pmd_read(c, pmd, 'zap_pmd_range(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd)');
    // Zaps in the model cover whole pmds, so a huge pmd is zapped, never split.
    // A THP migration entry (is_swap_pmd()) is zapped whole too: its deposited table goes, rss drops.
    if ((pmd_trans_huge(c.m.arch, v.entry) || v.entry.t === 'migration') && (yield* zap_huge_pmd(c, tlb, vma, pmd))) return;
    if (!mayFailPteMap(c)) {
      // "Here there can be other concurrent MADV_DONTNEED or trans huge page faults running, and if
      // the pmd is none or trans huge it can change under us."
      if (yield* pmd_trans_unstable(c, pmd)) return;
      yield* call(zap_pte_range(c, tlb, vma, pmd, start, end, details));
      return;
    }
    const n = yield* pmd_read(c, pmd, 'zap_pmd_range(): pmd_none(*pmd)');
    if (pmd_none(c.m.arch, n.entry)) return;
    if (yield* call(zap_pte_range(c, tlb, vma, pmd, start, end, details))) return;
    // addr != next: pmd--, and look at this pmd again.
  }
}

/** unmap_vmas(): zap every pmd of each VMA; zap_pud_range() skips a none pud. [start, end) is the
 *  range the caller unmaps (exit_mmap(): 0 to ULONG_MAX); by default, that of the VMAs.
 *  mm/memory.c unmap_vmas(), v5.8–v6.6: mmu_notifier_range_init(MMU_NOTIFY_UNMAP, start, end);
 *  mmu_notifier_invalidate_range_start() before the zap, _end() after it (and before the caller's
 *  tlb_finish_mmu() flushes and frees: the pages are freed after _end()). */
export function* unmap_vmas(c: Ctx, tlb: MmuGather, vmas: readonly Vma[], start = Math.min(...vmas.map((v) => v.start)), end = Math.max(...vmas.map((v) => v.end))): ActorGen {
  const range = mmu_notifier_range_init('MMU_NOTIFY_UNMAP', tlb.mm, start, end);
  yield* mmu_notifier_invalidate_range_start(c, range);
  for (const vma of vmas) {
    for (let a = vma.start; a < vma.end; a = pmdAddr(Math.floor(a / PMD_PAGES) + 1)) {
      const pmd = pmd_off(c, a, tlb.mm);
      if (!pmd) continue;
      yield* call(zap_pmd_range(c, tlb, vma, pmd, a, Math.min(vma.end, pmdAddr(pmd.slot + 1))));
    }
  }
  yield* mmu_notifier_invalidate_range_end(c, range);
}

/** zap_page_range() (v5.8–v6.2, MADV_DONTNEED) / zap_page_range_single() (unmap_mapping_range(); v6.6
 *  MADV_DONTNEED), for [start, end) of `vma`: mmu_notifier_range_init(MMU_NOTIFY_CLEAR),
 *  tlb_gather_mmu(), mmu_notifier_invalidate_range_start(), unmap_single_vma(),
 *  mmu_notifier_invalidate_range_end(), tlb_finish_mmu(). */
export function* zap_page_range_single(c: Ctx, mm: Mm, vma: Vma, pmd: PmdPtr, start: number, end: number, details?: ZapDetails): ActorGen {
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, start, end);
  const tlb = tlb_gather_mmu(mm, false);
  yield* mmu_notifier_invalidate_range_start(c, range);
  // unmap_single_vma() → unmap_page_range() walks every pmd of the range: a VMA that mremap() moved
  // to an address that is not pmd-aligned maps one huge index through two pte tables. (`pmd` is the
  // first one's.)
  let p: PmdPtr | null = pmd;
  for (let a = start; a < end;) {
    const next = Math.min(end, pmdAddr(Math.floor(a / PMD_PAGES) + 1));
    if (p) yield* call(zap_pmd_range(c, tlb, vma, p, a, next, details));
    a = next;
    if (a < end) p = pmd_off(c, a, mm);
  }
  yield* mmu_notifier_invalidate_range_end(c, range);
  yield* tlb_finish_mmu(c, tlb);
}

/** unmap_mapping_range_tree() (mm/memory.c, v5.8–v6.6): each VMA of i_mmap that maps a page of
 *  [first, last] is zapped over the pages of that range it maps (unmap_mapping_range_vma() →
 *  zap_page_range_single()). A VMA that mremap() or a split left starting inside a huge index is
 *  found by the range, not by the index's first page. Under i_mmap_rwsem. */
export function* unmap_mapping_range_tree(c: Ctx, mapping: AddressSpace, first: number, last: number, details?: ZapDetails): ActorGen {
  for (const vma of vma_interval_tree_foreach_range(c.m.files, mapping.id, first, last)) {
    const vba = vma.pgoff;
    const vea = vba + (vma.end - vma.start) - 1;
    const zba = Math.max(first, vba);
    const zea = Math.min(last, vea);
    const mm = c.m.mms[vma.mm]!;
    const start = vma.start + (zba - vba);
    const pmd = pmd_off(c, start, mm);
    if (!pmd) continue;
    yield* call(zap_page_range_single(c, mm, vma, pmd, start, vma.start + (zea - vba) + 1, details));
  }
}

/** `ceiling - 1` as the kernel's unsigned arithmetic has it: a ceiling of 0 is the top of memory. */
const below = (ceiling: number) => (ceiling === 0 ? Infinity : ceiling - 1);

/** The range check each free_*_range() makes before freeing the table above it: may the table that
 *  maps [start & ~(size-1), +size) go, given what lies below `floor` and from `ceiling` on? */
function mayFreeTable(start: number, end: number, floor: number, ceiling: number, size: number): boolean {
  const s = start - (start % size);
  if (s < floor) return false;
  let ceil = ceiling;
  if (ceil) {
    ceil -= ceil % size;
    if (!ceil) return false;
  }
  return !(end - 1 > below(ceil));
}

/** free_pmd_range()'s pmd read `what`, made once per slot: the pmd read labels are kept by it. */
const FREE_PMD_RANGE_WHAT: string[] = [];

/** free_pmd_range(): free the pte tables under [addr, end); then, if no VMA outside [floor, ceiling)
 *  can need it, pud_clear() and pmd_free_tlb() the pmd table itself. */
function* free_pmd_range(c: Ctx, tlb: MmuGather, pud: TablePtr, pudIdx: number, addr: number, end: number, floor: number, ceiling: number): ActorGen {
  const mm = tlb.mm;
  const pu = upperEntry(c, pud, pudIdx, 'pud');
  if (pu.t !== 'table') return;
  const table = { pfn: pu.pfn, gen: c.m.frames[pu.pfn]?.gen ?? -1 };
  for (let a = addr; a < end; a = pmdAddr(Math.floor(a / PMD_PAGES) + 1)) {
    const pmd = pmd_offset(mm, table, a);
    const v = yield* pmd_read(c, pmd, (FREE_PMD_RANGE_WHAT[pmd.slot] ??= `free_pmd_range(): pmd_none_or_clear_bad(pmd ${pmd.slot})`));
    if (pmd_none(c.m.arch, v.entry)) continue;
    if (v.entry.t !== 'table') {
      pmd_clear_bad(c, pmd, v);
      yield step('free_pmd_range(): pmd_clear_bad(pmd)');
      continue;
    }
    // free_pte_range()
    yield* pmd_clear(c, pmd, `free_pte_range(): pmd_clear(pmd ${pmd.slot})`);
    tlb_remove_table(tlb, v.entry.pfn, pmdAddr(pmd.slot), PMD_PAGES);
    mm_dec_nr_ptes(c, mm);
  }
  if (!mayFreeTable(addr, end, floor, ceiling, PUD_PAGES)) return;
  const e = upperEntry(c, pud, pudIdx, 'pud');
  if (e.t !== 'table') return;
  upperStore(c, pud, pudIdx, 'pud', { t: 'none' }, 'pud_clear');
  tlb_remove_table(tlb, e.pfn, addr - (addr % PUD_PAGES), PUD_PAGES);
  mm_dec_nr_pmds(c, mm);
  yield step(`free_pmd_range(): pud_clear(pud); pmd_free_tlb(${e.pfn}); mm_dec_nr_pmds()`);
}

/** free_pud_range() (p4d folded into the pgd): each pud's pmd range, then the pud table itself. */
function* free_pud_range(c: Ctx, tlb: MmuGather, pgdIdx: number, addr: number, end: number, floor: number, ceiling: number): ActorGen {
  const m = c.m;
  const pgd = tableNow(m, tlb.mm.pgd);
  const e = upperEntry(c, pgd, pgdIdx, 'pgd');
  if (e.t !== 'table') return;
  const pud = { pfn: e.pfn, gen: m.frames[e.pfn]?.gen ?? -1 };
  for (let a = addr; a < end;) {
    const next = Math.min(end, (Math.floor(a / PUD_PAGES) + 1) * PUD_PAGES);
    if (upperEntry(c, pud, pudIndex(a), 'pud').t === 'table') yield* call(free_pmd_range(c, tlb, pud, pudIndex(a), a, next, floor, ceiling));
    a = next;
  }
  if (!mayFreeTable(addr, end, floor, ceiling, PGDIR_PAGES)) return;
  upperStore(c, pgd, pgdIdx, 'pgd', { t: 'none' }, 'p4d_clear');
  tlb_remove_table(tlb, e.pfn, addr - (addr % PGDIR_PAGES), PGDIR_PAGES);
  mm_dec_nr_puds(c, tlb.mm);
  yield step(`free_pud_range(): p4d_clear(p4d); pud_free_tlb(${e.pfn}); mm_dec_nr_puds()`);
}

/** free_pgd_range(): the tables under [addr, end), and those above them that no VMA outside
 *  [floor, ceiling) can need. A ceiling of 0 is the top of the address space (exit_mmap's
 *  USER_PGTABLES_CEILING). */
export function* free_pgd_range(c: Ctx, tlb: MmuGather, addr: number, end: number, floor: number, ceiling: number): ActorGen {
  let a = addr - (addr % PMD_PAGES);
  if (a < floor) a += PMD_PAGES;
  let ceil = ceiling;
  if (ceil) {
    ceil -= ceil % PMD_PAGES;
    if (!ceil) return;
  }
  let e = end;
  if (e - 1 > below(ceil)) e -= PMD_PAGES;
  if (a > e - 1) return;
  while (a < e) {
    const next = Math.min(e, (Math.floor(a / PGDIR_PAGES) + 1) * PGDIR_PAGES);
    yield* call(free_pud_range(c, tlb, pgdIndex(a), a, next, floor, ceiling));
    a = next;
  }
}

/** free_pgtables(): for each run of VMAs close enough to share tables ("gather nearby vmas into one
 *  call down"), hide each from rmap (unlink_anon_vmas under the anon_vma lock, unlink_file_vma under
 *  i_mmap_rwsem), then free_pgd_range() between the neighbours' edges. `vmas` are sorted and
 *  detached; `floor` and `ceiling` bound what may be freed (the VMAs left on either side). */
export function* free_pgtables(c: Ctx, tlb: MmuGather, vmas: readonly Vma[], floor = 0, ceiling = 0): ActorGen {
  const m = c.m;
  for (let i = 0; i < vmas.length;) {
    const first = vmas[i]!;
    let last = first;
    let j = i;
    for (;;) {
      const vma = vmas[j]!;
      // unlink_anon_vmas() locks the root of the anon_vma the VMA is linked into: for a fork child's
      // VMA, the parent's (anon_vma_fork() linked it there), not the exiting mm's.
      const sem = vma.kind === 'file' ? m.files[vma.file]!.i_mmap_rwsem : (m.mms[vma.anon_vma_id] ?? tlb.mm).anon_vma_lock;
      yield* down_write(c, sem);
      // unlink_anon_vmas(vma); unlink_file_vma(vma)
      if (vma.anon_vma) anon_vma_interval_tree_remove(m, vma);
      vma_interval_tree_remove(m, vma);
      vma.inRmap = false;
      up_write(c, sem);
      yield step(`free_pgtables(): ${vma.kind === 'file' ? 'unlink_file_vma()' : 'unlink_anon_vmas()'}; up_write(${sem.name})`);
      last = vma;
      const next = vmas[j + 1];
      if (!next || next.start > last.end + PMD_PAGES) break;
      j++;
    }
    const next = vmas[j + 1];
    yield* call(free_pgd_range(c, tlb, first.start, last.end, floor, next ? next.start : ceiling));
    i = j + 1;
  }
}

/** The floor and ceiling free_pgtables() gets for unmapping `vmas` from `mm`: the end of the VMA
 *  before them and the start of the one after (0 at either edge: FIRST_USER_ADDRESS and
 *  USER_PGTABLES_CEILING). */
export function pgtablesBounds(all: readonly Vma[], vmas: readonly Vma[]): { floor: number; ceiling: number } {
  const lo = Math.min(...vmas.map((v) => v.start));
  const hi = Math.max(...vmas.map((v) => v.end));
  const rest = all.filter((v) => !vmas.includes(v) && !v.detached);
  const prev = rest.filter((v) => v.end <= lo).sort((a, b) => b.end - a.end)[0];
  const next = rest.filter((v) => v.start >= hi).sort((a, b) => a.start - b.start)[0];
  return { floor: prev ? prev.end : 0, ceiling: next ? next.start : 0 };
}
