// Lazy TLB: a CPU that borrowed the mm for a kernel thread stays in mm_cpumask; x86 IPIs it only for
// flushes that free tables, so pmdp_collapse_flush() (freed_tables = false until 3ef938c35035) leaves
// its paging-structure cache pointing at the table khugepaged then frees.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import { buildScenario } from '../src/mm/scenario.js';
import { describe, runScript } from './helpers.js';

const walkThenRetract = [
  { actor: 'lazy_tlb', until: 'speculative page walk of 8' },
  { actor: 'collapse_file' },
];

test('retract frees a table a lazy CPU still caches (x86, every era): known race lazy-tlb-collapse-flush', (t) => {
  for (const era of ['v5.10', 'v6.2', 'v6.6']) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'lazy_tlb', args: { walks: 1 } }, { actor: 'collapse_file' }] },
      walkThenRetract, { 'hw-address': [8] });
    t.true(reached[0], era);
    t.is(exec.violation?.kind, 'stale-tlb', `${era}: ${describe(exec)}`);
    t.regex(exec.violation?.message ?? '', /paging-structure cache still points pmd\[2\] at it/);
    t.is(knownRace(era as 'v6.6', 'x86-ipi', ['lazy_tlb', 'collapse_file'], 'stale-tlb'), 'lazy-tlb-collapse-flush');
  }
});

test('a broadcast invalidate reaches the lazy CPU: clean where tables are freed by RCU', (t) => {
  const { exec } = runScript({ arch: 'rcu-table-free', era: 'v6.6', actors: [{ actor: 'lazy_tlb', args: { walks: 1 } }, { actor: 'collapse_file' }] },
    walkThenRetract, { 'hw-address': [8] });
  t.is(exec.violation, null, describe(exec));
});

test('a flush that frees tables IPIs the lazy CPU, which leaves lazy mode: munmap is clean', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', world: 'two-pmd-tables', actors: [{ actor: 'lazy_tlb', args: { walks: 2 } }, { actor: 'munmap', args: { vma: 0 } }] },
    [{ actor: 'lazy_tlb', until: 'speculative page walk' }, { actor: 'munmap' }, { actor: 'lazy_tlb' }], { 'hw-address': [8] });
  t.is(exec.violation, null, describe(exec));
  t.true(exec.trace.some((s) => s.label.includes('pmd_free_tlb')), 'munmap freed the pmd table');
  t.true(exec.trace.some((s) => s.events.some((e) => e.e === 'ipi-take' && e.cpu === 0)), 'the flush that frees tables IPIs the lazy CPU');
});

test('without the lazy CPU, random schedules of retract stay clean on x86 (the race needs it)', (t) => {
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'hw_walker' }, { actor: 'collapse_file' }] });
  for (let seed = 0; seed < 300; seed++) {
    const e = execute(scn, uniformRandom(seed));
    t.is(e.violation, null, describe(e));
  }
});
