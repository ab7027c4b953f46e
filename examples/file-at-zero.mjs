// A world of your own: two processes that map one file. mm 0 is the default layout (an anon VMA at
// [0,8), the file at [8,16)); mm 1 maps the same file, and nothing else, at address 0. So file range 2,
// whose huge page 6 khugepaged has just put in the page cache, sits under pmd 2 in mm 0 and under
// pmd 0 in mm 1, and retract_page_tables() reaches both through the file's i_mmap.

import { DEFAULT_WORLD } from 'mmfuzz';

const subpage = (pfn, i) => ({ t: 'present', pfn, sub: i, writable: false, dirty: false });

/** @type {import('mmfuzz').World} */
export const fileAtZero = {
  name: 'file-at-zero',
  summary: 'two mms map one file: mm 0 at [8,16) as in default, mm 1 at [0,8)',
  nrFrames: 42,
  frames: [
    ...DEFAULT_WORLD.frames.filter((f) => f.pfn !== 8),
    { pfn: 8, kind: 'huge', refcount: 9, mapping: 0 },            // the page cache's reference, and 4 ptes in each mm
    { pfn: 34, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 35 }] },
    { pfn: 35, kind: 'pud-table', refcount: 1, entries: [{ t: 'table', pfn: 36 }] },
    { pfn: 36, kind: 'pmd-table', refcount: 1, entries: [{ t: 'table', pfn: 37 }, { t: 'table', pfn: 38 }] },
    { pfn: 37, kind: 'pte-table', refcount: 1 },                  // file range 2: empty, as in mm 0's table 5
    { pfn: 38, kind: 'pte-table', refcount: 1, ptes: [0, 1, 2, 3].map((i) => subpage(8, i)) },
  ],
  files: DEFAULT_WORLD.files,
  mms: [
    DEFAULT_WORLD.mms[0],
    { pgd: 34, vmas: [{ start: 0, end: 8, kind: 'file', file: 0, pgoff: 8, anon_vma: false }] },
  ],
};

export const worlds = [fileAtZero];
