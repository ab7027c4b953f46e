// The four claims of Hugh Dickins' mail (CATALOG.md), each checked against the model.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { buildScenario } from '../src/mm/scenario.js';
import { describe, runScript, stepOf } from './helpers.js';

const retractVsExit = [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }];
const zapReadsPmd = [{ actor: 'exit_mmap', until: 'pmd_trans_unstable(): pmdval = pmd_read_atomic(pmd) [pmd 2]' }, { actor: 'collapse_file' }, { actor: 'exit_mmap' }];

test('claim 1: exit_mmap zapping without mmap_lock is not safe against retract_page_tables (v5.8)', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v5.8', actors: retractVsExit }, zapReadsPmd);
  t.is(exec.violation?.kind, 'frame-zero-walked', describe(exec));
  t.is(exec.violation?.usedBy.name, 'exit_mmap');
});

test('claim 1, fixed: at v6.2 exit_mmap holds mmap_lock, so retract cannot run under its zap', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.2', actors: retractVsExit }, zapReadsPmd);
  t.is(exec.violation, null, describe(exec));
});

function randomClean(t: import('ava').ExecutionContext, arch: string, era: string, actors: { actor: string; args?: Record<string, number> }[], runs: number): void {
  const scn = buildScenario({ arch, era, actors });
  for (let seed = 0; seed < runs; seed++) {
    const e = execute(scn, uniformRandom(seed));
    if (e.outcome !== 'clean') {
      t.fail(`seed ${seed}: ${describe(e)}`);
      return;
    }
  }
  t.pass();
}

for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
  test(`claim 2: hardware walks are safe against retract: the flush comes first (${arch}, v5.10, random schedules)`, (t) => {
    randomClean(t, arch, 'v5.10', [{ actor: 'hw_walker', args: { accesses: 4 } }, { actor: 'collapse_file' }], 1500);
  });
}

test('claim 2: a hardware walk that cached the retracted table has it flushed before pte_free', (t) => {
  const { exec } = runScript(
    { arch: 'x86-ipi', era: 'v5.10', actors: [{ actor: 'hw_walker', args: { accesses: 2 } }, { actor: 'collapse_file' }] },
    [{ actor: 'hw_walker', until: 'user access' }, { actor: 'collapse_file' }, { actor: 'hw_walker' }],
    { 'hw-address': [8, 8] },
  );
  t.is(exec.violation, null, describe(exec));
  const events = exec.trace.flatMap((s) => s.events);
  t.true(events.some((e) => e.e === 'pwc-fill' && e.pfn === 5), 'the walk cached table 5 in the paging-structure cache');
  t.true(events.some((e) => e.e === 'free' && e.pfn === 5), 'retract freed table 5');
});

const gupVsRetract = [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }];
const gupReadsPmd = [{ actor: 'gup_fast', until: 'gup_pmd_range(): pmd =' }, { actor: 'collapse_file' }, { actor: 'gup_fast' }];

test('claim 3: GUP-fast is safe on x86: retract frees the table only after local_irq_restore (v5.10)', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v5.10', actors: gupVsRetract }, gupReadsPmd);
  t.is(exec.violation, null, describe(exec));
  const restore = stepOf(exec, 'gup_fast', 'local_irq_restore');
  const free = stepOf(exec, 'collapse_file', 'pte_free(');
  t.true(restore >= 0 && free >= 0, 'both steps were taken');
  t.true(free > restore, `pte_free at step ${free} comes after local_irq_restore at step ${restore}`);
});

test('claim 3: GUP-fast against retract on x86, random schedules (v5.10)', (t) => {
  randomClean(t, 'x86-ipi', 'v5.10', [...gupVsRetract, { actor: 'hw_walker' }], 2000);
});

test('claim 4 is false: on an RCU-table-free architecture retract frees the table under GUP-fast (v5.10)', (t) => {
  const { exec } = runScript({ arch: 'rcu-table-free', era: 'v5.10', actors: gupVsRetract }, gupReadsPmd);
  t.is(exec.violation?.kind, 'table-use-after-free', describe(exec));
  t.is(exec.violation?.usedBy.name, 'gup_fast');
  t.is(exec.violation?.changedBy?.name, 'collapse_file');
});

test('claim 4, fixed: at v6.2 tlb_remove_table_sync_one() makes retract wait for GUP-fast', (t) => {
  const { exec } = runScript({ arch: 'rcu-table-free', era: 'v6.2', actors: gupVsRetract }, gupReadsPmd);
  t.is(exec.violation, null, describe(exec));
  t.true(stepOf(exec, 'collapse_file', 'pte_free(') > stepOf(exec, 'gup_fast', 'local_irq_restore'));
});
