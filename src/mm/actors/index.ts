// The built-in actors, sorted by name. Each file names the kernel functions and releases it follows.

import type { ActorDef } from '../actor.js';
import { deepFreeze } from '../freeze.js';
import { collapse_file } from './collapse_file.js';
import { collapse_huge_page } from './collapse_huge_page.js';
import { collapse_pte_mapped_thp } from './collapse_pte_mapped_thp.js';
import { coredump } from './coredump.js';
import { exit_mmap_actor } from './exit_mmap.js';
import { fault } from './fault.js';
import { fault_vma_lock } from './fault_vma_lock.js';
import { fork } from './fork.js';
import { file_fault } from './file_fault.js';
import { gup_fast } from './gup_fast.js';
import { gup_slow } from './gup_slow.js';
import { hw_walker } from './hw_walker.js';
import { kvm } from './kvm.js';
import { lazy_tlb } from './lazy_tlb.js';
import { madvise_dontneed } from './madvise_dontneed.js';
import { migrate_pages } from './migrate_pages.js';
import { mincore } from './mincore.js';
import { mremap } from './mremap.js';
import { munmap } from './munmap.js';
import { mprotect } from './mprotect.js';
import { rcu_callbacks } from './rcu_callbacks.js';
import { shrink_folio_list } from './shrink_folio_list.js';
import { split_huge_pmd } from './split_huge_pmd.js';
import { task_numa_work } from './task_numa_work.js';
import { thp_fault } from './thp_fault.js';
import { touch } from './touch.js';
import { truncate } from './truncate.js';
import { try_to_unmap } from './try_to_unmap.js';
import { unmap_mapping_range } from './unmap_mapping_range.js';

export { rcu_callbacks };

/** Actors a scenario can name (the RCU callback runner is added to every scenario by itself). */
export const ACTORS: readonly ActorDef[] = deepFreeze([
  collapse_file, collapse_huge_page, collapse_pte_mapped_thp, coredump, exit_mmap_actor, fault, fault_vma_lock, file_fault, fork,
  gup_fast, gup_slow, hw_walker, kvm, lazy_tlb, madvise_dontneed, migrate_pages, mincore, mprotect, mremap, munmap, shrink_folio_list,
  split_huge_pmd, task_numa_work, thp_fault, touch, truncate, try_to_unmap, unmap_mapping_range,
].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
