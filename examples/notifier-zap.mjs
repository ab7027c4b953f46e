// A secondary MMU against an unmapping path. Each actor drops one anon page as MADV_DONTNEED does
// (zap_page_range_single(): clear the pte, flush, free the page), at address `addr`. zap_notified
// brackets the clear with mmu_notifier_invalidate_range_start() and _end(), as the kernel does;
// zap_unnotified calls no notifier, so KVM keeps its spte to a page that is then freed.
// Fuzz them against the built-in kvm actor, which subscribes to the mm's notifiers.

import {
  down_read, flush_tlb_page, mmap_read_unlock_step, mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start,
  mmu_notifier_range_init, pmd_off_present, pte_offset_map_lock, pte_unmap_unlock, ptep_get_and_clear, put_page, step,
} from 'mmfuzz';

function zapper(name, summary, notify) {
  /** @type {import('mmfuzz').ActorDef} */
  return {
    name,
    summary,
    follows: 'mm/memory.c zap_page_range_single(), v6.6',
    inMm: true,
    daemon: 'no',
    params: [{ name: 'addr', min: 0, max: 1, default: 0, doc: 'the address to drop (default world: 0 and 1 map pages 3 and 4)' }],
    *run(c, args) {
      const addr = args.addr ?? 0;
      yield* down_read(c, c.mm.mmap_lock);
      const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', c.mm, addr, addr + 1);
      if (notify) yield* mmu_notifier_invalidate_range_start(c, range);  // KVM zaps its sptes for the range
      const pte = yield* pte_offset_map_lock(c, pmd_off_present(c, addr));
      const old = pte ? ptep_get_and_clear(c, pte, addr % 4) : { t: 'none' };
      if (pte) pte_unmap_unlock(c, pte);
      yield step(`ptep_get_and_clear(addr ${addr}); pte_unmap_unlock()`);
      yield* flush_tlb_page(c, c.mm, addr);
      if (notify) yield* mmu_notifier_invalidate_range_end(c, range);
      if (old.t === 'present') {
        c.mm.rss--;                                              // dec_mm_counter(mm, MM_ANONPAGES)
        put_page(c.m, old.pfn);                                  // tlb_finish_mmu(): the page is freed
      }
      yield* mmap_read_unlock_step(c, `put_page(${old.t === 'present' ? old.pfn : '-'})`);
    },
  };
}

export const zap_notified = zapper('zap_notified', 'drops the page at addr inside mmu_notifier_invalidate_range_start()/end()', true);
export const zap_unnotified = zapper('zap_unnotified', 'drops the page at addr and tells no secondary MMU (a bug)', false);

export const actors = [zap_notified, zap_unnotified];
