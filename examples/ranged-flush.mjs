// A ranged flush, right and wrong. Each actor unmaps one anon page at address `addr` the way callers
// of ptep_clear_flush() do: clear the pte under its ptl, flush the TLB for that address, then drop the
// page. zap_one_page flushes [addr, addr + 1); zap_one_page_wrong flushes the page after it, an
// off-by-one, so a CPU that had the page in its TLB keeps using it after it is freed.

import { down_read, flush_tlb_range, mmap_read_unlock_step, pmd_off_present, pte_offset_map_lock, pte_unmap_unlock, ptep_get_and_clear, put_page, step } from 'mmfuzz';

/** The unmap, with the range it flushes given by `range(addr)`. */
function zapper(name, summary, range) {
  /** @type {import('mmfuzz').ActorDef} */
  return {
    name,
    summary,
    follows: 'mm/pgtable-generic.c ptep_clear_flush() = ptep_get_and_clear() + flush_tlb_range(), v6.6',
    inMm: true,
    daemon: 'no',
    params: [{ name: 'addr', min: 0, max: 1, default: 0, doc: 'the address to unmap (default world: 0 and 1 map pages 3 and 4)' }],
    *run(c, args) {
      const addr = args.addr ?? 0;
      yield* down_read(c, c.mm.mmap_lock);
      const pte = yield* pte_offset_map_lock(c, pmd_off_present(c, addr));
      if (!pte) return yield* mmap_read_unlock_step(c, 'no pte table');
      const old = ptep_get_and_clear(c, pte, addr % 4);          // pteval = ptep_get_and_clear(mm, address, ptep)
      pte_unmap_unlock(c, pte);
      yield step(`ptep_get_and_clear(addr ${addr}); pte_unmap_unlock()`);
      const { start, end } = range(addr);
      yield* flush_tlb_range(c, `flush_tlb_range(vma, ${start}, ${end})`, { mm: c.mm.id, start, end });
      if (old.t === 'present') {
        c.mm.rss--;                                               // dec_mm_counter(mm, MM_ANONPAGES)
        put_page(c.m, old.pfn);                                   // the page goes: a TLB entry still mapping it is stale
      }
      yield* mmap_read_unlock_step(c, `put_page(${old.t === 'present' ? old.pfn : '-'})`);
    },
  };
}

export const zap_one_page = zapper('zap_one_page', 'clears the pte of addr and flushes [addr, addr + 1)', (a) => ({ start: a, end: a + 1 }));
export const zap_one_page_wrong = zapper('zap_one_page_wrong', 'clears the pte of addr and flushes [addr + 1, addr + 2): the wrong page', (a) => ({ start: a + 1, end: a + 2 }));

export const actors = [zap_one_page, zap_one_page_wrong];
