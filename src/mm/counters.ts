// The mm's counters, changed through the kernel's helpers (include/linux/mm.h add_mm_counter(),
// mm_inc_nr_ptes() and friends), so that each change remembers its step: an end-of-run mismatch
// names the step that last changed the counter, not the last step of the execution.

import type { Ctx } from './step.js';
import type { Mm } from './types.js';

// Each helper names its counter itself: a shared change(mm, counter) indexed the mm by a string that
// varies, a megamorphic keyed load and store on every rss change.

/** add_mm_counter(mm, MM_ANONPAGES / MM_FILEPAGES, n): rss in pages. */
export function add_mm_counter(c: Ctx, mm: Mm, n: number): void {
  mm.rss += n;
  mm.changedAt.rss = c.m.step;
}
function add_nr_ptes(c: Ctx, mm: Mm, n: number): void { mm.nr_ptes += n; mm.changedAt.nr_ptes = c.m.step; }
function add_nr_pmds(c: Ctx, mm: Mm, n: number): void { mm.nr_pmds += n; mm.changedAt.nr_pmds = c.m.step; }
function add_nr_puds(c: Ctx, mm: Mm, n: number): void { mm.nr_puds += n; mm.changedAt.nr_puds = c.m.step; }

export const mm_inc_nr_ptes = (c: Ctx, mm: Mm): void => add_nr_ptes(c, mm, 1);
export const mm_dec_nr_ptes = (c: Ctx, mm: Mm): void => add_nr_ptes(c, mm, -1);
export const mm_inc_nr_pmds = (c: Ctx, mm: Mm): void => add_nr_pmds(c, mm, 1);
export const mm_dec_nr_pmds = (c: Ctx, mm: Mm): void => add_nr_pmds(c, mm, -1);
export const mm_inc_nr_puds = (c: Ctx, mm: Mm): void => add_nr_puds(c, mm, 1);
export const mm_dec_nr_puds = (c: Ctx, mm: Mm): void => add_nr_puds(c, mm, -1);
