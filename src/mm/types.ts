// The state of the reference model: frames, mms, files, CPUs, RCU and IPIs.
//
// Everything is a plain mutable object, built fresh for each execution and never cloned while it runs.
// Collections that are iterated are arrays indexed by number (pfn, cpu, slot, address), so that no
// iteration order depends on insertion order.

import type { Level, PmdEntry, PteEntry } from './entries.js';
import type { World } from './world/types.js';
import type { MmEvent } from './events.js';
import type { ArchId, Arch } from './arch.js';
import type { Switches } from './switches.js';
import type { FlushRange } from './cpu.js';
import type { MmuNotifier } from './mmu_notifier.js';

export type ActorId = number;
export const NOBODY: ActorId = -1;

export type FrameKind = 'reserved' | 'free' | 'data' | 'huge' | 'pte-table' | 'pmd-table' | 'pud-table' | 'pgd';

/** The frame kind of a table at each level. */
export const TABLE_KIND = { pgd: 'pgd', pud: 'pud-table', pmd: 'pmd-table', pte: 'pte-table' } as const satisfies Record<Level, FrameKind>;

/** Is a frame of this kind a page table, at any level (the pgd included)? */
export const isTableKind = (k: FrameKind): boolean => k === 'pte-table' || k === 'pmd-table' || k === 'pud-table' || k === 'pgd';

/** A spinlock. `owner` is the actor that holds it. */
export interface SpinLock {
  name: string;
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
  /** The split page-table lock (ptlock_ptr(page)): lives in the struct page, so it goes with it. For a
   *  pmd table it is pmd_lock() (USE_SPLIT_PMD_PTLOCKS). Its name follows the frame's kind. */
  readonly ptl: SpinLock;
  /** PTE table contents (kind pte-table); for other kinds, left as it was (a freed table still holds
   *  its old entries, which is what a use-after-free reads). Protected by `ptl`. */
  readonly ptes: PteEntry[];
  /** Upper-level table contents (pgd, pud and pmd tables): the two 32-bit halves of each entry (see
   *  entries.ts). A pmd is changed under this frame's ptl (pmd_lock); a pud or pgd entry under
   *  mm->page_table_lock. Left as they were when the frame is freed, like `ptes`. */
  readonly lo: number[];
  readonly hi: number[];
  /** pmd tables: pgtable_trans_huge_deposit()'s pte table kept for each huge pmd, by entry (0 if
   *  none). The kernel keeps one list per pmd table page (pmd_huge_pte), under pmd_lock. */
  readonly deposited: number[];
  /** PG_locked: the task that holds the page lock (lock_page / find_lock_page / folio_trylock). */
  pg_locked: ActorId;
  /** Data pages: how many page-table entries map it (total_mapcount(): a pte per subpage, one for a
   *  huge pmd). Changed by page_add_*_rmap() and page_remove_rmap() (rmap.ts). */
  mapcount: number;
  /** PG_dirty: set_page_dirty() moved a pte's dirty bit here; writeback would write it out. */
  dirty: boolean;
  /** page->mapping: the file (index in Model.files) whose page cache holds it, or -1 (anon, tables). */
  mapping: number;
  /** The last step at which copy_user_highpage() copied it (COW, collapse); -1 if never. */
  copiedAt: number;
  /** The last step that changed its refcount (allocation included) and its mapcount; -1: none. So
   *  that an end-of-run audit names the step behind a mismatch. */
  refStep: number;
  mapStep: number;
  /** The model's own bookkeeping: contents were written through a pointer since the last reset (a
   *  stray write to a never-allocated frame must not survive into the next execution). */
  written: boolean;
  /** The ptl's name while the frame is free (or a pte table), and while it is a pmd table. */
  readonly ptlFree: string;
  readonly ptlPmd: string;
}

export interface Vma {
  readonly id: number;
  /** vma->vm_mm: the id of the mm it belongs to. */
  readonly mm: number;
  /** [start, end) in pages. */
  start: number;
  end: number;
  readonly kind: 'anon' | 'file';
  /** vma->vm_file: index of the file in Model.files, or -1 for anon. */
  readonly file: number;
  /** vma->vm_pgoff: the file page that `start` maps. */
  pgoff: number;
  /** VM_SHARED. */
  readonly shared: boolean;
  /** vma->anon_vma: set by the first anon fault (anon_vma_prepare) in a file vma that is written to. */
  anon_vma: boolean;
  /** Unlinked from the mm's VMA tree by munmap (under mmap_lock for write). */
  detached: boolean;
  /** Still linked in i_mmap (file) or its anon_vma: what rmap walkers find. Cleared by
   *  free_pgtables() under i_mmap_rwsem / the anon_vma lock, before the tables go. */
  inRmap: boolean;
  // VMAs that change (vma.ts, vma_lock.ts):
  /** The anon_vma whose interval tree links this VMA (anon_vma_chain), named by the mm whose
   *  `anon_vma_lock` is its root's rwsem. The world builder sets the VMA's own mm; the VMAs of a
   *  forked child would name their parent's. Meaningful while `anon_vma` is set. */
  anon_vma_id: number;
  /** vma->vm_lock_seq (v6.4+): equals its mm's `mm_lock_seq` while the VMA is write-locked
   *  (vma_start_write); -1 when made (vma_lock_alloc). */
  vm_lock_seq: number;
  /** vma->vm_lock->lock (v6.4+): the per-VMA rwsem that vma_start_read() trylocks for read. */
  readonly vm_lock: RwSem;
  /** vm_flags' VM_READ | VM_WRITE as PROT_READ | PROT_WRITE bits (mprotect.ts), changed by
   *  mprotect_fixup() under mmap_lock for write; absent: both, as every world VMA is mapped. */
  vm_prot?: number | undefined;
}

/** A file: its i_mmap_rwsem, its i_mmap tree and its page cache. */
export interface AddressSpace {
  readonly id: number;
  readonly name: string;
  readonly i_mmap_rwsem: RwSem;
  /** mapping->i_mmap: the VMAs linked by __vma_link_file() and not yet removed, in interval-tree
   *  order (by vm_pgoff, then insertion; rmap_tree.ts). */
  readonly i_mmap: Vma[];
  /** Page cache: the compound page backing each PMD-sized range of the file, by huge index
   *  (file page / HPAGE_PMD_NR); 0 if none. */
  readonly hpage: number[];
  // Hugetlb PMD sharing (hugetlb.ts):
  /** A hugetlbfs file: its mappings are VM_HUGETLB (is_vm_hugetlb_page()), its pages hugetlb pages,
   *  counted in no rss, and a pmd table mapping it may be shared between mms (huge_pmd_share()). */
  readonly hugetlbfs: boolean;
}

export interface Mm {
  readonly id: number;
  mm_users: number;
  /** Protects the VMA tree and (by convention) the page-table structure above the pte level. */
  readonly mmap_lock: RwSem;
  /** mm->page_table_lock: what pud_lock() and p4d/pgd population take (__pmd_alloc, __pud_alloc). */
  readonly page_table_lock: SpinLock;
  readonly vmas: Vma[];
  /** The anon_vma lock (one root for the mm's anon VMAs). */
  readonly anon_vma_lock: RwSem;
  /** anon_vma->rb_root of the anon_vma this mm names: the VMAs linked to it (anon_vma_chain_link()
   *  until unlink_anon_vmas()), in interval-tree order (rmap_tree.ts), whether or not vma_link()ed. */
  readonly anon_vma_rb_root: Vma[];
  /** mm->pgd: pfn of the top-level table. */
  readonly pgd: number;
  /** MM_ANONPAGES + MM_FILEPAGES, in pages. */
  rss: number;
  /** mm_pgtables_bytes / PTRS_PER_PTE: pte tables in use, deposited ones included. */
  nr_ptes: number;
  /** mm_inc_nr_pmds(): pmd tables in use. */
  nr_pmds: number;
  /** mm_inc_nr_puds(): pud tables in use. */
  nr_puds: number;
  /** The last step that changed each counter (-1: none), for the end-of-run audit. */
  readonly changedAt: { rss: number; nr_ptes: number; nr_pmds: number; nr_puds: number };
  /** Set by __mmput() when the last mm_users reference is gone and teardown begins. */
  exiting: boolean;
  /** mm->core_state: set by coredump_wait(); what mmget_still_valid() tested until v5.10. */
  core_state: boolean;
  /** khugepaged_scan.mm_slot is this mm's: khugepaged is working on it, so __khugepaged_exit() waits
   *  for its mmap_lock. retract_page_tables() also reaches mms it is not scanning. */
  khugepaged_scanning: boolean;
  /** mm_cpumask(mm), by CPU: the CPUs that run it, which a flush IPI must reach. */
  readonly cpumask: boolean[];
  /** The child of a fork that has not returned yet: its threads are still TASK_NEW (copy_process()
   *  runs wake_up_new_task() only once dup_mmap() is done), so none runs and none is in its
   *  mm_cpumask (fork_child.ts). */
  newTask: boolean;
  /** The fork that was to make this child ended without forking (its thread was zapped before its
   *  syscall began): the child task never existed, and none of its threads runs. */
  noTask: boolean;
  // VMAs that change (vma.ts, vma_lock.ts):
  /** mm->mm_lock_seq (v6.4+): vma_end_write_all() bumps it at mmap_write_unlock() and
   *  mmap_write_downgrade(), which ends every VMA write lock taken under that mmap_lock. */
  mm_lock_seq: number;
  /** mm->write_protect_seq (v5.11+, 57efa1fe5957): copy_page_range() makes it odd while fork
   *  write-protects the parent's ptes; GUP-fast with FOLL_PIN gives up if it is odd or moved. */
  write_protect_seq: number;
  /** The id the next VMA made in this mm gets (vm_area_alloc, vm_area_dup): ids are never reused
   *  within an execution. */
  next_vma_id: number;
  /** mm->notifier_subscriptions: the mmu_notifiers registered on this mm, in registration order
   *  (mmu_notifier_register() adds at the head of an hlist; the model keeps a stable order).
   *  Emptied before each execution, and by mmu_notifier_release(). */
  readonly notifier_subscriptions: MmuNotifier[];
}

/** One mapping of a secondary MMU (a KVM spte): `addr` of the mm it mirrors → frame (pfn, gen), as
 *  the fault that filled it found the frame. `young` is its accessed bit (kvm_age_hva()). */
export interface Spte {
  readonly addr: number;
  readonly pfn: number;
  readonly gen: number;
  young: boolean;
}

/** A secondary MMU (KVM's shadow or TDP page tables, a device's): mappings of an mm's addresses that
 *  no host TLB flush reaches. Only its mmu_notifier subscription keeps them coherent. What the oracle
 *  checks: none of them may outlive its frame. */
export interface SecondaryMmu {
  readonly id: number;
  readonly name: string;
  /** The mm whose addresses it mirrors. */
  readonly mm: number;
  /** Its mappings, one per address, in fill order. */
  readonly spt: Spte[];
}

export interface TlbEntry {
  /** The mm the translation belongs to and its address. */
  readonly mm: number;
  readonly addr: number;
  readonly pfn: number;
  readonly gen: number;
  /** The pte's write permission, cached: a write through a read-only entry faults. */
  readonly writable: boolean;
  /** The pte's dirty bit as the TLB saw it: the first write through a clean entry sets it in the pte. */
  dirty: boolean;
  /** The step at which the walk filled it. */
  readonly since: number;
}

/** A paging-structure cache entry: the entry of `level` for `index` (that level's index in the whole
 *  address space: the pmd slot for a pmd) points at the next table down, (pfn, gen). */
export interface PwcEntry {
  readonly mm: number;
  readonly level: 'pgd' | 'pud' | 'pmd';
  readonly index: number;
  readonly pfn: number;
  readonly gen: number;
}

export interface Cpu {
  readonly id: number;
  /** The actor running on this CPU. */
  readonly actor: ActorId;
  /** The mm whose user thread runs here (in its mm_cpumask, so its TLB may hold it), or -1 for a
   *  kernel thread. */
  readonly mm: number;
  /** A user thread runs here: mm >= 0 and not lazy. */
  readonly inMm: boolean;
  /** Lazy TLB mode: a kernel thread borrows `mm` (cpu_tlbstate.is_lazy). A flush IPI makes it leave
   *  lazy mode for init_mm (switch_mm_irqs_off), out of the mm's cpumask. */
  lazy: boolean;
  /** Whether it starts lazy (what resetModel restores). */
  readonly lazyAtStart: boolean;
  irqsOff: boolean;
  rcuDepth: number;
  /** TLB: the translations this CPU holds, in fill order. */
  readonly tlb: TlbEntry[];
  /** Paging-structure caches, every level, in fill order. */
  readonly pwc: PwcEntry[];
  /** IPIs sent to this CPU and not yet taken (its IRQs are off). */
  readonly pendingIpi: PendingIpi[];
}

export interface PendingIpi {
  readonly from: ActorId;
  /** A flush IPI (flush_tlb_func) invalidates this range; tlb_remove_table_smp_sync's does nothing. */
  readonly flush: FlushRange | null;
}

export interface RcuCallback {
  readonly label: string;
  readonly fn: (m: Model) => void;
  /** CPUs that must pass a quiescent state before the callback may run. */
  readonly waitFor: boolean[];
  waiting: number;
  readonly queuedBy: ActorId;
}

/** The facts about an mm that the scenario sets: mm_users at the start (one per user thread that
 *  will mmput()), and whether khugepaged's scan cursor is on it. */
export interface MmSetup {
  readonly mmUsers: number;
  readonly khugepagedScanning: boolean;
  /** The mm is the child of a fork in the scenario: that actor's id (fork_child.ts); -1 or absent
   *  when no fork makes it. */
  readonly forkedBy?: number;
}

/** Everything an actor can see. Built by buildModel() from a world, mutated in place by the
 *  primitives, and reset from the world before each execution. */
export interface Model {
  readonly archId: ArchId;
  readonly arch: Arch;
  readonly sw: Switches;
  readonly world: World;
  /** Per mm of the world, what the scenario sets. */
  readonly setup: readonly MmSetup[];
  readonly frames: Frame[];
  /** The mms, by id. */
  readonly mms: readonly Mm[];
  /** The files, by id. */
  readonly files: readonly AddressSpace[];
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
  /** How many events the running step made that only a trace records, counted whether tracing or
   *  not: a block or an end that made only such events is a step in both (the executor's step
   *  boundaries, which schedules count, must not depend on tracing). Counted by traceOnly() in events.ts. */
  traceOnly: number;
  /** Per-execution state of actor modules (actorState()): emptied before each execution. */
  readonly actorState: Map<string, unknown>;
  /** Every secondary MMU created in this execution (whether or not still subscribed), by id. */
  readonly smmus: SecondaryMmu[];
}

export type { PmdEntry, PteEntry };
