// The page fault a user access takes when its entry does not allow it, as far as the protection
// paths need: __handle_mm_fault() → handle_pte_fault() for a protnone pte (do_numa_page()) and a
// protnone huge pmd (do_huge_pmd_numa_page()), the spurious fault, and SIGSEGV from access_error().
// Faults that allocate or copy (do_anonymous_page, do_wp_page, do_swap_page, ...) are other actors'
// (fault, thp_fault) or not modelled: the access gives up.
//
// Eras (mm/memory.c, mm/huge_memory.c; 5.10.13 read in Rtoax/linux-5.10.13, v6.6 upstream):
//   v5.8–v5.10  do_numa_page(): spin_lock(pte_lockptr(mm, pmd)), pte_same() re-check, restore the
//               pte at once (pte_modify(vm_page_prot), pte_mkyoung, pte_mkwrite if pte_savedwrite),
//               then numa_migrate_prep()/migrate_misplaced_page() with the ptl dropped.
//               do_huge_pmd_numa_page(): pmd_lock, pmd_same(), trylock_page() to serialise THP
//               migration ("put_and_wait_on_page_locked" and retry if it fails), clear_pmdnuma.
//   v5.13+      c5b5a3dd2c1f "mm: thp: refactor NUMA fault handling" and, for ptes, Yang Shi's
//               companion patch in the same series: the entry is restored
//               only if the page is not migrated (out_map), after pte_same()/pmd_same() under the
//               lock; no page lock on the pmd path.
//   v6.5+       handle_pte_fault() maps the pte with pte_offset_map_nolock() under RCU (0d940a9b270b);
//               do_numa_page() takes that ptl and re-checks pte_same().
//   v6.3+       the write bit comes from can_change_pte_writable() instead of pte_savedwrite().
// Migration is not modelled here: numa_migrate_prep() returns NUMA_NO_NODE (the policy keeps the
// page where it is), so every era takes its restore path.

import { pmd_none, pmd_protnone, pmd_trans_huge, pteIndex, pteSame, type PmdEntry, type PteEntry } from './entries.js';
import { trylock_page, unlock_page } from './frames.js';
import { down_read, spin_unlock, up_read } from './locks.js';
import { find_vma } from './model.js';
import { PROT_READ, PROT_WRITE, can_change_pte_writable, vma_is_accessible, vma_prot } from './mprotect.js';
import {
  pmd_lock, pmd_lockptr, pmd_off, pmd_read, pmd_table, pmdEntryAt, pmdp_get_lockless, pte_lockptr, pte_read, pte_write, set_pmd_at, spin_lock_ptl,
  type PmdPtr, type PmdVal, type Stepper, type TablePtr,
} from './pgtable.js';
import { step, type Ctx } from './step.js';
import { eraAtLeast } from './switches.js';
import type { Vma } from './types.js';
import { mayFailPteMap, pmd_trans_unstable, pte_offset_map_rcu, pte_unmap } from './walk.js';

/** Test mutations of the hinting fault. */
export interface NumaFaultMutations {
  /** do_numa_page() restores the pte without the pte_same() re-check under the ptl. */
  readonly noPteSame?: boolean;
}

/** How a fault ended: the access is retried, or the task gets SIGSEGV. */
export type FaultResult = 'retry' | 'sigsegv';

/** The writable bit the restored entry gets: pte_savedwrite() until v6.2, can_change_pte_writable()
 *  at v6.6 (vma_wants_manual_pte_write_upgrade(): VM_WRITE). */
function restoreWritable(c: Ctx, vma: Vma, pfn: number, savedWrite: boolean, dirty: boolean): boolean {
  if (!eraAtLeast(c.m.sw, 'v6.6')) return savedWrite;
  if (vma.shared && (vma_prot(vma) & PROT_WRITE) !== 0 && dirty) return true;
  return can_change_pte_writable(c.m, vma, pfn, dirty, false);
}

/** The pte as do_numa_page() restores it: pte_modify(old, vma->vm_page_prot), pte_mkyoung(),
 *  pte_mkwrite() if it may be writable. */
function restoredPte(c: Ctx, vma: Vma, old: Extract<PteEntry, { t: 'present' }>): PteEntry {
  const { protnone: _p, ...rest } = old;
  const w = restoreWritable(c, vma, old.pfn, old.writable, old.dirty);
  return { ...rest, accessed: true, writable: w };
}

/** do_numa_page(): `ptr` is the pte table mapped by handle_pte_fault() (v6.6: under RCU, which the
 *  caller ends), `orig` the pte it read there. */
function* do_numa_page(c: Ctx, vma: Vma, ptr: TablePtr, addr: number, orig: Extract<PteEntry, { t: 'present' }>, mut: NumaFaultMutations): Stepper<void> {
  const i = pteIndex(addr);
  yield* spin_lock_ptl(c, ptr);                                    // spin_lock(vmf->ptl)
  const cur = pte_read(c, ptr, i);
  if (!mut.noPteSame && !pteSame(cur, orig)) {
    spin_unlock(c, pte_lockptr(c.m, ptr));
    yield step('do_numa_page(): !pte_same(ptep_get(vmf->pte), vmf->orig_pte): pte_unmap_unlock()');
    return;
  }
  // v5.8–v5.10 restore here, before numa_migrate_prep(); v5.13+ at out_map, the page not migrated.
  const now = restoredPte(c, vma, orig);
  pte_write(c, ptr, i, now);
  spin_unlock(c, pte_lockptr(c.m, ptr));
  yield step(eraAtLeast(c.m.sw, 'v6.2')
    ? `do_numa_page(): numa_migrate_prep() == NUMA_NO_NODE: out_map: ptep_modify_prot_commit(${addr}${now.t === 'present' && now.writable ? ' rw' : ' ro'}); pte_unmap_unlock()`
    : `do_numa_page(): ptep_modify_prot_commit(${addr}${now.t === 'present' && now.writable ? ' rw' : ' ro'}); numa_migrate_prep() == NUMA_NO_NODE; pte_unmap_unlock()`);
}

/** do_huge_pmd_numa_page(vmf, orig). */
function* do_huge_pmd_numa_page(c: Ctx, vma: Vma, pmd: PmdPtr, orig: PmdVal): Stepper<void> {
  const m = c.m;
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  const cur = pmdEntryAt(m, pmd);
  if (cur.t !== orig.entry.t || (cur.t !== 'huge') || orig.entry.t !== 'huge' || !sameHuge(cur, orig.entry)) {
    spin_unlock(c, pml);
    yield step('do_huge_pmd_numa_page(): !pmd_same(pmd, *vmf->pmd): spin_unlock()');
    return;
  }
  const old = orig.entry;
  // Until v5.13: trylock_page() serialises THP migrations; if it fails, wait and retry the fault.
  const pageLock = !eraAtLeast(m.sw, 'v6.2');
  if (pageLock && !trylock_page(c, old.pfn)) {
    spin_unlock(c, pml);
    yield step(`do_huge_pmd_numa_page(): trylock_page(${old.pfn}) failed: spin_unlock(); put_and_wait_on_page_locked()`);
    return;
  }
  const { protnone: _p, writable: _w, ...rest } = old;
  const w = restoreWritable(c, vma, old.pfn, old.writable === true, old.dirty === true);
  const now: PmdEntry = { ...rest, accessed: true, ...(w ? { writable: true } : {}) };
  set_pmd_at(c, pmd, now);
  if (pageLock) unlock_page(c, old.pfn);
  spin_unlock(c, pml);
  yield step(pageLock
    ? `do_huge_pmd_numa_page(): clear_pmdnuma: set_pmd_at(pmd_modify()); unlock_page(${old.pfn}); spin_unlock()`
    : 'do_huge_pmd_numa_page(): numa_migrate_prep() == NUMA_NO_NODE: out_map: set_pmd_at(pmd_modify()); spin_unlock()');
}

function sameHuge(a: PmdEntry, b: PmdEntry): boolean {
  return a.t === 'huge' && b.t === 'huge' && a.pfn === b.pfn && a.protnone === b.protnone && a.writable === b.writable && a.dirty === b.dirty && a.accessed === b.accessed;
}

/** handle_mm_fault() for a user access to `addr` that its TLB entry did not allow, under mmap_lock
 *  for read (the per-VMA lock of v6.4+ is not taken: this is its mmap_lock fallback). */
export function* handle_mm_fault(c: Ctx, addr: number, write: boolean, mut: NumaFaultMutations = {}): Stepper<FaultResult> {
  const m = c.m;
  const mm = c.mm;
  yield* down_read(c, mm.mmap_lock);
  const out = function* (label: string, r: FaultResult): Stepper<FaultResult> {
    up_read(c, mm.mmap_lock);
    yield step(`${label}: mmap_read_unlock(mm)`);
    return r;
  };
  const vma = find_vma(mm, addr);
  if (!vma || addr < vma.start) return yield* out('bad_area: no VMA: SIGSEGV', 'sigsegv');
  // access_error(): a write needs VM_WRITE, a read VM_READ | VM_WRITE | VM_EXEC.
  if (write ? (vma_prot(vma) & PROT_WRITE) === 0 : (vma_prot(vma) & (PROT_READ | PROT_WRITE)) === 0) {
    return yield* out(`access_error(): ${write ? 'no VM_WRITE' : 'not accessible'}: SIGSEGV`, 'sigsegv');
  }
  const pmd = pmd_off(c, addr);
  if (!pmd) return yield* out('__handle_mm_fault(): no pmd table (do_anonymous_page() not modelled here)', 'retry');
  const orig = eraAtLeast(m.sw, 'v6.6')
    ? yield* pmdp_get_lockless(c, pmd, '__handle_mm_fault(): vmf.orig_pmd = pmdp_get_lockless(vmf.pmd)')
    : yield* pmd_read(c, pmd, '__handle_mm_fault(): orig_pmd = *vmf.pmd');
  if (pmd_none(m.arch, orig.entry)) return yield* out('pmd_none(): do_anonymous_page() (not modelled here)', 'retry');
  if (pmd_trans_huge(m.arch, orig.entry)) {
    if (pmd_protnone(orig.entry) && vma_is_accessible(vma)) {
      yield* do_huge_pmd_numa_page(c, vma, pmd, orig);
      return yield* out('do_huge_pmd_numa_page() done', 'retry');
    }
    return yield* out(write && orig.entry.t === 'huge' && !orig.entry.writable ? 'do_huge_pmd_wp_page() (not modelled here)' : 'huge_pmd_set_accessed(): spurious fault', 'retry');
  }
  if (orig.entry.t !== 'table') return yield* out('is_swap_pmd(): pmd_migration_entry_wait() (not modelled here)', 'retry');
  // handle_pte_fault(): map the pte and read it without the ptl.
  let ptr: TablePtr;
  if (mayFailPteMap(c)) {
    const map = yield* pte_offset_map_rcu(c, pmd);
    if (!map) return yield* out('handle_pte_fault(): pte_offset_map_nolock() failed: retry', 'retry');
    ptr = map.ptr;
  } else {
    if (yield* pmd_trans_unstable(c, pmd)) return yield* out('handle_pte_fault(): pmd_devmap_trans_unstable()', 'retry');
    const v = yield* pmd_read(c, pmd, 'handle_pte_fault(): vmf->pte = pte_offset_map(vmf->pmd, address)');
    ptr = pmd_table(c, v);
  }
  const pte = pte_read(c, ptr, pteIndex(addr));
  yield step(`handle_pte_fault(): vmf->orig_pte = ${mayFailPteMap(c) ? 'ptep_get_lockless(vmf->pte)' : '*vmf->pte'}`);
  if (pte.t === 'present' && pte.protnone && vma_is_accessible(vma)) {
    yield* do_numa_page(c, vma, ptr, addr, pte, mut);
    pte_unmap(c);
    return yield* out('do_numa_page() done', 'retry');
  }
  pte_unmap(c);
  if (pte.t !== 'present') return yield* out(pte.t === 'none' ? 'pte_none(): do_anonymous_page() / do_fault() (not modelled here)' : 'do_swap_page() (not modelled here)', 'retry');
  if (write && !pte.writable) return yield* out('do_wp_page() (not modelled here)', 'retry');
  return yield* out('spurious fault: flush_tlb_fix_spurious_fault()', 'retry');
}
