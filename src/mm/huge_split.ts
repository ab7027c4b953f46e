// Splitting a huge pmd into a pte table: split_huge_pmd() → __split_huge_pmd() →
// __split_huge_pmd_locked() (mm/huge_memory.c), the primitive the paths that change part of a THP
// mapping call (MADV_DONTNEED and mprotect of part of it, munmap splitting the VMA).
//
// follows: mm/huge_memory.c __split_huge_pmd(), __split_huge_pmd_locked(); include/linux/huge_mm.h
// split_huge_pmd(); v5.8, v5.10, v6.2, v6.6, read from the stable patches and list mails in the
// search tool's corpora (ec0abae6dcdf, 9d84604b845c, 1c2f67308af4, e783331c7720 and their diffs).
//
// Every era: mmu_notifier_invalidate_range_start(MMU_NOTIFY_CLEAR) over the pmd's range, pmd_lock,
// then, on a trans-huge pmd or a THP migration entry, __split_huge_pmd_locked():
//   old_pmd = pmdp_invalidate(vma, haddr, pmd)   (store pmd_mkinvalid() and flush the range: no CPU
//            may hold the huge TLB entry once the small ptes are visible; AMD erratum 383)
//   pgtable = pgtable_trans_huge_withdraw(mm, pmd); pmd_populate(mm, &_pmd, pgtable);
//   the ptes written into the withdrawn (not yet visible) table, with the huge pmd's bits;
//   smp_wmb(); pmd_populate(mm, pmd, pgtable);
// spin_unlock(ptl); mmu_notifier_invalidate_range_only_end().
// pmdp_invalidate() is called on a migration entry too, at every era modelled: e783331c7720 (v6.10,
// "mm: fix race between __split_huge_pmd_locked() and GUP-fast") calls it only for a present pmd.
//
// Era differences:
//   v5.8, v5.10  __split_huge_pmd() takes the page lock of an anonymous THP (c444eb564fb1, v5.8-rc:
//                trylock_page() under the ptl, else get_page(), drop the ptl, lock_page(), retake it
//                and re-check pmd_same(); 1c2f67308af4 (v5.11) limits it to PageAnon); removed in
//                v5.18 with reuse_swap_page(). The model splits anon pmds, so both forms agree.
//   v5.8         on a migration pmd the subpages' mapcounts are raised and the compound mapcount
//                dropped as if the page were mapped (fixed by ec0abae6dcdf, v5.9, "mm/thp: fix
//                __split_huge_pmd_locked() for migration PMD").
//   v5.8, v5.10  page_ref_add(page, HPAGE_PMD_NR - 1) on a migration pmd too: migration entries hold
//                no reference, so the page leaks (fixed by 9d84604b845c, v5.18, "mm/thp: refix
//                __split_huge_pmd_locked() for migration PMD").
//   ≤ v5.10      the ptes are clean and PG_dirty takes the pmd's dirty bit; v6.0 (0ccf7f168e17 "mm/thp:
//                carry over dirty bit when thp splits on pmd") sets it in every pte.
//
// Simplified: mapcounts are total_mapcount() (a pte per subpage, one for the pmd), so PG_double_map's
// extra subpage counts, which cancel out, are not kept; no huge zero page, no mlock, no freeze (the
// model's split_huge_page() does not exist), no PageAnonExclusive (v5.19); a file THP pmd is cleared
// (pmdp_huge_clear_flush_notify()) and no deposited table is withdrawn (x86 and arm64 deposit none for
// file THPs).

import { HPAGE_PMD_NR, PTRS_PER_PTE, is_swap_pmd, pmd_mkinvalid, pmd_trans_huge, pmdSame, type PmdEntry, type PteEntry } from './entries.js';
import { frameOf, get_page, lock_page, put_page, trylock_page, unlock_page } from './frames.js';
import { spin_unlock } from './locks.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from './mmu_notifier.js';
import {
  pgtable_trans_huge_withdraw, pmd_lock, pmd_lockptr, pmd_populate, pmd_read, pmdEntryAt, pmdRange, pmdp_huge_get_and_clear_x86,
  pmdp_invalidate, pmdp_xchg, type PmdPtr, type Stepper,
} from './pgtable.js';
import { page_add_rmap, page_remove_rmap, set_page_dirty } from './rmap.js';
import { type ActorGen, call, type Ctx, step } from './step.js';
import { eraAtLeast } from './switches.js';
import { flush_tlb_range } from './tlbflush.js';
import { add_mm_counter } from './counters.js';
import type { Mm, Vma } from './types.js';

/** How a split may be weakened, for tests that show what a rule protects (never set by an actor). */
export interface SplitOpts {
  /** pmdp_invalidate()'s flush_tlb_range() (true unless a test takes it out). */
  readonly flush?: boolean;
}

/** page_ref_add(). */
function page_ref_add(c: Ctx, pfn: number, n: number): void {
  const f = frameOf(c.m, pfn);
  f.refcount += n;
  f.refStep = c.m.step;
}

/** set_pte_at() into the withdrawn table, which no walker can reach before pmd_populate(): the
 *  kernel writes it under pmd_lock alone. The store is still recorded for the oracle's history. */
function set_pte_unpublished(c: Ctx, table: number, idx: number, now: PteEntry): PteEntry {
  const f = frameOf(c.m, table);
  const old = f.ptes[idx] ?? { t: 'none' };
  f.ptes[idx] = now;
  f.written = true;
  c.m.events.push({ e: 'pte-store', pfn: table, idx, old, now });
  return old;
}

/** pmdp_invalidate(), or with `flush` false its store alone (a test's broken kernel). */
function* invalidate(c: Ctx, pmd: PmdPtr, opts: SplitOpts): Stepper<PmdEntry> {
  if (opts.flush !== false) return yield* pmdp_invalidate(c, pmd);
  const old = pmdp_xchg(c, pmd, pmd_mkinvalid(c.m.arch, pmdEntryAt(c.m, pmd)));
  yield step('pmdp_invalidate(): pmdp_mknotpresent [no flush_tlb_range()]');
  return old;
}

/** __split_huge_pmd_locked(vma, pmd, haddr, freeze = false). Caller holds pmd_lock, and the pmd is
 *  trans-huge or a migration entry. */
export function* __split_huge_pmd_locked(c: Ctx, vma: Vma, pmd: PmdPtr, haddr: number, opts: SplitOpts = {}): ActorGen {
  const m = c.m;
  const mm: Mm = m.mms[pmd.mm]!;
  if (vma.kind !== 'anon') {
    // !vma_is_anonymous(vma): _pmd = pmdp_huge_clear_flush_notify(); the page is dropped and a
    // later fault maps it again by ptes.
    const _pmd = yield* pmdp_huge_get_and_clear_x86(c, pmd, '__split_huge_pmd_locked(): file THP: pmdp_huge_clear_flush_notify()');
    yield step('__split_huge_pmd_locked(): file THP: pmdp_huge_clear_flush_notify()');
    if (opts.flush !== false) yield* flush_tlb_range(c, 'pmdp_huge_clear_flush(): flush_tlb_range()', pmdRange(pmd));
    if (_pmd.t === 'huge' || _pmd.t === 'invalid-huge') {
      if (_pmd.dirty) set_page_dirty(c, _pmd.pfn);
      page_remove_rmap(c, _pmd.pfn);
      put_page(m, _pmd.pfn);
      add_mm_counter(c, mm, -HPAGE_PMD_NR);
      yield step(`__split_huge_pmd_locked(): page_remove_rmap(${_pmd.pfn}, compound); put_page(); add_mm_counter(-HPAGE_PMD_NR)`);
    }
    return;
  }
  // "Up to this point the pmd is present and huge and userland has the whole access to the
  // hugepage during the split ... we first mark the current pmd notpresent ... then we flush the SMP
  // TLB and finally we write the non-huge version of the pmd entry with pmd_populate."
  const old = yield* invalidate(c, pmd, opts);
  const migration = old.t === 'migration';
  if (old.t !== 'migration' && old.t !== 'huge' && old.t !== 'invalid-huge') {
    m.events.push({ e: 'bug', msg: `__split_huge_pmd_locked(): VM_BUG_ON(!is_pmd_migration_entry(*pmd) && !pmd_trans_huge(*pmd)): ${old.t}` });
    yield step('BUG');
    return;
  }
  const page = old.pfn;
  let write: boolean;
  let young = false;
  let dirty = false;
  const softDirty = old.softDirty === true;
  const uffdWp = old.uffdWp === true;
  if (old.t === 'migration') {
    write = old.write;
  } else {
    if (old.dirty) {
      dirty = true;
      set_page_dirty(c, page);
    }
    write = old.writable === true;
    young = old.accessed === true;
  }
  // ≤ v5.10 the reference for every pte is taken whatever the pmd was (9d84604b845c, v5.18).
  if (!migration || !eraAtLeast(m.sw, 'v6.2')) page_ref_add(c, page, HPAGE_PMD_NR - 1);
  // "Withdraw the table only after we mark the pmd entry invalid. This's critical for some
  // architectures (Power)."
  const pgtable = pgtable_trans_huge_withdraw(m, pmd);
  if (!pgtable) {
    m.events.push({ e: 'bug', msg: '__split_huge_pmd_locked(): no deposited page table to withdraw' });
    yield step('BUG');
    return;
  }
  const ptesDirty = eraAtLeast(m.sw, 'v6.2') && dirty;
  const v58 = !eraAtLeast(m.sw, 'v5.10');
  for (let i = 0; i < PTRS_PER_PTE; i++) {
    // "Note that NUMA hinting access restrictions are not transferred".
    const entry: PteEntry = migration
      ? { t: 'migration', pfn: page, sub: i, write, ...(softDirty ? { softDirty } : {}), ...(uffdWp ? { uffdWp } : {}) }
      : { t: 'present', pfn: page, sub: i, writable: write, dirty: ptesDirty, ...(young ? { accessed: true } : {}), ...(softDirty ? { softDirty } : {}), ...(uffdWp ? { uffdWp } : {}) };
    const was = set_pte_unpublished(c, pgtable, i, entry);
    if (was.t !== 'none') m.events.push({ e: 'bug', msg: `__split_huge_pmd_locked(): BUG_ON(!pte_none(*pte)) in table ${pgtable}` });
    // atomic_inc(&page[i]._mapcount): v5.8 for a migration entry too (ec0abae6dcdf, v5.9).
    if (!migration || v58) page_add_rmap(c, page);
  }
  // The compound mapcount goes (page_remove_rmap(page, true) from v5.18): v5.8 for a migration
  // entry too.
  if (!migration || v58) page_remove_rmap(c, page);
  yield step(`__split_huge_pmd_locked(): pgtable_trans_huge_withdraw() → ${pgtable}; set_pte_at(${haddr}..${haddr + HPAGE_PMD_NR - 1}) (${migration ? 'migration entries' : `subpages of ${page}`})`);
  // smp_wmb(): make pte visible before pmd.
  pmd_populate(c, pmd, pgtable);
  yield step(`__split_huge_pmd_locked(): smp_wmb(); pmd_populate(pmd, ${pgtable})`);
}

/** __split_huge_pmd(vma, pmd, address, freeze = false, page = NULL). */
export function* __split_huge_pmd(c: Ctx, vma: Vma, pmd: PmdPtr, address: number, opts: SplitOpts = {}): ActorGen {
  const m = c.m;
  const mm = m.mms[pmd.mm]!;
  const haddr = address - (address % HPAGE_PMD_NR);
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, haddr, haddr + HPAGE_PMD_NR);
  yield* mmu_notifier_invalidate_range_start(c, range);
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  let locked = -1;
  for (;;) {
    const cur = pmdEntryAt(m, pmd);
    if (pmd_trans_huge(m.arch, cur)) {
      // v5.8, v5.10: "An anonymous page must be locked, to ensure that a concurrent
      // reuse_swap_page() sees stable mapcount".
      if (!eraAtLeast(m.sw, 'v6.2') && vma.kind === 'anon' && (cur.t === 'huge' || cur.t === 'invalid-huge')) {
        const page = cur.pfn;
        if (!trylock_page(c, page)) {
          get_page(c, page);
          spin_unlock(c, pml);
          yield step(`__split_huge_pmd(): !trylock_page(${page}): get_page(); _pmd = *pmd; spin_unlock(ptl)`);
          yield* lock_page(c, page);
          yield* pmd_lock(c, pmd);
          if (!pmdSame(pmdEntryAt(m, pmd), cur)) {
            unlock_page(c, page);
            put_page(m, page);
            yield step('__split_huge_pmd(): !pmd_same(*pmd, _pmd): unlock_page(); put_page(); goto repeat');
            continue;
          }
          put_page(m, page);
        }
        locked = page;
      }
    } else if (!is_swap_pmd(m.arch, cur) || cur.t !== 'migration') {
      break;
    }
    yield* __split_huge_pmd_locked(c, vma, pmd, haddr, opts);
    break;
  }
  spin_unlock(c, pml);
  if (locked >= 0) unlock_page(c, locked);
  yield step(`__split_huge_pmd(): spin_unlock(${pml.name})${locked >= 0 ? `; unlock_page(${locked})` : ''}`);
  yield* mmu_notifier_invalidate_range_end(c, range, true);
}

/** split_huge_pmd(vma, pmd, address): the macro's unlocked test, then __split_huge_pmd(). */
export function* split_huge_pmd(c: Ctx, vma: Vma, pmd: PmdPtr, address: number, opts: SplitOpts = {}): ActorGen {
  const v = yield* pmd_read(c, pmd, 'split_huge_pmd(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd) || pmd_devmap(*pmd)');
  if (is_swap_pmd(c.m.arch, v.entry) || pmd_trans_huge(c.m.arch, v.entry)) yield* call(__split_huge_pmd(c, vma, pmd, address, opts));
}
