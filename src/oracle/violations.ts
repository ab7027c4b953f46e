// A violation is a typed value. Each names its kind, the frame (where there is one), the step that
// freed or changed what was used (`changedBy`), and the step that used it (`usedBy`).

import type { Level, PmdEntry } from '../mm/entries.js';
import type { FrameKind } from '../mm/types.js';

/** A step of the execution, as the oracle names it. */
export interface StepRef {
  readonly step: number;
  readonly actor: number;
  readonly name: string;
  readonly label: string;
}

interface Base {
  readonly pfn: number | null;
  readonly usedBy: StepRef;
  readonly changedBy: StepRef | null;
  readonly message: string;
}

export type Violation =
  /** A walker read a pte from, or took the ptl of, a table that had been freed. */
  | (Base & { readonly kind: 'table-use-after-free'; readonly via: 'sw' | 'hw' | 'ptl' })
  /** ... a table freed and allocated again since the walker took its pointer. */
  | (Base & { readonly kind: 'table-reused'; readonly via: 'sw' | 'hw' | 'ptl'; readonly nowKind: FrameKind })
  /** ... frame 0, as pmd_page() of a none pmd gives ("BUG: Bad page map ... pmd:00000000"). */
  | (Base & { readonly kind: 'frame-zero-walked'; readonly via: 'sw' | 'hw' | 'ptl'; readonly level: Level })
  /** ... a frame that is not a table of the level walked (a torn or huge pmd taken for a table). */
  | (Base & { readonly kind: 'bogus-table-walked'; readonly via: 'sw' | 'hw' | 'ptl'; readonly nowKind: FrameKind; readonly level: Level })
  /** A TLB or paging-structure cache entry still points to a frame being freed. */
  | (Base & { readonly kind: 'stale-tlb'; readonly cpu: number; readonly cache: 'tlb' | 'pwc' })
  /** A user access went through a TLB entry to a freed or reused frame. */
  | (Base & { readonly kind: 'stale-tlb-access'; readonly cpu: number; readonly addr: number })
  /** A user access that an mprotect() which had already returned forbids (a write after PROT_READ,
   *  any access after PROT_NONE), through a TLB entry filled before that mprotect() returned: its
   *  flush missed the entry. `changedBy` is the mprotect()'s return. */
  | (Base & { readonly kind: 'stale-tlb-protection'; readonly cpu: number; readonly addr: number })
  /** A secondary MMU (a KVM spte) still maps a frame being freed, or an address whose pmd was changed
   *  under it, or (at the end) an address the primary tables no longer map to that frame: an
   *  invalidation it needed never reached it (no mmu_notifier_invalidate_range_start()). `usedBy` is the
   *  step that filled the mapping. */
  | (Base & { readonly kind: 'stale-secondary-mapping'; readonly smmu: number; readonly addr: number })
  /** An access through a secondary mapping went to a freed or reused frame. */
  | (Base & { readonly kind: 'stale-secondary-access'; readonly smmu: number; readonly addr: number })
  /** get_page() on a page that is free. */
  | (Base & { readonly kind: 'ref-on-freed-frame' })
  /** A page with a GUP pin outstanding was freed. */
  | (Base & { readonly kind: 'freed-while-pinned'; readonly addr: number })
  /** A GUP pin on a page that khugepaged copied and replaced while GUP ran: writes through it are lost. */
  | (Base & { readonly kind: 'stale-pin'; readonly addr: number; readonly copy: number })
  /** A pmd value that was never stored at any instant of the read. */
  | (Base & { readonly kind: 'torn-pmd-read'; readonly slot: number; readonly lo: number; readonly hi: number })
  /** pmd_clear_bad() cleared a valid mapping. */
  | (Base & { readonly kind: 'valid-mapping-cleared'; readonly slot: number; readonly old: PmdEntry })
  /** An entry was stored (pmd_populate, set_pmd_at, pud_populate, p4d_populate, set_pte_at, ...) that
   *  points at frame 0, a free frame, or a frame that is not what it must point at: a pmd table entry
   *  at a pte table, a huge pmd at a huge page, a pte at a data page. `level` is the entry's, `nowKind`
   *  what the frame was at the store, `how` the store; `changedBy` the step that last freed it. */
  | (Base & { readonly kind: 'bad-entry-installed'; readonly level: Level; readonly nowKind: FrameKind; readonly entry: string; readonly how: string })
  /** A zap that had to remove every mapping in its range left one. */
  | (Base & { readonly kind: 'mapping-survives-zap'; readonly addr: number })
  /** A write that is lost: a dirty file pte cleared without set_page_dirty(), or a write through a TLB
   *  entry to a page that was copied (COW, collapse) after the entry was filled. */
  | (Base & { readonly kind: 'lost-write'; readonly how: 'dirty-bit-dropped' | 'write-after-copy' | 'write-after-clear' })
  /** At the end: a page's mapcount disagrees with the entries that map it. */
  | (Base & { readonly kind: 'bad-mapcount'; readonly mapcount: number; readonly maps: number })
  /** fork write-protected an anon page that holds a GUP pin and shared it with the child: the
   *  parent's next write breaks COW away from the pinned page, so what the device writes through the
   *  pin the parent never sees ("GUP after fork"; 70e806e4e645, 57efa1fe5957). */
  | (Base & { readonly kind: 'pinned-page-cow-shared'; readonly addr: number })
  /** GUP returned a page that the address did not map at any instant while GUP ran. */
  | (Base & { readonly kind: 'gup-wrong-page'; readonly addr: number })
  /** A VMA changed (linked, split, merged, moved, detached) without mmap_lock held for write. */
  | (Base & { readonly kind: 'vma-change-without-mmap-lock'; readonly where: string })
  /** A pte written without its table's ptl. */
  | (Base & { readonly kind: 'pte-write-without-ptl'; readonly idx: number })
  /** A pmd installed (a table or a huge page) without pmd_lock, and without mmap_lock for write. */
  | (Base & { readonly kind: 'pmd-install-without-pmd-lock'; readonly idx: number })
  /** A file page was mapped after it left its file's page cache (truncated or punched out): the
   *  page lock and the page->mapping and i_size re-checks of the fault path are what prevent it. */
  | (Base & { readonly kind: 'truncated-page-mapped'; readonly file: number })
  /** BUG_ON() in the modelled code. */
  | (Base & { readonly kind: 'kernel-bug' })
  /** At the end: a frame allocated that nothing refers to, or a refcount above its references. */
  | (Base & { readonly kind: 'leak'; readonly refcount: number; readonly refs: number })
  /** At the end: a refcount below its references, or an entry pointing to a free frame. */
  | (Base & { readonly kind: 'bad-refcount'; readonly refcount: number; readonly refs: number })
  /** At the end: rss or an nr_* counter disagrees with the tables. */
  | (Base & { readonly kind: 'counter-mismatch'; readonly counter: 'rss' | 'nr_ptes' | 'nr_pmds' | 'nr_puds'; readonly value: number; readonly expected: number })
  /** Every actor left is blocked. */
  | (Base & { readonly kind: 'deadlock'; readonly blocked: readonly string[] })
  /** A finished actor still holds a lock, IRQs off or an RCU read side. */
  | (Base & { readonly kind: 'lock-held-at-exit'; readonly what: string });

export type ViolationKind = Violation['kind'];

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'table-use-after-free', 'table-reused', 'frame-zero-walked', 'bogus-table-walked', 'stale-tlb', 'stale-tlb-access', 'stale-tlb-protection',
  'stale-secondary-mapping', 'stale-secondary-access', 'ref-on-freed-frame', 'freed-while-pinned', 'stale-pin', 'torn-pmd-read',
  'valid-mapping-cleared', 'bad-entry-installed', 'mapping-survives-zap', 'lost-write', 'bad-mapcount', 'gup-wrong-page',
  'pinned-page-cow-shared',
  'pte-write-without-ptl', 'pmd-install-without-pmd-lock', 'vma-change-without-mmap-lock', 'kernel-bug', 'leak', 'bad-refcount', 'counter-mismatch', 'deadlock',
  'lock-held-at-exit', 'truncated-page-mapped',
];
