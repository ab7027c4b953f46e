// Moving page tables, as mm/mremap.c does for mremap(2): move_page_tables() walks the old range a
// pmd (v6.2+: first a pud) at a time and moves each entry with move_normal_pud(), move_huge_pmd(),
// move_normal_pmd() or, one pte at a time, move_ptes(). Read for this:
//   v5.10 mm/mremap.c (Rtoax/linux-5.10.13): get_old_pmd(), alloc_new_pmd(), take_rmap_locks(),
//         move_ptes() (void; pte_offset_map_lock, pte_offset_map + pte_lockptr), move_normal_pmd()
//         (CONFIG_HAVE_MOVE_PMD, 2c91bd4a4e2e v5.0: set_pmd_at(), flush under both locks),
//         move_page_tables() (rmap locks only if need_rmap_locks). v5.8 is modelled as v5.10 (not
//         read in a 5.8 tree: the changes between, such as the WARN_ON_ONCE of f81fdd0c4ab7, do not
//         touch the locking).
//   v6.6 mm/mremap.c (a 6.5–6.11 tree, before 6fa1066fc5d0): get_old_pud(), alloc_new_pud(),
//         move_normal_pud() (c49dd3401802 v5.11), move_pgt_entry() with need_rmap_locks forced true
//         for NORMAL_PMD and NORMAL_PUD (97113eb39fa7 v5.14 "mm/mremap: hold the rmap lock in write
//         mode when moving page table entries"), pmd_populate()/pud_populate() (0881ace292b6 v5.14),
//         move_ptes() returning -EAGAIN when pte_offset_map_lock() or pte_offset_map_nolock() fails
//         and `goto again`, and `if (pmd_none(*old_pmd)) continue;` before pte_alloc()
//         (a5be621ee292 v6.5 "mm/mremap: retry if either pte_offset_map_*lock() fails").
//   v6.2 is v6.6 without a5be621ee292: void move_ptes(), and after split_huge_pmd()
//         `if (pmd_trans_unstable(old_pmd)) continue;` (the 5.14–6.4 shape, seen in a copy found by
//         the code search, not in a pinned 6.2 tree). The series of 97113eb39fa7 and 0881ace292b6
//         is from the -mm merge mail (v5.14).
//   mm/huge_memory.c move_huge_pmd() (v5.10, v6.6): __pmd_trans_huge_lock(), pmdp_huge_get_and_clear(),
//         the deposited table follows when the pmd locks differ (pmd_move_must_withdraw(), anon),
//         set_pmd_at(), flush_pmd_tlb_range() if it was present.
//
// The race of 6fa1066fc5d0 "mm/mremap: fix move_normal_pmd/retract_page_tables race" (Jann Horn, v6.12):
// move_page_tables() decides NORMAL_PMD from *old_pmd read before any rmap lock is taken; since v6.6
// retract_page_tables() holds only i_mmap_rwsem (read), the pmd lock and the ptl (1d65b771bc08), so
// it can clear that pmd between the read and take_rmap_locks(). move_normal_pmd() then takes
// `pmd = *old_pmd` (none) under the pmd lock and pmd_populate()s the new pmd with
// pmd_pgtable(none): physical page 0 as a page table. The fix re-checks under the pmd locks
// (`if (unlikely(!pmd_present(pmd) || pmd_leaf(pmd)))`: unlock and return false), so the caller
// falls back to the pte path, which stops at `pmd_none(*old_pmd)`. Test switch `move-pmd-recheck`.
//
// Eras and architectures: CONFIG_HAVE_MOVE_PMD on x86 at every era (2c91bd4a4e2e), on the
// rcu-table-free architecture (arm64) from v6.2 (arm64 selects it from v5.11, Kalesh Singh's series,
// not checked against a tree); CONFIG_HAVE_MOVE_PUD (c49dd3401802) from v6.2 on every architecture.
// Departures: flush_cache_range(), flush_tlb_batched_pending(), arch_{enter,leave}_lazy_mmu_mode()
// and move_soft_dirty_pte() are left out (no batched unmap, no soft-dirty in the model);
// split_huge_pmd() is not modelled (the actor refuses a move that would need it); move_huge_pud()
// is not modelled (no huge puds).

import { PMD_PAGES, PUD_PAGES, pgdIndex, pmd_none, pmd_pfn, pmd_present, pmd_trans_huge, pteIndex, pudIndex, type PmdEntry } from './entries.js';
import { spin_lock, spin_unlock } from './locks.js';
import { __pud_alloc, pmd_alloc } from './pgalloc.js';
import {
  pgtable_trans_huge_deposit, pgtable_trans_huge_withdraw, pmd_clear, pmd_load, pmd_lock, pmd_lockptr, pmd_off, pmd_populate, pmd_read,
  pmd_table, pmd_use, pmdEntryAt, pmdp_huge_get_and_clear_x86, pte_lockptr, pte_read, pte_write, ptep_get_and_clear, set_pmd_at, spin_lock_ptl,
  tableNow, upperEntry, upperStore, type PmdPtr, type Stepper, type TablePtr,
} from './pgtable.js';
import { type ActorGen, call, type Ctx, step } from './step.js';
import { eraAtLeast, has, type UserVariantDef } from './switches.js';
import { flush_tlb_range } from './tlbflush.js';
import type { Mm, Vma } from './types.js';
import { anon_vma_lock_write, anon_vma_unlock_write, i_mmap_lock_write, i_mmap_unlock_write } from './vma.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from './mmu_notifier.js';
import { BUG_ON } from './bug.js';
import { mayFailPteMap, pte_offset_map_lock, pte_offset_map_rcu, pte_unmap, pte_unmap_unlock } from './walk.js';
import { __pte_alloc } from './actors/fault.js';

/** Test switches of this file. Not catalog variants: a test registers them (registerVariant) to take
 *  one rule out, or to put the upstream fix of a race real at v6.6 in. */
export const MREMAP_TEST_SWITCHES: readonly UserVariantDef[] = [
  { id: 'mremap-no-flush', summary: 'move_ptes(), move_normal_pmd() and move_normal_pud() skip flush_tlb_range() of the old range (a mutation)' },
  { id: 'mremap-no-ptl', summary: 'move_ptes() takes neither pte table lock (a mutation)' },
  { id: 'move-pmd-recheck', summary: 'backport 6fa1066fc5d0 "mm/mremap: fix move_normal_pmd/retract_page_tables race" (v6.12): move_normal_pmd() re-checks the pmd under its locks', eras: ['v6.6'] },
];

/** CONFIG_HAVE_MOVE_PMD (see the header). */
export function haveMovePmd(c: Ctx): boolean {
  return c.m.arch.flush !== 'broadcast' || eraAtLeast(c.m.sw, 'v6.2');
}

/** CONFIG_HAVE_MOVE_PUD, and the pud level of move_page_tables() (c49dd3401802, v5.11). */
export function haveMovePud(c: Ctx): boolean {
  return eraAtLeast(c.m.sw, 'v6.2');
}

/** take_rmap_locks(): i_mmap_lock_write() of a file VMA, anon_vma_lock_write() if it has one. */
export function* take_rmap_locks(c: Ctx, vma: Vma): ActorGen {
  if (vma.kind === 'file') yield* i_mmap_lock_write(c, c.m.files[vma.file]!);
  if (vma.anon_vma) yield* anon_vma_lock_write(c, vma);
}

/** drop_rmap_locks(): the reverse. Not a step of its own. */
export function drop_rmap_locks(c: Ctx, vma: Vma): void {
  if (vma.anon_vma) anon_vma_unlock_write(c, vma);
  if (vma.kind === 'file') i_mmap_unlock_write(c, c.m.files[vma.file]!);
}

/** A pud entry: the pud table (pfn, gen) and the index in it. */
export interface PudPtr {
  readonly table: TablePtr;
  readonly idx: number;
}

/** get_old_pud(): the pud of `addr`, or null where the pgd (p4d) entry or the pud is none. */
function get_old_pud(c: Ctx, mm: Mm, addr: number): PudPtr | null {
  const g = upperEntry(c, tableNow(c.m, mm.pgd), pgdIndex(addr), 'pgd');
  if (g.t !== 'table') return null;
  const table = tableNow(c.m, g.pfn);
  if (upperEntry(c, table, pudIndex(addr), 'pud').t === 'none') return null;
  return { table, idx: pudIndex(addr) };
}

/** alloc_new_pud(): p4d_alloc() (a pud table under the pgd entry if none), then the pud pointer. */
function* alloc_new_pud(c: Ctx, mm: Mm, addr: number): Stepper<PudPtr> {
  if (upperEntry(c, tableNow(c.m, mm.pgd), pgdIndex(addr), 'pgd').t === 'none') yield* __pud_alloc(c, mm, addr);
  const g = upperEntry(c, tableNow(c.m, mm.pgd), pgdIndex(addr), 'pgd');
  if (g.t !== 'table') throw new Error(`model: alloc_new_pud(${addr}) left no pud table`);
  return { table: tableNow(c.m, g.pfn), idx: pudIndex(addr) };
}

/** get_old_pmd(): walk to the pmd of `addr`; null where an upper entry or `*pmd` is none (one step,
 *  the pmd_none(*pmd) read). */
function* get_old_pmd(c: Ctx, mm: Mm, addr: number): Stepper<PmdPtr | null> {
  const pmd = pmd_off(c, addr, mm);
  if (!pmd) return null;
  const v = yield* pmd_read(c, pmd, 'get_old_pmd(): pmd_none(*pmd)');
  return pmd_none(c.m.arch, v.entry) ? null : pmd;
}

/** alloc_new_pmd(): pud_alloc() and pmd_alloc() (steps only where a table is allocated); the
 *  VM_BUG_ON(pmd_trans_huge(*pmd)) is checked with the caller's next step. */
function* alloc_new_pmd(c: Ctx, mm: Mm, addr: number): Stepper<PmdPtr> {
  const pmd = yield* pmd_alloc(c, addr, mm);
  BUG_ON(c, pmd_trans_huge(c.m.arch, pmd_load(c, pmd).entry), 'alloc_new_pmd(): pmd_trans_huge(*pmd)');
  return pmd;
}

/** flush_tlb_range(vma, start, end) of the old range, unless the test switch takes it out. */
function* flushOld(c: Ctx, mm: Mm, start: number, end: number, what: string): ActorGen {
  if (has(c.m.sw, 'mremap-no-flush')) {
    yield step(`${what}: [no flush_tlb_range(${start}, ${end})]`);
    return;
  }
  yield* flush_tlb_range(c, `${what}: flush_tlb_range(vma, ${start}, ${end})`, { mm: mm.id, start, end });
}

/** move_ptes(): move the ptes of [oldAddr, oldEnd) to newAddr, under the old table's ptl and the new
 *  one's (spin_lock_nested; "exclusive mmap_lock prevents deadlock"), flushing the old range under
 *  them if a present pte moved (eb66ae030829). False is v6.5+'s -EAGAIN: a pte_offset_map*() failed
 *  and the caller looks at the pmd again. */
export function* move_ptes(c: Ctx, vma: Vma, oldPmd: PmdPtr, oldAddr: number, oldEnd: number, newPmd: PmdPtr, newAddr: number, needRmapLocks: boolean): Stepper<boolean> {
  const m = c.m;
  const mm = m.mms[vma.mm]!;
  const len = oldEnd - oldAddr;
  const noPtl = has(m.sw, 'mremap-no-ptl');
  if (needRmapLocks) yield* take_rmap_locks(c, vma);
  let oldPte: TablePtr | null;
  let newPte: TablePtr | null;
  if (noPtl) {
    oldPte = pmd_table(c, yield* pmd_read(c, oldPmd, 'move_ptes(): old_pte = pte_offset_map(old_pmd) [no ptl]'));
    newPte = pmd_table(c, yield* pmd_read(c, newPmd, 'move_ptes(): new_pte = pte_offset_map(new_pmd) [no ptl]'));
  } else if (!mayFailPteMap(c)) {
    // ≤ v6.2: old_pte = pte_offset_map_lock(mm, old_pmd, ...); new_pte = pte_offset_map(new_pmd);
    // new_ptl = pte_lockptr(mm, new_pmd): one read of *new_pmd in the model.
    oldPte = yield* pte_offset_map_lock(c, oldPmd);
    newPte = pmd_table(c, yield* pmd_read(c, newPmd, 'move_ptes(): new_pte = pte_offset_map(new_pmd); new_ptl = pte_lockptr(mm, new_pmd)'));
    if (oldPte && pte_lockptr(m, newPte) !== pte_lockptr(m, oldPte)) yield* spin_lock_ptl(c, newPte);
  } else {
    oldPte = yield* pte_offset_map_lock(c, oldPmd);
    if (!oldPte) {
      if (needRmapLocks) drop_rmap_locks(c, vma);
      yield step('move_ptes(): pte_offset_map_lock(old_pmd) failed: err = -EAGAIN');
      return false;
    }
    // pte_offset_map_nolock(mm, new_pmd, new_addr, &new_ptl): mapped under RCU, ptl not taken.
    const map = yield* pte_offset_map_rcu(c, newPmd);
    if (!map) {
      pte_unmap_unlock(c, oldPte);
      if (needRmapLocks) drop_rmap_locks(c, vma);
      yield step('move_ptes(): pte_offset_map_nolock(new_pmd) failed: pte_unmap_unlock(old_pte); err = -EAGAIN');
      return false;
    }
    newPte = map.ptr;
    if (pte_lockptr(m, newPte) !== pte_lockptr(m, oldPte)) yield* spin_lock_ptl(c, newPte);
  }
  if (!oldPte) throw new Error('model: pte_offset_map_lock() failed before v6.5');
  let forceFlush = false;
  for (let o = oldAddr, n = newAddr; o < oldEnd; o++, n++) {
    const pte = pte_read(c, oldPte, pteIndex(o));
    if (pte.t === 'none') continue;
    ptep_get_and_clear(c, oldPte, pteIndex(o));
    // move_pte() is the identity off sparc; move_soft_dirty_pte() is left out.
    pte_write(c, newPte, pteIndex(n), pte);
    yield step(`move_ptes(): pte = ptep_get_and_clear(addr ${o}); set_pte_at(addr ${n}, pte)`);
    forceFlush ||= pte.t === 'present';
  }
  // "If we are remapping a valid PTE, make sure to flush TLB before we drop the PTL for the PTE."
  if (forceFlush) yield* flushOld(c, mm, oldEnd - len, oldEnd, 'move_ptes()');
  if (!noPtl) {
    if (pte_lockptr(m, newPte) !== pte_lockptr(m, oldPte)) spin_unlock(c, pte_lockptr(m, newPte));
    if (mayFailPteMap(c)) pte_unmap(c);               // pte_unmap(new_pte - 1)
    pte_unmap_unlock(c, oldPte);
  }
  if (needRmapLocks) drop_rmap_locks(c, vma);
  yield step(`move_ptes(): ${noPtl ? '' : 'spin_unlock(new_ptl); pte_unmap_unlock(old_pte, old_ptl)'}${needRmapLocks ? '; drop_rmap_locks()' : ''}`);
  return true;
}

/** move_normal_pmd(): move a pmd that points at a pte table, under the old and new pmd locks
 *  ("exclusive mmap_lock prevents deadlock"): pmd = *old_pmd; pmd_clear(old_pmd); then set_pmd_at()
 *  (≤ v5.10) or pmd_populate(new_pmd, pmd_pgtable(pmd)) (v5.14+, 0881ace292b6), and the flush of
 *  the old range before the locks go. False: not moved (the caller moves ptes). */
export function* move_normal_pmd(c: Ctx, vma: Vma, oldAddr: number, oldPmd: PmdPtr, newPmd: PmdPtr): Stepper<boolean> {
  const m = c.m;
  const mm = m.mms[vma.mm]!;
  // "The destination pmd shouldn't be established, free_pgtables() should have released it."
  const dst = yield* pmd_read(c, newPmd, 'move_normal_pmd(): WARN_ON_ONCE(!pmd_none(*new_pmd))');
  if (!pmd_none(m.arch, dst.entry)) return false;
  const oldPtl = pmd_lockptr(m, oldPmd);
  const newPtl = pmd_lockptr(m, newPmd);
  yield* pmd_lock(c, oldPmd);
  if (newPtl !== oldPtl) yield* pmd_lock(c, newPmd);          // spin_lock_nested(new_ptl, SINGLE_DEPTH_NESTING)
  const v = pmd_load(c, oldPmd);                                // pmd = *old_pmd
  if (has(m.sw, 'move-pmd-recheck') && (!pmd_present(m.arch, v.entry) || pmd_trans_huge(m.arch, v.entry))) {
    // 6fa1066fc5d0: "Racing with collapse?"
    if (newPtl !== oldPtl) spin_unlock(c, newPtl);
    spin_unlock(c, oldPtl);
    yield step(`move_normal_pmd(): pmd = *old_pmd [pmd ${oldPmd.slot}] = ${v.entry.t}: racing with collapse: spin_unlock(); return false`);
    return false;
  }
  yield* pmd_clear(c, oldPmd, `move_normal_pmd(): pmd = *old_pmd (${v.entry.t}${v.entry.t === 'table' ? ` ${v.entry.pfn}` : ''}); pmd_clear(old_pmd)`);
  BUG_ON(c, !pmd_none(m.arch, pmdEntryAt(m, newPmd)), 'move_normal_pmd(): !pmd_none(*new_pmd)');
  if (eraAtLeast(m.sw, 'v6.2')) {
    pmd_use(c, v);
    pmd_populate(c, newPmd, pmd_pfn(v.entry));
    yield step(`move_normal_pmd(): pmd_populate(mm, new_pmd, pmd_pgtable(pmd)) [pmd ${newPmd.slot}]`);
  } else {
    pmd_use(c, v);
    set_pmd_at(c, newPmd, v.entry);
    yield step(`move_normal_pmd(): set_pmd_at(mm, new_addr, new_pmd, pmd) [pmd ${newPmd.slot}]`);
  }
  yield* flushOld(c, mm, oldAddr, oldAddr + PMD_PAGES, 'move_normal_pmd()');
  if (newPtl !== oldPtl) spin_unlock(c, newPtl);
  spin_unlock(c, oldPtl);
  yield step('move_normal_pmd(): spin_unlock(new_ptl); spin_unlock(old_ptl)');
  return true;
}

/** move_huge_pmd() (mm/huge_memory.c): a huge (or swap) pmd moves whole, with its deposited table
 *  where the pmd locks differ (pmd_move_must_withdraw(): anon VMAs); flush_pmd_tlb_range() of the old
 *  range if it was present, under the locks. False if it is no longer huge. */
export function* move_huge_pmd(c: Ctx, vma: Vma, oldAddr: number, oldPmd: PmdPtr, newPmd: PmdPtr): Stepper<boolean> {
  const m = c.m;
  const mm = m.mms[vma.mm]!;
  const dst = yield* pmd_read(c, newPmd, 'move_huge_pmd(): WARN_ON(!pmd_none(*new_pmd))');
  if (!pmd_none(m.arch, dst.entry)) return false;
  const oldPtl = pmd_lockptr(m, oldPmd);
  const newPtl = pmd_lockptr(m, newPmd);
  yield* pmd_lock(c, oldPmd);                                   // __pmd_trans_huge_lock(old_pmd, vma)
  const now = pmdEntryAt(m, oldPmd);
  if (!isHugeOrSwap(c, now)) {
    spin_unlock(c, oldPtl);
    yield step('move_huge_pmd(): __pmd_trans_huge_lock() failed: spin_unlock()');
    return false;
  }
  if (newPtl !== oldPtl) yield* spin_lock(c, newPtl);
  const pmd = yield* pmdp_huge_get_and_clear_x86(c, oldPmd, 'move_huge_pmd(): pmdp_huge_get_and_clear(old_pmd)');
  const forceFlush = pmd_present(m.arch, pmd);
  if (newPtl !== oldPtl && vma.kind === 'anon') pgtable_trans_huge_deposit(m, newPmd, pgtable_trans_huge_withdraw(m, oldPmd));
  set_pmd_at(c, newPmd, pmd);
  yield step(`move_huge_pmd(): pmdp_huge_get_and_clear(old_pmd); set_pmd_at(new_pmd) [pmd ${oldPmd.slot} → ${newPmd.slot}]`);
  if (forceFlush) yield* flushOld(c, mm, oldAddr, oldAddr + PMD_PAGES, 'move_huge_pmd(): flush_pmd_tlb_range()');
  if (newPtl !== oldPtl) spin_unlock(c, newPtl);
  spin_unlock(c, oldPtl);
  yield step('move_huge_pmd(): spin_unlock(new_ptl); spin_unlock(old_ptl)');
  return true;
}

/** move_normal_pud() (v5.11+, c49dd3401802): the pmd table under a pud moves whole, under
 *  pud_lock() (x86 and the model: mm->page_table_lock for both); pud_populate() (0881ace292b6) and
 *  the flush of the old range before the lock goes. */
export function* move_normal_pud(c: Ctx, vma: Vma, oldAddr: number, oldPud: PudPtr, newPud: PudPtr): Stepper<boolean> {
  const m = c.m;
  const mm = m.mms[vma.mm]!;
  const dst = upperEntry(c, newPud.table, newPud.idx, 'pud');
  yield step('move_normal_pud(): WARN_ON_ONCE(!pud_none(*new_pud))');
  if (dst.t !== 'none') return false;
  yield* spin_lock(c, mm.page_table_lock);                     // pud_lock(); pud_lockptr() is the same lock
  const pud = upperEntry(c, oldPud.table, oldPud.idx, 'pud');
  upperStore(c, oldPud.table, oldPud.idx, 'pud', { t: 'none' }, 'pud_clear');
  BUG_ON(c, upperEntry(c, newPud.table, newPud.idx, 'pud').t !== 'none', 'move_normal_pud(): !pud_none(*new_pud)');
  upperStore(c, newPud.table, newPud.idx, 'pud', { t: 'table', pfn: pmd_pfn(pud) }, 'pud_populate');
  yield step(`move_normal_pud(): pud = *old_pud (${pud.t}${pud.t === 'table' ? ` ${pud.pfn}` : ''}); pud_clear(old_pud); pud_populate(mm, new_pud, pud_pgtable(pud))`);
  yield* flushOld(c, mm, oldAddr, oldAddr + PUD_PAGES, 'move_normal_pud()');
  spin_unlock(c, mm.page_table_lock);
  yield step(`move_normal_pud(): spin_unlock(${mm.page_table_lock.name})`);
  return true;
}

function isHugeOrSwap(c: Ctx, e: PmdEntry): boolean {
  // is_swap_pmd(*old_pmd) || pmd_trans_huge(*old_pmd) || pmd_devmap(*old_pmd)
  return e.t === 'migration' || pmd_trans_huge(c.m.arch, e) || (e.t === 'huge' && e.devmap === true);
}

type PgtEntry = 'NORMAL_PMD' | 'HPAGE_PMD' | 'NORMAL_PUD';

/** move_pgt_entry() (v5.11+): take_rmap_locks() if asked, move, drop them. Before v5.11 the same
 *  bracket is open-coded in move_page_tables(). */
function* move_pgt_entry(c: Ctx, entry: PgtEntry, vma: Vma, oldAddr: number, oldE: PmdPtr | PudPtr, newE: PmdPtr | PudPtr, needRmapLocks: boolean): Stepper<boolean> {
  if (needRmapLocks) yield* take_rmap_locks(c, vma);
  let moved: boolean;
  if (entry === 'NORMAL_PUD') moved = yield* move_normal_pud(c, vma, oldAddr, oldE as PudPtr, newE as PudPtr);
  else if (entry === 'NORMAL_PMD') moved = yield* call(move_normal_pmd(c, vma, oldAddr, oldE as PmdPtr, newE as PmdPtr));
  else moved = yield* move_huge_pmd(c, vma, oldAddr, oldE as PmdPtr, newE as PmdPtr);
  if (needRmapLocks) {
    drop_rmap_locks(c, vma);
    yield step(`${entry === 'NORMAL_PUD' ? 'move_normal_pud' : entry === 'NORMAL_PMD' ? 'move_normal_pmd' : 'move_huge_pmd'}() ${moved ? 'moved' : 'did not move'}: drop_rmap_locks()`);
  }
  return moved;
}

/** get_extent(): how much of [oldAddr, oldEnd) to move in one go at a level of `size` pages. */
export function get_extent(size: number, oldAddr: number, oldEnd: number, newAddr: number): number {
  let extent = (Math.floor(oldAddr / size) + 1) * size - oldAddr;
  extent = Math.min(extent, oldEnd - oldAddr);
  return Math.min(extent, (Math.floor(newAddr / size) + 1) * size - newAddr);
}

/** move_page_tables(): move the entries of [oldAddr, oldAddr + len) of `vma` to newAddr in
 *  `newVma`, between mmu_notifier_invalidate_range_start() and _end() (MMU_NOTIFY_UNMAP of the old
 *  range). Returns the length moved. The caller holds mmap_lock for write. */
export function* move_page_tables(c: Ctx, vma: Vma, oldAddr: number, newVma: Vma, newAddr: number, len: number, needRmapLocks: boolean): Stepper<number> {
  const m = c.m;
  const mm = m.mms[vma.mm]!;
  // alloc_new_pud/pmd(new_vma->vm_mm, ...): the same mm for mremap().
  const newMm = m.mms[newVma.mm]!;
  const oldEnd = oldAddr + len;
  const range = mmu_notifier_range_init('MMU_NOTIFY_UNMAP', mm, oldAddr, oldEnd);
  yield* mmu_notifier_invalidate_range_start(c, range);
  let extent = 0;
  for (; oldAddr < oldEnd; oldAddr += extent, newAddr += extent) {
    if (haveMovePud(c)) {
      extent = get_extent(PUD_PAGES, oldAddr, oldEnd, newAddr);
      const oldPud = get_old_pud(c, mm, oldAddr);
      if (!oldPud) continue;
      const newPud = yield* alloc_new_pud(c, newMm, newAddr);
      // No huge puds in the model (pud_trans_huge() is false). 97113eb39fa7: rmap locks always.
      if (extent === PUD_PAGES && (yield* call(move_pgt_entry(c, 'NORMAL_PUD', vma, oldAddr, oldPud, newPud, true)))) continue;
    }
    extent = get_extent(PMD_PAGES, oldAddr, oldEnd, newAddr);
    const oldPmd = yield* get_old_pmd(c, mm, oldAddr);
    if (!oldPmd) continue;
    const newPmd = yield* alloc_new_pmd(c, newMm, newAddr);
    for (;;) {                                                   // again:
      const v = yield* pmd_read(c, oldPmd, 'move_page_tables(): is_swap_pmd(*old_pmd) || pmd_trans_huge(*old_pmd) || pmd_devmap(*old_pmd)');
      if (isHugeOrSwap(c, v.entry)) {
        if (extent === PMD_PAGES && (yield* call(move_pgt_entry(c, 'HPAGE_PMD', vma, oldAddr, oldPmd, newPmd, needRmapLocks)))) break;
        // split_huge_pmd(): not modelled; the actor refuses a move that would need it.
        throw new Error(`model: mremap would split the huge pmd ${oldPmd.slot} (split_huge_pmd() is not modelled)`);
      } else if (haveMovePmd(c) && extent === PMD_PAGES) {
        // 97113eb39fa7 (v5.14): NORMAL_PMD takes the rmap locks whatever need_rmap_locks says.
        const rmap = eraAtLeast(m.sw, 'v6.2') ? true : needRmapLocks;
        if (yield* call(move_pgt_entry(c, 'NORMAL_PMD', vma, oldAddr, oldPmd, newPmd, rmap))) break;
      }
      // (≤ v6.2, after split_huge_pmd(): if (pmd_trans_unstable(old_pmd)) continue; never reached here.)
      if (mayFailPteMap(c)) {
        // a5be621ee292 (v6.5): if (pmd_none(*old_pmd)) continue;
        const n = yield* pmd_read(c, oldPmd, 'move_page_tables(): pmd_none(*old_pmd)');
        if (pmd_none(m.arch, n.entry)) break;
      }
      // pte_alloc(new_vma->vm_mm, new_pmd)
      const nv = yield* pmd_read(c, newPmd, 'pte_alloc(): pmd_none(*new_pmd)');
      if (pmd_none(m.arch, nv.entry)) yield* __pte_alloc(c, newPmd);
      if (yield* move_ptes(c, vma, oldPmd, oldAddr, oldAddr + extent, newPmd, newAddr, needRmapLocks)) break;
      // -EAGAIN: goto again
    }
  }
  yield* mmu_notifier_invalidate_range_end(c, range);
  return len;
}
