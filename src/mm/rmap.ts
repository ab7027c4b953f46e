// Reverse-map accounting of data pages, as mm/rmap.c keeps it: every page-table entry that maps a
// page counts in its mapcount (page_add_new_anon_rmap, page_add_file_rmap, page_remove_rmap; the
// folio_* names from v6.x). A mapcount that goes negative is the kernel's "Bad page map"; the end
// audit checks each against the tables. PG_dirty takes a pte's dirty bit when the pte goes.

import { frameOf } from './frames.js';
import type { Ctx } from './step.js';

/** page_add_new_anon_rmap() / page_add_file_rmap() / page_add_anon_rmap(): one more mapping. */
export function page_add_rmap(c: Ctx, pfn: number): void {
  const f = frameOf(c.m, pfn);
  f.mapcount++;
  f.mapStep = c.m.step;
}

/** page_add_file_rmap() / folio_add_file_rmap_*(): one more mapping of a file page, as a fault maps
 *  it into a VMA of `file`. The oracle checks the page is still in that file's page cache. */
export function page_add_file_rmap(c: Ctx, pfn: number, file: number): void {
  page_add_rmap(c, pfn);
  const inCache = frameOf(c.m, pfn).mapping === file && (c.m.files[file]?.hpage.includes(pfn) ?? false);
  c.m.events.push({ e: 'file-rmap', pfn, file, inCache });
}

/** page_remove_rmap(): one mapping fewer. */
export function page_remove_rmap(c: Ctx, pfn: number, n = 1): void {
  const f = frameOf(c.m, pfn);
  f.mapcount -= n;
  f.mapStep = c.m.step;
  if (f.mapcount < 0) c.m.events.push({ e: 'bug', msg: `BUG: Bad page map: page ${pfn} mapcount ${f.mapcount}` });
}

/** set_page_dirty() / folio_mark_dirty(): the data is written back before the page may go. */
export function set_page_dirty(c: Ctx, pfn: number): void {
  frameOf(c.m, pfn).dirty = true;
  c.m.events.push({ e: 'page-dirty', pfn });
}
