// A page fault in a file VMA: handle_mm_fault() → __handle_mm_fault() → handle_pte_fault() →
// do_fault() (a none pte: do_read_fault(), do_cow_fault(), do_shared_fault()) or, for a present
// read-only pte written to, do_wp_page() → wp_page_copy() (private) / wp_page_shared() (shared).
// Under mmap_lock read (the per-VMA lock of v6.4+ is not modelled: this is its mmap_lock fallback).
//
// Sources read (mm/memory.c, mm/filemap.c):
//   v5.10 (Rtoax/linux-5.10.13, mm/memory.c): __do_fault() preallocates vmf->prealloc_pte when
//         pmd_none(*vmf->pmd), calls ->fault() (filemap_fault), lock_page() unless VM_FAULT_LOCKED;
//         finish_fault() → alloc_set_pte(): pmd_none(*pmd) && PageTransCompound(page) → do_set_pmd();
//         pte_alloc_one_map(): pmd_lock(), pmd_populate(prealloc_pte) unless populated meanwhile,
//         pmd_devmap_trans_unstable() → VM_FAULT_NOPAGE, pte_offset_map_lock(); re-check
//         pte_none() under the ptl; set_pte_at(); finish_fault() pte_unmap_unlock(). v5.8 is the same
//         code (alloc_set_pte() went in v5.12, f9ce0be71d1f "mm: Cleanup faultaround and
//         finish_fault() codepaths").
//   v6.2  finish_fault(): if (pmd_none(*vmf->pmd)) { PageTransCompound → do_set_pmd();
//         prealloc_pte → pmd_install() } pmd_devmap_trans_unstable() → return 0;
//         pte_offset_map_lock(); pte_none() re-check; do_set_pte(); pte_unmap_unlock().
//   v6.6  (xie1111111/linux-6.6-opensbi-mllb, linux-6.6/mm/memory.c): the same but
//         pte_offset_map_lock() may fail (→ VM_FAULT_NOPAGE) and no devmap check;
//         vmf_pte_changed(); set_pte_range().
//   do_set_pmd() (all eras): pmd_lock(); !pmd_none → VM_FAULT_FALLBACK (the pte path goes on);
//         add_mm_counter(HPAGE_PMD_NR); page_add_file_rmap(compound); the prealloc pte table is
//         deposited only if arch_needs_pgtable_deposit() (ppc64): on x86 and arm64 it is not, and
//         do_fault() pte_free()s an unused vmf->prealloc_pte at its end.
//   filemap_fault(): offset >= i_size → SIGBUS; find_get_page(); lock_page_maybe_drop_mmap();
//         page->mapping != mapping (truncated) → unlock, put, retry; i_size read again under the
//         page lock → SIGBUS; return VM_FAULT_LOCKED.
//   wp_page_copy(): anon_vma_prepare(); alloc + cow_user_page() (copy_user_highpage);
//         mmu_notifier range (MMU_NOTIFY_CLEAR) start; pte_offset_map_lock(); pte_same(orig) →
//         counters, ptep_clear_flush_notify(), page_add_new_anon_rmap(), set_pte_at_notify(),
//         page_remove_rmap(old), put_page(old: the mapping's reference); pte_unmap_unlock();
//         mmu_notifier_invalidate_range_only_end() (≤ v6.2; _end() in v6.6); put_page(old: the
//         reference do_wp_page() took).
// Simplified: fault-around (do_fault_around() → filemap_map_pages()) is not taken: the model runs
// as with fault_around_bytes = PAGE_SIZE (a debugfs setting), so every read fault goes through
// __do_fault(). A page-cache miss (readahead, ->readpage) is not modelled: the fault gives up as
// if it had been retried. A huge pmd written to (wp_huge_pmd()) is not modelled.
//
// `FileFaultMutations` take one protocol rule out, for tests that show what the rule prevents.

import type { ActorDef } from '../actor.js';
import { HPAGE_PMD_NR, pmd_none, pmd_trans_huge, pmdAddr, pteIndex, pteSame, type PteEntry } from '../entries.js';
import { alloc_page, frameOf, get_page, put_page } from '../frames.js';
import { filemap_get_folio, folio_lock, folio_unlock } from '../filemap.js';
import { down_read, mmap_read_unlock_step, spin_unlock } from '../locks.js';
import { pmd_alloc } from '../pgalloc.js';
import { find_vma, linear_page_index } from '../model.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import { pmd_lock, pmd_lockptr, pmd_populate, pmd_read, pmd_table, pmdEntryAt, pte_read, pte_write, ptep_get_and_clear, set_pmd_at, spin_lock_ptl, type PmdPtr, type Stepper, type TablePtr } from '../pgtable.js';
import { page_add_file_rmap, page_add_rmap, page_remove_rmap, set_page_dirty } from '../rmap.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { eraAtLeast } from '../switches.js';
import { flush_tlb_page, pte_free } from '../tlbflush.js';
import type { AddressSpace, Vma } from '../types.js';
import { anon_vma_interval_tree_insert } from '../rmap_tree.js';
import { mayFailPteMap, pmd_trans_unstable, pte_offset_map_lock, pte_offset_map_rcu, pte_unmap, pte_unmap_unlock } from '../walk.js';
import { add_mm_counter, mm_inc_nr_ptes } from '../counters.js';
import { actorState } from '../actor_state.js';
import { __pte_alloc } from './fault.js';

/** Protocol rules a test may take out, one at a time. */
export interface FileFaultMutations {
  /** filemap_fault() does not re-check page->mapping after lock_page(). */
  readonly noMappingRecheck?: boolean;
  /** filemap_fault() does not read i_size again under the page lock. */
  readonly noSizeRecheck?: boolean;
  /** The page lock is dropped before finish_fault() instead of after it. */
  readonly unlockBeforeFinish?: boolean;
  /** wp_page_copy() replaces the pte with set_pte_at() and no ptep_clear_flush(). */
  readonly cowNoFlush?: boolean;
  /** finish_fault() returns 0, not VM_FAULT_NOPAGE, when a huge pmd appeared (v5.12 to v5.19-rc:
   *  f9ce0be71d1f, fixed by 3fe2895cfecd "mm: fix page leak with multiple threads mapping the same
   *  page"): the caller keeps the page's reference. Applies to the v6.2 form of finish_fault(). */
  readonly devmapReturnsZero?: boolean;
}

/** i_size of each file, in pages (i_size_read()): the world's page cache span until a truncate
 *  changes it (truncate_setsize() in the truncate actor). */
export function i_size(c: Ctx): number[] {
  return actorState(c, 'file.i_size', () => c.m.files.map((f) => f.hpage.length * HPAGE_PMD_NR));
}

/** cow_user_page() / __wp_page_copy_user() → copy_user_highpage(): the old page is copied into the
 *  new one. The old page remembers the step (copiedAt), so that a write through a TLB entry filled
 *  before the copy is a lost write (the oracle's write-after-copy). No 'copy' event: the oracle takes
 *  that for khugepaged's collapse copy, where any pin on the old page is a lost write; a COW never
 *  copies under a write pin (GUP with FOLL_WRITE breaks COW before it pins: gup_fast needs
 *  pte_write(), the slow path faults first), and a read-only pin keeping the old page is the
 *  documented semantics of R/O pins of a private file mapping at these releases. */
function cow_user_page(c: Ctx, from: number): void {
  frameOf(c.m, from).copiedAt = c.m.step;
}

/** What the fault's vmf carries between the helpers. */
interface Vmf {
  readonly vma: Vma;
  readonly addr: number;
  readonly pmd: PmdPtr;
  readonly write: boolean;
  /** vmf->prealloc_pte: a pte table allocated before the page lock (0: none). */
  prealloc_pte: number;
}

type FaultResult = 'ok' | 'nopage' | 'sigbus' | 'retry';

/** filemap_fault(): the page at the faulting offset, referenced and locked (VM_FAULT_LOCKED), or why
 *  not. Returns the head page; the subpage is the offset's. */
function* filemap_fault(c: Ctx, vmf: Vmf, mapping: AddressSpace, mut: FileFaultMutations): Stepper<number | FaultResult> {
  const offset = linear_page_index(vmf.vma, vmf.addr);
  const idx = Math.floor(offset / HPAGE_PMD_NR);
  const size = () => i_size(c)[mapping.id] ?? 0;
  if (offset >= size()) {
    yield step(`filemap_fault(): offset ${offset} >= i_size ${size()}: VM_FAULT_SIGBUS`);
    return 'sigbus';
  }
  for (;;) {
    const page = yield* filemap_get_folio(c, mapping, idx);
    if (page === null) {
      yield step(`filemap_fault(): page cache miss at ${offset}: readahead not modelled: VM_FAULT_RETRY`);
      return 'retry';
    }
    yield* folio_lock(c, page);
    if (!mut.noMappingRecheck && frameOf(c.m, page).mapping !== mapping.id) {
      folio_unlock(c, page);
      put_page(c.m, page);
      yield step(`filemap_fault(): ${page}->mapping != mapping (truncated): unlock_page(); put_page(); goto retry_find`);
      continue;
    }
    if (!mut.noSizeRecheck && offset >= size()) {
      folio_unlock(c, page);
      put_page(c.m, page);
      yield step(`filemap_fault(): max_off = i_size ${size()} <= offset ${offset}: unlock_page(); put_page(); VM_FAULT_SIGBUS`);
      return 'sigbus';
    }
    yield step(`filemap_fault(): PageUptodate(${page}); offset ${offset} < i_size: VM_FAULT_LOCKED`);
    return page;
  }
}

/** __do_fault(): preallocate a pte table while no page lock is held, then ->fault(). */
function* __do_fault(c: Ctx, vmf: Vmf, mut: FileFaultMutations): Stepper<number | FaultResult> {
  const p = yield* pmd_read(c, vmf.pmd, '__do_fault(): pmd_none(*vmf->pmd) && !vmf->prealloc_pte');
  if (pmd_none(c.m.arch, p.entry) && vmf.prealloc_pte === 0) {
    vmf.prealloc_pte = alloc_page(c, 'pte-table');
    yield step(`__do_fault(): vmf->prealloc_pte = pte_alloc_one() → ${vmf.prealloc_pte}`);
  }
  return yield* filemap_fault(c, vmf, c.m.files[vmf.vma.file]!, mut);
}

/** transhuge_vma_suitable(): the VMA covers the whole aligned pmd range and maps it file-aligned. */
function transhuge_vma_suitable(vma: Vma, haddr: number): boolean {
  return vma.start <= haddr && haddr + HPAGE_PMD_NR <= vma.end && (vma.start - vma.pgoff) % HPAGE_PMD_NR === 0;
}

/** do_set_pmd(): map the whole file THP with a huge pmd under pmd_lock; 'fallback' if the pmd was
 *  populated meanwhile. No deposit of vmf->prealloc_pte: arch_needs_pgtable_deposit() is false on
 *  x86 and arm64. */
function* do_set_pmd(c: Ctx, vmf: Vmf, page: number): Stepper<'ok' | 'fallback'> {
  const m = c.m;
  if (!transhuge_vma_suitable(vmf.vma, pmdAddr(vmf.pmd.slot))) return 'fallback';
  const pml = pmd_lockptr(m, vmf.pmd);
  yield* pmd_lock(c, vmf.pmd);
  if (!pmd_none(m.arch, pmdEntryAt(m, vmf.pmd))) {
    spin_unlock(c, pml);
    yield step(`do_set_pmd(): !pmd_none(*vmf->pmd): spin_unlock(${pml.name}); VM_FAULT_FALLBACK`);
    return 'fallback';
  }
  add_mm_counter(c, c.mm, HPAGE_PMD_NR);
  page_add_file_rmap(c, page, vmf.vma.file);
  const w = vmf.write && vmf.vma.shared;
  set_pmd_at(c, vmf.pmd, w ? { t: 'huge', pfn: page, writable: true, dirty: true } : { t: 'huge', pfn: page });
  spin_unlock(c, pml);
  yield step(`do_set_pmd(): add_mm_counter(HPAGE_PMD_NR); page_add_file_rmap(${page}, true); set_pmd_at(huge ${page}); spin_unlock(${pml.name})`);
  return 'ok';
}

/** The pte the fault installs for `page` (the file page's subpage, or the COW copy). */
function faultPte(vmf: Vmf, page: number, cow: boolean): PteEntry {
  if (cow) return { t: 'present', pfn: page, sub: 0, writable: true, dirty: true };
  const sub = linear_page_index(vmf.vma, vmf.addr) % HPAGE_PMD_NR;
  const w = vmf.write && vmf.vma.shared;
  return { t: 'present', pfn: page, sub, writable: w, dirty: vmf.write };
}

/** Install the pte under the ptl after the pte_none() re-check (do_set_pte() / alloc_set_pte()'s
 *  tail); 'nopage' if someone mapped it meanwhile. The caller unlocks. */
function set_pte_locked(c: Ctx, vmf: Vmf, ptr: TablePtr, page: number, cow: boolean): 'ok' | 'nopage' {
  const idx = pteIndex(vmf.addr);
  if (pte_read(c, ptr, idx).t !== 'none') return 'nopage';
  add_mm_counter(c, c.mm, 1);
  if (cow) page_add_rmap(c, page);
  else page_add_file_rmap(c, page, vmf.vma.file);
  pte_write(c, ptr, idx, faultPte(vmf, page, cow));
  return 'ok';
}

/** finish_fault() of each era: map `page` (locked by the caller), consuming its reference on
 *  success. `cow`: the page is the anon copy of do_cow_fault(). */
function* finish_fault(c: Ctx, vmf: Vmf, page: number, cow: boolean, mut: FileFaultMutations): Stepper<'ok' | 'nopage'> {
  const m = c.m;
  const huge = !cow && frameOf(m, page).kind === 'huge';
  const v = yield* pmd_read(c, vmf.pmd, `${eraAtLeast(m.sw, 'v6.2') ? 'finish_fault' : 'alloc_set_pte'}(): pmd_none(*vmf->pmd)`);
  if (pmd_none(m.arch, v.entry)) {
    if (huge && (yield* do_set_pmd(c, vmf, page)) === 'ok') return 'ok';
    // v5.10 pte_alloc_one_map() / v6.2 pmd_install(): the same protocol under pmd_lock.
    const again = pmd_none(m.arch, pmdEntryAt(m, vmf.pmd));
    if (vmf.prealloc_pte !== 0 && again) {
      const pml = pmd_lockptr(m, vmf.pmd);
      yield* pmd_lock(c, vmf.pmd);
      if (pmd_none(m.arch, pmdEntryAt(m, vmf.pmd))) {
        mm_inc_nr_ptes(c, c.mm);
        pmd_populate(c, vmf.pmd, vmf.prealloc_pte);
        vmf.prealloc_pte = 0;
        spin_unlock(c, pml);
        yield step(`${eraAtLeast(m.sw, 'v6.2') ? 'pmd_install' : 'pte_alloc_one_map'}(): mm_inc_nr_ptes(); pmd_populate(prealloc_pte); spin_unlock(${pml.name})`);
      } else {
        spin_unlock(c, pml);
        yield step(`${eraAtLeast(m.sw, 'v6.2') ? 'pmd_install' : 'pte_alloc_one_map'}(): populated meanwhile: spin_unlock(${pml.name})`);
      }
    } else if (again) {
      yield* __pte_alloc(c, vmf.pmd);
    }
  }
  if (!mayFailPteMap(c)) {
    // pmd_devmap_trans_unstable(): a huge pmd (a racing do_set_pmd()) → VM_FAULT_NOPAGE, so that the
    // caller drops its page (v5.10 pte_alloc_one_map(); v6.2 finish_fault() since 3fe2895cfecd). v6.6
    // has no such check: pte_offset_map_lock() fails instead.
    if (yield* pmd_trans_unstable(c, vmf.pmd)) {
      const fn = eraAtLeast(m.sw, 'v6.2') ? 'finish_fault' : 'pte_alloc_one_map';
      if (mut.devmapReturnsZero && eraAtLeast(m.sw, 'v6.2')) {
        yield step(`${fn}(): pmd_devmap_trans_unstable(): return 0 (mutation: as v5.12–v5.18)`);
        return 'ok';
      }
      yield step(`${fn}(): pmd_devmap_trans_unstable(): VM_FAULT_NOPAGE`);
      return 'nopage';
    }
  }
  const ptr = yield* pte_offset_map_lock(c, vmf.pmd);
  if (!ptr) {
    yield step('finish_fault(): pte_offset_map_lock() failed: VM_FAULT_NOPAGE');
    return 'nopage';
  }
  const r = set_pte_locked(c, vmf, ptr, page, cow);
  pte_unmap_unlock(c, ptr);
  const what = eraAtLeast(m.sw, 'v6.6') ? 'set_pte_range' : eraAtLeast(m.sw, 'v6.2') ? 'do_set_pte' : 'alloc_set_pte';
  yield step(r === 'ok'
    ? `${what}(): pte_none() under the ptl; ${cow ? 'page_add_new_anon_rmap' : 'page_add_file_rmap'}(${page}); set_pte_at(addr ${vmf.addr}); pte_unmap_unlock()`
    : `${what}(): !pte_none(*vmf->pte) under the ptl: VM_FAULT_NOPAGE; pte_unmap_unlock()`);
  return r;
}

/** do_read_fault(). */
function* do_read_fault(c: Ctx, vmf: Vmf, mut: FileFaultMutations): Stepper<void> {
  const page = yield* call(__do_fault(c, vmf, mut));
  if (typeof page !== 'number') return;
  if (mut.unlockBeforeFinish) folio_unlock(c, page);
  const r = yield* call(finish_fault(c, vmf, page, false, mut));
  if (!mut.unlockBeforeFinish) folio_unlock(c, page);
  if (r !== 'ok') put_page(c.m, page);
  yield step(`do_read_fault(): unlock_page(${page})${r !== 'ok' ? '; put_page()' : ''}`);
}

/** anon_vma_prepare(): the first anon page of a private file VMA links it to an anon_vma. */
function* anon_vma_prepare(c: Ctx, vma: Vma): ActorGen {
  if (vma.anon_vma) return;
  vma.anon_vma = true;
  // __anon_vma_prepare(): anon_vma_chain_link() (the model's anon_vma: the VMA's own mm's).
  anon_vma_interval_tree_insert(c.m, vma);
  yield step('anon_vma_prepare(vma)');
}

/** do_cow_fault(): copy the file page into a new anon page and map the copy. */
function* do_cow_fault(c: Ctx, vmf: Vmf, mut: FileFaultMutations): Stepper<void> {
  yield* anon_vma_prepare(c, vmf.vma);
  const cow = alloc_page(c, 'data');
  yield step(`do_cow_fault(): vmf->cow_page = alloc_page_vma() → ${cow}`);
  const page = yield* call(__do_fault(c, vmf, mut));
  if (typeof page !== 'number') {
    put_page(c.m, cow);
    yield step('do_cow_fault(): uncharge_out: put_page(vmf->cow_page)');
    return;
  }
  cow_user_page(c, page);
  yield step(`do_cow_fault(): copy_user_highpage(${cow}, ${page}); __SetPageUptodate()`);
  if (mut.unlockBeforeFinish) folio_unlock(c, page);
  const r = yield* call(finish_fault(c, vmf, cow, true, mut));
  if (!mut.unlockBeforeFinish) folio_unlock(c, page);
  put_page(c.m, page);
  if (r !== 'ok') put_page(c.m, cow);
  yield step(`do_cow_fault(): unlock_page(${page}); put_page(${page})${r !== 'ok' ? '; put_page(vmf->cow_page)' : ''}`);
}

/** do_page_mkwrite() → filemap_page_mkwrite(): lock the page, check it is still in the file, mark
 *  it dirty; the page comes back locked. False (VM_FAULT_NOPAGE) if it was truncated. */
function* do_page_mkwrite(c: Ctx, page: number, mapping: AddressSpace, mut: FileFaultMutations): Stepper<boolean> {
  yield* folio_lock(c, page);
  if (!mut.noMappingRecheck && frameOf(c.m, page).mapping !== mapping.id) {
    folio_unlock(c, page);
    yield step(`filemap_page_mkwrite(): ${page}->mapping != inode->i_mapping: unlock_page(); VM_FAULT_NOPAGE`);
    return false;
  }
  set_page_dirty(c, page);
  yield step(`filemap_page_mkwrite(): set_page_dirty(${page}); wait_for_stable_page(): VM_FAULT_LOCKED`);
  return true;
}

/** do_shared_fault(): ->page_mkwrite() before the page is mapped writable. */
function* do_shared_fault(c: Ctx, vmf: Vmf, mut: FileFaultMutations): Stepper<void> {
  const mapping = c.m.files[vmf.vma.file]!;
  const page = yield* call(__do_fault(c, vmf, mut));
  if (typeof page !== 'number') return;
  folio_unlock(c, page);
  yield step(`do_shared_fault(): unlock_page(${page}); do_page_mkwrite()`);
  if (!(yield* do_page_mkwrite(c, page, mapping, mut))) {
    put_page(c.m, page);
    yield step(`do_shared_fault(): put_page(${page})`);
    return;
  }
  if (mut.unlockBeforeFinish) folio_unlock(c, page);
  const r = yield* call(finish_fault(c, vmf, page, false, mut));
  if (r !== 'ok') {
    if (!mut.unlockBeforeFinish) folio_unlock(c, page);
    put_page(c.m, page);
    yield step(`do_shared_fault(): unlock_page(${page}); put_page(${page})`);
    return;
  }
  // fault_dirty_shared_page(): set_page_dirty(), unlock_page(), balance_dirty_pages_ratelimited().
  set_page_dirty(c, page);
  if (!mut.unlockBeforeFinish) folio_unlock(c, page);
  yield step(`fault_dirty_shared_page(): set_page_dirty(${page}); unlock_page(${page})`);
}

/** do_fault(): which of the three, then free an unused vmf->prealloc_pte. */
function* do_fault(c: Ctx, vmf: Vmf, mut: FileFaultMutations): Stepper<void> {
  if (!vmf.write) yield* call(do_read_fault(c, vmf, mut));
  else if (!vmf.vma.shared) yield* do_cow_fault(c, vmf, mut);
  else yield* do_shared_fault(c, vmf, mut);
  if (vmf.prealloc_pte !== 0) {
    pte_free(c.m, vmf.prealloc_pte);
    vmf.prealloc_pte = 0;
    yield step('do_fault(): pte_free(vmf->prealloc_pte): unused');
  }
}

/** wp_page_copy(): the old page (referenced by do_wp_page()) is copied into a new anon page, which
 *  replaces it in the pte after a clear and a flush. */
function* wp_page_copy(c: Ctx, vmf: Vmf, orig: PteEntry & { t: 'present' }, mut: FileFaultMutations): Stepper<void> {
  const m = c.m;
  const old = orig.pfn;
  yield* anon_vma_prepare(c, vmf.vma);
  const page = alloc_page(c, 'data');
  cow_user_page(c, old);
  yield step(`wp_page_copy(): alloc_page_vma() → ${page}; cow_user_page(): copy_user_highpage(${page}, ${old})`);
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', c.mm, vmf.addr, vmf.addr + 1);
  yield* mmu_notifier_invalidate_range_start(c, range);
  const ptr = yield* pte_offset_map_lock(c, vmf.pmd);
  const idx = pteIndex(vmf.addr);
  let copied = false;
  if (ptr && pteSame(pte_read(c, ptr, idx), orig)) {
    // File page to anon page: dec_mm_counter(MM_FILEPAGES), inc_mm_counter(MM_ANONPAGES): rss the same.
    if (mut.cowNoFlush) {
      yield step('wp_page_copy(): pte_same(): (mutation: no ptep_clear_flush_notify())');
    } else {
      ptep_get_and_clear(c, ptr, idx);
      yield step(`wp_page_copy(): pte_same(); ptep_clear_flush_notify(addr ${vmf.addr})`);
      yield* flush_tlb_page(c, c.mm, vmf.addr, 'ptep_clear_flush(): flush_tlb_page()');
    }
    page_add_rmap(c, page);
    pte_write(c, ptr, idx, { t: 'present', pfn: page, sub: 0, writable: true, dirty: true });
    page_remove_rmap(c, old);
    put_page(m, old);
    copied = true;
    pte_unmap_unlock(c, ptr);
    yield step(`wp_page_copy(): page_add_new_anon_rmap(${page}); set_pte_at_notify(addr ${vmf.addr} → ${page}); page_remove_rmap(${old}); put_page(${old}); pte_unmap_unlock()`);
  } else {
    if (ptr) pte_unmap_unlock(c, ptr);
    put_page(m, page);
    yield step(`wp_page_copy(): ${ptr ? '!pte_same(): ' : 'pte_offset_map_lock() failed: '}put_page(${page})${ptr ? '; pte_unmap_unlock()' : ''}`);
  }
  yield* mmu_notifier_invalidate_range_end(c, range, !eraAtLeast(m.sw, 'v6.6'));
  put_page(m, old);
  yield step(`wp_page_copy(): put_page(${old})${copied ? ': the old page' : ''}`);
}

/** wp_page_shared() → finish_mkwrite_fault() → wp_page_reuse(): a shared file page made writable
 *  after ->page_mkwrite(). */
function* wp_page_shared(c: Ctx, vmf: Vmf, orig: PteEntry & { t: 'present' }, mut: FileFaultMutations): Stepper<void> {
  const page = orig.pfn;
  const mapping = c.m.files[vmf.vma.file]!;
  if (!(yield* do_page_mkwrite(c, page, mapping, mut))) {
    put_page(c.m, page);
    yield step(`wp_page_shared(): put_page(${page})`);
    return;
  }
  const ptr = yield* pte_offset_map_lock(c, vmf.pmd);
  const idx = pteIndex(vmf.addr);
  if (!ptr || !pteSame(pte_read(c, ptr, idx), orig)) {
    if (ptr) pte_unmap_unlock(c, ptr);
    folio_unlock(c, page);
    put_page(c.m, page);
    yield step(`finish_mkwrite_fault(): pte changed: VM_FAULT_NOPAGE; unlock_page(${page}); put_page(${page})`);
    return;
  }
  pte_write(c, ptr, idx, { ...orig, writable: true, dirty: true });
  pte_unmap_unlock(c, ptr);
  yield step(`wp_page_reuse(): ptep_set_access_flags(pte_mkwrite(pte_mkdirty())); pte_unmap_unlock()`);
  set_page_dirty(c, page);
  folio_unlock(c, page);
  put_page(c.m, page);
  yield step(`fault_dirty_shared_page(): set_page_dirty(${page}); unlock_page(${page}); put_page(${page})`);
}

/** handle_pte_fault() for a present pte: under the ptl, re-check it, then do_wp_page() for a write
 *  to a read-only pte. Pre-v6.5 the ptl comes from pte_lockptr(), which reads *pmd again. */
function* wp_fault(c: Ctx, vmf: Vmf, mut: FileFaultMutations): Stepper<void> {
  const idx = pteIndex(vmf.addr);
  let ptr: TablePtr;
  let orig: PteEntry;
  if (!mayFailPteMap(c)) {
    if (yield* pmd_trans_unstable(c, vmf.pmd)) return;
    const v = yield* pmd_read(c, vmf.pmd, 'handle_pte_fault(): vmf->pte = pte_offset_map(vmf->pmd, address)');
    const t = pmd_table(c, v);
    orig = pte_read(c, t, idx);
    yield step('handle_pte_fault(): vmf->orig_pte = *vmf->pte');
    if (orig.t !== 'present') return;
    const l = yield* pmd_read(c, vmf.pmd, 'handle_pte_fault(): vmf->ptl = pte_lockptr(mm, vmf->pmd)');
    ptr = pmd_table(c, l);
    yield* spin_lock_ptl(c, ptr);
  } else {
    const map = yield* pte_offset_map_rcu(c, vmf.pmd);
    if (!map) return;
    orig = pte_read(c, map.ptr, idx);
    yield step('handle_pte_fault(): vmf->pte = pte_offset_map_nolock(); vmf->orig_pte = ptep_get_lockless()');
    if (orig.t !== 'present') {
      pte_unmap(c);
      yield step('handle_pte_fault(): not present: pte_unmap()');
      return;
    }
    ptr = map.ptr;
    yield* spin_lock_ptl(c, ptr);
  }
  const now = pte_read(c, ptr, idx);
  if (!pteSame(now, orig) || orig.t !== 'present' || orig.writable) {
    pte_unmap_unlock(c, ptr);
    yield step(`handle_pte_fault(): ${pteSame(now, orig) ? 'writable: spurious fault' : '!pte_same()'}: pte_unmap_unlock()`);
    return;
  }
  const f = frameOf(c.m, orig.pfn);
  if (f.mapping < 0) {
    pte_unmap_unlock(c, ptr);
    yield step('do_wp_page(): PageAnon(): reuse (not modelled): pte_unmap_unlock()');
    return;
  }
  get_page(c, orig.pfn);
  pte_unmap_unlock(c, ptr);
  if (vmf.vma.shared) {
    yield step(`do_wp_page(): VM_SHARED: wp_page_shared(): get_page(${orig.pfn}); pte_unmap_unlock()`);
    yield* wp_page_shared(c, vmf, orig, mut);
    return;
  }
  yield step(`do_wp_page(): copy: get_page(${orig.pfn}); pte_unmap_unlock(); wp_page_copy()`);
  yield* wp_page_copy(c, vmf, orig, mut);
}

/** The fault from mmap_lock to mmap_unlock. */
function* handle_mm_fault(c: Ctx, addr: number, write: boolean, mut: FileFaultMutations): ActorGen {
  const m = c.m;
  yield* down_read(c, c.mm.mmap_lock);
  const done = (label: string) => mmap_read_unlock_step(c, label);
  const vma = find_vma(c.mm, addr);
  if (!vma || vma.kind !== 'file' || m.files[vma.file]?.hugetlbfs) return yield* done('not a file VMA: bad_area');
  const pmd = yield* pmd_alloc(c, addr);
  const vmf: Vmf = { vma, addr, pmd, write, prealloc_pte: 0 };
  // __handle_mm_fault(): a none pmd goes to create_huge_pmd(), which for a file VMA without
  // ->huge_fault (not DAX) is VM_FAULT_FALLBACK: handle_pte_fault().
  const orig = yield* pmd_read(c, pmd, '__handle_mm_fault(): vmf.orig_pmd = *vmf.pmd');
  if (pmd_trans_huge(m.arch, orig.entry)) return yield* done(write ? 'huge pmd: wp_huge_pmd() (not modelled)' : 'huge pmd: already mapped');
  if (pmd_none(m.arch, orig.entry)) {
    yield* call(do_fault(c, vmf, mut));
    return yield* done('fault done');
  }
  // handle_pte_fault(): is the pte none?
  const idx = pteIndex(addr);
  let none: boolean;
  if (!mayFailPteMap(c)) {
    if (yield* pmd_trans_unstable(c, pmd)) return yield* done('pmd_devmap_trans_unstable(): retry');
    const v = yield* pmd_read(c, pmd, 'handle_pte_fault(): vmf->pte = pte_offset_map(vmf->pmd, address)');
    none = pte_read(c, pmd_table(c, v), idx).t === 'none';
    yield step('handle_pte_fault(): vmf->orig_pte = *vmf->pte');
  } else {
    const map = yield* pte_offset_map_rcu(c, pmd);
    if (!map) return yield* done('pte_offset_map_nolock() failed: retry');
    none = pte_read(c, map.ptr, idx).t === 'none';
    pte_unmap(c);
    yield step('handle_pte_fault(): vmf->orig_pte = ptep_get_lockless(vmf->pte); pte_unmap()');
  }
  if (none) yield* call(do_fault(c, vmf, mut));
  else if (write) yield* wp_fault(c, vmf, mut);
  else return yield* done('present: spurious fault');
  yield* done('fault done');
}

/** The addresses the registered actor faults: the pte-mapped THP's, page 8 at [12, 16) in the default
 *  world. Page 6 at [8, 12) is the huge page the default world has collapse_file() hold locked (its
 *  actor takes the lock at its first step): a fault there would break that premise, as try_to_unmap
 *  keeps to slot 3 for the same reason. Tests that fault page 6 widen the range. */
export const FILE_FAULT_ADDRS: readonly [number, number] = [12, 15];

/** The file fault actor, with protocol rules taken out for tests (none in the registered one), and
 *  the range of addresses it may be given. */
export function makeFileFault(mut: FileFaultMutations = {}, name = 'file_fault', addrs: readonly [number, number] = FILE_FAULT_ADDRS): ActorDef {
  return {
    name,
    summary: 'file page fault: do_read_fault() / do_cow_fault() / do_shared_fault() (page locked across finish_fault()), or do_wp_page() → wp_page_copy()',
    follows: 'mm/memory.c handle_pte_fault(), do_fault(), __do_fault(), finish_fault() (alloc_set_pte() ≤ v5.11), do_set_pmd(), do_wp_page(), wp_page_copy(), wp_page_shared(); mm/filemap.c filemap_fault(), filemap_page_mkwrite(); v5.8–v6.6',
    inMm: true,
    daemon: 'no',
    params: [
      { name: 'addr', min: addrs[0], max: addrs[1], default: addrs[0], doc: 'faulting address (page index); only file VMAs fault here (default world: the pte-mapped THP at [12,16))' },
      { name: 'write', min: 0, max: 1, default: 0, doc: '1: a write fault (COW in a private mapping, page_mkwrite in a shared one)' },
    ],
    run: (c, args) => handle_mm_fault(c, args['addr'] ?? addrs[0], args['write'] === 1, mut),
  };
}

export const file_fault: ActorDef = makeFileFault();
