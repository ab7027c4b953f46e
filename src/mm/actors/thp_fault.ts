// An anonymous THP fault: do_huge_pmd_anonymous_page() → __do_huge_pmd_anonymous_page() installs a
// huge pmd over a none pmd under pmd_lock, with mmap_lock only for read, and deposits a pte table
// for a later split (pgtable_trans_huge_deposit).

import type { ActorDef } from '../actor.js';
import { page_add_rmap } from '../rmap.js';
import { HPAGE_PMD_NR, pmd_none, pmdAddr, PTRS_PER_PMD } from '../entries.js';
import { alloc_page, put_page } from '../frames.js';
import { down_read, mmap_read_unlock_step, spin_unlock } from '../locks.js';
import { pmd_alloc } from '../pgalloc.js';
import { find_vma } from '../model.js';
import { pgtable_trans_huge_deposit, pmd_lock, pmd_lockptr, pmd_read, pmdEntryAt, set_pmd_at } from '../pgtable.js';
import { step } from '../step.js';
import { PROT_WRITE, vma_prot } from '../mprotect.js';
import { pte_free } from '../tlbflush.js';
import { add_mm_counter, mm_inc_nr_ptes } from '../counters.js';
import { pmd_migration_entry_wait } from '../migrate.js';

export const thp_fault: ActorDef = {
  name: 'thp_fault',
  summary: 'anonymous THP fault: set_pmd_at(huge) over a none pmd under pmd_lock, mmap_lock read',
  follows: 'mm/memory.c __handle_mm_fault() → mm/huge_memory.c do_huge_pmd_anonymous_page(), __do_huge_pmd_anonymous_page(); v5.8–v6.6',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'slot', min: 0, max: PTRS_PER_PMD - 1, default: 1, doc: 'which pmd range; only anon VMA 0 (slots 0, 1) takes THPs' }],
  *run(c, args) {
    const m = c.m;
    const mm = c.mm;
    const slot = args['slot'] ?? 1;
    // A THP migration entry makes the fault wait and return; the access faults again (the loop).
    for (;;) {
      yield* down_read(c, mm.mmap_lock);
      const done = (label: string) => mmap_read_unlock_step(c, label);
      const vma = find_vma(mm, pmdAddr(slot));
      if (!vma || vma.kind !== 'anon') return yield* done('bad_area');
      // access_error(): a write fault (it maps the page dirty) needs VM_WRITE.
      if ((vma_prot(vma) & PROT_WRITE) === 0) return yield* done('access_error(): no VM_WRITE: bad_area');
      const pmd = yield* pmd_alloc(c, pmdAddr(slot));
      const v = yield* pmd_read(c, pmd, '__handle_mm_fault(): pmd_none(*vmf.pmd) && hugepage_vma_check()');
      if (v.entry.t === 'migration') {
        // else { orig_pmd = *vmf.pmd; if (is_swap_pmd(orig_pmd)) { pmd_migration_entry_wait(); return 0; } }
        // (the model tests the value it read once): the access faults again.
        yield* pmd_migration_entry_wait(c, pmd);
        yield* done('__handle_mm_fault(): is_pmd_migration_entry(orig_pmd): return 0');
        continue;
      }
      if (!pmd_none(c.m.arch, v.entry)) return yield* done('pmd not none: handle_pte_fault() (not modelled)');
      const page = alloc_page(c, 'huge');
      yield step(`do_huge_pmd_anonymous_page(): vma_alloc_folio(HPAGE_PMD_ORDER) → ${page}`);
      const pgtable = alloc_page(c, 'pte-table');
      yield step(`__do_huge_pmd_anonymous_page(): pte_alloc_one() → ${pgtable}`);
      const pml = pmd_lockptr(m, pmd);
      yield* pmd_lock(c, pmd);
      if (!pmd_none(c.m.arch, pmdEntryAt(m, pmd))) {
        spin_unlock(c, pml);
        pte_free(m, pgtable);
        put_page(m, page);
        yield step('__do_huge_pmd_anonymous_page(): !pmd_none(): spin_unlock(); pte_free(); put_page()');
        return yield* done('fault done');
      }
      pgtable_trans_huge_deposit(m, pmd, pgtable);
      page_add_rmap(c, page);
      // entry = maybe_pmd_mkwrite(pmd_mkdirty(mk_huge_pmd(page, vma->vm_page_prot)), vma)
      set_pmd_at(c, pmd, { t: 'huge', pfn: page, dirty: true, ...((vma_prot(vma) & PROT_WRITE) !== 0 ? { writable: true } : {}) });
      add_mm_counter(c, mm, HPAGE_PMD_NR);
      mm_inc_nr_ptes(c, mm);
      yield step(`__do_huge_pmd_anonymous_page(): pgtable_trans_huge_deposit(); set_pmd_at(huge ${page}); mm_inc_nr_ptes()`);
      spin_unlock(c, pml);
      yield step(`__do_huge_pmd_anonymous_page(): spin_unlock(${pml.name})`);
      return yield* done('fault done');
    }
  },
};
