// The worlds mmfuzz ships. `default` is the layout every catalog race was written against; the others
// open what it cannot show: two mms that map one file (rmap walkers and khugepaged reach both), and
// an mm whose VMAs span two pmd tables (so that munmap frees a pmd table).

import type { PteEntry } from '../entries.js';
import type { World } from './types.js';

const rw = (pfn: number): PteEntry => ({ t: 'present', pfn, sub: 0, writable: true, dirty: true });
const sub = (pfn: number, i: number): PteEntry => ({ t: 'present', pfn, sub: i, writable: false, dirty: false });
const subpages = (pfn: number): PteEntry[] => [0, 1, 2, 3].map((i) => sub(pfn, i));

/** Pages 0..15, one pmd table (frame 1) of 4 slots of 4 pages:
 *   slot 0  anon VMA 0   pte table 2: pages 3, 4 mapped at addresses 0, 1 (writable)
 *   slot 1  anon VMA 0   none (room for a fault or a THP fault)
 *   slot 2  file VMA 1   pte table 5, empty: collapse_file() has unmapped the small pages and put
 *                        the huge page 6 in the page cache; retract_page_tables() may take the table
 *   slot 3  file VMA 1   pte table 7 maps the 4 subpages of the file huge page 8 (a pte-mapped THP,
 *                        as collapse_pte_mapped_thp() finds it)
 *  Frame 0 is reserved (what pmd_page(none) points at); the pgd (32) and pud table (33) sit above
 *  the free frames 9..31, so that the allocator's choices mean what they did before levels existed. */
export const DEFAULT_WORLD: World = {
  name: 'default',
  summary: 'one mm: anon VMA [0,8) with two pages mapped, file VMA [8,16) with an empty table and a pte-mapped THP',
  nrFrames: 34,
  frames: [
    { pfn: 0, kind: 'reserved', refcount: 1 },
    { pfn: 1, kind: 'pmd-table', refcount: 1, entries: [{ t: 'table', pfn: 2 }, { t: 'none' }, { t: 'table', pfn: 5 }, { t: 'table', pfn: 7 }] },
    { pfn: 2, kind: 'pte-table', refcount: 1, ptes: [rw(3), rw(4)] },
    { pfn: 3, kind: 'data', refcount: 1 },
    { pfn: 4, kind: 'data', refcount: 1 },
    { pfn: 5, kind: 'pte-table', refcount: 1 },
    { pfn: 6, kind: 'huge', refcount: 1, mapping: 0 },
    { pfn: 7, kind: 'pte-table', refcount: 1, ptes: subpages(8) },
    { pfn: 8, kind: 'huge', refcount: 5, mapping: 0 },
    { pfn: 32, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 33 }] },
    { pfn: 33, kind: 'pud-table', refcount: 1, entries: [{ t: 'table', pfn: 1 }] },
  ],
  files: [{ name: 'file', hpage: [0, 0, 6, 8] }],
  mms: [{
    pgd: 32,
    vmas: [
      { start: 0, end: 8, kind: 'anon', anon_vma: true },
      { start: 8, end: 16, kind: 'file', file: 0, pgoff: 8, anon_vma: false },
    ],
  }],
};

/** The default layout twice: mm 1 (frames 34..41) maps the same file at the same offsets, so the
 *  huge page 8 is pte-mapped in both, and retract_page_tables() finds an empty table in each. */
export const SHARED_FILE_WORLD: World = {
  name: 'shared-file',
  summary: 'two mms, each with the default layout, mapping the same file: rmap and khugepaged reach both',
  nrFrames: 42,
  frames: [
    ...DEFAULT_WORLD.frames.filter((f) => f.pfn !== 8),
    { pfn: 8, kind: 'huge', refcount: 9, mapping: 0 },
    { pfn: 34, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 35 }] },
    { pfn: 35, kind: 'pud-table', refcount: 1, entries: [{ t: 'table', pfn: 36 }] },
    { pfn: 36, kind: 'pmd-table', refcount: 1, entries: [{ t: 'table', pfn: 37 }, { t: 'none' }, { t: 'table', pfn: 38 }, { t: 'table', pfn: 39 }] },
    { pfn: 37, kind: 'pte-table', refcount: 1, ptes: [rw(40), rw(41)] },
    { pfn: 38, kind: 'pte-table', refcount: 1 },
    { pfn: 39, kind: 'pte-table', refcount: 1, ptes: subpages(8) },
    { pfn: 40, kind: 'data', refcount: 1 },
    { pfn: 41, kind: 'data', refcount: 1 },
  ],
  files: DEFAULT_WORLD.files,
  mms: [DEFAULT_WORLD.mms[0]!, { ...DEFAULT_WORLD.mms[0]!, pgd: 34 }],
};

/** One mm whose anon VMA [8,24) crosses the pud boundary at 16, so it spans two pmd tables (1 for
 *  [0,16), 10 for [16,32)); file VMA [24,32) maps file page 0 on, with an empty table at slot 6 and
 *  the huge page 8 in the page cache. munmap of VMA 0 frees pmd table 1: nothing else is under it. */
export const TWO_PMD_TABLES_WORLD: World = {
  name: 'two-pmd-tables',
  summary: 'one mm: anon VMA [8,24) across two pmd tables, file VMA [24,32); munmap of VMA 0 frees a pmd table',
  nrFrames: 34,
  frames: [
    { pfn: 0, kind: 'reserved', refcount: 1 },
    { pfn: 1, kind: 'pmd-table', refcount: 1, entries: [{ t: 'none' }, { t: 'none' }, { t: 'table', pfn: 2 }, { t: 'none' }] },
    { pfn: 2, kind: 'pte-table', refcount: 1, ptes: [rw(3), rw(4)] },
    { pfn: 3, kind: 'data', refcount: 1 },
    { pfn: 4, kind: 'data', refcount: 1 },
    { pfn: 5, kind: 'pte-table', refcount: 1, ptes: [rw(6)] },
    { pfn: 6, kind: 'data', refcount: 1 },
    { pfn: 7, kind: 'pte-table', refcount: 1 },
    { pfn: 8, kind: 'huge', refcount: 1, mapping: 0 },
    { pfn: 10, kind: 'pmd-table', refcount: 1, entries: [{ t: 'table', pfn: 5 }, { t: 'none' }, { t: 'table', pfn: 7 }, { t: 'none' }] },
    { pfn: 32, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 33 }] },
    { pfn: 33, kind: 'pud-table', refcount: 1, entries: [{ t: 'table', pfn: 1 }, { t: 'table', pfn: 10 }] },
  ],
  files: [{ name: 'file', hpage: [8, 0] }],
  mms: [{
    pgd: 32,
    vmas: [
      { start: 8, end: 24, kind: 'anon', anon_vma: true },
      { start: 24, end: 32, kind: 'file', file: 0, pgoff: 0, anon_vma: false },
    ],
  }],
};

/** Room to mremap into, for move_normal_pmd(), move_ptes() and move_normal_pud() (mm/mremap.ts):
 *   [0,4)   anon VMA 0  slot 0: pte table 2, pages 3, 4 at 0, 1
 *   [4,8)   free        slot 1 none: the pmd-aligned target of VMA 0 (move_normal_pmd()), or an
 *                       unaligned one (5, 6: move_ptes()), within reach of madvise_dontneed(slot=1)
 *   [8,16)  file VMA 1  as in default: slot 2 the empty table 5 that retract_page_tables() takes
 *                       (huge page 6 in the page cache), slot 3 the pte-mapped THP 8 (table 7)
 *   [16,32) free        pud entry 1 none: a target for VMA 1 (a new pmd table), or, pud-aligned,
 *                       for the whole of VMA 2 (move_normal_pud(), v6.2+)
 *   [32,48) anon VMA 2  pmd table 10; slot 8: pte table 11, page 12 at 32 */
export const MREMAP_WORLD: World = {
  name: 'mremap',
  summary: 'one mm with free room: anon VMA [0,4), file VMA [8,16) as in default, anon VMA [32,48) under its own pmd table; targets at [4,8) and [16,32)',
  nrFrames: 34,
  frames: [
    // Frames 0..8 as in default.
    ...DEFAULT_WORLD.frames.filter((f) => f.pfn <= 8),
    { pfn: 10, kind: 'pmd-table', refcount: 1, entries: [{ t: 'table', pfn: 11 }] },
    { pfn: 11, kind: 'pte-table', refcount: 1, ptes: [rw(12)] },
    { pfn: 12, kind: 'data', refcount: 1 },
    { pfn: 32, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 33 }] },
    { pfn: 33, kind: 'pud-table', refcount: 1, entries: [{ t: 'table', pfn: 1 }, { t: 'none' }, { t: 'table', pfn: 10 }] },
  ],
  files: [{ name: 'file', hpage: [0, 0, 6, 8] }],
  mms: [{
    pgd: 32,
    vmas: [
      { start: 0, end: 4, kind: 'anon', anon_vma: true },
      { start: 8, end: 16, kind: 'file', file: 0, pgoff: 8, anon_vma: false },
      { start: 32, end: 48, kind: 'anon', anon_vma: true },
    ],
  }],
};

/** The default layout for mm 0 (the parent), and mm 1 with no VMA and an empty pgd (34): the child
 *  that fork's dup_mmap() fills, allocating its tables from the free frames 9..31 and 35..47. */
export const FORK_WORLD: World = {
  name: 'fork',
  summary: 'the default layout, and an empty mm 1 for fork() to copy it into (dup_mmap, copy_page_range)',
  nrFrames: 48,
  frames: [...DEFAULT_WORLD.frames, { pfn: 34, kind: 'pgd', refcount: 1 }],
  files: DEFAULT_WORLD.files,
  mms: [DEFAULT_WORLD.mms[0]!, { pgd: 34, vmas: [] }],
};

export const WORLDS: readonly World[] = [DEFAULT_WORLD, SHARED_FILE_WORLD, TWO_PMD_TABLES_WORLD, MREMAP_WORLD, FORK_WORLD];
