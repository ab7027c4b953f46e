// Flushes with a range: flush_tlb_range() invalidates only the range it is given (so a wrong range,
// as in 723a80dafed5, leaves a stale entry the oracle catches), x86 switches to a full flush past
// its ceiling, and the mmu_gather flushes the range it gathered.

import test from 'ava';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { put_page } from '../src/mm/frames.js';
import { spin_unlock } from '../src/mm/locks.js';
import { pmd_off_present, pmd_table, pmd_load, pte_lockptr, ptep_get_and_clear, spin_lock_ptl } from '../src/mm/pgtable.js';
import { step, type Ctx } from '../src/mm/step.js';
import { flush_tlb_range } from '../src/mm/tlbflush.js';
import { describe, runScript } from './helpers.js';

/** Clears the pte of address 0 (page 3) and flushes [from, to) before dropping the page. */
function unmapper(name: string, from: number, to: number): ActorDef {
  return {
    name, summary: 'clears pte 0 and flushes a range', follows: '(test) try_to_unmap_one() with a chosen flush range', inMm: false, daemon: 'no', params: [],
    *run(c: Ctx) {
      const t = pmd_table(c, pmd_load(c, pmd_off_present(c, 0)));
      yield* spin_lock_ptl(c, t);
      ptep_get_and_clear(c, t, 0);
      spin_unlock(c, pte_lockptr(c.m, t));
      c.mm.rss--;
      yield step('ptep_get_and_clear(addr 0)');
      yield* flush_tlb_range(c, `flush_tlb_range(${from}, ${to})`, { mm: c.mm.id, start: from, end: to });
      put_page(c.m, 3);
      yield step('put_page(3)');
    },
  };
}

const POOL = [...ACTORS, unmapper('right_range', 0, 1), unmapper('wrong_range', 1, 2), unmapper('huge_range', 40, 80)];
const script = (who: string) => [{ actor: 'hw_walker', until: 'user access to 0' }, { actor: who }];

for (const arch of ['x86-ipi', 'rcu-table-free']) {
  test(`${arch}: a flush of the wrong range leaves the TLB entry, and freeing the page is caught`, (t) => {
    const { exec } = runScript({ arch, actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'wrong_range' }] }, script('wrong_range'), { 'hw-address': [0] }, POOL);
    t.is(exec.violation?.kind, 'stale-tlb', describe(exec));
    t.regex(exec.violation?.message ?? '', /TLB still maps address 0/);
  });

  test(`${arch}: the right range leaves no stale entry`, (t) => {
    const { exec } = runScript({ arch, actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'right_range' }] }, script('right_range'), { 'hw-address': [0] }, POOL);
    t.is(exec.violation, null, describe(exec));
  });
}

test('x86 flushes the whole mm past tlb_single_page_flush_ceiling (33 pages): a range that misses address 0 still covers it', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'huge_range' }] }, script('huge_range'), { 'hw-address': [0] }, POOL);
  t.is(exec.violation, null, describe(exec));
});

test('arm64-like broadcast flushes only the range below its ceiling: the same 40-page range misses address 0', (t) => {
  const { exec } = runScript({ arch: 'rcu-table-free', actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'huge_range' }] }, script('huge_range'), { 'hw-address': [0] }, POOL);
  t.is(exec.violation?.kind, 'stale-tlb', describe(exec));
});

test('munmap flushes the range its mmu_gather gathered, and every walk cache of the mm when tables go', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', actors: [{ actor: 'hw_walker', args: { accesses: 2 } }, { actor: 'munmap', args: { vma: 0 } }] },
    [{ actor: 'hw_walker', until: 'user access to 1' }, { actor: 'munmap' }, { actor: 'hw_walker' }], { 'hw-address': [1, 9] }, ACTORS);
  t.is(exec.violation, null, describe(exec));
  t.true(exec.trace.some((s) => s.label.includes('tlb_flush_mmu_tlbonly()')));
});
