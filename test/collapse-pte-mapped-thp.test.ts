// collapse_pte_mapped_thp() per era: no page lock at v5.8 (119a5fc16105 came in v5.9), and Hugh
// Dickins' v6.6 rewrite (mmap_read_lock, pte_free_defer()).

import test from 'ava';
import { knownRace } from '../src/explore/known.js';
import { registerWorld } from '../src/mm/world/registry.js';
import { DEFAULT_WORLD } from '../src/mm/world/worlds.js';
import type { World } from '../src/mm/world/types.js';
import { describe, runScript, stepOf } from './helpers.js';

// Reclaim holds the huge page's lock and i_mmap_rwsem, and has read *pmd; then khugepaged collapses.
const rmapFirst = [{ actor: 'try_to_unmap', until: 'page_vma_mapped_walk(): pmde' }, { actor: 'collapse_pte_mapped_thp' }, { actor: 'try_to_unmap' }];
const rmapPair = [{ actor: 'try_to_unmap' }, { actor: 'collapse_pte_mapped_thp' }];

test('v5.8: no page lock, so a reclaim rmap walk finds its pte table freed (known race, fixed by 119a5fc16105)', (t) => {
  const { exec, reached } = runScript({ arch: 'x86-ipi', era: 'v5.8', actors: rmapPair }, rmapFirst);
  t.true(reached[0]);
  t.is(exec.violation?.kind, 'frame-zero-walked', describe(exec));
  t.is(exec.violation?.usedBy.name, 'try_to_unmap');
  t.is(stepOf(exec, 'collapse_pte_mapped_thp', 'lock_page('), -1, 'v5.8 takes no page lock');
  t.is(knownRace('v5.8', 'x86-ipi', ['try_to_unmap', 'collapse_pte_mapped_thp'], 'frame-zero-walked'), 'collapse-pte-mapped-thp-no-page-lock');
});

test('v5.10, v6.2, v6.6: find_lock_page() / filemap_lock_folio() waits for reclaim to let go of the huge page', (t) => {
  for (const era of ['v5.10', 'v6.2', 'v6.6']) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: rmapPair }, rmapFirst);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(stepOf(exec, 'collapse_pte_mapped_thp', 'lock_page(8)') > stepOf(exec, 'try_to_unmap', 'folio_unlock(8)'), era);
  }
});

test('v6.6: collapse_pte_mapped_thp() under mmap_read_lock: step 1 under the ptl, then pml and ptl, pmdp_collapse_flush(), pte_free_defer()', (t) => {
  for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
    const { exec } = runScript({ arch, era: 'v6.6', actors: [{ actor: 'collapse_pte_mapped_thp' }] }, []);
    t.is(exec.outcome, 'clean', `${arch}: ${describe(exec)}`);
    const at = (s: string) => stepOf(exec, 'collapse_pte_mapped_thp', s);
    const order = ['mmap_read_lock(mmap_lock)', 'lock_page(8)', 'spin_lock(ptl(7))', 'step 1: every pte', 'mmu_notifier_range_init',
      'step 2: ptep_clear(addr 12)', 'step 3: folio_ref_sub(4)', 'spin_lock(pmd_lock(1))', 'pmdp_huge_get_and_clear', 'spin_unlock(ptl); spin_unlock(pml)',
      'pte_free_defer(7)', 'mmap_read_unlock(mm)'];
    const steps = order.map(at);
    t.true(steps.every((s) => s >= 0), `${arch}: ${order.filter((_, i) => steps[i]! < 0).join(', ')} missing`);
    t.deepEqual([...steps].sort((a, b) => a - b), steps, arch);
    // pte_free_defer(): the table goes only when the RCU callback runs.
    t.true(exec.trace.some((s) => s.label.includes('pte_free_now(7)')), arch);
    t.is(stepOf(exec, 'collapse_pte_mapped_thp', 'mmap_write'), -1, `${arch}: no mmap_lock for write at v6.6`);
  }
});

test('v6.6: a fault holding mmap_lock for read does not hold collapse_pte_mapped_thp off (v6.2 gives up on its trylock)', (t) => {
  const actors = [{ actor: 'fault', args: { addr: 1 } }, { actor: 'collapse_pte_mapped_thp' }];
  const sched = [{ actor: 'fault', until: 'mmap_read_lock' }, { actor: 'collapse_pte_mapped_thp' }, { actor: 'fault' }];
  const v66 = runScript({ arch: 'x86-ipi', era: 'v6.6', actors }, sched).exec;
  t.is(v66.outcome, 'clean', describe(v66));
  t.true(stepOf(v66, 'collapse_pte_mapped_thp', 'pte_free_defer(7)') < stepOf(v66, 'fault', 'mmap_read_unlock'));
  const v62 = runScript({ arch: 'x86-ipi', era: 'v6.2', actors }, sched).exec;
  t.true(stepOf(v62, 'collapse_pte_mapped_thp', 'mmap_write_trylock() failed') >= 0, describe(v62));
});

test('v6.6 on rcu-table-free: GUP-fast that read the pmd before the collapse reads its ptes from a table not yet freed', (t) => {
  const { exec, reached } = runScript({ arch: 'rcu-table-free', era: 'v6.6', actors: [{ actor: 'gup_fast', args: { addr: 12, write: 0 } }, { actor: 'collapse_pte_mapped_thp' }] },
    [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'collapse_pte_mapped_thp' }, { actor: 'gup_fast' }]);
  t.true(reached[0]);
  t.is(exec.outcome, 'clean', describe(exec));
  // The RCU callback frees table 7 only after GUP-fast turned IRQs back on.
  const freed = exec.trace.findIndex((s) => s.label.includes('pte_free_now(7)'));
  t.true(freed > stepOf(exec, 'gup_fast', 'local_irq_restore'), 'freed after the walk');
});

// A MAP_PRIVATE file VMA that was CoWed elsewhere has an anon_vma (uprobes' breakpoint removal, say).
const COWED: World = {
  ...DEFAULT_WORLD, name: 'cowed-file', summary: 'the default layout, its file VMA with an anon_vma',
  mms: [{ ...DEFAULT_WORLD.mms[0]!, vmas: DEFAULT_WORLD.mms[0]!.vmas.map((v) => (v.kind === 'file' ? { ...v, anon_vma: true } : v)) }],
};
registerWorld(COWED, 'collapse-pte-mapped-thp.test');

test('v6.2: a file VMA with an anon_vma is collapsed under anon_vma_lock_write() (ab0c3f1251b4 took 8d3c106e19e8\'s bail out)', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.2', world: 'cowed-file', actors: [{ actor: 'collapse_pte_mapped_thp' }] }, []);
  t.is(exec.outcome, 'clean', describe(exec));
  const at = (s: string) => stepOf(exec, 'collapse_pte_mapped_thp', s);
  t.is(at('nothing to do'), -1);
  const order = [at('step 3'), at('down_write(anon_vma)'), at('pmdp_huge_get_and_clear'), at('pte_free(7); anon_vma_unlock_write(); i_mmap_unlock_write()')];
  t.true(order.every((s) => s >= 0), order.join(' '));
  t.deepEqual([...order].sort((a, b) => a - b), order);
  // The ≤ v6.0 code (V6 puts it back) neither checks nor locks the anon_vma.
  const v6 = runScript({ arch: 'x86-ipi', era: 'v6.2', world: 'cowed-file', variants: ['retract-wrong-locks'], actors: [{ actor: 'collapse_pte_mapped_thp' }] }, []).exec;
  t.is(stepOf(v6, 'collapse_pte_mapped_thp', 'down_write(anon_vma)'), -1);
  t.true(stepOf(v6, 'collapse_pte_mapped_thp', 'pte_free(7)') >= 0);
});
