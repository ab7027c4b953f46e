// Software page-table walk helpers, as each era's mm/memory.c and include/linux/pgtable.h have them.
//
// Before v6.5 a walker under mmap_lock read checks the pmd with pmd_none_or_trans_huge_or_clear_bad()
// and then pte_offset_map_lock() re-reads *pmd, trusting that a table, once there, stays while it
// holds mmap_lock. From v6.5 (0d940a9b270b "mm/pgtable: allow pte_offset_map[_lock]() to fail")
// pte_offset_map() runs under rcu_read_lock(), may fail, and pte_offset_map_lock() re-checks the pmd
// under the ptl.

import { pmd_bad, pmd_none, pmd_present, pmd_trans_huge } from './entries.js';
import { local_irq_restore, local_irq_save, rcu_read_lock, rcu_read_unlock } from './cpu.js';
import { spin_unlock } from './locks.js';
import {
  pmd_clear_bad, pmd_read, pmd_read_atomic, pmd_table, pmdp_get_lockless, pte_lockptr, spin_lock_ptl,
  type PmdPtr, type PmdVal, type Stepper, type TablePtr,
} from './pgtable.js';
import type { SpinLock } from './types.js';
import { step, type Ctx } from './step.js';
import { eraAtLeast, has } from './switches.js';

/** The v6.6 regime: pte_offset_map() may fail. */
export function mayFailPteMap(c: Ctx): boolean {
  return eraAtLeast(c.m.sw, 'v6.6');
}

/** pmd_none_or_trans_huge_or_clear_bad() / pmd_trans_unstable() (pre-v6.5): true means "skip this
 *  pmd". With V5 (pmd-bad-clears-huge) it is pmd_none_or_clear_bad(): two plain reads, and a huge pmd
 *  that appears between them is judged bad and cleared. */
export function* pmd_trans_unstable(c: Ctx, pmd: PmdPtr): Stepper<boolean> {
  if (has(c.m.sw, 'pmd-bad-clears-huge')) {
    const a = yield* pmd_read(c, pmd, 'pmd_none_or_clear_bad(): pmd_none(*pmd)');
    if (pmd_none(c.m.arch, a.entry)) return true;
    const b = yield* pmd_read(c, pmd, 'pmd_none_or_clear_bad(): pmd_bad(*pmd)');
    if (!pmd_bad(c.m.arch, b.entry)) return false;
    pmd_clear_bad(c, pmd, b);
    yield step('pmd_none_or_clear_bad(): pmd_clear_bad(pmd)');
    return true;
  }
  // v6.2: Peter Zijlstra's "mm: Rename pmd_read_atomic()" made it pmdp_get_lockless(), whose PAE form
  // reads the low half again and retries, where pmd_read_atomic() read the high half only after a
  // non-none low half.
  const v = eraAtLeast(c.m.sw, 'v6.2')
    ? yield* pmdp_get_lockless(c, pmd, 'pmd_trans_unstable(): pmdval = pmdp_get_lockless(pmd)')
    : yield* pmd_read_atomic(c, pmd, 'pmd_trans_unstable(): pmdval = pmd_read_atomic(pmd)');
  // "!pmd_present() checks for pmd migration entries" (84c3fc4e9c56, v4.14): not bad, not cleared.
  if (pmd_none(c.m.arch, v.entry) || pmd_trans_huge(c.m.arch, v.entry) || !pmd_present(c.m.arch, v.entry)) return true;
  if (pmd_bad(c.m.arch, v.entry)) {
    pmd_clear_bad(c, pmd, v);
    yield step('pmd_trans_unstable(): pmd_clear_bad(pmd)');
    return true;
  }
  return false;
}

/** A mapped pte table and, from v6.5, the pmd value it was mapped from. */
export interface PteMap {
  readonly ptr: TablePtr;
  readonly pmdval: PmdVal;
}

// The read's `what`, string constants: the pmd read labels are kept by them (pgtable.ts).
const PTE_OFFSET_MAP = '__pte_offset_map(): rcu_read_lock(); pmdval = pmdp_get_lockless(pmd)';
const PTE_OFFSET_MAP_IRQS = '__pte_offset_map(): rcu_read_lock(); local_irq_save(); pmdval = pmdp_get_lockless(pmd)';

/** __pte_offset_map() (v6.5+, mm/pgtable-generic.c): under rcu_read_lock(); fails on a none, huge or
 *  bad pmd. */
export function* pte_offset_map_rcu(c: Ctx, pmd: PmdPtr): Stepper<PteMap | null> {
  rcu_read_lock(c);
  // pmdp_get_lockless_start() / _end() (v6.5+): local_irq_save() around the read where the pmd is read
  // in two halves (CONFIG_GUP_GET_PXX_LOW_HIGH: x86 PAE), so that the flush IPI, or
  // pmdp_get_lockless_sync() after a pmd is cleared, waits for the read to finish.
  const irqs = c.m.arch.pae;
  const flags = irqs ? local_irq_save(c) : false;
  const end = irqs ? () => local_irq_restore(c, flags) : undefined;
  const v = yield* pmdp_get_lockless(c, pmd, irqs ? PTE_OFFSET_MAP_IRQS : PTE_OFFSET_MAP, end);
  // if (pmd_none(pmdval) || is_pmd_migration_entry(pmdval)) goto nomap;
  if (pmd_none(c.m.arch, v.entry) || v.entry.t === 'migration' || pmd_trans_huge(c.m.arch, v.entry)) {
    rcu_read_unlock(c);
    return null;
  }
  if (pmd_bad(c.m.arch, v.entry)) {
    pmd_clear_bad(c, pmd, v);
    rcu_read_unlock(c);
    yield step('__pte_offset_map(): pmd_clear_bad(pmd); rcu_read_unlock()');
    return null;
  }
  return { ptr: pmd_table(c, v), pmdval: v };
}

/** pte_unmap(): ends the RCU read side that pte_offset_map() began (v6.5+); nothing before. */
export function pte_unmap(c: Ctx): void {
  if (mayFailPteMap(c)) rcu_read_unlock(c);
}

/** A mapped pte table whose ptl was taken from another read of the pmd (pre-v6.5
 *  pte_offset_map_lock()): pte_unmap_unlock() drops that ptl, as the kernel drops *ptlp. */
interface LockedPte extends TablePtr {
  readonly ptl: SpinLock;
}

/** pte_offset_map_lock(). Pre-v6.5 (5.10.13 include/linux/mm.h, the macro): `__ptl =
 *  pte_lockptr(mm, pmd)` reads *pmd, `pte_offset_map(pmd, address)` reads it again, then
 *  spin_lock(__ptl), with no re-check: the lock and the table come from two loads. v6.5+: map from a
 *  pmd value, lock the ptl that value names, and re-check the pmd under it; null if the pmd is none
 *  or huge. */
export function* pte_offset_map_lock(c: Ctx, pmd: PmdPtr): Stepper<TablePtr | null> {
  if (!mayFailPteMap(c)) {
    const l = yield* pmd_read(c, pmd, 'pte_offset_map_lock(): __ptl = pte_lockptr(mm, pmd)');
    const locked = pmd_table(c, l);
    const v = yield* pmd_read(c, pmd, 'pte_offset_map_lock(): pte = pte_offset_map(pmd, address)');
    const ptr = pmd_table(c, v);
    yield* spin_lock_ptl(c, locked);
    if (locked.pfn === ptr.pfn && locked.gen === ptr.gen) return ptr;
    const mixed: LockedPte = { pfn: ptr.pfn, gen: ptr.gen, ptl: pte_lockptr(c.m, locked) };
    return mixed;
  }
  for (;;) {
    const map = yield* pte_offset_map_rcu(c, pmd);
    if (!map) return null;
    yield* spin_lock_ptl(c, map.ptr);
    const now = yield* pmdp_get_lockless(c, pmd, 'pte_offset_map_lock(): pmd_same(pmdval, pmdp_get_lockless(pmd))');
    if (now.lo === map.pmdval.lo && now.hi === map.pmdval.hi) return map.ptr;
    spin_unlock(c, pte_lockptr(c.m, map.ptr));
    pte_unmap(c);
    yield step('pte_offset_map_lock(): pmd changed: pte_unmap_unlock(); goto again');
  }
}

/** pte_unmap_unlock(): the ptl pte_offset_map_lock() took. */
export function pte_unmap_unlock(c: Ctx, ptr: TablePtr): void {
  spin_unlock(c, 'ptl' in ptr ? (ptr as LockedPte).ptl : pte_lockptr(c.m, ptr));
  pte_unmap(c);
}
