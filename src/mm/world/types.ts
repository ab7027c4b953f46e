// A world: the initial state of an execution, as a plain value that can be printed, serialised and
// compared. Everything the model holds at the start comes from here (buildModel); nothing else in the
// code states a layout.

import type { PmdEntry, PteEntry } from '../entries.js';

/** A frame that is not free at the start. Tables list their entries by index (missing ones are
 *  none): `ptes` for a pte table, `entries` for a pgd, pud or pmd table. */
export interface WorldFrame {
  readonly pfn: number;
  readonly kind: 'reserved' | 'data' | 'huge' | 'pte-table' | 'pmd-table' | 'pud-table' | 'pgd';
  /** For a pmd table, its share count (hugetlb PMD sharing, v5.10–v6.12): the number of pud
   *  entries that link it, 1 unless it is shared. */
  readonly refcount: number;
  readonly ptes?: readonly PteEntry[];
  readonly entries?: readonly PmdEntry[];
  /** pmd tables: the pte table deposited for a huge pmd, by entry index. */
  readonly deposited?: readonly number[];
  /** Data and huge pages of a file: the file's index in `files` (page->mapping); anon when absent. */
  readonly mapping?: number;
}

export interface WorldVma {
  /** [start, end) in pages. */
  readonly start: number;
  readonly end: number;
  readonly kind: 'anon' | 'file';
  /** For a file VMA: the file's index in `files`, and the file page `start` maps. */
  readonly file?: number;
  readonly pgoff?: number;
  /** VM_SHARED. */
  readonly shared?: boolean;
  /** vma->anon_vma is set (an anon VMA that has faulted, or a private file VMA written to). */
  readonly anon_vma: boolean;
}

export interface WorldMm {
  /** The pfn of its pgd. */
  readonly pgd: number;
  readonly vmas: readonly WorldVma[];
}

export interface WorldFile {
  readonly name: string;
  /** The page cache: the huge page backing each PMD-sized range of the file, by huge index (0: none). */
  readonly hpage: readonly number[];
  /** A hugetlbfs file (hugetlb PMD sharing): a pmd table that maps a PUD range of it with VM_SHARED
   *  may be linked from the puds of several VMAs (checkWorld() says when); false when absent. */
  readonly hugetlbfs?: boolean;
}

export interface World {
  readonly name: string;
  /** One line, for --list. */
  readonly summary: string;
  /** How many frames the machine has (frame 0 reserved). */
  readonly nrFrames: number;
  readonly frames: readonly WorldFrame[];
  readonly files: readonly WorldFile[];
  /** The mms, by id. Which threads run in each is the scenario's to say. */
  readonly mms: readonly WorldMm[];
}
