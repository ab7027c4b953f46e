// The state of the reference model: frames, the mm, CPUs, RCU and IPIs.
//
// Everything is a plain mutable object, built fresh for each execution and never cloned while it runs.
// Collections that are iterated are arrays indexed by number (pfn, cpu, slot, address), so that no
// iteration order depends on insertion order.

import type { PmdEntry, PteEntry } from './entries.js';
import type { MmEvent } from './events.js';
import type { ArchId, Arch } from './arch.js';
import type { Switches } from './switches.js';

export type ActorId = number;
export const NOBODY: ActorId = -1;

export type FrameKind = 'reserved' | 'free' | 'data' | 'huge' | 'pte-table' | 'pmd-table';

/** A spinlock. `owner` is the actor that holds it. */
export interface SpinLock {
  readonly name: string;
  owner: ActorId;
}

/** An rwsem: mmap_lock, i_mmap_rwsem, the anon_vma lock. `readers` is kept sorted by actor id. */
export interface RwSem {
  readonly name: string;
  writer: ActorId;
  readers: ActorId[];
}

/** A physical page. `gen` is bumped at every allocation and every free, so a pointer taken as
 *  (pfn, gen) tells a freed or reused frame from the live one. */
export interface Frame {
  readonly pfn: number;
  kind: FrameKind;
  refcount: number;
  /** Bumped on alloc and free. */
  gen: number;
  /** The split page-table lock (ptlock_ptr(page)): lives in the struct page, so it goes with it. */
  readonly ptl: SpinLock;
  /** PTE table contents (kind pte-table); for other kinds, left as it was (a freed table still holds
   *  its old entries, which is what a use-after-free reads). Protected by `ptl`. */
  readonly ptes: PteEntry[];
  /** PG_locked: the task that holds the page lock (lock_page / find_lock_page / folio_trylock). */
  pg_locked: ActorId;
}

export interface Vma {
  readonly id: number;
  /** [start, end) in pages; PMD-aligned in the default layout. */
  readonly start: number;
  readonly end: number;
  readonly kind: 'anon' | 'file';
  /** vma->anon_vma: set by the first anon fault (anon_vma_prepare) in a file vma that is written to. */
  anon_vma: boolean;
  /** Unlinked from the mm's VMA tree by munmap (under mmap_lock for write). */
  detached: boolean;
  /** Still linked in i_mmap (file) or its anon_vma: what rmap walkers find. Cleared by
   *  free_pgtables() under i_mmap_rwsem / the anon_vma lock, before the tables go. */
  inRmap: boolean;
}

/** The file behind file VMAs: its i_mmap_rwsem and its page cache. */
export interface AddressSpace {
  readonly i_mmap_rwsem: RwSem;
  /** Page cache: the compound page backing each PMD-sized file range, by pmd slot (0 if none). */
  readonly hpage: number[];
}

export interface Mm {
  mm_users: number;
  /** Protects the VMA list and (by convention) the page-table structure above the pte level. */
  readonly mmap_lock: RwSem;
  readonly vmas: Vma[];
  /** The anon_vma lock (one root for the mm's anon VMAs). */
  readonly anon_vma_lock: RwSem;
  /** The PMD table: pfn of its frame. Its slots live in `pmd_lo` / `pmd_hi`. */
  readonly pmdTable: number;
  /** The two 32-bit halves of each pmd (see entries.ts). Protected by pmd_lock (the pmd page's ptl). */
  readonly pmd_lo: number[];
  readonly pmd_hi: number[];
  /** pgtable_trans_huge_deposit(): the pte table kept for each huge pmd, by slot (0 if none). */
  readonly deposited: number[];
  /** MM_ANONPAGES + MM_FILEPAGES, in pages. */
  rss: number;
  /** mm_pgtables_bytes / PTRS_PER_PTE: pte tables in use, deposited ones included. */
  nr_ptes: number;
  /** Set by __mmput() when the last mm_users reference is gone and teardown begins. */
  exiting: boolean;
  /** mm->core_state: set by coredump_wait(); what mmget_still_valid() tested until v5.10. */
  core_state: boolean;
  /** khugepaged_scan.mm_slot is this mm's: khugepaged is working on it, so __khugepaged_exit() waits
   *  for its mmap_lock. retract_page_tables() also reaches mms it is not scanning. */
  readonly khugepaged_scanning: boolean;
}

export interface TlbEntry {
  readonly pfn: number;
  readonly gen: number;
}

export interface Cpu {
  readonly id: number;
  /** The actor running on this CPU. */
  readonly actor: ActorId;
  /** A user thread of the mm runs here, so the CPU is in mm_cpumask and its TLB may hold the mm. */
  readonly inMm: boolean;
  irqsOff: boolean;
  rcuDepth: number;
  /** TLB, by address: the data frame the address translates to. */
  readonly tlb: (TlbEntry | null)[];
  /** Paging-structure cache, by pmd slot: the pte table a walk will use without reading the pmd. */
  readonly pwc: (TlbEntry | null)[];
  /** IPIs sent to this CPU and not yet taken (its IRQs are off). */
  readonly pendingIpi: PendingIpi[];
}

export interface PendingIpi {
  readonly from: ActorId;
  /** A flush IPI (flush_tlb_func) empties the TLB; tlb_remove_table_smp_sync does nothing. */
  readonly flush: boolean;
}

export interface RcuCallback {
  readonly label: string;
  readonly fn: (m: Model) => void;
  /** CPUs that must pass a quiescent state before the callback may run. */
  readonly waitFor: boolean[];
  waiting: number;
  readonly queuedBy: ActorId;
}

/** The facts about the mm that the scenario sets: mm_users at the start (one per user thread that
 *  will mmput()), and whether khugepaged's scan cursor is on this mm. */
export interface MmSetup {
  readonly mmUsers: number;
  readonly khugepagedScanning: boolean;
}

/** Everything an actor can see. Built by buildModel(), mutated in place by the primitives. */
export interface Model {
  readonly archId: ArchId;
  readonly arch: Arch;
  readonly sw: Switches;
  readonly setup: MmSetup;
  readonly frames: Frame[];
  readonly mm: Mm;
  readonly file: AddressSpace;
  readonly cpus: Cpu[];
  /** call_rcu() callbacks in order of queueing. */
  readonly rcu: RcuCallback[];
  /** Events of the step that is running; the executor hands them to the oracle and clears them. */
  readonly events: MmEvent[];
  /** Draws a data choice (which free frame, which address) from the schedule. Set by the executor. */
  choose: (n: number, what: string) => number;
  /** Index of the step being run (for events that remember when). */
  step: number;
  /** Record the events that only the trace needs (what each pmd read returned). */
  tracing: boolean;
}

export type { PmdEntry, PteEntry };
