// Hole punch / truncate of a file range: unmap_mapping_range() → unmap_mapping_range_tree() walks the
// VMAs in i_mmap under i_mmap_rwsem read, with no mmap_lock and no page lock, and zaps each range
// (zap_page_range_single → zap_pmd_range). The page-cache side of truncation is not modelled.
// This is the walk that starts under i_mmap_rwsem alone, which 8d3c106e19e8 makes retraction exclude.

import type { ActorDef } from '../actor.js';
import { PTRS_PER_PTE, pmdAddr } from '../entries.js';
import { down_read, up_read } from '../locks.js';
import { step } from '../step.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../tlbflush.js';
import { zap_pmd_range } from '../zap.js';

export const unmap_mapping_range: ActorDef = {
  name: 'unmap_mapping_range',
  summary: 'hole punch of a file pmd range: zap every VMA mapping it, under i_mmap_rwsem read only',
  follows: 'mm/memory.c unmap_mapping_range(), unmap_mapping_range_tree(), zap_page_range_single(); v5.8–v6.6',
  inMm: false,
  daemon: 'no',
  params: [{ name: 'slot', min: 2, max: 3, default: 3, doc: 'the file pmd range to punch' }],
  *run(c, args) {
    const m = c.m;
    const slot = args['slot'] ?? 3;
    yield* down_read(c, m.file.i_mmap_rwsem);
    for (const vma of m.mm.vmas) {
      if (vma.kind !== 'file' || !vma.inRmap || pmdAddr(slot) < vma.start || pmdAddr(slot) >= vma.end) continue;
      const tlb = tlb_gather_mmu(false);
      yield* zap_pmd_range(c, tlb, vma, slot, pmdAddr(slot), pmdAddr(slot) + PTRS_PER_PTE);
      yield* tlb_finish_mmu(c, tlb);
    }
    up_read(c, m.file.i_mmap_rwsem);
    yield step('unmap_mapping_range(): i_mmap_unlock_read(mapping)');
  },
};
