// NUMA balancing's scanner: task_numa_work() (kernel/sched/fair.c) → change_prot_numa()
// (mm/mempolicy.c) → change_protection(MM_CP_PROT_NUMA), which makes the VMA's ptes and huge pmds
// PROT_NONE hinting entries, under mmap_lock for read only (mmap_read_trylock()), so that it runs
// alongside page faults, MADV_DONTNEED and khugepaged.
//
// Follows kernel/sched/fair.c task_numa_work() and mm/mempolicy.c change_prot_numa() of 5.10.13
// (Rtoax/linux-5.10.13; v5.8 the same) and, from v6.0 (4a18419f71cd), change_prot_numa()'s own
// tlb_gather_mmu()/tlb_finish_mmu(). The walk is src/mm/mprotect.ts.
//
// Simplifications: one VMA per run, scanned whole; the scan period, numa_scan_offset and
// mm->numa_next_scan are not modelled; every page is on another node than the task's.

import type { ActorDef } from '../actor.js';
import { change_protection, tlb_flush_mmu_tlbonly, vma_is_accessible, vma_prot, PROT_WRITE } from '../mprotect.js';
import { down_read_trylock, up_read } from '../locks.js';
import { call, step } from '../step.js';
import { eraAtLeast } from '../switches.js';
import { tlb_gather_mmu } from '../tlbflush.js';

export const task_numa_work: ActorDef = {
  name: 'task_numa_work',
  summary: 'NUMA balancing scan of one VMA: change_prot_numa() makes its ptes and huge pmds protnone, under mmap_lock read',
  follows: 'kernel/sched/fair.c task_numa_work(), mm/mempolicy.c change_prot_numa(), mm/mprotect.c change_protection(MM_CP_PROT_NUMA); v5.8–v6.6',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'vma', min: 0, max: 1, default: 0, doc: 'which VMA of the mm, by index (default world: 0 anon [0,8), 1 file [8,16))' }],
  *run(c, args) {
    const mm = c.mm;
    if (!down_read_trylock(c, mm.mmap_lock)) {
      yield step('task_numa_work(): !mmap_read_trylock(mm): return');
      return;
    }
    yield step('task_numa_work(): mmap_read_trylock(mm)');
    const vma = mm.vmas.filter((v) => !v.detached)[args['vma'] ?? 0];
    // "Skip inaccessible VMAs to avoid any confusion between PROT_NONE and NUMA hinting ptes", and
    // "Shared library pages mapped by multiple processes are not migrated": a read-only file VMA.
    if (!vma || !vma_is_accessible(vma) || (vma.kind === 'file' && (vma_prot(vma) & PROT_WRITE) === 0)) {
      up_read(c, mm.mmap_lock);
      yield step('task_numa_work(): VMA skipped: mmap_read_unlock(mm)');
      return;
    }
    const tlb = eraAtLeast(c.m.sw, 'v6.2') ? tlb_gather_mmu(mm, false) : null;
    yield* call(change_protection(c, tlb, vma, vma.start, vma.end, { prot_numa: true }));
    if (tlb) yield* tlb_flush_mmu_tlbonly(c, tlb, 'change_prot_numa(): tlb_finish_mmu()');
    up_read(c, mm.mmap_lock);
    yield step('task_numa_work(): mmap_read_unlock(mm)');
  },
};
