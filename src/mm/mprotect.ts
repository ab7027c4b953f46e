// change_protection() and its walk, as mm/mprotect.c and mm/huge_memory.c give them at each era: the
// page-table side of mprotect() (mprotect_fixup(), under mmap_lock for write) and of NUMA hinting
// (change_prot_numa(), under mmap_lock for read).
//
// Sources read: mm/mprotect.c and mm/huge_memory.c change_huge_pmd() of 5.10.13 (Rtoax/linux-5.10.13,
// the same code as v5.8 for what the model needs); for v6.2 and v6.6 the upstream changes by commit:
//   8b272b3cbbb5 "mm, numa: fix bad pmd by atomically check for pmd_trans_huge when marking page
//                tables prot_numa" (v5.7): pmd_none_or_clear_bad_unless_trans_huge(), one atomic read.
//   4a18419f71cd "mm/mprotect: use mmu_gather" (v6.0): the flush goes from flush_tlb_range() after
//                the walk ("if (pages)") to tlb_flush_pte_range()/tlb_flush_pmd_range() gathered per
//                entry that needs it (x86's pte_needs_flush()/huge_pmd_needs_flush(), same series),
//                flushed by tlb_end_vma() and tlb_finish_mmu().
//   4f83145721f3 "mm: avoid unnecessary flush on change_huge_pmd()" (v6.0): pmdp_invalidate_ad(),
//                which on x86 does not flush (the CPU sets A/D only on a present entry).
//   David Hildenbrand's "mm/mprotect: try avoiding write faults for exclusive anonymous pages when
//                changing protection" (v6.0): MM_CP_TRY_CHANGE_WRITABLE, can_change_pte_writable().
//   Hugh Dickins' v6.5 series (0d940a9b270b and "mm/mprotect: delete
//                pmd_none_or_clear_bad_unless_trans_huge()"): change_pmd_range() tests pmd_none(*pmd)
//                and reads pmdp_get_lockless(); change_pte_range()'s pte_offset_map_lock() may fail
//                (-EAGAIN: "goto again"). Read in today's mm/mprotect.c, where the mmu_notifier range
//                has since moved up to change_pud_range(); at v6.6 it is still in change_pmd_range().
//   the savedwrite removal ("mm/autonuma: use can_change_(pte|pmd)_writable() to replace
//                savedwrite", v6.3): until v6.2 prot_numa keeps the write bit in the protnone entry
//                (pte_mk_savedwrite() is pte_mkwrite() on x86) and the hinting fault restores it; at
//                v6.6 the fault asks can_change_pte_writable().
//
// Simplifications: no uffd-wp, no soft-dirty tracking, no hugetlb, no device-private entries, no
// shared writable file mappings with writenotify beyond "dirty pte may stay writable"; the model has
// one NUMA node per page that is never the task's (so prot_numa never skips a page for its node);
// PageAnonExclusive is "an anon page mapped once"; inc_tlb_flush_pending() (for reclaim's batched
// flushes, not modelled) is left out.

import { HPAGE_PMD_NR, PMD_PAGES, is_swap_pmd, pmd_bad, pmd_none, pmd_trans_huge, pteIndex, type PmdEntry, type PteEntry } from './entries.js';
import { flush_tlb_range, type MmuGather } from './tlbflush.js';
import { spin_unlock } from './locks.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init, type MmuNotifierRange } from './mmu_notifier.js';
import {
  pmd_clear_bad, pmd_lock, pmd_lockptr, pmd_off, pmd_read, pmd_read_atomic, pmdEntryAt, pmdp_get_lockless, pmdp_invalidate, pmdp_xchg,
  pmd_table, pte_read, pte_write, set_pmd_at, spin_lock_ptl, type PmdPtr, type Stepper, type TablePtr,
} from './pgtable.js';
import { type ActorGen, call, type Ctx, step } from './step.js';
import { eraAtLeast } from './switches.js';
import { pmd_trans_unstable, pte_offset_map_lock, pte_unmap_unlock } from './walk.js';
import type { Mm, Model, Vma } from './types.js';
import { pmd_mkinvalid } from './entries.js';

/** PROT_* bits (include/uapi/asm-generic/mman-common.h). PROT_EXEC is not modelled. */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** The VMA's VM_READ | VM_WRITE, as PROT_* bits. */
export function vma_prot(vma: Vma): number {
  return vma.vm_prot ?? PROT_READ | PROT_WRITE;
}

/** vma_is_accessible(): VM_READ | VM_WRITE | VM_EXEC. */
export function vma_is_accessible(vma: Vma): boolean {
  return (vma_prot(vma) & (PROT_READ | PROT_WRITE)) !== 0;
}

/** change_protection()'s cp_flags. */
export interface CpFlags {
  /** MM_CP_PROT_NUMA: change_prot_numa(), under mmap_lock for read. */
  readonly prot_numa: boolean;
}

/** Test mutations: each takes one fix or one flush out, so that a test can show it matters. Every
 *  field absent is the kernel's code. */
export interface MprotectMutations {
  /** No TLB flush before mprotect() returns (neither flush_tlb_range() nor the mmu_gather's). */
  readonly noFlush?: boolean;
  /** The check before 8b272b3cbbb5 (v5.7): `!pmd_trans_huge(*pmd) && pmd_none_or_clear_bad(pmd)`,
   *  three plain reads, so a huge pmd that a THP fault installs between them is judged bad. */
  readonly pmdClearBadRace?: boolean;
  /** change_pte_range() at v6.6 without pte_offset_map_lock(): read *pmd and lock the table it names,
   *  as before 0d940a9b270b, with no re-check under the ptl. */
  readonly noPmdRecheck?: boolean;
}

/** vma->vm_page_prot applied to a mapping: pte_modify(old, newprot) keeps the pfn and the
 *  accessed/dirty bits and takes present/protnone and write from the new protection. A private
 *  writable mapping's vm_page_prot is PAGE_COPY (read-only until a write fault); a shared one's is
 *  PAGE_SHARED. prot_numa's newprot is PAGE_NONE. */
function modifyWritable(vma: Vma, prot: number): boolean {
  return vma.shared && (prot & PROT_WRITE) !== 0;
}

/** can_change_pte_writable() (v6.0+), for a mapping that would otherwise stay read-only. */
export function can_change_pte_writable(m: Model, vma: Vma, pfn: number, dirty: boolean, protnone: boolean): boolean {
  if ((vma_prot(vma) & PROT_WRITE) === 0 || protnone) return false;
  if (!vma.shared) {
    const f = m.frames[pfn];
    return !!f && f.mapping < 0 && (f.kind === 'data' || f.kind === 'huge') && f.mapcount === 1;
  }
  return dirty;
}

/** The new pte change_pte_range() computes for a present `old`. */
export function pte_change(c: Ctx, vma: Vma, old: Extract<PteEntry, { t: 'present' }>, cp: CpFlags): PteEntry {
  const prot = cp.prot_numa ? PROT_NONE : vma_prot(vma);
  const protnone = prot === PROT_NONE;
  let writable = modifyWritable(vma, prot) && !protnone;
  // preserve_write: pte_mk_savedwrite() (until v6.2).
  if (cp.prot_numa && old.writable && !eraAtLeast(c.m.sw, 'v6.6')) writable = true;
  // MM_CP_DIRTY_ACCT (v5.8–v5.10, shared mappings) / MM_CP_TRY_CHANGE_WRITABLE (v6.0+).
  if (!cp.prot_numa && !writable && !protnone) {
    if (eraAtLeast(c.m.sw, 'v6.2')) writable = can_change_pte_writable(c.m, vma, old.pfn, old.dirty, false);
    else writable = vma.shared && (prot & PROT_WRITE) !== 0 && old.dirty;
  }
  const { protnone: _p, ...rest } = old;
  return { ...rest, writable, ...(protnone ? { protnone: true } : {}) };
}

/** The same for a huge pmd (pmd_modify()). */
function pmd_change(c: Ctx, vma: Vma, old: Extract<PmdEntry, { t: 'huge' }>, cp: CpFlags): PmdEntry {
  const prot = cp.prot_numa ? PROT_NONE : vma_prot(vma);
  const protnone = prot === PROT_NONE;
  let writable = modifyWritable(vma, prot) && !protnone;
  if (cp.prot_numa && old.writable && !eraAtLeast(c.m.sw, 'v6.6')) writable = true;
  if (!cp.prot_numa && !writable && !protnone && eraAtLeast(c.m.sw, 'v6.2')) writable = can_change_pte_writable(c.m, vma, old.pfn, old.dirty === true, false);
  const { protnone: _p, writable: _w, ...rest } = old;
  return { ...rest, ...(writable ? { writable: true } : {}), ...(protnone ? { protnone: true } : {}) };
}

/** x86's pte_needs_flush() (v6.0, with 4a18419f71cd): a flush only where the old entry could be in a TLB
 *  (present to the hardware) and the new one takes something away (present, write, or the frame).
 *  Other architectures' is always true. */
function pte_needs_flush(m: Model, old: PteEntry, now: PteEntry): boolean {
  if (!m.archId.startsWith('x86')) return true;
  if (old.t !== 'present' || old.protnone) return false;
  if (now.t !== 'present' || now.protnone || now.pfn !== old.pfn) return true;
  return old.writable && !now.writable;
}

function huge_pmd_needs_flush(m: Model, old: PmdEntry, now: PmdEntry): boolean {
  if (!m.archId.startsWith('x86')) return true;
  if (old.t !== 'huge' || old.protnone) return false;
  if (now.t !== 'huge' || now.protnone || now.pfn !== old.pfn) return true;
  return old.writable === true && now.writable !== true;
}

/** tlb_flush_pte_range() / tlb_flush_pmd_range(): gather [addr, addr + pages) for the flush. */
function tlb_flush_range(tlb: MmuGather, addr: number, pages: number): void {
  tlb.start = Math.min(tlb.start, addr);
  tlb.end = Math.max(tlb.end, addr + pages);
  tlb.needFlush = true;
}

/** tlb_flush_mmu_tlbonly(): flush what was gathered (tlb_end_vma(), tlb_finish_mmu()); no pages or
 *  tables are gathered by change_protection(). No step if nothing was gathered. */
export function* tlb_flush_mmu_tlbonly(c: Ctx, tlb: MmuGather, what: string, mut: MprotectMutations = {}): ActorGen {
  if (!tlb.needFlush) return;
  const range = { mm: tlb.mm.id, start: tlb.start, end: tlb.end };
  tlb.needFlush = false;
  tlb.start = Infinity;
  tlb.end = -Infinity;
  if (mut.noFlush) {
    yield step(`${what}: tlb_flush_mmu_tlbonly() left out (test mutation)`);
    return;
  }
  yield* flush_tlb_range(c, `${what}: tlb_flush_mmu_tlbonly()`, range);
}

/** change_pte_range() for the ptes of one pmd in [addr, end). Returns the pages changed, or -1 for
 *  -EAGAIN (v6.5+: pte_offset_map_lock() failed, the pmd changed under us). */
function* change_pte_range(c: Ctx, tlb: MmuGather | null, vma: Vma, pmd: PmdPtr, addr: number, end: number, cp: CpFlags, mut: MprotectMutations): Stepper<number> {
  const m = c.m;
  const v66 = eraAtLeast(m.sw, 'v6.6');
  // Until v6.5: "Can be called with only the mmap_lock for reading by prot_numa so we must check the
  // pmd isn't constantly changing from under us from pmd_none to pmd_trans_huge".
  if (!v66 && (yield* pmd_trans_unstable(c, pmd))) return 0;
  let ptr: TablePtr | null;
  if (v66 && mut.noPmdRecheck) {
    const v = yield* pmd_read(c, pmd, 'change_pte_range(): pte_offset_map(pmd) without the re-check (test mutation)');
    if (v.entry.t !== 'table') return 0;
    ptr = pmd_table(c, v);
    yield* spin_lock_ptl(c, ptr);
  } else {
    ptr = yield* pte_offset_map_lock(c, pmd);
    if (!ptr) return -1;
  }
  let pages = 0;
  const changed: string[] = [];
  for (let a = addr; a < end; a++) {
    const i = pteIndex(a);
    const old = pte_read(c, ptr, i);
    if (old.t === 'present') {
      if (cp.prot_numa) {
        // Avoid TLB flush if possible; skip pages a hinting fault cannot move.
        if (old.protnone) continue;
        if (old.special) continue;                                   // !vm_normal_page()
        const f = m.frames[old.pfn];
        if (!vma.shared && vma.kind === 'file' && (f?.mapcount ?? 0) !== 1) continue;   // is_cow_mapping() && page_mapcount() != 1
        if (vma.kind === 'anon' && (f?.mapcount ?? 0) !== 1) continue;
        if ((f?.mapping ?? -1) >= 0 && f?.dirty) continue;          // page_is_file_lru() && PageDirty()
      }
      const now = pte_change(c, vma, old, cp);
      // ptep_modify_prot_start() + ptep_modify_prot_commit(): one update under the ptl.
      pte_write(c, ptr, i, now);
      if (tlb && pte_needs_flush(m, old, now)) tlb_flush_range(tlb, a, 1);
      pages++;
      changed.push(`${a}`);
    } else if (old.t === 'migration' && old.write) {
      // is_writable_migration_entry(): "A protection check is difficult so just be safe and disable write".
      pte_write(c, ptr, i, { ...old, write: false });
      pages++;
      changed.push(`${a}`);
    }
  }
  pte_unmap_unlock(c, ptr);
  yield step(`change_pte_range(): ${changed.length ? `ptep_modify_prot_commit(${changed.join(', ')})` : 'nothing to change'}; pte_unmap_unlock()`);
  return pages;
}

/** change_huge_pmd(): 0 if the pmd is no longer huge (the caller walks the ptes), else 1 or
 *  HPAGE_PMD_NR. Under __pmd_trans_huge_lock(). */
function* change_huge_pmd(c: Ctx, tlb: MmuGather | null, vma: Vma, pmd: PmdPtr, cp: CpFlags): Stepper<number> {
  const m = c.m;
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  const cur = pmdEntryAt(m, pmd);
  if (!is_swap_pmd(m.arch, cur) && !pmd_trans_huge(m.arch, cur)) {
    spin_unlock(c, pml);
    yield step('change_huge_pmd(): __pmd_trans_huge_lock(): not huge any more: spin_unlock()');
    return 0;
  }
  if (cur.t === 'migration') {
    if (cur.write) set_pmd_at(c, pmd, { ...cur, write: false });
    spin_unlock(c, pml);
    yield step(`change_huge_pmd(): migration entry${cur.write ? ': make_readable_migration_entry(); set_pmd_at()' : ''}; spin_unlock()`);
    return 1;
  }
  if (cur.t !== 'huge' || (cp.prot_numa && cur.protnone)) {
    spin_unlock(c, pml);
    yield step('change_huge_pmd(): prot_numa && pmd_protnone(*pmd): spin_unlock()');
    return 1;
  }
  // "In case prot_numa, we are under mmap_read_lock(mm). It's critical to not clear pmd
  // intermittently to avoid race with MADV_DONTNEED" (fixed in 2017, before our eras): invalidate,
  // never clear.
  let old: PmdEntry;
  if (eraAtLeast(m.sw, 'v6.2') && m.archId.startsWith('x86')) {
    // x86 pmdp_invalidate_ad() (4f83145721f3): pmdp_establish(pmd_mkinvalid()), no flush ("once an
    // invalid PTE is established, the PTE's access and dirty bits cannot be updated"). Elsewhere the
    // generic one is pmdp_invalidate(), which flushes.
    old = pmdp_xchg(c, pmd, pmd_mkinvalid(m.arch, cur));
    yield step('change_huge_pmd(): oldpmd = pmdp_invalidate_ad()');
  } else {
    old = yield* pmdp_invalidate(c, pmd);
  }
  const now = old.t === 'huge' ? pmd_change(c, vma, old, cp) : old;
  set_pmd_at(c, pmd, now);
  if (tlb && huge_pmd_needs_flush(m, old, now)) tlb_flush_range(tlb, pmd.slot * PMD_PAGES, PMD_PAGES);
  spin_unlock(c, pml);
  yield step(`change_huge_pmd(): set_pmd_at(pmd_modify())${tlb ? '; tlb_flush_pmd_range()' : ''}; spin_unlock()`);
  return HPAGE_PMD_NR;
}

/** pmd_none_or_clear_bad_unless_trans_huge() (8b272b3cbbb5, v5.7 to v6.4): one pmd_read_atomic();
 *  true means skip this pmd. With the mutation, the code before it. */
function* skip_pmd(c: Ctx, pmd: PmdPtr, mut: MprotectMutations): Stepper<boolean> {
  const a = c.m.arch;
  if (mut.pmdClearBadRace) {
    const h = yield* pmd_read(c, pmd, 'change_pmd_range(): !pmd_trans_huge(*pmd) (pre-8b272b3cbbb5)');
    if (pmd_trans_huge(a, h.entry) || is_swap_pmd(a, h.entry)) return false;
    const n = yield* pmd_read(c, pmd, 'pmd_none_or_clear_bad(): pmd_none(*pmd)');
    if (pmd_none(a, n.entry)) return true;
    const b = yield* pmd_read(c, pmd, 'pmd_none_or_clear_bad(): pmd_bad(*pmd)');
    if (!pmd_bad(a, b.entry)) return false;
    pmd_clear_bad(c, pmd, b);
    yield step('pmd_none_or_clear_bad(): pmd_clear_bad(pmd)');
    return true;
  }
  const v = yield* pmd_read_atomic(c, pmd, 'change_pmd_range(): pmd_none_or_clear_bad_unless_trans_huge(): pmd_read_atomic(pmd)');
  if (is_swap_pmd(a, v.entry)) return false;
  if (pmd_none(a, v.entry)) return true;
  if (pmd_trans_huge(a, v.entry)) return false;
  if (pmd_bad(a, v.entry)) {
    pmd_clear_bad(c, pmd, v);
    yield step('pmd_none_or_clear_bad_unless_trans_huge(): pmd_clear_bad(pmd)');
    return true;
  }
  return false;
}

/** change_pmd_range() over [addr, end) of one pud, the pmd pointers from `pmdAt`. */
function* change_pmd_range(c: Ctx, tlb: MmuGather | null, vma: Vma, mm: Mm, addr: number, end: number, cp: CpFlags, mut: MprotectMutations): Stepper<number> {
  const m = c.m;
  const v66 = eraAtLeast(m.sw, 'v6.6');
  let range: MmuNotifierRange | null = null;
  let pages = 0;
  for (let a = addr; a < end;) {
    const next = Math.min(end, (Math.floor(a / PMD_PAGES) + 1) * PMD_PAGES);
    const pmd = pmd_off(c, a, mm);
    if (!pmd) { a = next; continue; }
    // again:
    for (;;) {
      if (v66) {
        const n = yield* pmd_read(c, pmd, 'change_pmd_range(): pmd_none(*pmd)');
        if (pmd_none(m.arch, n.entry)) break;
      } else if (yield* skip_pmd(c, pmd, mut)) break;
      // "invoke the mmu notifier if the pmd is populated"
      if (!range) {
        range = mmu_notifier_range_init('MMU_NOTIFY_PROTECTION_VMA', mm, a, end);
        yield* mmu_notifier_invalidate_range_start(c, range);
      }
      const v = v66
        ? yield* pmdp_get_lockless(c, pmd, 'change_pmd_range(): _pmd = pmdp_get_lockless(pmd)')
        : yield* pmd_read(c, pmd, 'change_pmd_range(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd)');
      if (is_swap_pmd(m.arch, v.entry) || pmd_trans_huge(m.arch, v.entry)) {
        // The model's ranges are whole VMAs, so next - addr == HPAGE_PMD_SIZE: never a split.
        const r = yield* change_huge_pmd(c, tlb, vma, pmd, cp);
        if (r) {
          if (r === HPAGE_PMD_NR) pages += HPAGE_PMD_NR;
          break;                                                   // huge pmd was handled
        }
        // fall through, the trans huge pmd just split (or went)
      }
      const r = yield* call(change_pte_range(c, tlb, vma, pmd, a, next, cp, mut));
      if (r < 0) {
        yield step('change_pmd_range(): change_pte_range() == -EAGAIN: goto again');
        continue;
      }
      pages += r;
      break;
    }
    a = next;
  }
  if (range) yield* mmu_notifier_invalidate_range_end(c, range);
  return pages;
}

/** change_protection() → change_protection_range() over [start, end) of `vma` (the pgd, p4d and pud
 *  levels are walked by pmd_off(): they are stable under mmap_lock). v5.8–v5.10 (tlb null):
 *  "Only flush the TLB if we actually modified any entries: if (pages) flush_tlb_range()".
 *  v6.2+: tlb_start_vma(), the walk gathering ranges, tlb_end_vma() flushing them. */
export function* change_protection(c: Ctx, tlb: MmuGather | null, vma: Vma, start: number, end: number, cp: CpFlags, mut: MprotectMutations = {}): Stepper<number> {
  const mm = c.m.mms[vma.mm]!;
  const pages = yield* call(change_pmd_range(c, tlb, vma, mm, start, end, cp, mut));
  if (tlb) {
    yield* tlb_flush_mmu_tlbonly(c, tlb, 'change_protection_range(): tlb_end_vma()', mut);
  } else if (pages) {
    if (mut.noFlush) yield step('change_protection_range(): flush_tlb_range() left out (test mutation)');
    else yield* flush_tlb_range(c, `change_protection_range(): flush_tlb_range(vma, ${start}, ${end})`, { mm: mm.id, start, end });
  }
  return pages;
}
