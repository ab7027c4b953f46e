// A page fault under the per-VMA lock (fault_vma_lock, v6.6): it runs `fault`'s steps under
// vma_start_read() instead of mmap_lock, falls back to mmap_lock when lock_vma_under_rcu() fails,
// and every VMA change (munmap, __split_vma(), collapse_huge_page()) waits for it through
// vma_start_write(). Taking the VMA lock out (a test mutation) lets munmap and khugepaged change the
// VMA's tables under the fault: the kernel's "Bad rss-counter state" and collapse_huge_page()'s
// BUG_ON(!pmd_none(*pmd)) (the reason for 55fd6fccad31-era vma_start_write() in khugepaged).

import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { fromStreams, nonPreemptive, type Segment } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeFaultVmaLock } from '../src/mm/actors/fault_vma_lock.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import { step, type Ctx } from '../src/mm/step.js';
import { __split_vma } from '../src/mm/vma.js';
import { mmap_write_lock, mmap_write_unlock, vma_start_write } from '../src/mm/vma_lock.js';
import { describe, runScript, stepOf } from './helpers.js';

function user(name: string, run: ActorDef['run']): ActorDef {
  return { name, summary: 'a test actor', follows: '(test)', inMm: true, daemon: 'no', params: [], run };
}

const TEST_ACTORS: readonly ActorDef[] = [
  makeFaultVmaLock('fault_no_vma_lock', { vmaLock: false }),
  // mprotect-like: write-lock VMA 0 under mmap_lock for write, hold it a step, let go.
  user('wrlock_vma0', function* (c: Ctx) {
    yield* mmap_write_lock(c, c.mm);
    yield* vma_start_write(c, c.mm.vmas[0]!);
    yield step('vm_flags_reset(vma 0)');
    mmap_write_unlock(c, c.mm);
    yield step('mmap_write_unlock(mm)');
  }),
  // mremap-like: split VMA 0 at 4 (__split_vma() write-locks it first).
  user('split_vma0', function* (c: Ctx) {
    yield* mmap_write_lock(c, c.mm);
    yield* __split_vma(c, c.mm.vmas[0]!, 4, false);
    mmap_write_unlock(c, c.mm);
    yield step('mmap_write_unlock(mm)');
  }),
];
const POOL = [...ACTORS, ...TEST_ACTORS];

function script(actors: readonly ActorCall[], schedule: readonly Segment[], era = 'v6.6') {
  return runScript({ arch: 'x86-ipi', era, actors }, schedule, {}, POOL).exec;
}

const labels = (e: ReturnType<typeof script>, actor: string) => e.trace.filter((t) => e.names[t.actor] === actor).map((t) => t.label);

test('alone, the fault takes the VMA lock and then does what `fault` does under mmap_lock, step for step', (t) => {
  for (const addr of [2, 4, 5]) {
    const v = script([{ actor: 'fault_vma_lock', args: { addr } }], []);
    const f = script([{ actor: 'fault', args: { addr } }], []);
    t.is(v.outcome, 'clean', describe(v));
    const lv = labels(v, 'fault_vma_lock');
    const lf = labels(f, 'fault');
    t.is(lv[3], `lock_vma_under_rcu(addr ${addr}): vma 0 read-locked: rcu_read_unlock()`);
    t.deepEqual(lv.slice(4, -1), lf.slice(1, -1), `addr ${addr}`);
    t.is(lv[lv.length - 1], 'fault done: vma_end_read(vma 0) [VMA_LOCK_SUCCESS]');
  }
});

test('fault_vma_lock exists at v6.6 only (per-VMA locks came in v6.4)', (t) => {
  for (const era of ['v5.8', 'v5.10', 'v6.2']) {
    t.throws(() => buildScenario({ arch: 'x86-ipi', era, actors: [{ actor: 'fault_vma_lock' }] }), undefined, era);
  }
  t.is(execute(buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'fault_vma_lock' }] }), nonPreemptive()).outcome, 'clean');
});

test('a write-locked VMA sends the fault to mmap_lock (lock_mm_and_find_vma()), which waits for the writer', (t) => {
  const e = script([{ actor: 'wrlock_vma0' }, { actor: 'fault_vma_lock', args: { addr: 4 } }],
    [{ actor: 'wrlock_vma0', until: 'vma_start_write' }, { actor: 'fault_vma_lock' }, { actor: 'wrlock_vma0' }, { actor: 'fault_vma_lock' }]);
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'fault_vma_lock', 'vm_lock_seq == mm_lock_seq (0): write-locked, fail') >= 0);
  t.true(stepOf(e, 'fault_vma_lock', 'mmap_read_lock') > stepOf(e, 'wrlock_vma0', 'mmap_write_unlock'));
  t.regex(labels(e, 'fault_vma_lock').at(-1) ?? '', /fault done: mmap_read_unlock/);
  // After mmap_write_unlock() (vma_end_write_all()), the VMA lock is free again.
  const after = script([{ actor: 'wrlock_vma0' }, { actor: 'fault_vma_lock', args: { addr: 4 } }], [{ actor: 'wrlock_vma0' }, { actor: 'fault_vma_lock' }]);
  t.regex(labels(after, 'fault_vma_lock').at(-1) ?? '', /vma_end_read/);
});

// The fault has read-locked VMA 0 when the VMA change starts.
const faultFirst = (other: string, faultActor = 'fault_vma_lock'): Segment[] => [{ actor: faultActor, until: 'rcu_read_unlock()' }, { actor: other }, { actor: faultActor }, { actor: other }];

test('munmap (do_vmi_align_munmap()) and __split_vma() wait in vma_start_write() until the fault drops the VMA lock', (t) => {
  const m = script([{ actor: 'fault_vma_lock', args: { addr: 2 } }, { actor: 'munmap', args: { vma: 0 } }], faultFirst('munmap'));
  t.is(m.outcome, 'clean', describe(m));
  t.true(stepOf(m, 'munmap', 'detach_vmas_to_be_unmapped') > stepOf(m, 'fault_vma_lock', 'vma_end_read'));
  const s = script([{ actor: 'fault_vma_lock', args: { addr: 2 } }, { actor: 'split_vma0' }], faultFirst('split_vma0'));
  t.is(s.outcome, 'clean', describe(s));
  t.true(stepOf(s, 'split_vma0', 'vma_start_write(vma 0)') > stepOf(s, 'fault_vma_lock', 'vma_end_read'));
});

test('without the VMA lock, munmap zaps and frees the table under the fault: a page counted in rss that no table maps', (t) => {
  const sched: Segment[] = [{ actor: 'fault_no_vma_lock', until: 'alloc_zeroed' }, { actor: 'munmap', until: 'pte_unmap_unlock' }, { actor: 'fault_no_vma_lock' }, { actor: 'munmap' }];
  const bad = script([{ actor: 'fault_no_vma_lock', args: { addr: 2 } }, { actor: 'munmap', args: { vma: 0 } }], sched);
  t.is(bad.violation?.kind, 'counter-mismatch', describe(bad));
  const ok = script([{ actor: 'fault_vma_lock', args: { addr: 2 } }, { actor: 'munmap', args: { vma: 0 } }],
    sched.map((s) => (s.actor === 'munmap' ? s : { ...s, actor: 'fault_vma_lock' })));
  t.is(ok.outcome, 'clean', describe(ok));
});

test('collapse_huge_page() write-locks the VMA (v6.6): with the VMA lock the fault waits; without it, it populates the pmd collapse cleared (BUG_ON(!pmd_none(*pmd)))', (t) => {
  const sched = (f: string): Segment[] => [{ actor: 'collapse_huge_page', until: 'spin_unlock(pmd_ptl); mmu' }, { actor: f }, { actor: 'collapse_huge_page' }, { actor: f }];
  const ok = script([{ actor: 'fault_vma_lock', args: { addr: 2 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }], sched('fault_vma_lock'));
  t.is(ok.outcome, 'clean', describe(ok));
  t.true(stepOf(ok, 'fault_vma_lock', 'write-locked, fail') >= 0);
  const bad = script([{ actor: 'fault_no_vma_lock', args: { addr: 2 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }], sched('fault_no_vma_lock'));
  t.is(bad.violation?.kind, 'kernel-bug', describe(bad));
  t.regex(bad.violation?.message ?? '', /BUG_ON\(!pmd_none\(\*pmd\)\)/);
  // And the fault that holds the VMA lock first holds collapse off until it is done.
  const first = script([{ actor: 'fault_vma_lock', args: { addr: 2 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }], faultFirst('collapse_huge_page'));
  t.is(first.outcome, 'clean', describe(first));
  t.true(stepOf(first, 'collapse_huge_page', 'down_write(anon_vma)') > stepOf(first, 'fault_vma_lock', 'vma_end_read'));
});

// Random schedules of the VMA-locked fault against the VMA changers and the other walkers: clean.
const POOL66 = ACTORS.filter((a) => ['fault_vma_lock', 'fault', 'munmap', 'collapse_huge_page', 'thp_fault', 'madvise_dontneed', 'gup_fast', 'hw_walker', 'mincore', 'fork'].includes(a.name));
const callArb = fc.constantFrom(...POOL66.filter((a) => a.name !== 'fault_vma_lock')).chain((def) =>
  fc.record(Object.fromEntries(def.params.map((p) => [p.name, fc.integer({ min: p.min, max: p.name === 'addr' ? 7 : p.max })])))
    .map((args): ActorCall => ({ actor: def.name, args })));

for (const arch of ['x86-ipi', 'rcu-table-free']) {
  testProp(`v6.6 on ${arch}: fault_vma_lock against random actors, random schedules: clean`,
    [fc.integer({ min: 0, max: 7 }), fc.array(callArb, { minLength: 1, maxLength: 2 }), fc.array(fc.nat(), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 20 })],
    (t, addr, others, picks, choices) => {
      const e = execute(buildScenario({ arch, era: 'v6.6', actors: [{ actor: 'fault_vma_lock', args: { addr } }, ...others] }), fromStreams(picks, choices));
      const pair = [e.violation?.usedBy.name, e.violation?.changedBy?.name].filter((n): n is string => n !== undefined && n !== 'rcu');
      if (e.violation && knownRace('v6.6', arch as 'x86-ipi', pair, e.violation.kind)) t.pass();
      else t.is(e.outcome, 'clean', describe(e));
    },
    { numRuns: 200, seed: 11 });
}
