// madvise(MADV_DONTNEED) on one pmd's range: zap_page_range() under mmap_lock read. Ptes only:
// the tables stay. A huge pmd is zapped whole (zap_huge_pmd): huge → none under mmap_lock read, the
// transition that makes the pre-2012 pmd walks unstable.

import type { ActorDef } from '../actor.js';
import { pmdAddr, PTRS_PER_PMD, PTRS_PER_PTE } from '../entries.js';
import { down_read, up_read } from '../locks.js';
import { find_vma } from '../model.js';
import { call, step } from '../step.js';
import { pmd_off } from '../pgtable.js';
import { zap_page_range_single } from '../zap.js';

export const madvise_dontneed: ActorDef = {
  name: 'madvise_dontneed',
  summary: 'MADV_DONTNEED over one pmd: zap the ptes (or the huge pmd) under mmap_lock read',
  follows: 'mm/madvise.c madvise_dontneed_single_vma() → zap_page_range() (v5.8–v6.2), zap_page_range_single() (v6.6)',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'slot', min: 0, max: PTRS_PER_PMD - 1, default: 0, doc: 'which pmd range (4 pages each)' }],
  *run(c, args) {
    const mm = c.mm;
    const slot = args['slot'] ?? 0;
    yield* down_read(c, mm.mmap_lock);
    const vma = find_vma(mm, pmdAddr(slot));
    const pmd = vma ? pmd_off(c, pmdAddr(slot)) : null;
    if (!vma || !pmd) {
      up_read(c, mm.mmap_lock);
      yield step('madvise_dontneed: no VMA: mmap_read_unlock(mm)');
      return;
    }
    // zap_page_range() (v5.8–v6.2) / zap_page_range_single() (v6.6): the zap between
    // mmu_notifier_invalidate_range_start() and _end(), then tlb_finish_mmu().
    yield* call(zap_page_range_single(c, mm, vma, pmd, pmdAddr(slot), pmdAddr(slot) + PTRS_PER_PTE));
    up_read(c, mm.mmap_lock);
    yield step('madvise_dontneed: mmap_read_unlock(mm)');
  },
};
