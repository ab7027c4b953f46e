// What a step did, as the model's primitives record it. The executor hands each step's events to the
// oracle (which checks them) and, when a trace is wanted, to the trace (which shows them). The model
// never looks at them again: this is the only way facts flow out of it.

import type { Level, PmdEntry, PteEntry } from './entries.js';
import type { ActorId, FrameKind, Model } from './types.js';

/** How a frame went back to the allocator. */
export type FreeHow = 'now' | 'after-flush' | 'rcu';

export type MmEvent =
  /** A pmd changed. `how` is the store primitive; `half-lo`/`half-hi` are one 32-bit half (PAE). */
  | { readonly e: 'pmd-store'; readonly table: number; readonly idx: number; readonly slot: number; readonly mm: number;
      readonly old: PmdEntry; readonly now: PmdEntry; readonly how: string }
  /** A pmd value was read and is about to be acted on. For a two-step read, `since` is the step of the
   *  first half: the value must have been stored at some instant in [since, now]. */
  | { readonly e: 'pmd-read'; readonly table: number; readonly idx: number; readonly slot: number; readonly lo: number; readonly hi: number; readonly since: number }
  /** What a pmd read returned: recorded only when a trace is wanted (Model.tracing), for the trace. */
  | { readonly e: 'pmd-load'; readonly slot: number; readonly mm: number; readonly value: PmdEntry }
  /** A pgd or pud entry changed (a table hooked in or taken out). */
  | { readonly e: 'upper-store'; readonly level: 'pgd' | 'pud'; readonly table: number; readonly idx: number; readonly old: PmdEntry; readonly now: PmdEntry; readonly how: string }
  /** pmd_clear_bad(): a walker cleared a pmd it judged corrupt. */
  | { readonly e: 'pmd-clear-bad'; readonly slot: number; readonly old: PmdEntry }
  /** An entry of a `level` table was read or written through a table pointer (pfn, gen) taken
   *  earlier; `frameKind` and `frameGen` are the frame's state at that instant. `via` says who walked. */
  | { readonly e: 'table-access'; readonly pfn: number; readonly gen: number; readonly frameKind: FrameKind;
      readonly frameGen: number; readonly idx: number; readonly write: boolean; readonly via: 'sw' | 'hw' | 'ptl'; readonly cpu: number;
      readonly level: Level }
  | { readonly e: 'pte-store'; readonly pfn: number; readonly idx: number; readonly old: PteEntry; readonly now: PteEntry }
  /** An entry of `level` (in table `table`, index `idx`) was stored that points at frame `pfn`, which
   *  is not what such an entry may point at (installSuspect): recorded only then. `frameKind` and
   *  `frameGen` are the frame's state at the store; `want` what it had to be (installWant); `entry`
   *  the value stored, printed. */
  | { readonly e: 'entry-install'; readonly level: Level; readonly table: number; readonly idx: number; readonly entry: string;
      readonly pfn: number; readonly want: readonly FrameKind[]; readonly frameKind: FrameKind; readonly frameGen: number; readonly how: string }
  | { readonly e: 'alloc'; readonly pfn: number; readonly kind: FrameKind }
  /** A pmd table was allocated: its entries are zero from now on (always recorded, for the oracle's
   *  history of what each pmd held). */
  | { readonly e: 'table-zeroed'; readonly pfn: number; readonly kind: 'pmd-table' | 'pte-table' }
  | { readonly e: 'free'; readonly pfn: number; readonly kind: FrameKind; readonly how: FreeHow }
  /** A reference taken on a data page. `speculative` is get_page_unless_zero (fails on 0). */
  | { readonly e: 'ref-get'; readonly pfn: number; readonly frameKind: FrameKind; readonly ok: boolean; readonly speculative: boolean }
  | { readonly e: 'ref-put'; readonly pfn: number }
  /** A GUP returned `pfn` for `addr`; it started at step `since`. */
  | { readonly e: 'pin'; readonly mm: number; readonly addr: number; readonly pfn: number; readonly since: number }
  | { readonly e: 'unpin'; readonly addr: number; readonly pfn: number }
  /** fork (copy_present_pte(), copy_huge_pmd()) write-protected the anon page `pfn` at `addr` of the
   *  parent `mm` and mapped it into the child `child` too: COW-shared from now on. */
  | { readonly e: 'cow-share'; readonly mm: number; readonly child: number; readonly addr: number; readonly pfn: number }
  /** khugepaged copied `from` into the huge page `to`, to replace its mapping at `addr`. */
  | { readonly e: 'copy'; readonly addr: number; readonly from: number; readonly to: number }
  | { readonly e: 'tlb-fill'; readonly cpu: number; readonly mm: number; readonly addr: number; readonly pfn: number }
  /** A paging-structure cache entry: `level`'s entry `index` points at table `pfn`. */
  | { readonly e: 'pwc-fill'; readonly cpu: number; readonly level: 'pgd' | 'pud' | 'pmd'; readonly index: number; readonly pfn: number }
  /** A user access through the TLB; `frameGen`/`frameKind` as at the access. */
  | { readonly e: 'hw-access'; readonly cpu: number; readonly addr: number; readonly pfn: number; readonly gen: number;
      readonly write: boolean; readonly since: number; readonly copiedAt: number;
      /** A write through a dirty TLB entry that neither the live pte nor PG_dirty records. */
      readonly unseen?: boolean;
      readonly frameKind: FrameKind; readonly frameGen: number }
  | { readonly e: 'lock'; readonly lock: string; readonly mode: 'spin' | 'read' | 'write' | 'downgrade' }
  | { readonly e: 'unlock'; readonly lock: string; readonly mode: 'spin' | 'read' | 'write' }
  | { readonly e: 'trylock-failed'; readonly lock: string }
  | { readonly e: 'irq'; readonly cpu: number; readonly off: boolean }
  | { readonly e: 'rcu'; readonly cpu: number; readonly depth: number }
  | { readonly e: 'ipi-send'; readonly from: number; readonly to: readonly number[]; readonly pending: readonly number[] }
  | { readonly e: 'ipi-take'; readonly cpu: number; readonly from: ActorId }
  /** TLB and paging-structure caches invalidated on these CPUs. */
  | { readonly e: 'flush'; readonly cpus: readonly number[]; readonly how: 'ipi' | 'broadcast' | 'hypercall' | 'local' }
  | { readonly e: 'call-rcu'; readonly label: string; readonly waitFor: readonly number[] }
  | { readonly e: 'mm-users'; readonly mm: number; readonly now: number }
  /** A secondary MMU installed a mapping of `addr` of `mm` to `pfn` (KVM: an spte). */
  | { readonly e: 'smmu-fill'; readonly smmu: number; readonly mm: number; readonly addr: number; readonly pfn: number }
  /** An access through a secondary mapping (pfn, gen); `frameKind`/`frameGen` as at the access.
   *  Recorded when tracing, or when suspect (smmuAccessSuspect). */
  | { readonly e: 'smmu-access'; readonly smmu: number; readonly addr: number; readonly pfn: number; readonly gen: number;
      readonly frameKind: FrameKind; readonly frameGen: number }
  /** A secondary MMU dropped its mappings in [start, end) (trace only). */
  | { readonly e: 'smmu-zap'; readonly smmu: number; readonly start: number; readonly end: number; readonly dropped: number }
  /** An mmu_notifier call reached the mm's subscribers (trace only). */
  | { readonly e: 'mmu-notifier'; readonly call: string; readonly mm: number; readonly start: number; readonly end: number; readonly event: string }
  /** A zap that must leave nothing mapped in [start, end) has finished. */
  | { readonly e: 'zap-done'; readonly mm: number; readonly start: number; readonly end: number }
  /** An entry written without the lock the kernel writes it under (lockdep's view): a pte without
   *  its table's ptl, a pmd installed without pmd_lock or mmap_lock for write. */
  | { readonly e: 'unlocked-write'; readonly level: 'pte' | 'pmd'; readonly pfn: number; readonly idx: number; readonly lock: string }
  /** A dirty pte of a file page was cleared or replaced: set_page_dirty() must follow. */
  | { readonly e: 'dirty-pte-cleared'; readonly pfn: number; readonly table: number; readonly idx: number }
  /** A VMA was changed without mmap_lock held for write (mmap_assert_write_locked() fired). */
  | { readonly e: 'vma-unlocked'; readonly mm: number; readonly where: string; readonly msg: string }
  /** page_add_file_rmap(): a file page is being mapped into a VMA of file `file`; `inCache`: it is
   *  still in that file's page cache (page->mapping is the file). */
  | { readonly e: 'file-rmap'; readonly pfn: number; readonly file: number; readonly inCache: boolean }
  /** A page left its file's page cache (page_cache_delete(), __remove_mapping()). */
  | { readonly e: 'cache-remove'; readonly pfn: number; readonly file: number }
  /** set_page_dirty(): a pte's dirty bit moved to the page. */
  | { readonly e: 'page-dirty'; readonly pfn: number }
  /** BUG_ON() / VM_BUG_ON() in the modelled code. */
  | { readonly e: 'bug'; readonly msg: string }
  /** mprotect() of [start, end) returned: from now on no CPU may access the range beyond `prot`
   *  (PROT_READ | PROT_WRITE bits) through a TLB entry filled before (mprotect.ts). */
  | { readonly e: 'prot-done'; readonly mm: number; readonly start: number; readonly end: number; readonly prot: number }
  /** A user thread (touch) accessed `addr` through its TLB entry for `pfn`, filled at step `since`
   *  (always recorded: the oracle judges it against the mprotect() calls that returned since). */
  | { readonly e: 'user-access'; readonly cpu: number; readonly mm: number; readonly addr: number; readonly pfn: number;
      readonly write: boolean; readonly since: number };

// Most table accesses are sound; the oracle only judges the others. So that campaigns do not
// allocate an event for every pte read, the model records a sound access only when tracing. These
// predicates are the one definition of "not sound" that the model and the oracle both use.

/** A table access through (pfn, gen) to a frame now (frameKind, frameGen) that the oracle must judge:
 *  frame 0, a freed or reused frame, or one that is not a table of the level walked (`want`). */
export function tableAccessSuspect(pfn: number, gen: number, frameKind: FrameKind, frameGen: number, want: FrameKind): boolean {
  return pfn === 0 || frameKind !== want || frameGen !== gen;
}

/** A user access through a TLB entry (pfn, gen, filled at step `since`) to a frame that is free or was
 *  freed since, or a write to a page copied since the entry was filled (the copy will not see it). */
export function tlbAccessSuspect(gen: number, frameKind: FrameKind, frameGen: number, write = false, since = 0, copiedAt = -1): boolean {
  return frameKind === 'free' || frameGen !== gen || (write && copiedAt >= since);
}

/** An access through a secondary mapping (pfn, gen) to a frame that is free or was freed since. */
export function smmuAccessSuspect(gen: number, frameKind: FrameKind, frameGen: number): boolean {
  return frameKind === 'free' || frameGen !== gen;
}

/** An unconditional reference taken on a free page. */
export function refGetSuspect(speculative: boolean, frameKind: FrameKind): boolean {
  return !speculative && frameKind === 'free';
}

/** What the frame an entry of `level` points at must be: a pgd entry's a pud table, a pud's a pmd
 *  table, a pmd table entry's a pte table; a huge pmd (present, protnone or invalidated) and a THP
 *  migration entry a huge page; a pte (present or migration) a data page or a subpage of a huge one,
 *  and a special pte (the zero page, PFNMAP) may also map a reserved frame. Null for an entry that
 *  points at nothing: none, swap, a huge pud, a torn value. */
export function installWant(level: Level, e: PmdEntry | PteEntry): readonly FrameKind[] | null {
  switch (e.t) {
    case 'table': return level === 'pgd' ? PUD_TABLE : level === 'pud' ? PMD_TABLE : level === 'pmd' ? PTE_TABLE : null;
    case 'huge': case 'invalid-huge': return level === 'pmd' ? HUGE : null;
    case 'migration': return level === 'pmd' ? HUGE : DATA;
    case 'present': return e.special ? SPECIAL : DATA;
    default: return null;
  }
}
const PUD_TABLE: readonly FrameKind[] = ['pud-table'];
const PMD_TABLE: readonly FrameKind[] = ['pmd-table'];
const PTE_TABLE: readonly FrameKind[] = ['pte-table'];
const HUGE: readonly FrameKind[] = ['huge'];
const DATA: readonly FrameKind[] = ['data', 'huge'];
const SPECIAL: readonly FrameKind[] = ['data', 'huge', 'reserved'];

/** An entry that points at `pfn`, now a `frameKind` frame, where it may point only at `want`: frame 0
 *  (never a page a mapping or a table may use), a free frame, or a frame of another kind. */
export function installSuspect(pfn: number, frameKind: FrameKind, want: readonly FrameKind[]): boolean {
  return pfn === 0 || !want.includes(frameKind);
}

/** Guard of an event only a trace records: counts it whether tracing or not (Model.traceOnly: what
 *  is a step must not depend on tracing), and says whether to record it. */
export function traceOnly(m: Model): boolean {
  m.traceOnly++;
  return m.tracing;
}
