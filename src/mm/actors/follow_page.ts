// follow_page_mask() → follow_pmd_mask() → follow_page_pte(), as __get_user_pages() uses it for
// GUP-slow and for get_dump_page(). The caller decides the mmap_lock (that is what V9 is about).

import { pmd_none, pmd_present, pmd_trans_huge, pteIndex } from '../entries.js';
import { get_page } from '../frames.js';
import { spin_unlock } from '../locks.js';
import { pmd_lock, pmd_lockptr, pmd_off, pmd_read, pmdEntryAt, pte_read, type Stepper } from '../pgtable.js';
import { step, type Ctx } from '../step.js';
import { pte_offset_map_lock, pte_unmap_unlock } from '../walk.js';

/** Returns the page referenced (FOLL_GET), or null where a fault would be needed. */
export function* follow_page_mask(c: Ctx, addr: number): Stepper<number | null> {
  const m = c.m;
  const pmd = pmd_off(c, addr);
  if (!pmd) return null;
  const v = yield* pmd_read(c, pmd, 'follow_pmd_mask(): pmdval = READ_ONCE(*pmd)');
  if (pmd_none(c.m.arch, v.entry)) return null;
  // if (!pmd_present(pmdval)): a THP migration entry; without FOLL_MIGRATION, no_page_table() (the
  // caller faults, and the fault waits).
  if (!pmd_present(c.m.arch, v.entry)) return null;
  if (pmd_trans_huge(c.m.arch, v.entry)) {
    const pml = pmd_lockptr(m, pmd);
    yield* pmd_lock(c, pmd);
    const now = pmdEntryAt(m, pmd);
    let page: number | null = null;
    if (now.t === 'huge') {
      page = now.pfn;
      get_page(c, page);
    }
    spin_unlock(c, pml);
    yield step(`follow_trans_huge_pmd(): try_grab_page(${page ?? '-'}); spin_unlock(${pml.name})`);
    return page;
  }
  // follow_page_pte(): (pre-v6.5: pmd_bad(*pmd) → no_page_table) then pte_offset_map_lock().
  const ptr = yield* pte_offset_map_lock(c, pmd);
  if (!ptr) return null;
  const pte = pte_read(c, ptr, pteIndex(addr));
  let page: number | null = null;
  if (pte.t === 'present') {
    page = pte.pfn;
    get_page(c, page);
  }
  pte_unmap_unlock(c, ptr);
  yield step(`follow_page_pte(): ${page === null ? 'pte not present' : `try_grab_page(${page})`}; pte_unmap_unlock()`);
  return page;
}
