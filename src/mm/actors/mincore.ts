// mincore(2) of one pmd range under mmap_lock read: walk_page_range() → walk_pmd_range() →
// mincore_pte_range(). The walker kind that reads a pmd under mmap_lock read:
//   ≤ v6.2  pmd_trans_huge_lock(); pmd_trans_unstable(); pte_offset_map_lock() re-reading *pmd;
//   v6.6    pmd_trans_huge_lock(); pte_offset_map_lock() that may fail → ACTION_AGAIN.

import type { ActorDef } from '../actor.js';
import { PTRS_PER_PMD, PTRS_PER_PTE, pmd_none, pmd_trans_huge, pmdAddr } from '../entries.js';
import { down_read, mmap_read_unlock_step, spin_unlock } from '../locks.js';
import { find_vma } from '../model.js';
import { pmd_lock, pmd_lockptr, pmd_off, pmd_read, pmdEntryAt, pte_read } from '../pgtable.js';
import { step } from '../step.js';
import { mayFailPteMap, pmd_trans_unstable, pte_offset_map_lock, pte_unmap_unlock } from '../walk.js';

export const mincore: ActorDef = {
  name: 'mincore',
  summary: 'mincore() of one pmd range: the pmd walk under mmap_lock read (pre-2023 or v6.6 kind, by era)',
  follows: 'mm/pagewalk.c walk_pmd_range(), mm/mincore.c mincore_pte_range(); ≤ v6.2 (pmd_trans_unstable) and v6.6 (pte_offset_map_lock may fail)',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'slot', min: 0, max: PTRS_PER_PMD - 1, default: 1, doc: 'which pmd range' }],
  *run(c, args) {
    const m = c.m;
    const slot = args['slot'] ?? 1;
    yield* down_read(c, c.mm.mmap_lock);
    const done = (label: string) => mmap_read_unlock_step(c, label);
    const pmd = find_vma(c.mm, pmdAddr(slot)) ? pmd_off(c, pmdAddr(slot)) : null;
    if (!pmd) return yield* done('mincore: no VMA');
    for (;;) {
      const n = yield* pmd_read(c, pmd, 'walk_pmd_range(): pmd_none(*pmd)');
      if (pmd_none(c.m.arch, n.entry)) return yield* done('walk_pmd_range(): pte_hole');
      const h = yield* pmd_read(c, pmd, 'mincore_pte_range(): pmd_trans_huge_lock(): pmd_trans_huge(*pmd)');
      // pmd_trans_huge_lock(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd) || pmd_devmap(*pmd).
      if (pmd_trans_huge(c.m.arch, h.entry) || h.entry.t === 'migration') {
        const pml = pmd_lockptr(m, pmd);
        yield* pmd_lock(c, pmd);
        const now = pmdEntryAt(m, pmd);
        const huge = pmd_trans_huge(c.m.arch, now) || now.t === 'migration';
        spin_unlock(c, pml);
        yield step(`mincore_pte_range(): ${huge ? 'huge: all present' : 'no longer huge'}; spin_unlock(${pml.name})`);
        if (huge) return yield* done('mincore done');
      }
      if (!mayFailPteMap(c) && (yield* pmd_trans_unstable(c, pmd))) return yield* done('pmd_trans_unstable(): __mincore_unmapped_range()');
      const ptr = yield* pte_offset_map_lock(c, pmd);
      if (!ptr) {
        yield step('mincore_pte_range(): pte_offset_map_lock() failed: walk->action = ACTION_AGAIN');
        continue;
      }
      for (let i = 0; i < PTRS_PER_PTE; i++) pte_read(c, ptr, i);
      yield step('mincore_pte_range(): ptep_get() for each pte');
      pte_unmap_unlock(c, ptr);
      yield step('mincore_pte_range(): pte_unmap_unlock()');
      return yield* done('mincore done');
    }
  },
};
