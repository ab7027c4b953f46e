// GUP-slow does not follow a protnone entry where it honors NUMA hinting faults (FOLL_NUMA until
// v6.2, FOLL_HONOR_NUMA_FAULT at v6.6): it faults instead. get_dump_page() (FOLL_FORCE) follows it.
// The first three tests fail on the model as it was, whose follow_page_mask() followed every entry.

import test from 'ava';
import { gup_can_follow_protnone } from '../src/mm/actors/follow_page.js';
import { makeSwitches } from '../src/mm/switches.js';
import type { Vma } from '../src/mm/types.js';
import { describe, runScript, stepOf } from './helpers.js';

const ERAS = ['v5.8', 'v5.10', 'v6.2', 'v6.6'] as const;
const pins = (exec: ReturnType<typeof runScript>['exec'], actor: string) =>
  exec.trace.filter((s) => exec.names[s.actor] === actor).flatMap((s) => s.events.filter((e) => e.e === 'pin'));

test('follow_page_pte(): GUP-slow gets no page from a pte task_numa_work() made protnone, at every era', (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'task_numa_work', args: { vma: 0 } }, { actor: 'gup_slow', args: { addr: 0 } }] },
      [{ actor: 'task_numa_work' }, { actor: 'gup_slow' }]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(stepOf(exec, 'gup_slow', 'follow_page_pte(): pte_protnone(pte): no page') >= 0, era);
    t.deepEqual(pins(exec, 'gup_slow'), [], `${era}: nothing pinned`);
  }
});

test('follow_pmd_mask(): GUP-slow gets no page from a protnone huge pmd, at every era', (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'thp_fault', args: { slot: 1 } }, { actor: 'task_numa_work', args: { vma: 0 } }, { actor: 'gup_slow', args: { addr: 5 } }] },
      [{ actor: 'thp_fault' }, { actor: 'task_numa_work' }, { actor: 'gup_slow' }]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(stepOf(exec, 'task_numa_work', 'change_huge_pmd') >= 0, `${era}: the huge pmd was made protnone`);
    t.is(stepOf(exec, 'gup_slow', 'follow_trans_huge_pmd'), -1, `${era}: given up on pmdval, before the pmd lock`);
    t.deepEqual(pins(exec, 'gup_slow'), [], `${era}: nothing pinned`);
  }
});

test('get_dump_page() (FOLL_FORCE) follows the protnone pte and dumps the page; GUP-slow without task_numa_work pins it', (t) => {
  for (const era of ERAS) {
    const dump = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'task_numa_work', args: { vma: 0 } }, { actor: 'coredump', args: { addr: 0 } }] },
      [{ actor: 'task_numa_work' }, { actor: 'coredump' }]).exec;
    t.is(dump.outcome, 'clean', `${era}: ${describe(dump)}`);
    t.true(stepOf(dump, 'coredump', 'dump_emit_page(); put_page(3)') >= 0, `${era}: ${dump.trace.map((s) => s.label).join(' | ')}`);
    const plain = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'gup_slow', args: { addr: 0 } }] }, []).exec;
    t.is(pins(plain, 'gup_slow').length, 1, era);
  }
});

test('gup_can_follow_protnone(): FOLL_FORCE callers always; NUMA-honoring ones never before v6.6, and at v6.6 only in an inaccessible VMA', (t) => {
  // Only vma_is_accessible() reads the VMA: its VM_READ | VM_WRITE.
  const open = { vm_prot: 3 } as Vma;
  const none = { vm_prot: 0 } as Vma;
  for (const era of ERAS) {
    const sw = makeSwitches(era);
    t.true(gup_can_follow_protnone(sw, open, {}), era);
    t.true(gup_can_follow_protnone(sw, none, { honorNumaFault: false }), era);
    t.false(gup_can_follow_protnone(sw, open, { honorNumaFault: true }), era);
    t.is(gup_can_follow_protnone(sw, none, { honorNumaFault: true }), era === 'v6.6', era);
  }
});
