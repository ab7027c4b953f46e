// mprotect() and NUMA hinting (change_protection()) against the threads they race with, one scripted
// interleaving per protocol rule, each with the rule taken out by a test mutation (it must fail) and
// kept (it must not); then random schedules of the new actors among their neighbours.

import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { execute } from '../src/explore/executor.js';
import { fromStreams } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeMprotect } from '../src/mm/actors/mprotect.js';
import { makeTouch } from '../src/mm/actors/touch.js';
import { task_numa_work } from '../src/mm/actors/task_numa_work.js';
import type { ActorDef, Args } from '../src/mm/actor.js';
import { change_protection, tlb_flush_mmu_tlbonly, vma_is_accessible } from '../src/mm/mprotect.js';
import { down_read, up_read } from '../src/mm/locks.js';
import { step, type Ctx } from '../src/mm/step.js';
import { tlb_gather_mmu } from '../src/mm/tlbflush.js';
import { eraAtLeast } from '../src/mm/switches.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import type { EraId } from '../src/mm/switches.js';
import type { Segment } from '../src/explore/schedulers.js';
import { describe, runScript } from './helpers.js';

const ERAS: readonly EraId[] = ['v5.8', 'v5.10', 'v6.2', 'v6.6'];
const ARCHES = ['x86-ipi', 'rcu-table-free', 'x86-pae'] as const;

/** The built-in actors plus mutations, each under its own name. */
const POOL: readonly ActorDef[] = [
  ...ACTORS,
  makeMprotect('mprotect_no_flush', { noFlush: true }),
  makeMprotect('mprotect_no_pmd_recheck', { noPmdRecheck: true }),
  { ...task_numa_work, name: 'task_numa_work_pre_8b272b3cbbb5', run: (c, args) => numaWithPmdClearBad(c, args) },
  makeTouch('touch_no_pte_same', { noPteSame: true }),
];

// task_numa_work with change_pmd_range()'s pre-v5.7 check: the same walk, change_protection()
// called with the mutation.
function* numaWithPmdClearBad(c: Ctx, args: Args) {
  yield* down_read(c, c.mm.mmap_lock);
  const vma = c.mm.vmas[args['vma'] ?? 0]!;
  if (vma_is_accessible(vma)) {
    const tlb = eraAtLeast(c.m.sw, 'v6.2') ? tlb_gather_mmu(c.mm, false) : null;
    yield* change_protection(c, tlb, vma, vma.start, vma.end, { prot_numa: true }, { pmdClearBadRace: true });
    if (tlb) yield* tlb_flush_mmu_tlbonly(c, tlb, 'change_prot_numa(): tlb_finish_mmu()');
  }
  up_read(c, c.mm.mmap_lock);
  yield step('task_numa_work(): mmap_read_unlock(mm)');
}

function run(era: EraId, arch: string, actors: readonly ActorCall[], schedule: readonly Segment[]) {
  return runScript({ era, arch, actors }, schedule, {}, POOL);
}

// --- mprotect's flush before it returns, against a thread that writes through its TLB ---------------

for (const era of ERAS) {
  for (const arch of ARCHES) {
    test(`${era} on ${arch}: a write after mprotect(PROT_READ) returned faults (SIGSEGV); without the flush it goes through the old entry`, (t) => {
      const sched = (mp: string): Segment[] => [{ actor: 'touch', until: 'user write to 0 → frame 3' }, { actor: mp }, { actor: 'touch' }];
      const fixed = run(era, arch, [{ actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }, { actor: 'mprotect', args: { vma: 0, prot: 1 } }], sched('mprotect'));
      t.is(fixed.exec.violation, null, describe(fixed.exec));
      t.true(fixed.exec.trace.some((s) => s.label.includes('access_error(): no VM_WRITE: SIGSEGV')), 'the second write faulted on the new protection');
      // Which flush each era does: flush_tlb_range() until v5.19, the mmu_gather from v6.0.
      const how = era === 'v6.2' || era === 'v6.6' ? 'tlb_flush_mmu_tlbonly()' : 'flush_tlb_range(vma, 0, 8)';
      t.true(fixed.exec.trace.some((s) => s.label.includes(how)), `the flush is ${how}`);
      const unfixed = run(era, arch, [{ actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }, { actor: 'mprotect_no_flush', args: { vma: 0, prot: 1 } }], sched('mprotect_no_flush'));
      t.is(unfixed.exec.violation?.kind, 'stale-tlb-protection', describe(unfixed.exec));
      t.is(unfixed.exec.violation?.changedBy?.name, 'mprotect_no_flush');
    });
  }
}

test('a write through the old entry before mprotect() returns is no violation (v5.10 and v6.6)', (t) => {
  for (const era of ['v5.10', 'v6.6'] as const) {
    // mprotect has changed pte 0 but not yet flushed: the thread's TLB still says writable.
    const e = run(era, 'x86-ipi', [{ actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }, { actor: 'mprotect', args: { vma: 0, prot: 1 } }],
      [{ actor: 'touch', until: 'user write to 0 → frame 3' }, { actor: 'mprotect', until: 'change_pte_range(): ptep_modify_prot_commit(0, 1)' }, { actor: 'touch' }, { actor: 'mprotect' }]);
    t.is(e.exec.violation, null, describe(e.exec));
    t.is(e.exec.trace.filter((s) => s.label === 'user write to 0 → frame 3').length, 2, `${era}: both writes went through the old writable entry`);
  }
});

test('PROT_NONE: a read through the old entry after mprotect() returned is a violation without the flush, a fault with it', (t) => {
  const actors = (mp: string): ActorCall[] => [{ actor: 'touch', args: { addr: 1, write: 0, accesses: 2 } }, { actor: mp, args: { vma: 0, prot: 0 } }];
  const sched = (mp: string): Segment[] => [{ actor: 'touch', until: 'user read to 1 → frame 4' }, { actor: mp }, { actor: 'touch' }];
  const fixed = run('v6.2', 'rcu-table-free', actors('mprotect'), sched('mprotect'));
  t.is(fixed.exec.violation, null, describe(fixed.exec));
  t.true(fixed.exec.trace.some((s) => s.label.includes('access_error(): not accessible: SIGSEGV')), 'PROT_NONE is not a NUMA hinting entry: vma_is_accessible() is false');
  const unfixed = run('v6.2', 'rcu-table-free', actors('mprotect_no_flush'), sched('mprotect_no_flush'));
  t.is(unfixed.exec.violation?.kind, 'stale-tlb-protection', describe(unfixed.exec));
});

// --- change_pmd_range() against a THP fault, under mmap_lock for read (NUMA hinting) -----------------

test('v5.10: change_prot_numa() vs a THP fault: before 8b272b3cbbb5 the new huge pmd is judged bad and cleared; with it, clean', (t) => {
  const sched = (numa: string): Segment[] => [{ actor: numa, until: '[pmd 1]' }, { actor: 'thp_fault' }, { actor: numa }];
  const old = run('v5.10', 'x86-ipi', [{ actor: 'task_numa_work_pre_8b272b3cbbb5', args: { vma: 0 } }, { actor: 'thp_fault', args: { slot: 1 } }], sched('task_numa_work_pre_8b272b3cbbb5'));
  t.is(old.exec.violation?.kind, 'valid-mapping-cleared', describe(old.exec));
  const fixed = run('v5.10', 'x86-ipi', [{ actor: 'task_numa_work', args: { vma: 0 } }, { actor: 'thp_fault', args: { slot: 1 } }], sched('task_numa_work'));
  t.is(fixed.exec.violation, null, describe(fixed.exec));
  t.true(fixed.reached[0], 'the scan read pmd 1 before the fault');
});

test('v6.6: after the THP fault, change_prot_numa() makes the huge pmd protnone through pmdp_invalidate_ad(), never none', (t) => {
  const e = run('v6.6', 'x86-ipi', [{ actor: 'thp_fault', args: { slot: 1 } }, { actor: 'task_numa_work', args: { vma: 0 } }, { actor: 'madvise_dontneed', args: { slot: 1 } }],
    [{ actor: 'thp_fault' }, { actor: 'task_numa_work', until: 'pmdp_invalidate_ad()' }, { actor: 'madvise_dontneed' }, { actor: 'task_numa_work' }]);
  t.is(e.exec.violation, null, describe(e.exec));
  t.true(e.reached[1], 'change_huge_pmd() invalidated the pmd');
});

// --- change_pte_range() against khugepaged's retract_page_tables() at v6.6 (no mmap_lock) --------------

test('v6.6: mprotect() vs retract_page_tables(): pte_offset_map_lock() sees the pmd change and change_pmd_range() goes again; without the re-check, a freed table', (t) => {
  const fixed = run('v6.6', 'rcu-table-free', [{ actor: 'mprotect', args: { vma: 1, prot: 1 } }, { actor: 'collapse_file' }],
    [{ actor: 'mprotect', until: 'pmdp_get_lockless(pmd) [pmd 2]' }, { actor: 'collapse_file', until: 'pmdp_huge_get_and_clear()' }, { actor: 'mprotect' }]);
  t.is(fixed.exec.violation, null, describe(fixed.exec));
  t.true(fixed.exec.trace.some((s) => s.label.includes('-EAGAIN: goto again')), 'change_pte_range() returned -EAGAIN');
  const unfixed = run('v6.6', 'rcu-table-free', [{ actor: 'mprotect_no_pmd_recheck', args: { vma: 1, prot: 1 } }, { actor: 'collapse_file' }],
    [{ actor: 'mprotect_no_pmd_recheck', until: 'without the re-check (test mutation) [pmd 2]' }, { actor: 'collapse_file' }, { actor: 'rcu' }, { actor: 'mprotect_no_pmd_recheck' }]);
  t.is(unfixed.exec.violation?.kind, 'table-use-after-free', describe(unfixed.exec));
});

// --- the NUMA hinting fault against what changes the pte between its read and its restore -----------

for (const era of ERAS) {
  test(`${era}: do_numa_page() re-checks pte_same() under the ptl: a pte zapped meanwhile is not restored (without the check, a freed page is mapped)`, (t) => {
    const sched = (touch: string): Segment[] => [{ actor: 'task_numa_work' }, { actor: touch, until: 'vmf->orig_pte' }, { actor: 'madvise_dontneed' }, { actor: touch }];
    const actors = (touch: string): ActorCall[] => [{ actor: 'task_numa_work', args: { vma: 0 } }, { actor: touch, args: { addr: 0, write: 1, accesses: 1 } }, { actor: 'madvise_dontneed', args: { slot: 0 } }];
    const fixed = run(era, 'x86-ipi', actors('touch'), sched('touch'));
    t.is(fixed.exec.violation, null, describe(fixed.exec));
    t.true(fixed.exec.trace.some((s) => s.label.includes('!pte_same(')), 'do_numa_page() found the pte changed');
    const unfixed = run(era, 'x86-ipi', actors('touch_no_pte_same'), sched('touch_no_pte_same'));
    t.is(unfixed.exec.violation?.kind, 'bad-entry-installed', describe(unfixed.exec));
  });
}

// --- random schedules ----------------------------------------------------------------------------------

const NEIGHBOURS = ['mprotect', 'task_numa_work', 'touch', 'thp_fault', 'madvise_dontneed', 'collapse_file', 'collapse_huge_page', 'hw_walker', 'fault', 'gup_fast'];

function call(era: EraId): fc.Arbitrary<ActorCall> {
  const pool = ACTORS.filter((a) => NEIGHBOURS.includes(a.name) && (!a.eras || a.eras.includes(era)));
  return fc.constantFrom(...pool).chain((def) =>
    fc.record(Object.fromEntries(def.params.map((p) => [p.name, fc.integer({ min: p.min, max: p.max })])))
      .map((args): ActorCall => ({ actor: def.name, args })));
}

for (const era of ERAS) {
  testProp(
    `${era}: random schedules of mprotect, task_numa_work and touch among their neighbours are clean but for known races`,
    [fc.constantFrom(...ARCHES), fc.tuple(fc.constantFrom('mprotect', 'task_numa_work'), call(era), call(era)), fc.array(fc.nat(), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 20 })],
    (t, arch, [first, a, b], picks, choices) => {
      const actors: ActorCall[] = [{ actor: first }, { actor: 'touch', args: { addr: picks.length % 8, write: picks.length % 2 } }, a, b];
      const e = execute(buildScenario({ arch, era, actors }), fromStreams(picks, choices));
      const pair = [e.violation?.usedBy.name, e.violation?.changedBy?.name].filter((n): n is string => n !== undefined && n !== 'rcu');
      if (e.violation && knownRace(era, arch, pair, e.violation.kind)) t.pass();
      else t.is(e.outcome, 'clean', describe(e));
    },
    { numRuns: 120, seed: 7 },
  );
}
