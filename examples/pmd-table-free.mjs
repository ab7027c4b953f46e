// Freeing a pmd table. A walker that drops mmap_lock in the middle (to wait for a page, as a fault
// that returns VM_FAULT_RETRY does) and takes it again. While it was dropped, munmap() may have
// unmapped the VMA and freed the page tables under it: in the world two-pmd-tables, munmap of VMA 0
// frees pmd table 1 (free_pgtables() → free_pmd_range(): pud_clear(), pmd_free_tlb()).
//
// retry_walker_stale keeps the pmd pointer it took before the drop, a pointer into pmd table 1, and
// reads *pmd through it after: a use-after-free of the pmd table. retry_walker walks again from the
// pgd once it holds mmap_lock again, as the kernel's retry paths do (find_vma(), then pmd_off()).

import { down_read, find_vma, mmap_read_unlock_step, pmd_off, pmd_off_present, pmd_read, pte_offset_map_lock, pte_read, pte_unmap_unlock, step } from 'mmfuzz';

function retrier(name, summary, rewalk) {
  /** @type {import('mmfuzz').ActorDef} */
  return {
    name,
    summary,
    follows: 'mm/memory.c handle_mm_fault() with VM_FAULT_RETRY, and its caller taking mmap_lock again (v6.6)',
    inMm: true,
    daemon: 'no',
    params: [{ name: 'addr', min: 8, max: 11, default: 8, doc: 'the address to walk (two-pmd-tables: under pmd table 1, slot 2)' }],
    *run(c, args) {
      const addr = args.addr ?? 8;
      yield* down_read(c, c.mm.mmap_lock);
      if (!find_vma(c.mm, addr)) return yield* mmap_read_unlock_step(c, 'find_vma(): no VMA: -EFAULT');
      let pmd = pmd_off_present(c, addr);                         // the VMA is there, so its tables are
      yield* pmd_read(c, pmd, 'pmdval = READ_ONCE(*pmd)');
      yield* mmap_read_unlock_step(c, 'wait for the page (VM_FAULT_RETRY)');
      yield* down_read(c, c.mm.mmap_lock);                        // mmap_read_lock(mm): try again
      if (rewalk) {
        pmd = find_vma(c.mm, addr) ? pmd_off(c, addr) : null;    // vma = find_vma(mm, addr); pmd = walk from the pgd
        if (!pmd) return yield* mmap_read_unlock_step(c, 'the VMA or its tables are gone: -EFAULT');
      }
      const pte = yield* pte_offset_map_lock(c, pmd);
      if (pte) {
        pte_read(c, pte, addr % 4);
        pte_unmap_unlock(c, pte);
        yield step('ptep_get(pte); pte_unmap_unlock()');
      }
      yield* mmap_read_unlock_step(c, 'walk done');
    },
  };
}

export const retry_walker_stale = retrier('retry_walker_stale', 'drops and retakes mmap_lock, then uses the pmd pointer it took before (a bug)', false);
export const retry_walker = retrier('retry_walker', 'drops and retakes mmap_lock, then walks again from the pgd', true);

export const actors = [retry_walker_stale, retry_walker];
