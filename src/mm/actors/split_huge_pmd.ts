// split_huge_pmd() as the paths that change part of a THP mapping call it: MADV_DONTNEED of part of
// the range (zap_pmd_range(), mmap_lock read), mprotect() of part of it (change_pmd_range()) and
// munmap() splitting the VMA (vma_adjust_trans_huge() → split_huge_pmd_address()). The actor takes
// mmap_lock for read, the weakest of them, and splits the pmd that maps `addr`.

import type { ActorDef } from '../actor.js';
import { NR_PAGES } from '../entries.js';
import { down_read, mmap_read_unlock_step } from '../locks.js';
import { find_vma } from '../model.js';
import { pmd_off } from '../pgtable.js';
import { split_huge_pmd as split } from '../huge_split.js';

export const split_huge_pmd: ActorDef = {
  name: 'split_huge_pmd',
  summary: 'split a huge pmd (or a THP migration entry) into a pte table: pmd_lock, pmdp_invalidate() and flush, withdraw, pmd_populate()',
  follows: 'include/linux/huge_mm.h split_huge_pmd() → mm/huge_memory.c __split_huge_pmd(), __split_huge_pmd_locked(); v5.8 (page lock; migration pmd mapcount bug), v5.10 (migration pmd refcount leak), v6.2, v6.6',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'addr', min: 0, max: NR_PAGES - 1, default: 4, doc: 'an address in the huge pmd to split (thp_fault maps anon slot 1, addresses 4..7)' }],
  *run(c, args) {
    const addr = args['addr'] ?? 4;
    yield* down_read(c, c.mm.mmap_lock);
    const vma = find_vma(c.mm, addr);
    const pmd = vma ? pmd_off(c, addr) : null;
    if (!vma || !pmd) return yield* mmap_read_unlock_step(c, 'no VMA or no pmd table: nothing to split');
    yield* split(c, vma, pmd, addr);
    yield* mmap_read_unlock_step(c, 'split done');
  },
};
