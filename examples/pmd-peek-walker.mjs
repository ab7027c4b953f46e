// A patch under review: a new walker (say, a faster /proc/PID/smaps) that peeks at the ptes of one pmd
// under mmap_lock read. It reads *pmd once and walks the table it points to, without
// pte_offset_map_lock(). Before v6.6 mmap_lock read kept the table there; since v6.6
// retract_page_tables() takes no mmap_lock and frees the table by RCU, so this walk is wrong.

import { down_read, mmap_read_unlock_step, pmd_off_present, pmd_read, pmd_table, pmdAddr, pte_lockptr, pte_read, spin_lock_ptl, spin_unlock, step } from 'mmfuzz';

/** @type {import('mmfuzz').ActorDef} */
export const pmd_peek_walker = {
  name: 'pmd_peek_walker',
  summary: 'peeks at the ptes of one pmd under mmap_lock read, reading *pmd once (a patch under review)',
  follows: 'mm/mincore.c mincore_pte_range(), v6.6, without pte_offset_map_lock()',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'slot', min: 0, max: 3, default: 2, doc: 'which pmd to walk' }],
  *run(c, args) {
    const slot = args.slot ?? 2;
    yield* down_read(c, c.mm.mmap_lock);                       // mmap_read_lock(mm)
    const pmd = yield* pmd_read(c, pmd_off_present(c, pmdAddr(slot)), 'pmdval = READ_ONCE(*pmd)');
    if (pmd.entry.t === 'table') {
      const pte = pmd_table(c, pmd);                              // pte = pte_offset_kernel(&pmdval, addr)
      yield* spin_lock_ptl(c, pte);                               // spin_lock(pte_lockptr(mm, &pmdval))
      for (let i = 0; i < 4; i++) pte_read(c, pte, i);           // ptep_get(pte + i)
      spin_unlock(c, pte_lockptr(c.m, pte));
      yield step('ptep_get() x4; spin_unlock(ptl)');
    }
    yield* mmap_read_unlock_step(c, 'smaps walk done');
  },
};

export const actors = [pmd_peek_walker];
