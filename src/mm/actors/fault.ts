// An anonymous page fault that maps one small page: handle_mm_fault() → __handle_mm_fault() →
// handle_pte_fault() → do_anonymous_page(), with __pte_alloc() hooking a new table in under pmd_lock.
// Under mmap_lock read (the per-VMA lock of v6.4+ is not modelled: this is its mmap_lock fallback).
//
// v5.8–v6.2: pmd_trans_unstable() checks and pte_offset_map() re-reading *pmd;
// v6.6: pte_offset_map_nolock() / pte_offset_map_lock() that may fail (0d940a9b270b).

import type { ActorDef } from '../actor.js';
import { page_add_rmap } from '../rmap.js';
import { NR_PAGES, pmd_none, pmd_trans_huge, pteIndex } from '../entries.js';
import { pmd_alloc } from '../pgalloc.js';
import { alloc_page, put_page } from '../frames.js';
import { down_read, mmap_read_unlock_step, spin_unlock } from '../locks.js';
import { find_vma } from '../model.js';
import { pmd_lock, pmd_lockptr, pmd_populate, pmd_read, pmd_table, pmdEntryAt, pte_read, pte_write, type PmdPtr, type Stepper } from '../pgtable.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { pte_free } from '../tlbflush.js';
import { mayFailPteMap, pmd_trans_unstable, pte_offset_map_lock, pte_offset_map_rcu, pte_unmap, pte_unmap_unlock } from '../walk.js';
import { add_mm_counter, mm_inc_nr_ptes } from '../counters.js';
import { PROT_WRITE, vma_prot } from '../mprotect.js';
import { migration_entry_wait, pmd_migration_entry_wait } from '../migrate.js';

/** __pte_alloc(): allocate a table, and hook it in under pmd_lock unless someone beat us to it. */
export function* __pte_alloc(c: Ctx, pmd: PmdPtr): ActorGen {
  const m = c.m;
  const table = alloc_page(c, 'pte-table');
  yield step('__pte_alloc(): pte_alloc_one()');
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  if (pmd_none(c.m.arch, pmdEntryAt(m, pmd))) {
    mm_inc_nr_ptes(c, m.mms[pmd.mm]!);
    pmd_populate(c, pmd, table);
    spin_unlock(c, pml);
    yield step(`__pte_alloc(): mm_inc_nr_ptes(); pmd_populate(table ${table}); spin_unlock(${pml.name})`);
  } else {
    spin_unlock(c, pml);
    pte_free(m, table);
    yield step(`__pte_alloc(): populated meanwhile: spin_unlock(${pml.name}); pte_free(new)`);
  }
}

/** handle_pte_fault() before do_anonymous_page(): is the pte already there? */
function* pte_already_mapped(c: Ctx, pmd: PmdPtr, idx: number): Stepper<boolean | null | 'migration'> {
  const n = yield* pmd_read(c, pmd, 'handle_pte_fault(): pmd_none(*vmf->pmd)');
  if (pmd_none(c.m.arch, n.entry)) return false;
  if (!mayFailPteMap(c)) {
    if (yield* pmd_trans_unstable(c, pmd)) return null;
    const v = yield* pmd_read(c, pmd, 'handle_pte_fault(): vmf->pte = pte_offset_map(vmf->pmd, address)');
    const pte = pte_read(c, pmd_table(c, v), idx);
    yield step('handle_pte_fault(): vmf->orig_pte = *vmf->pte');
    return pte.t === 'migration' ? 'migration' : pte.t === 'present';
  }
  const map = yield* pte_offset_map_rcu(c, pmd);
  if (!map) return null;
  const pte = pte_read(c, map.ptr, idx);
  pte_unmap(c);
  yield step('handle_pte_fault(): vmf->orig_pte = ptep_get_lockless(vmf->pte); pte_unmap()');
  return pte.t === 'migration' ? 'migration' : pte.t === 'present';
}

export const fault: ActorDef = {
  name: 'fault',
  summary: 'anonymous page fault: __pte_alloc() under pmd_lock if the pmd is none, then set_pte_at() under the ptl',
  follows: 'mm/memory.c __handle_mm_fault(), handle_pte_fault(), do_anonymous_page(), __pte_alloc(); v5.8–v6.2 and v6.6 forms',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'addr', min: 0, max: NR_PAGES - 1, default: 4, doc: 'faulting address (page index); only anon VMA 0 [0,8) faults in' }],
  // The body's generator itself, not one delegating to it: a level less under every step.
  run(c, args) {
    return fault_mmap_locked(c, args['addr'] ?? 4);
  },
};

/** The fault under mmap_lock for read: the whole of `fault`, and the per-VMA lock fault's
 *  fallback (lock_mm_and_find_vma(), v6.6). A migration entry makes the fault wait and return 0;
 *  the access faults again (the loop). */
export function* fault_mmap_locked(c: Ctx, addr: number): ActorGen {
  const mm = c.mm;
  for (;;) {
    yield* down_read(c, mm.mmap_lock);
    const vma = find_vma(mm, addr);
    const done = (label: string) => mmap_read_unlock_step(c, label);
    if (!vma || vma.kind !== 'anon') return yield* done('bad_area');
    // access_error(): the fault maps a writable page, a write fault; after mprotect() without
    // PROT_WRITE it is SIGSEGV.
    if ((vma_prot(vma) & PROT_WRITE) === 0) return yield* done('access_error(): no VM_WRITE: bad_area');
    if (yield* call(handle_mm_fault_anon(c, addr, done))) return;
  }
}

/** handle_mm_fault() of an anon VMA from __handle_mm_fault() on, with its lock held (mmap_lock or,
 *  v6.6, the VMA's); `done(label)` drops that lock as the last step. False where it waited on a
 *  migration entry and returned 0: the access faults again. */
export function* handle_mm_fault_anon(c: Ctx, addr: number, done: (label: string) => ActorGen): Stepper<boolean> {
  const m = c.m;
  const mm = c.mm;
  const idx = pteIndex(addr);
  const pmd = yield* pmd_alloc(c, addr);
  const orig = yield* pmd_read(c, pmd, '__handle_mm_fault(): vmf.orig_pmd = *vmf.pmd');
  if (orig.entry.t === 'migration') {
    // is_swap_pmd(orig_pmd): pmd_migration_entry_wait(); return 0.
    yield* pmd_migration_entry_wait(c, pmd);
    yield* done('__handle_mm_fault(): is_pmd_migration_entry(): return 0');
    return false;
  }
  if (pmd_trans_huge(c.m.arch, orig.entry)) {
    yield* done('huge pmd: already mapped');
    return true;
  }
  const mapped = yield* pte_already_mapped(c, pmd, idx);
  if (mapped === 'migration') {
    // do_swap_page(): is_migration_entry(entry): migration_entry_wait(); return 0.
    yield* migration_entry_wait(c, pmd, addr);
    yield* done('do_swap_page(): migration_entry_wait(): return 0');
    return false;
  }
  if (mapped !== false) {
    yield* done(mapped ? 'spurious fault' : 'pmd unstable: retry later');
    return true;
  }
  // do_anonymous_page(): pte_alloc()
  const p = yield* pmd_read(c, pmd, 'do_anonymous_page(): pte_alloc(): pmd_none(*pmd)');
  if (pmd_none(c.m.arch, p.entry)) yield* __pte_alloc(c, pmd);
  if (!mayFailPteMap(c) && (yield* pmd_trans_unstable(c, pmd))) {
    yield* done('pmd_trans_unstable()');
    return true;
  }
  const page = alloc_page(c, 'data');
  yield step(`do_anonymous_page(): alloc_zeroed_user_highpage_movable() → ${page}`);
  const ptr = yield* pte_offset_map_lock(c, pmd);
  if (!ptr) {
    put_page(m, page);
    yield* done('do_anonymous_page(): pte_offset_map_lock() failed: release');
    return true;
  }
  if (pte_read(c, ptr, idx).t !== 'none') {
    pte_unmap_unlock(c, ptr);
    put_page(m, page);
    yield step('do_anonymous_page(): !pte_none(*vmf->pte): pte_unmap_unlock(); put_page()');
    yield* done('fault done');
    return true;
  }
  add_mm_counter(c, mm, 1);
  page_add_rmap(c, page);
  pte_write(c, ptr, idx, { t: 'present', pfn: page, sub: 0, writable: true, dirty: true });
  yield step(`do_anonymous_page(): inc_mm_counter(); set_pte_at(addr ${addr} → ${page})`);
  pte_unmap_unlock(c, ptr);
  yield step('do_anonymous_page(): pte_unmap_unlock()');
  yield* done('fault done');
  return true;
}
