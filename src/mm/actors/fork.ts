// fork(2)'s copy of the address space: dup_mm() → dup_mmap() (kernel/fork.c) → copy_page_range() →
// copy_p4d_range() → copy_pud_range() → copy_pmd_range() → copy_huge_pmd() (mm/huge_memory.c) or
// copy_pte_range() → copy_one_pte() (v5.8) / copy_present_pte() (v5.10+), into a second mm of the
// world that has no VMA yet (the child).
//
// Read for this (kernel/fork.c dup_mmap(), mm/memory.c copy_page_range() and below,
// mm/huge_memory.c copy_huge_pmd(), mm/gup.c lockless_pages_from_mm()):
//   v5.8   dup_mmap(): mmap_write_lock_killable(oldmm), mmap_write_lock_nested(mm); per VMA:
//          vm_area_dup(), anon_vma_fork(), i_mmap insert after mpnt, __vma_link_rb(),
//          copy_page_range(mm, oldmm, mpnt); then mmap_write_unlock(mm), flush_tlb_mm(oldmm),
//          mmap_write_unlock(oldmm). copy_page_range() skips a VMA without anon_vma (and not
//          hugetlb/PFNMAP); for a COW mapping it brackets the walk with
//          mmu_notifier_invalidate_range_start/end(MMU_NOTIFY_PROTECTION_PAGE). copy_one_pte():
//          ptep_set_wrprotect() of the parent's writable pte, get_page(), page_dup_rmap(),
//          set_pte_at() in the child, with no regard to GUP pins.
//   v5.10  70e806e4e645 "mm: Do early cow for pinned pages during fork() for ptes" (v5.9):
//          copy_present_pte() → copy_present_page(): a page that page_maybe_dma_pinned() is copied
//          for the child at once (with a page preallocated outside the ptls: -EAGAIN, unlock,
//          page_copy_prealloc(), again); d042035eaf5f: copy_huge_pmd() splits a maybe-pinned THP.
//          The check is done before ptep_set_wrprotect() while GUP-fast, lockless, may pin between.
//   v6.2   57efa1fe5957 "mm/gup: prevent gup_fast from racing with COW during fork" (v5.11):
//          copy_page_range() holds src_mm->write_protect_seq odd around the walk
//          (raw_write_seqcount_begin/end, mmap_assert_write_locked), and GUP-fast with FOLL_PIN
//          gives up if it saw it odd or moved (gup_fast.ts). copy_present_pte(): get_page(),
//          page_try_dup_anon_rmap() (fails for a maybe-pinned anon page: copy_present_page()).
//   v6.6   fb49c455323f "fork: lock VMAs of the parent process when forking" (v6.5):
//          vma_start_write(mpnt) for each parent VMA at the head of the loop, so that a page fault
//          under the per-VMA lock cannot run on it; vma_iter_bulk_store() links the child's VMA;
//          copy_pte_range()'s source map is pte_offset_map_nolock(), which may fail.
//
// Departures: the child is the mm the scenario gives it (src/mm/fork_child.ts: the first mm of the
// world, not the parent's, with no VMA and an empty pgd, that no earlier fork of the scenario took;
// the world stands for mm_alloc()); with none, dup_mm() fails with -ENOMEM. Its threads wait until
// fork returns (wake_up_new_task() after copy_process(), fork_child.ts). anon_vma_fork() links the child's
// VMA into the parent's anon_vma (anon_vma_clone()) but makes no anon_vma of its own, which only
// new child pages would use. has_pinned (v5.10) is taken as set. page_maybe_dma_pinned() is
// "more references than mappings" (any extra reference, not the FOLL_PIN bias): a false positive
// only makes fork copy. A maybe-pinned THP is not split (v5.10+): the range is left for the child
// to fault. A swap pte is copied as it is (no swap_duplicate(), no MM_SWAPENTS); a migration pte or
// pmd counts in the child's rss and is made readable in both for a COW mapping. The early-COW copy
// records no 'copy' event: the parent keeps the pinned page, so no write is lost by copying.

import type { ActorDef } from '../actor.js';
import { add_mm_counter, mm_inc_nr_ptes } from '../counters.js';
import { HPAGE_PMD_NR, is_swap_pmd, pmd_none, pmd_trans_huge, PMD_PAGES, PUD_PAGES, pteIndex, type PteEntry } from '../entries.js';
import { alloc_page, frameOf, get_page, put_page } from '../frames.js';
import { down_write, spin_unlock } from '../locks.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import { forkChildOf } from '../fork_child.js';
import { pmd_alloc } from '../pgalloc.js';
import {
  pgtable_trans_huge_deposit, pmd_lock, pmd_lockptr, pmd_off, pmd_read, pmd_table, pmdEntryAt, pte_lockptr, pte_read, pte_write,
  set_pmd_at, spin_lock_ptl, type PmdPtr, type Stepper, type TablePtr,
} from '../pgtable.js';
import { page_add_rmap } from '../rmap.js';
import { step, type ActorGen, type Ctx } from '../step.js';
import { eraAtLeast } from '../switches.js';
import { flush_tlb_mm, pte_free } from '../tlbflush.js';
import type { Mm, Vma } from '../types.js';
import { anon_vma_clone, i_mmap_lock_write, i_mmap_unlock_write, vm_area_dup, vma_iter_bulk_store } from '../vma.js';
import { vma_interval_tree_insert_after } from '../rmap_tree.js';
import { hasPerVmaLocks, mmap_assert_write_locked, mmap_write_lock, mmap_write_unlock, vma_start_write } from '../vma_lock.js';
import { mayFailPteMap, pte_offset_map_lock, pte_offset_map_rcu, pte_unmap, pte_unmap_unlock } from '../walk.js';
import { __pte_alloc } from './fault.js';

/** What a test may take out of fork, to show that each rule is needed. */
export interface ForkOptions {
  /** dup_mmap()'s flush_tlb_mm(oldmm) before mmap_write_unlock(oldmm). */
  readonly flush: boolean;
  /** v6.6's vma_start_write() of each parent VMA (fb49c455323f). */
  readonly lockVmas: boolean;
  /** mmap_write_lock_killable(oldmm) (and its unlock). */
  readonly lockParent: boolean;
}

/** The era copies a maybe-pinned page for the child at once (70e806e4e645, v5.9). */
function earlyCow(c: Ctx): boolean {
  return eraAtLeast(c.m.sw, 'v5.10');
}

/** The era has mm->write_protect_seq (57efa1fe5957, v5.11). */
export function hasWriteProtectSeq(c: Ctx): boolean {
  return eraAtLeast(c.m.sw, 'v6.2');
}

/** page_maybe_dma_pinned(): the model counts no FOLL_PIN bias, so any reference beyond one per
 *  mapping counts (the kernel's check is inexact too, and a false positive only costs a copy). */
function page_maybe_dma_pinned(c: Ctx, pfn: number): boolean {
  const f = frameOf(c.m, pfn);
  return f.refcount > f.mapcount;
}

function isAnonPage(c: Ctx, pfn: number): boolean {
  return frameOf(c.m, pfn).mapping < 0;
}

/** is_cow_mapping(): private and VM_MAYWRITE (every private VMA of the model may be written). */
function is_cow_mapping(vma: Vma): boolean {
  return !vma.shared;
}

interface Copy {
  readonly m: Ctx['m'];
  readonly src: Vma;
  readonly dst: Vma;
  readonly srcMm: Mm;
  readonly dstMm: Mm;
  /** rss[] of copy_pte_range(), added to the child's counter when the ptls are dropped. */
  rss: number;
  /** The page page_copy_prealloc() got for copy_present_page(), or 0. */
  prealloc: number;
}

/** copy_present_pte() (v5.10+) / copy_one_pte()'s present case (v5.8), for the pte `pte` at
 *  `addr`, both ptls held. 'again' when copy_present_page() needs a preallocated page (-EAGAIN). */
function* copy_present_pte(c: Ctx, k: Copy, sptr: TablePtr, dptr: TablePtr, addr: number, pte: Extract<PteEntry, { t: 'present' }>): Stepper<'ok' | 'again'> {
  const idx = pteIndex(addr);
  const pfn = pte.pfn;
  const cow = is_cow_mapping(k.src);
  const page = pte.special === true ? null : pfn;
  const era = k.m.sw.era;
  if (page !== null && cow && earlyCow(c) && isAnonPage(c, page) && page_maybe_dma_pinned(c, page)) {
    // copy_present_page(): the child gets a copy now, the parent keeps the (maybe) pinned page.
    if (k.prealloc === 0) {
      yield step(`copy_present_page(): page_maybe_dma_pinned(${page}) and no prealloc: -EAGAIN`);
      return 'again';
    }
    const nw = k.prealloc;
    k.prealloc = 0;
    page_add_rmap(c, nw);
    k.rss++;
    pte_write(c, dptr, idx, { t: 'present', pfn: nw, sub: 0, writable: true, dirty: true });
    yield step(`copy_present_page(): page_maybe_dma_pinned(${page}): copy_user_highpage(${nw}); page_add_new_anon_rmap(); set_pte_at(child addr ${addr} → ${nw})`);
    return 'ok';
  }
  if (page !== null) {
    get_page(c, page);
    page_add_rmap(c, page);
    k.rss++;
  }
  if (era !== 'v5.8') {
    // The pinned check and the write-protect are two moments: GUP-fast may pin between them.
    yield step(era === 'v5.10'
      ? `copy_present_pte(): vm_normal_page() → ${page}; copy_present_page(): !page_maybe_dma_pinned(): not pinned; get_page(); page_dup_rmap()`
      : `copy_present_pte(): get_page(${page}); page_try_dup_anon_rmap(): not pinned`);
  }
  let child: PteEntry = pte;
  if (cow && pte.writable) {
    pte_write(c, sptr, idx, { ...pte, writable: false });
    child = { ...pte, writable: false };
  }
  if (k.src.shared) child = { ...child, dirty: false } as PteEntry;
  if (child.t === 'present' && child.accessed) {
    const { accessed: _young, ...old } = child;
    child = old;
  }
  pte_write(c, dptr, idx, child);
  if (page !== null && cow) c.m.events.push({ e: 'cow-share', mm: k.srcMm.id, child: k.dstMm.id, addr, pfn: page });
  const wp = cow && pte.writable ? 'ptep_set_wrprotect(src_pte); ' : '';
  yield step(era === 'v5.8'
    ? `copy_one_pte(): ${wp}get_page(${page}); page_dup_rmap(); set_pte_at(child addr ${addr})`
    : `copy_present_pte(): ${wp}pte_mkold(); set_pte_at(child addr ${addr})`);
  return 'ok';
}

/** copy_pte_range(): the child's table by pte_alloc_map_lock(), the parent's by pte_offset_map()
 *  (v6.6: pte_offset_map_nolock(), which may fail) and spin_lock_nested(src_ptl); each pte copied
 *  under both; on -EAGAIN, both dropped, page_copy_prealloc(), and again from that pte. */
function* copy_pte_range(c: Ctx, k: Copy, dstPmd: PmdPtr, srcPmd: PmdPtr, start: number, end: number): ActorGen {
  let addr = start;
  // out: if (unlikely(prealloc)) put_page(prealloc);
  const out = () => {
    if (k.prealloc !== 0) put_page(c.m, k.prealloc);
    k.prealloc = 0;
  };
  for (;;) {
    if (pmd_none(c.m.arch, pmdEntryAt(c.m, dstPmd))) yield* __pte_alloc(c, dstPmd);
    const dptr = yield* pte_offset_map_lock(c, dstPmd);
    if (!dptr) {
      out();
      yield step('copy_pte_range(): pte_alloc_map_lock() failed: -ENOMEM');
      return;
    }
    let sptr: TablePtr;
    if (mayFailPteMap(c)) {
      const map = yield* pte_offset_map_rcu(c, srcPmd);
      if (!map) {
        pte_unmap_unlock(c, dptr);
        out();
        yield step('copy_pte_range(): pte_offset_map_nolock(src_pmd) failed: pte_unmap_unlock(dst_pte); nothing to copy');
        return;
      }
      sptr = map.ptr;
    } else {
      const v = yield* pmd_read(c, srcPmd, 'copy_pte_range(): src_pte = pte_offset_map(src_pmd, addr)');
      sptr = pmd_table(c, v);
    }
    yield* spin_lock_ptl(c, sptr);
    let again = false;
    for (; addr < end; addr++) {
      const pte = pte_read(c, sptr, pteIndex(addr));
      if (pte.t === 'none') continue;
      if (pte.t !== 'present') {
        let child: PteEntry = pte;
        let how = '';
        if (pte.t === 'migration') {
          // rss[mm_counter(page)]++: the page counts in the child's rss while it migrates. A
          // writable entry of a COW mapping is made readable in parent and child alike
          // (make_migration_entry_read(), v5.8; make_readable_migration_entry(), v6.6).
          k.rss++;
          if (pte.write && is_cow_mapping(k.src)) {
            child = { ...pte, write: false };
            pte_write(c, sptr, pteIndex(addr), child);
            how = 'make_migration_entry_read(); set_pte_at(src_pte); ';
          }
          how += 'rss[mm_counter(page)]++; ';
        }
        pte_write(c, dptr, pteIndex(addr), child);
        yield step(`copy_nonpresent_pte(): ${how}set_pte_at(child addr ${addr}, ${pte.t} entry)`);
        continue;
      }
      if ((yield* copy_present_pte(c, k, sptr, dptr, addr, pte)) === 'again') {
        again = true;
        break;
      }
      // A prealloc page not consumed (the pin went meanwhile) is not kept for another address.
      out();
    }
    spin_unlock(c, pte_lockptr(c.m, sptr));
    pte_unmap(c);
    add_mm_counter(c, k.dstMm, k.rss);
    const rss = k.rss;
    k.rss = 0;
    pte_unmap_unlock(c, dptr);
    yield step(`copy_pte_range(): spin_unlock(src_ptl); pte_unmap(); add_mm_rss_vec(dst_mm, +${rss}); pte_unmap_unlock(dst_pte)`);
    if (!again) {
      out();
      return;
    }
    k.prealloc = alloc_page(c, 'data');
    yield step(`copy_pte_range(): page_copy_prealloc() → ${k.prealloc}; goto again`);
  }
}

/** copy_huge_pmd() (mm/huge_memory.c): anon only; pte_alloc_one() for the deposit, then
 *  pmd_lock(dst) and spin_lock_nested(src pmd lock); the parent's pmd write-protected and the
 *  child's set. 'split' when the pmd is no longer huge (-EAGAIN: the caller copies ptes). */
function* copy_huge_pmd(c: Ctx, k: Copy, dstPmd: PmdPtr, srcPmd: PmdPtr, addr: number): Stepper<'done' | 'split'> {
  const m = c.m;
  if (k.src.kind !== 'anon') return 'done';
  const pgtable = alloc_page(c, 'pte-table');
  yield step(`copy_huge_pmd(): pgtable = pte_alloc_one() → ${pgtable}`);
  const dstPtl = pmd_lockptr(m, dstPmd);
  const srcPtl = pmd_lockptr(m, srcPmd);
  yield* pmd_lock(c, dstPmd);
  yield* pmd_lock(c, srcPmd);
  const unlock = () => {
    spin_unlock(c, srcPtl);
    spin_unlock(c, dstPtl);
  };
  const e = pmdEntryAt(m, srcPmd);
  if (e.t === 'migration') {
    // is_swap_pmd(pmd): a THP under migration. Readable in both for a COW mapping; the child
    // counts it and gets a deposited table, as for a huge pmd.
    const ro = { ...e, write: false };
    if (e.write && is_cow_mapping(k.src)) set_pmd_at(c, srcPmd, ro);
    add_mm_counter(c, k.dstMm, HPAGE_PMD_NR);
    mm_inc_nr_ptes(c, k.dstMm);
    pgtable_trans_huge_deposit(m, dstPmd, pgtable);
    set_pmd_at(c, dstPmd, is_cow_mapping(k.src) ? ro : e);
    unlock();
    yield step(`copy_huge_pmd(): is_swap_pmd(pmd): ${e.write ? 'make_migration_entry_read(); set_pmd_at(src_pmd); ' : ''}add_mm_counter(dst_mm, HPAGE_PMD_NR); mm_inc_nr_ptes(); pgtable_trans_huge_deposit(${pgtable}); set_pmd_at(child pmd ${dstPmd.slot}, migration entry)`);
    return 'done';
  }
  if (e.t !== 'huge' || !pmd_trans_huge(m.arch, e)) {
    pte_free(m, pgtable);
    unlock();
    yield step('copy_huge_pmd(): !pmd_trans_huge(pmd): pte_free(); spin_unlock() x2: -EAGAIN');
    return 'split';
  }
  const page = e.pfn;
  if (earlyCow(c) && is_cow_mapping(k.src) && page_maybe_dma_pinned(c, page)) {
    // d042035eaf5f (v5.10) / page_try_dup_anon_rmap() (v6.x): split and copy ptes. The split is
    // not modelled: the range is left to fault in the child.
    pte_free(m, pgtable);
    unlock();
    yield step(`copy_huge_pmd(): page_maybe_dma_pinned(${page}): pte_free(); spin_unlock() x2; __split_huge_pmd() (not modelled: left to fault)`);
    return 'done';
  }
  get_page(c, page);
  page_add_rmap(c, page);
  add_mm_counter(c, k.dstMm, HPAGE_PMD_NR);
  mm_inc_nr_ptes(c, k.dstMm);
  pgtable_trans_huge_deposit(m, dstPmd, pgtable);
  yield step(`copy_huge_pmd(): get_page(${page}); page_dup_rmap(compound); add_mm_counter(dst_mm, HPAGE_PMD_NR); mm_inc_nr_ptes(); pgtable_trans_huge_deposit(${pgtable})`);
  // pmdp_set_wrprotect(src_pmd); pmd_mkold(pmd_wrprotect(pmd)) for the child.
  const { writable: _w, ...wp } = e;
  if (e.writable) set_pmd_at(c, srcPmd, wp);
  const { accessed: _a, ...old } = wp;
  set_pmd_at(c, dstPmd, old);
  c.m.events.push({ e: 'cow-share', mm: k.srcMm.id, child: k.dstMm.id, addr, pfn: page });
  unlock();
  yield step(`copy_huge_pmd(): pmdp_set_wrprotect(src_pmd); set_pmd_at(child pmd ${dstPmd.slot}, huge ${page}); spin_unlock(${srcPtl.name}); spin_unlock(${dstPtl.name})`);
  return 'done';
}

/** copy_page_range() (mm/memory.c) for one VMA. */
function* copy_page_range(c: Ctx, dst: Vma, src: Vma, dstMm: Mm, srcMm: Mm): ActorGen {
  // v5.8: !(VM_HUGETLB | VM_PFNMAP | VM_MIXEDMAP) && !anon_vma; v6.6 vma_needs_copy(): the same here.
  if (!src.anon_vma) return;
  const k: Copy = { m: c.m, src, dst, srcMm, dstMm, rss: 0, prealloc: 0 };
  const cow = is_cow_mapping(src);
  const range = mmu_notifier_range_init('MMU_NOTIFY_PROTECTION_PAGE', srcMm, src.start, src.end);
  if (cow) {
    yield* mmu_notifier_invalidate_range_start(c, range);
    if (hasWriteProtectSeq(c)) {
      mmap_assert_write_locked(c, srcMm, 'copy_page_range()');
      srcMm.write_protect_seq++;
      yield step(`copy_page_range(): raw_write_seqcount_begin(&src_mm->write_protect_seq) → ${srcMm.write_protect_seq}`);
    }
  }
  for (let pud = src.start; pud < src.end; pud = Math.floor(pud / PUD_PAGES) * PUD_PAGES + PUD_PAGES) {
    const pudEnd = Math.min(src.end, Math.floor(pud / PUD_PAGES) * PUD_PAGES + PUD_PAGES);
    // pgd_none_or_clear_bad(src_pgd) / pud_none_or_clear_bad(src_pud): nothing mapped here.
    if (!pmd_off(c, pud, srcMm)) continue;
    // copy_p4d_range() → p4d_alloc(); copy_pud_range() → pud_alloc(); copy_pmd_range() → pmd_alloc().
    yield* pmd_alloc(c, pud, dstMm);
    for (let addr = pud; addr < pudEnd; addr = Math.floor(addr / PMD_PAGES) * PMD_PAGES + PMD_PAGES) {
      const next = Math.min(pudEnd, Math.floor(addr / PMD_PAGES) * PMD_PAGES + PMD_PAGES);
      const srcPmd = pmd_off(c, addr, srcMm);
      const dstPmd = pmd_off(c, addr, dstMm);
      if (!srcPmd || !dstPmd) continue;
      const v = yield* pmd_read(c, srcPmd, 'copy_pmd_range(): is_swap_pmd(*src_pmd) || pmd_trans_huge(*src_pmd)');
      if (is_swap_pmd(c.m.arch, v.entry) || pmd_trans_huge(c.m.arch, v.entry)) {
        if ((yield* copy_huge_pmd(c, k, dstPmd, srcPmd, addr)) === 'done') continue;
        // -EAGAIN: fall through to pmd_none_or_clear_bad(src_pmd) and the ptes.
        if (pmd_none(c.m.arch, pmdEntryAt(c.m, srcPmd))) continue;
      } else if (pmd_none(c.m.arch, v.entry)) {
        continue;
      }
      yield* copy_pte_range(c, k, dstPmd, srcPmd, addr, next);
    }
  }
  if (cow) {
    if (hasWriteProtectSeq(c)) {
      srcMm.write_protect_seq++;
      yield step(`copy_page_range(): raw_write_seqcount_end(&src_mm->write_protect_seq) → ${srcMm.write_protect_seq}`);
    }
    yield* mmu_notifier_invalidate_range_end(c, range);
  }
}

/** fork's actor, with a rule taken out for a test (the built-in one keeps them all). */
export function makeFork(name: string, opts: ForkOptions): ActorDef {
  return {
    name,
    summary: "fork(): dup_mmap() copies the VMAs and copy_page_range() the page tables into an empty mm, write-protecting the parent's anon ptes and huge pmds (COW)",
    follows: 'kernel/fork.c dup_mmap(); mm/memory.c copy_page_range(), copy_pmd_range(), copy_pte_range(), copy_one_pte() (v5.8) / copy_present_pte(), copy_present_page() (v5.10+); mm/huge_memory.c copy_huge_pmd(); v5.8–v6.6 (write_protect_seq from 57efa1fe5957, v5.11; parent VMAs write-locked from fb49c455323f, v6.5)',
    inMm: true,
    daemon: 'no',
    forks: true,
    params: [],
    *run(c) {
      const m = c.m;
      const oldmm = c.mm;
      const mm = forkChildOf(c);
      if (!mm) {
        yield step('dup_mm(): allocate_mm() → NULL (the world has no empty mm for the child): -ENOMEM');
        return;
      }
      if (opts.lockParent) yield* mmap_write_lock(c, oldmm);
      // flush_cache_dup_mm() does nothing on these architectures; no uprobes.
      yield* down_write(c, mm.mmap_lock);
      for (const mpnt of oldmm.vmas.filter((v) => !v.detached)) {
        if (opts.lockVmas) yield* vma_start_write(c, mpnt);
        const tmp = vm_area_dup(m, mpnt, mm);
        // anon_vma_fork(): drop the inherited anon_vma, then anon_vma_clone().
        tmp.anon_vma = false;
        if (mpnt.anon_vma) yield* anon_vma_clone(c, tmp, mpnt);
        if (tmp.kind === 'file') {
          const mapping = m.files[tmp.file]!;
          yield* i_mmap_lock_write(c, mapping);
          vma_interval_tree_insert_after(m, tmp, mpnt);
          tmp.inRmap = true;
          i_mmap_unlock_write(c, mapping);
          yield step(`dup_mmap(): vma_interval_tree_insert_after(vma ${tmp.id}, vma ${mpnt.id}); i_mmap_unlock_write(${mapping.i_mmap_rwsem.name})`);
        }
        vma_iter_bulk_store(c, mm, tmp);
        yield step(`dup_mmap(): ${hasPerVmaLocks(m.sw) ? 'vma_iter_bulk_store' : '__vma_link_rb'}(child vma ${tmp.id} [${tmp.start},${tmp.end})); mm->map_count++`);
        yield* copy_page_range(c, tmp, mpnt, mm, oldmm);
      }
      mmap_write_unlock(c, mm);
      if (opts.flush) yield* flush_tlb_mm(c, oldmm, 'dup_mmap(): mmap_write_unlock(mm); flush_tlb_mm(oldmm)');
      if (opts.lockParent) mmap_write_unlock(c, oldmm);
      yield step(`dup_mmap(): ${opts.flush ? '' : 'mmap_write_unlock(mm); '}${opts.lockParent ? 'mmap_write_unlock(oldmm)' : 'done'}`);
    },
  };
}

export const fork: ActorDef = makeFork('fork', { flush: true, lockVmas: true, lockParent: true });
