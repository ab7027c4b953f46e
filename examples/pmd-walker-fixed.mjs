// The same walk, done right for v6.6: pte_offset_map_lock() maps the table under rcu_read_lock(), takes
// the ptl that the pmd value names, and re-checks the pmd under it, retrying or giving up if the table
// went away (0d940a9b270b "mm/pgtable: allow pte_offset_map[_lock]() to fail").

import { BUG_ON, down_read, holdsRead, mmap_read_unlock_step, pmd_off_present, pmdAddr, pte_offset_map_lock, pte_read, pte_unmap_unlock, step } from 'mmfuzz';

/** @type {import('mmfuzz').ActorDef} */
export const pmd_walker_fixed = {
  name: 'pmd_walker_fixed',
  summary: 'walks the ptes of one pmd with pte_offset_map_lock(), as v6.6 walkers must',
  follows: 'mm/mincore.c mincore_pte_range(), v6.6',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'slot', min: 0, max: 3, default: 2, doc: 'which pmd to walk' }],
  *run(c, args) {
    const slot = args.slot ?? 2;
    yield* down_read(c, c.mm.mmap_lock);
    const pte = yield* pte_offset_map_lock(c, pmd_off_present(c, pmdAddr(slot)));             // may fail: the pmd is none or huge
    if (pte) {
      BUG_ON(c, !holdsRead(c, c.mm.mmap_lock), 'mmap_assert_locked(mm)');
      for (let i = 0; i < 4; i++) pte_read(c, pte, i);
      pte_unmap_unlock(c, pte);
      yield step('ptep_get() x4; pte_unmap_unlock()');
    }
    yield* mmap_read_unlock_step(c, 'smaps walk done');
  },
};

export const actors = [pmd_walker_fixed];
