// Allocating the upper levels, as mm/memory.c does on the fault path: pud_alloc() → __pud_alloc()
// and pmd_alloc() → __pmd_alloc() (v5.8–v6.6 alike). A new table is allocated zeroed, then hooked in
// under mm->page_table_lock (pud_lock() is that lock where pud-level split locks are not configured)
// unless another thread populated the entry first, in which case the new table is freed.

import { pgdIndex, pudIndex } from './entries.js';
import { alloc_page, freeFrame } from './frames.js';
import { spin_lock, spin_unlock } from './locks.js';
import { pmd_off, tableNow, upperEntry, upperStore, type PmdPtr, type Stepper } from './pgtable.js';
import { step, type Ctx } from './step.js';
import type { Mm } from './types.js';
import { mm_inc_nr_pmds, mm_inc_nr_puds } from './counters.js';

/** __pud_alloc(): pud_alloc_one(), then p4d_populate() under page_table_lock (p4d folded: the pgd
 *  entry). */
export function* __pud_alloc(c: Ctx, mm: Mm, addr: number): Stepper<void> {
  const table = alloc_page(c, 'pud-table');
  yield step(`__pud_alloc(): pud_alloc_one() → ${table}`);
  yield* spin_lock(c, mm.page_table_lock);
  const pgd = tableNow(c.m, mm.pgd);
  if (upperEntry(c, pgd, pgdIndex(addr), 'pgd').t === 'none') {
    mm_inc_nr_puds(c, mm);
    upperStore(c, pgd, pgdIndex(addr), 'pgd', { t: 'table', pfn: table }, 'p4d_populate');
    spin_unlock(c, mm.page_table_lock);
    yield step(`__pud_alloc(): mm_inc_nr_puds(); p4d_populate(${table}); spin_unlock(${mm.page_table_lock.name})`);
  } else {
    spin_unlock(c, mm.page_table_lock);
    freeFrame(c.m, table, 'now');
    yield step(`__pud_alloc(): populated meanwhile: spin_unlock(${mm.page_table_lock.name}); pud_free(new)`);
  }
}

/** __pmd_alloc(): pmd_alloc_one(), then pud_populate() under pud_lock() unless present. */
function* __pmd_alloc(c: Ctx, mm: Mm, addr: number): Stepper<void> {
  const table = alloc_page(c, 'pmd-table');
  yield step(`__pmd_alloc(): pmd_alloc_one() → ${table}`);
  yield* spin_lock(c, mm.page_table_lock);
  const e = upperEntry(c, tableNow(c.m, mm.pgd), pgdIndex(addr), 'pgd');
  const pud = e.t === 'table' ? tableNow(c.m, e.pfn) : null;
  if (pud && upperEntry(c, pud, pudIndex(addr), 'pud').t === 'none') {
    mm_inc_nr_pmds(c, mm);
    upperStore(c, pud, pudIndex(addr), 'pud', { t: 'table', pfn: table }, 'pud_populate');
    spin_unlock(c, mm.page_table_lock);
    yield step(`__pmd_alloc(): mm_inc_nr_pmds(); pud_populate(${table}); spin_unlock(${mm.page_table_lock.name})`);
  } else {
    spin_unlock(c, mm.page_table_lock);
    freeFrame(c.m, table, 'now');
    yield step(`__pmd_alloc(): populated meanwhile: spin_unlock(${mm.page_table_lock.name}); pmd_free(new)`);
  }
}

/** pud_alloc() and pmd_alloc() as __handle_mm_fault() calls them: allocate whatever upper table is
 *  missing for `addr`, then return the pmd pointer. Caller holds mmap_lock (read is enough). */
export function* pmd_alloc(c: Ctx, addr: number, mm: Mm = c.mm): Stepper<PmdPtr> {
  const pgdE = upperEntry(c, tableNow(c.m, mm.pgd), pgdIndex(addr), 'pgd');
  if (pgdE.t === 'none') yield* __pud_alloc(c, mm, addr);
  let p = pmd_off(c, addr, mm);
  if (!p) {
    yield* __pmd_alloc(c, mm, addr);
    p = pmd_off(c, addr, mm);
  }
  if (!p) throw new Error(`model: pmd_alloc(${addr}) left no pmd table (a huge pud is not modelled here)`);
  return p;
}
