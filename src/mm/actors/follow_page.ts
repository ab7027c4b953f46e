// follow_page_mask() → follow_pmd_mask() → follow_page_pte(), as __get_user_pages() uses it for
// GUP-slow and for get_dump_page(). The caller decides the mmap_lock (that is what V9 is about).
//
// Protnone entries (NUMA hinting, or PROT_NONE: pte_protnone()/pmd_protnone() do not tell them
// apart) are not followed where the caller honors NUMA hinting faults: it faults instead
// (do_numa_page()), and the fault may migrate the page. Checked in follow_page_pte(),
// follow_pmd_mask() (on pmdval, lockless) and follow_trans_huge_pmd() (under the pmd lock):
//   v5.8, v5.10  `(flags & FOLL_NUMA) && pte_protnone(pte)` / `pmd_protnone()` (5.10.13 mm/gup.c,
//                mm/huge_memory.c); __get_user_pages() sets FOLL_NUMA unless FOLL_FORCE.
//   v6.2         474098edac26 "mm/gup: replace FOLL_NUMA by gup_can_follow_protnone()": followed
//                iff FOLL_FORCE, the same callers.
//   v6.6         "mm/gup: reintroduce FOLL_NUMA as FOLL_HONOR_NUMA_FAULT" (v6.5, Fixes: 474098edac26;
//                mail): is_valid_gup_args() sets it for every external GUP user;
//                gup_can_follow_protnone(vma, flags) follows without it, or in an inaccessible VMA.
// GUP-slow and KVM's hva_to_pfn_slow() honor the faults at every era (no FOLL_FORCE; external GUP
// users at v6.6); get_dump_page() never does (FOLL_FORCE, and it does not go through
// is_valid_gup_args()), nor does follow_page() (the default here).

import { pmd_none, pmd_present, pmd_protnone, pmd_trans_huge, pteIndex } from '../entries.js';
import { get_page } from '../frames.js';
import { spin_unlock } from '../locks.js';
import { find_vma } from '../model.js';
import { vma_is_accessible } from '../mprotect.js';
import { pmd_lock, pmd_lockptr, pmd_off, pmd_read, pmdEntryAt, pte_read, type Stepper } from '../pgtable.js';
import { step, type Ctx } from '../step.js';
import { eraAtLeast, type Switches } from '../switches.js';
import type { Vma } from '../types.js';
import { pte_offset_map_lock, pte_unmap_unlock } from '../walk.js';

/** The GUP flags follow_page_mask() looks at. */
export interface FollFlags {
  /** FOLL_NUMA (≤ v6.2: __get_user_pages() without FOLL_FORCE) / FOLL_HONOR_NUMA_FAULT (v6.6:
   *  is_valid_gup_args()): a protnone entry is not followed, the caller must fault. */
  readonly honorNumaFault?: boolean;
}

/** gup_can_follow_protnone() at the era (FOLL_NUMA's test before it existed), for `vma`. */
export function gup_can_follow_protnone(sw: Switches, vma: Vma | undefined, flags: FollFlags): boolean {
  if (!flags.honorNumaFault) return true;
  if (!eraAtLeast(sw, 'v6.6')) return false;
  return vma !== undefined && !vma_is_accessible(vma);
}

/** Returns the page referenced (FOLL_GET), or null where a fault would be needed. */
export function* follow_page_mask(c: Ctx, addr: number, flags: FollFlags = {}): Stepper<number | null> {
  const m = c.m;
  const pmd = pmd_off(c, addr);
  if (!pmd) return null;
  const v = yield* pmd_read(c, pmd, 'follow_pmd_mask(): pmdval = READ_ONCE(*pmd)');
  if (pmd_none(c.m.arch, v.entry)) return null;
  // if (!pmd_present(pmdval)): a THP migration entry; without FOLL_MIGRATION, no_page_table() (the
  // caller faults, and the fault waits).
  if (!pmd_present(c.m.arch, v.entry)) return null;
  if (pmd_trans_huge(c.m.arch, v.entry)) {
    // if (pmd_protnone(pmdval) && !gup_can_follow_protnone()) return no_page_table(vma, flags).
    if (pmd_protnone(v.entry) && !gup_can_follow_protnone(m.sw, find_vma(c.mm, addr), flags)) return null;
    const pml = pmd_lockptr(m, pmd);
    yield* pmd_lock(c, pmd);
    const now = pmdEntryAt(m, pmd);
    let page: number | null = null;
    // follow_trans_huge_pmd(): the same test on *pmd, under the lock.
    const numa = now.t === 'huge' && pmd_protnone(now) && !gup_can_follow_protnone(m.sw, find_vma(c.mm, addr), flags);
    if (now.t === 'huge' && !numa) {
      page = now.pfn;
      get_page(c, page);
    }
    spin_unlock(c, pml);
    yield step(`follow_trans_huge_pmd(): ${numa ? 'pmd_protnone(*pmd): no page' : `try_grab_page(${page ?? '-'})`}; spin_unlock(${pml.name})`);
    return page;
  }
  // follow_page_pte(): (pre-v6.5: pmd_bad(*pmd) → no_page_table) then pte_offset_map_lock().
  const ptr = yield* pte_offset_map_lock(c, pmd);
  if (!ptr) return null;
  const pte = pte_read(c, ptr, pteIndex(addr));
  let page: number | null = null;
  const numa = pte.t === 'present' && pte.protnone === true && !gup_can_follow_protnone(m.sw, find_vma(c.mm, addr), flags);
  if (pte.t === 'present' && !numa) {
    page = pte.pfn;
    get_page(c, page);
  }
  pte_unmap_unlock(c, ptr);
  yield step(`follow_page_pte(): ${numa ? 'pte_protnone(pte): no page' : page === null ? 'pte not present' : `try_grab_page(${page})`}; pte_unmap_unlock()`);
  return page;
}
