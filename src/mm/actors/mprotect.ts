// mprotect(2) of one whole VMA: do_mprotect_pkey() → mprotect_fixup() → change_protection(), under
// mmap_lock for write, with the TLB flushed before the syscall returns.
//
// Follows mm/mprotect.c do_mprotect_pkey() and mprotect_fixup() of 5.10.13 (Rtoax/linux-5.10.13; v5.8
// the same for this path) and, for v6.2 and v6.6, the upstream changes: 4a18419f71cd "mm/mprotect:
// use mmu_gather" (v6.0: tlb_gather_mmu() before the VMA loop, tlb_finish_mmu() after it, before
// mmap_write_unlock()), and the per-VMA locks of v6.4 (mprotect_fixup(): vma_start_write() before
// vm_flags_reset(); mmap_write_unlock() ends it). The walk itself is src/mm/mprotect.ts.
//
// Simplification: the range is a whole VMA (start = vm_start, end = vm_end), so mprotect_fixup()
// neither splits nor merges (the default world's two VMAs differ in kind and never merge); no pkeys,
// no PROT_EXEC, no accounting (VM_ACCOUNT), no VM_LOCKED populate.

import type { ActorDef } from '../actor.js';
import { mmap_write_lock, mmap_write_unlock, vma_start_write } from '../vma_lock.js';
import { PROT_READ, PROT_WRITE, change_protection, tlb_flush_mmu_tlbonly, vma_prot, type MprotectMutations } from '../mprotect.js';
import { call, step } from '../step.js';
import { eraAtLeast } from '../switches.js';
import { tlb_gather_mmu } from '../tlbflush.js';

function protName(prot: number): string {
  if (prot === 0) return 'PROT_NONE';
  return [prot & PROT_READ ? 'PROT_READ' : '', prot & PROT_WRITE ? 'PROT_WRITE' : ''].filter(Boolean).join('|');
}

/** The actor, with test mutations (none: the kernel's code). */
export function makeMprotect(name: string, mut: MprotectMutations = {}): ActorDef {
  return {
    name,
    summary: 'mprotect() of one VMA: mmap_lock write, change_protection() over its tables, TLB flushed before return',
    follows: 'mm/mprotect.c do_mprotect_pkey(), mprotect_fixup(), change_protection(); mm/huge_memory.c change_huge_pmd(); v5.8–v5.10 (flush_tlb_range), v6.2 (mmu_gather, 4a18419f71cd), v6.6 (vma_start_write, pte_offset_map_lock may fail)',
    inMm: true,
    daemon: 'no',
    params: [
      { name: 'vma', min: 0, max: 1, default: 0, doc: 'which VMA of the mm, by index (default world: 0 anon [0,8), 1 file [8,16))' },
      { name: 'prot', min: 0, max: 3, default: 1, doc: 'PROT_READ (1) | PROT_WRITE (2); 0 is PROT_NONE' },
    ],
    *run(c, args) {
      const mm = c.mm;
      // PROT_WRITE implies PROT_READ on x86 and arm64 (calc_vm_prot_bits(); the ptes cannot say
      // write-only).
      const prot = (args['prot'] ?? 1) & PROT_WRITE ? PROT_READ | PROT_WRITE : (args['prot'] ?? 1) & PROT_READ;
      yield* mmap_write_lock(c, mm);                               // mmap_write_lock_killable()
      const vma = mm.vmas.filter((v) => !v.detached)[args['vma'] ?? 0];
      if (!vma) {
        mmap_write_unlock(c, mm);
        yield step('do_mprotect_pkey(): find_vma() found nothing: -ENOMEM; mmap_write_unlock(mm)');
        return;
      }
      const { start, end } = vma;
      const gather = eraAtLeast(c.m.sw, 'v6.2');
      const tlb = gather ? tlb_gather_mmu(mm, false) : null;       // tlb_gather_mmu(&tlb, current->mm)
      if (vma_prot(vma) !== prot) {
        // mprotect_fixup(): "vm_flags and vm_page_prot are protected by the mmap_lock held in write mode".
        yield* vma_start_write(c, vma);
        vma.vm_prot = prot;
        yield step(`mprotect_fixup(): vm_flags = ${protName(prot)}; vma_set_page_prot(vma ${vma.id})`);
        yield* call(change_protection(c, tlb, vma, start, end, { prot_numa: false }, mut));
      }
      if (tlb) yield* tlb_flush_mmu_tlbonly(c, tlb, 'do_mprotect_pkey(): tlb_finish_mmu()', mut);
      mmap_write_unlock(c, mm);
      // The syscall returns: from here on no access beyond `prot` may go through an older TLB entry.
      c.m.events.push({ e: 'prot-done', mm: mm.id, start, end, prot });
      yield step(`do_mprotect_pkey(${start}, ${end - start}, ${protName(prot)}): mmap_write_unlock(mm); return 0`);
    },
  };
}

export const mprotect = makeMprotect('mprotect');
