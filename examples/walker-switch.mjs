// A patch with its bug behind a switch, and an architecture to run it on: with the switch on, the
// walker reads *pmd itself (the bug); off, it uses pte_offset_map_lock() (the fix). Fuzz both from the
// same token with --variant walker-skips-rcu and --variant none. The architecture is one mmfuzz does
// not ship: 64-bit entries read as two halves, as on PAE, with page tables freed by RCU.

import { down_read, has, mmap_read_unlock_step, pmd_off_present, pmd_read, pmd_table, pmdAddr, pte_lockptr, pte_offset_map_lock, pte_read, pte_unmap_unlock, spin_lock_ptl, spin_unlock, step } from 'mmfuzz';

export const variants = [{ id: 'walker-skips-rcu', summary: 'the smaps walker reads *pmd itself instead of pte_offset_map_lock()' }];

export const arches = [{
  id: 'pae-rcu', flush: 'broadcast', tableFree: 'rcu', syncOneIpi: true, pae: true,
  description: 'two-half entries as on PAE, page tables freed by RCU',
}];

/** @type {import('mmfuzz').ActorDef} */
const smaps_walker = {
  name: 'smaps_walker',
  summary: 'walks the ptes of pmd 2 under mmap_lock read; the switch walker-skips-rcu puts the bug back',
  follows: 'mm/mincore.c mincore_pte_range(), v6.6',
  inMm: true,
  daemon: 'no',
  params: [],
  *run(c) {
    yield* down_read(c, c.mm.mmap_lock);
    if (has(c.m.sw, 'walker-skips-rcu')) {
      const pmd = yield* pmd_read(c, pmd_off_present(c, pmdAddr(2)), 'pmdval = READ_ONCE(*pmd)');
      if (pmd.entry.t === 'table') {
        const pte = pmd_table(c, pmd);
        yield* spin_lock_ptl(c, pte);
        pte_read(c, pte, 0);
        spin_unlock(c, pte_lockptr(c.m, pte));
        yield step('ptep_get(pte); spin_unlock(ptl)');
      }
    } else {
      const pte = yield* pte_offset_map_lock(c, pmd_off_present(c, pmdAddr(2)));
      if (pte) {
        pte_read(c, pte, 0);
        pte_unmap_unlock(c, pte);
        yield step('ptep_get(pte); pte_unmap_unlock()');
      }
    }
    yield* mmap_read_unlock_step(c, 'walk done');
  },
};

export const actors = [smaps_walker];
