// An anonymous page fault under the per-VMA lock (v6.4+, CONFIG_PER_VMA_LOCK; v6.6 here), as x86's
// do_user_addr_fault() takes it at v6.6 (arch/x86/mm/fault.c): lock_vma_under_rcu() (mm/memory.c,
// vma_lock.ts); access_error(); handle_mm_fault(vma, address, flags | FAULT_FLAG_VMA_LOCK);
// vma_end_read() unless the fault returned VM_FAULT_RETRY or VM_FAULT_COMPLETED. When
// lock_vma_under_rcu() fails (no VMA, the VMA write-locked, its vm_lock held for write, an anon VMA
// without anon_vma), or on VM_FAULT_RETRY: `lock_mmap:` lock_mm_and_find_vma() (v6.5+,
// mm/memory.c: mmap_read_lock, find_vma) and handle_mm_fault() under mmap_lock for read, which is
// the `fault` actor (fault.ts) step for step.
//
// What keeps it safe: every change to a VMA or to what its page tables may hold under mmap_lock for
// write first takes vma_start_write() of that VMA (do_vmi_align_munmap(), collapse_huge_page(),
// dup_mmap() since fb49c455323f, __split_vma(), vma_merge(), ...), which waits for the fault's
// vm_lock read side and keeps new ones out until mmap_write_unlock().
//
// Departures: do_anonymous_page() under the VMA lock never returns VM_FAULT_RETRY in the model
// (v6.6 needs the anon_vma, and lock_vma_under_rcu() already refuses an anon VMA without one), so the
// retry path is the fallback after a failed lock_vma_under_rcu() only. No user-access, pkey or
// signal checks. A file VMA ends as `fault` ends it (bad_area: file faults are not modelled).

import type { ActorDef } from '../actor.js';
import { PROT_WRITE, vma_prot } from '../mprotect.js';
import { rcu_read_lock, rcu_read_unlock } from '../cpu.js';
import { NR_PAGES } from '../entries.js';
import type { Stepper } from '../pgtable.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import type { Mm, Vma } from '../types.js';
import { lock_vma_under_rcu, vma_end_read } from '../vma_lock.js';
import { fault_mmap_locked, handle_mm_fault_anon } from './fault.js';

/** What a test may take out, to show that the rule is needed. */
export interface FaultVmaLockOptions {
  /** lock_vma_under_rcu() read-locks the VMA (vma_start_read()). Off: the VMA is found under RCU
   *  and used with no lock at all. */
  readonly vmaLock: boolean;
}

/** The VMA under RCU with no vma_start_read(): what the fault would do without the per-VMA lock. */
function* find_vma_unlocked(c: Ctx, mm: Mm, addr: number): Stepper<Vma | null> {
  rcu_read_lock(c);
  const vma = mm.vmas.find((v) => !v.detached && v.start <= addr && addr < v.end) ?? null;
  rcu_read_unlock(c);
  yield step(`lock_vma_under_rcu(addr ${addr}) WITHOUT vma_start_read(): mas_walk() → ${vma ? `vma ${vma.id}` : 'none'}`);
  return vma && (vma.kind !== 'anon' || vma.anon_vma) ? vma : null;
}

export function makeFaultVmaLock(name: string, opts: FaultVmaLockOptions): ActorDef {
  return {
    name,
    summary: 'anonymous page fault under the per-VMA lock (lock_vma_under_rcu(), FAULT_FLAG_VMA_LOCK), falling back to mmap_lock for read',
    follows: 'arch/x86/mm/fault.c do_user_addr_fault(); mm/memory.c lock_vma_under_rcu(), lock_mm_and_find_vma(), handle_mm_fault() → do_anonymous_page(); v6.6 (per-VMA locks from v6.4)',
    inMm: true,
    daemon: 'no',
    params: [{ name: 'addr', min: 0, max: NR_PAGES - 1, default: 4, doc: 'faulting address (page index); only anon VMA 0 [0,8) faults in' }],
    eras: ['v6.6'],
    *run(c, args) {
      const addr = args['addr'] ?? 4;
      // A wait on a migration entry returns 0: the access faults again (the loop).
      for (;;) {
        const vma = opts.vmaLock ? yield* lock_vma_under_rcu(c, c.mm, addr) : yield* find_vma_unlocked(c, c.mm, addr);
        if (vma) {
          const done = function* (label: string): ActorGen {
            if (opts.vmaLock) vma_end_read(c, vma);
            yield step(`${label}: ${opts.vmaLock ? `vma_end_read(vma ${vma.id})` : 'no VMA lock to drop'} [VMA_LOCK_SUCCESS]`);
          };
          if (vma.kind !== 'anon') return yield* done('bad_area');
          // access_error(): vma_end_read(), and goto lock_mmap, where the mmap_lock path says SIGSEGV.
          if ((vma_prot(vma) & PROT_WRITE) === 0) {
            if (opts.vmaLock) vma_end_read(c, vma);
          } else {
            if (yield* call(handle_mm_fault_anon(c, addr, done))) return;
            continue;
          }
        }
        // lock_mmap: lock_mm_and_find_vma(), then the fault under mmap_lock for read.
        yield* fault_mmap_locked(c, addr);
        return;
      }
    },
  };
}

export const fault_vma_lock: ActorDef = makeFaultVmaLock('fault_vma_lock', { vmaLock: true });
