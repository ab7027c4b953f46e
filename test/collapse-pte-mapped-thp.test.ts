// collapse_pte_mapped_thp() per era: no page lock at v5.8 (119a5fc16105 came in v5.9), and Hugh
// Dickins' v6.6 rewrite (mmap_read_lock, pte_free_defer()).

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { knownRace } from '../src/explore/known.js';
import { follow } from '../src/explore/schedule.js';
import { fromStreams } from '../src/explore/schedulers.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
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

// v5.8, the same missing page lock seen from a CPU's TLB (a campaign's token, replayed): step 2 drops
// the rmap while the ptes still map the THP, step 3 its references; reclaim's trylock_page() succeeds,
// finds the page unmapped and frees it before step 4's pmdp_collapse_flush(). The race needs the
// collapse: the known-race entry requires it, so the TLB and reclaim alone are not excused by it.
const TLB_TOKEN = 'mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJzIjpbWyJod193YWxrZXIiLHsiYWNjZXNzZXMiOjMsIndyaXRlIjowfV0sWyJzaHJpbmtfZm9saW9fbGlzdCIseyJzbG90IjozfV0sWyJjb2xsYXBzZV9wdGVfbWFwcGVkX3RocCIseyJzbG90IjozfV1dLCJwIjpbWy0xLDAsMl0sWzIsOCwwXV0sImMiOlsxM119.da171d50';
const tlbActors = [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'shrink_folio_list', args: { slot: 3 } }, { actor: 'collapse_pte_mapped_thp', args: { slot: 3 } }];
const tlbSched = [{ actor: 'collapse_pte_mapped_thp', until: 'step 3' }, { actor: 'hw_walker' }, { actor: 'shrink_folio_list' }, { actor: 'collapse_pte_mapped_thp' }];
const names = tlbActors.map((a) => a.actor);

test('v5.8: reclaim frees the THP between collapse_pte_mapped_thp()\'s rmap drop and its flush: a stale TLB, the same known race (it needs the collapse)', (t) => {
  const r = decodeToken(TLB_TOKEN);
  const replayed = execute(buildScenario(r.spec), follow(r.schedule));
  t.is(replayed.violation?.kind, 'stale-tlb', describe(replayed));
  t.is(knownRace('v5.8', 'rcu-table-free', r.spec.actors.map((a) => a.actor), 'stale-tlb'), 'collapse-pte-mapped-thp-no-page-lock', 'the campaign\'s classification');
  for (const arch of ['rcu-table-free', 'x86-ipi', 'x86-pae'] as const) {
    const { exec } = runScript({ arch, era: 'v5.8', actors: tlbActors }, tlbSched, { 'hw-address': [13] });
    t.is(exec.violation?.kind, 'stale-tlb', `${arch}: ${describe(exec)}`);
    t.is(exec.violation?.usedBy.name, 'hw_walker');
    t.is(exec.violation?.changedBy?.name, 'shrink_folio_list');
    const freed = stepOf(exec, 'shrink_folio_list', 'destroy_compound_page(8)');
    t.true(freed > stepOf(exec, 'collapse_pte_mapped_thp', 'step 3') && stepOf(exec, 'shrink_folio_list', 'trylock_page(8)') >= 0, arch);
    const pair = ['hw_walker', 'shrink_folio_list'];
    t.is(knownRace('v5.8', arch, pair, 'stale-tlb', names), 'collapse-pte-mapped-thp-no-page-lock', arch);
  }
  // Without the collapse in the scenario the entry does not apply: on rcu-table-free nothing excuses
  // a TLB and reclaim, and on x86 only the batched-flush race does.
  t.is(knownRace('v5.8', 'rcu-table-free', ['hw_walker', 'shrink_folio_list'], 'stale-tlb'), null);
  t.is(knownRace('v5.8', 'rcu-table-free', ['hw_walker', 'shrink_folio_list'], 'stale-tlb', ['hw_walker', 'shrink_folio_list', 'fault']), null);
  t.is(knownRace('v5.8', 'x86-ipi', ['hw_walker', 'shrink_folio_list'], 'stale-tlb'), 'reclaim-large-folio-before-batched-flush');
  t.is(knownRace('v5.10', 'rcu-table-free', ['hw_walker', 'shrink_folio_list'], 'stale-tlb', names), null, 'v5.9 took the page lock');
});

test('v5.10: the page lock holds reclaim off the THP until the collapse is done; at v5.8 a TLB and reclaim alone stay clean on rcu-table-free', (t) => {
  const { exec } = runScript({ arch: 'rcu-table-free', era: 'v5.10', actors: tlbActors }, tlbSched, { 'hw-address': [13] });
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(stepOf(exec, 'shrink_folio_list', 'trylock_page(8) failed') >= 0);
  // The pair alone, under seeded random schedules: reclaim unmaps and flushes before it frees.
  let s = 7;
  const next = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s >>> 8; };
  const scn = () => buildScenario({ arch: 'rcu-table-free', era: 'v5.8', actors: [{ actor: 'hw_walker', args: { accesses: 3 } }, { actor: 'shrink_folio_list', args: { slot: 3 } }] });
  for (let i = 0; i < 150; i++) {
    const e = execute(scn(), fromStreams(Array.from({ length: 60 }, next), Array.from({ length: 8 }, next)));
    t.is(e.outcome, 'clean', `run ${i}: ${describe(e)}`);
  }
});
