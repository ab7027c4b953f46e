// mmfuzz's public API: what an actor is written with. The primitives (entry loads and stores, locks,
// IRQs, RCU, TLB flushes, table freeing, frames and references), the types of the state an actor may
// read, the kernel helpers the built-in actors share, and the built-in actors themselves, to start
// from a copy of one. Nothing of the executor's internals.

export type { ActorDef, Args, ParamSpec } from './mm/actor.js';
export { blockUntil, call, step, type ActorGen, type Ctx, type Yield } from './mm/step.js';
export type { AddressSpace, Cpu, Frame, FrameKind, Mm, MmSetup, Model, PwcEntry, RwSem, SecondaryMmu, SpinLock, Spte, TlbEntry, Vma } from './mm/types.js';
export type { MmEvent, FreeHow } from './mm/events.js';
// Entries: every kind (none, table, huge, invalidated, migration, swap, protnone and the software
// bits), and the pmd predicates, which take the architecture: pmd_present(c.m.arch, v.entry).
export {
  HPAGE_PMD_NR, MAX_SWAPFILES, NR_PAGES, PGDIR_PAGES, PMD_PAGES, PTRS_PER_PGD, PTRS_PER_PMD, PTRS_PER_PTE, PTRS_PER_PUD, PUD_PAGES,
  SWP_OFFSET_MAX, TASK_PAGES, fmtPmd, fmtPte, is_swap_pmd, is_swap_pte, pgdIndex, pmd_bad, pmd_hw_huge, pmd_mkinvalid, pmd_none,
  pmd_pfn, pmd_present, pmd_protnone, pmd_trans_huge, pmdAddr, pmdIndex, pmdSame, pmdTableIndex, pte_hw_valid, pte_none,
  pte_present, pte_protnone, pteIndex, pteSame, pudIndex, type Level, type MappingBits, type PmdEntry, type PmdOps,
  type PteBits, type PteEntry, type SwapBits,
} from './mm/entries.js';
// Worlds: the initial state as data, the shipped ones, and registering one's own.
export type { World, WorldFile, WorldFrame, WorldMm, WorldVma } from './mm/world/types.js';
export { DEFAULT_WORLD, FORK_WORLD, SHARED_FILE_WORLD, TWO_PMD_TABLES_WORLD, MREMAP_WORLD, WORLDS } from './mm/world/worlds.js';
export { MREMAP_TEST_SWITCHES, move_page_tables, move_ptes, move_normal_pmd, move_normal_pud, move_huge_pmd } from './mm/mremap.js';
export { allWorlds, checkWorld, registerWorld, worldOf } from './mm/world/registry.js';
export { buildModel, resetModel, countTables, type CpuSpec } from './mm/world/build.js';
// Walking to a pmd (pgd → pud → pmd), and allocating the upper levels on the fault path.
export { pmd_off, pmd_off_present, pmd_lock, pmdRange, pgtable_trans_huge_deposit, pgtable_trans_huge_withdraw, upperEntry, upperStore, type PmdPtr } from './mm/pgtable.js';
export { pmd_alloc } from './mm/pgalloc.js';
export { forkChildOf } from './mm/fork_child.js';
// Entry loads and stores: atomic (pmd_load), READ_ONCE / plain (pmd_read: two halves on PAE),
// pmdp_get_lockless, pmd_read_atomic; xchg and cmpxchg; pmdp_collapse_flush and pmdp_invalidate.
export {
  pmd_clear, pmd_clear_bad, pmd_load, pmd_lockptr, pmd_populate, pmd_read, pmd_read_atomic, pmd_table, pmd_use,
  pmdEntryAt, pmdp_cmpxchg, pmdp_collapse_flush, pmdp_get_lockless, pmdp_huge_get_and_clear, pmdp_invalidate,
  pmdp_xchg, pte_lockptr, pte_read, pte_write, ptep_get_and_clear, set_pmd_at, spin_lock_ptl, tableNow,
  type PmdVal, type Stepper, type TablePtr,
} from './mm/pgtable.js';
export {
  down_read, down_write, down_write_trylock, downgrade_write, holdsRead, holdsWrite, mmap_read_unlock_step,
  spin_lock, spin_unlock, up_read, up_write,
} from './mm/locks.js';
export { call_rcu, local_irq_restore, local_irq_save, rcu_read_lock, rcu_read_unlock } from './mm/cpu.js';
export { type FlushRange, flushLocal, send_ipi_and_wait } from './mm/cpu.js';
export {
  flush_tlb_mm, flush_tlb_page, flush_tlb_range, wholeMm, pte_free, pte_free_defer, tlb_adjust_range, tlb_finish_mmu, tlb_flush_mmu, tlb_gather_mmu, tlb_remove_page,
  tlb_remove_table, tlb_remove_table_sync_one, type MmuGather,
} from './mm/tlbflush.js';
// MMU notifiers (the mm's side and a subscriber's), and the secondary MMU the built-in kvm actor is.
export {
  mm_has_notifiers, mmu_notifier_arch_invalidate_secondary_tlbs, mmu_notifier_clear_flush_young, mmu_notifier_invalidate_range,
  mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init, mmu_notifier_register,
  mmu_notifier_release, newSecondaryMmu, smmu_install, smmu_zap_range, type MmuNotifier, type MmuNotifierRange, type MmuNotifyEvent,
} from './mm/mmu_notifier.js';
export { guest_access, hva_to_pfn, kvm_create_vm, kvm_page_fault, kvmNotifier, mmu_notifier_retry, type Kvm } from './mm/actors/kvm.js';
export { alloc_page, copy_user_highpage, freeFrame, get_page, get_page_unless_zero, lock_page, page_ref_sub, put_page, trylock_page, unlock_page } from './mm/frames.js';
// Reverse-map accounting, the mm's counters, and per-execution state for actor modules.
export { page_add_rmap, page_remove_rmap, set_page_dirty } from './mm/rmap.js';
export { add_mm_counter, mm_dec_nr_pmds, mm_dec_nr_ptes, mm_dec_nr_puds, mm_inc_nr_pmds, mm_inc_nr_ptes, mm_inc_nr_puds } from './mm/counters.js';
export { actorState } from './mm/actor_state.js';
export { BUG_ON, assert_unmapped } from './mm/bug.js';
// Kernel helpers shared by the built-in actors, as each era has them.
export { mayFailPteMap, pmd_trans_unstable, pte_offset_map_lock, pte_offset_map_rcu, pte_unmap, pte_unmap_unlock } from './mm/walk.js';
export { free_pgd_range, free_pgtables, pgtablesBounds, unmap_vmas, zap_huge_pmd, zap_page_range_single, zap_pmd_range, zap_pte_range } from './mm/zap.js';
export { find_vma, linear_page_index, vma_address, vma_interval_tree_foreach } from './mm/model.js';
// VMAs that change (mm/mmap.c, mm/rmap.c) and per-VMA locks (include/linux/mm.h, mmap_lock.h, v6.4+).
export {
  __split_vma, anon_vma_clone, anon_vma_interval_tree_foreach, anon_vma_lock_write, anon_vma_lockptr, anon_vma_unlock_write,
  can_vma_merge, copy_vma, detach_vmas_to_be_unmapped, i_mmap_lock_write, i_mmap_unlock_write, insert_vm_struct,
  unlink_anon_vmas, unlink_file_vma, vm_area_alloc, vm_area_dup, vma_link, vma_merge, type VmaSpec,
} from './mm/vma.js';
export {
  hasPerVmaLocks, lock_vma_under_rcu, mmap_assert_write_locked, mmap_write_downgrade, mmap_write_lock, mmap_write_unlock,
  vma_assert_write_locked, vma_end_read, vma_end_write_all, vma_mark_detached, vma_start_read, vma_start_write, vma_write_locked,
} from './mm/vma_lock.js';
export { __pte_alloc } from './mm/actors/fault.js';
export { follow_page_mask } from './mm/actors/follow_page.js';
export { eraAtLeast, has, ERA_IDS, VARIANTS, registerVariant, type EraId, type UserVariantDef, type VariantId } from './mm/switches.js';
export { ARCH_IDS, ARCHES, ARM64_PMD_OPS, registerArch, x86PmdOps, type Arch, type ArchDef, type ArchId } from './mm/arch.js';
// Registering by hand (a module loaded with --load is registered from its exports instead).
export { registerActor } from './mm/registry.js';
// The built-in actors, to start from a copy of one, and what runs them.
export { ACTORS } from './mm/actors/index.js';
export { buildScenario, findActor, type ActorCall, type Scenario, type ScenarioSpec } from './mm/scenario.js';
export { execute, type Execution, type Scheduler } from './explore/executor.js';
export type { Violation, ViolationKind } from './oracle/violations.js';
// Hugetlb PMD sharing (mm/hugetlb.c, v5.10 and v6.6): shared pmd tables with a share count.
export {
  HUGETLB_SHARED_WORLD, huge_pmd_share, huge_pmd_unshare, hugetlb_unshare_pmds, hugetlb_walk, is_vm_hugetlb_page,
  page_table_shareable, pmd_share_count, want_pmd_share, type UnshareOpts,
} from './mm/hugetlb.js';
// The page cache (mm/filemap.c, v6.6 folio names; the v5.10 page names as aliases).
export {
  add_to_page_cache_lru, delete_from_page_cache, filemap_add_folio, filemap_get_entry, filemap_get_folio, filemap_lock_folio,
  filemap_remove_folio, find_get_entry, find_get_page, find_lock_page, folio_lock, folio_put, folio_trylock, folio_unlock,
} from './mm/filemap.js';
// File faults, truncation and reclaim (mm/memory.c, mm/truncate.c, mm/vmscan.c, mm/rmap.c): the
// actors' factories take protocol rules out for tests; page_add_file_rmap() is what the oracle's
// truncated-page-mapped check reads.
export { page_add_file_rmap } from './mm/rmap.js';
export { type ZapDetails } from './mm/zap.js';
export { file_fault, i_size, makeFileFault, type FileFaultMutations } from './mm/actors/file_fault.js';
export { makeTruncate, truncate, truncate_inode_pages_range, unmap_mapping_pages, type TruncateMutations } from './mm/actors/truncate.js';
export { makeShrinkFolioList, shrink_folio_list, tlb_flush_batched, try_to_unmap_flush, type ReclaimMutations } from './mm/actors/shrink_folio_list.js';
// THP split and page migration (mm/huge_memory.c, mm/migrate.c, mm/rmap.c): split_huge_pmd() for a
// path that changes part of a THP mapping; migration entries, the fault's wait on them, and a whole
// migration to run from an actor of one's own.
export { __split_huge_pmd, __split_huge_pmd_locked, split_huge_pmd, type SplitOpts } from './mm/huge_split.js';
export {
  migrate_page, migration_entry_wait, pageAt, pmd_migration_entry_wait, remove_migration_ptes, try_to_migrate, type MigrateOpts, type Target,
} from './mm/migrate.js';
