// fork (dup_mmap() → copy_page_range()) in the 'fork' world: what it leaves in both mms, and each
// protocol rule it relies on, with the rule in and (by era or by a test mutation) out:
//  - vs GUP-fast: the pin taken between fork's pinned check and its write-protect (v5.10; fixed by
//    57efa1fe5957's write_protect_seq in v5.11), and a pin held across fork at v5.8 (fixed by
//    70e806e4e645's early COW in v5.9);
//  - vs khugepaged (collapse_huge_page): the parent's mmap_lock for write;
//  - vs the CPUs of the parent: flush_tlb_mm(oldmm) before mmap_write_unlock(oldmm);
//  - vs a fault under the per-VMA lock (v6.6): vma_start_write() of each parent VMA.
// And random schedules at the fixed eras are clean.

import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { fromStreams, nonPreemptive } from '../src/explore/schedulers.js';
import { exhaustive } from '../src/explore/exhaustive.js';
import type { Segment } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeFork } from '../src/mm/actors/fork.js';
import { mmu_notifier_register, type MmuNotifier } from '../src/mm/mmu_notifier.js';
import { pmd_off, pte_read, tableNow } from '../src/mm/pgtable.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import { step, type Ctx } from '../src/mm/step.js';
import { pmdEntryAt } from '../src/mm/pgtable.js';
import { describe, runScript, stepOf } from './helpers.js';

function user(name: string, run: ActorDef['run']): ActorDef {
  return { name, summary: 'a test actor', follows: '(test)', inMm: true, daemon: 'no', params: [], run };
}

/** What the model holds after fork, read by an actor that runs last (the tests see no model). */
interface Seen {
  ptes: string[];
  childPmd0: string;
  mapcount3: number;
  refcount3: number;
  childRss: number;
  childVmas: number;
  staleWritable: number;
}
let seen: Seen | null = null;
const calls: string[] = [];

const TEST_ACTORS: readonly ActorDef[] = [
  makeFork('fork_no_flush', { flush: false, lockVmas: true, lockParent: true }),
  makeFork('fork_no_vma_lock', { flush: true, lockVmas: false, lockParent: true }),
  makeFork('fork_no_mmap_lock', { flush: true, lockVmas: true, lockParent: false }),
  // Looks at both mms once the others are done.
  user('look', function* (c: Ctx) {
    const m = c.m;
    const child = m.mms[1]!;
    const desc = (mm: number, addr: number) => {
      const p = pmd_off(c, addr, m.mms[mm]!);
      if (!p) return 'no pmd';
      const e = pmdEntryAt(m, p);
      if (e.t !== 'table') return e.t;
      const pte = pte_read(c, tableNow(m, e.pfn), addr % 4);
      return pte.t === 'present' ? `${pte.pfn}${pte.writable ? ' rw' : ' ro'}` : pte.t;
    };
    // A CPU whose TLB still lets it write to a page whose pte fork has write-protected.
    let stale = 0;
    for (const cpu of m.cpus) {
      for (const t of cpu.tlb) {
        if (t.mm === 0 && t.writable && desc(0, t.addr).endsWith(' ro')) stale++;
      }
    }
    const p0 = pmd_off(c, 0, child);
    seen = {
      ptes: [desc(0, 0), desc(0, 1), desc(1, 0), desc(1, 1)],
      childPmd0: p0 ? pmdEntryAt(m, p0).t : 'no pmd',
      mapcount3: m.frames[3]!.mapcount, refcount3: m.frames[3]!.refcount,
      childRss: child.rss, childVmas: child.vmas.length, staleWritable: stale,
    };
    if (stale > 0) m.events.push({ e: 'bug', msg: `a CPU still holds a writable TLB entry for a page fork write-protected (${stale})` });
    yield step('look at both mms');
  }),
  // Registers a subscriber on the parent that records each callback.
  user('notifier', function* (c: Ctx) {
    const sub: MmuNotifier = {
      name: 'recorder', smmu: null,
      *invalidate_range_start(_c, r) { calls.push(`start ${r.event} [${r.start},${r.end})`); yield step('recorder: invalidate_range_start'); },
      *invalidate_range_end(_c, r) { calls.push(`end [${r.start},${r.end})`); yield step('recorder: invalidate_range_end'); },
    };
    yield* mmu_notifier_register(c, sub);
  }),
];
const POOL = [...ACTORS, ...TEST_ACTORS];

function script(era: string, actors: readonly ActorCall[], schedule: readonly Segment[], arch = 'x86-ipi', choices: Readonly<Record<string, readonly number[]>> = {}) {
  seen = null;
  return runScript({ arch, era, world: 'fork', actors }, schedule, choices, POOL);
}

const ERAS = ['v5.8', 'v5.10', 'v6.2', 'v6.6'] as const;

test('fork alone, every era and architecture: the child maps what the parent maps, both read-only, and nothing leaks', (t) => {
  for (const era of ERAS) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      const r = script(era, [{ actor: 'fork' }, { actor: 'look' }], [{ actor: 'fork' }, { actor: 'look' }], arch);
      t.is(r.exec.outcome, 'clean', `${era} ${arch}: ${describe(r.exec)}`);
      t.deepEqual(seen, { ptes: ['3 ro', '4 ro', '3 ro', '4 ro'], childPmd0: 'table', mapcount3: 2, refcount3: 2, childRss: 2, childVmas: 2, staleWritable: 0 }, `${era} ${arch}`);
    }
  }
});

test('without an empty mm in the world, fork fails with -ENOMEM and touches nothing', (t) => {
  const e = execute(buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'fork' }] }), nonPreemptive());
  t.is(e.outcome, 'clean', describe(e));
  t.is(e.steps, 1);
});

test('the era decides the locks: VMA write locks at v6.6 only, write_protect_seq from v6.2 (v5.11)', (t) => {
  const labels = (era: string) => script(era, [{ actor: 'fork' }], [{ actor: 'fork' }]).exec.trace.map((x) => x.label);
  for (const era of ERAS) {
    const l = labels(era);
    t.is(l.some((x) => x.startsWith('vma_start_write(vma 0)')), era === 'v6.6', era);
    t.is(l.some((x) => x.includes('raw_write_seqcount_begin')), era === 'v6.2' || era === 'v6.6', era);
    t.is(l.some((x) => x.includes('page_maybe_dma_pinned') || x.includes('page_try_dup_anon_rmap')), era !== 'v5.8', era);
    // flush_tlb_mm(oldmm) comes after the child's unlock and before the parent's.
    const flush = l.findIndex((x) => x.includes('flush_tlb_mm(oldmm)'));
    t.true(flush > 0 && flush < l.findIndex((x) => x.includes('mmap_write_unlock(oldmm)')), era);
  }
});

test("fork brackets the parent's COW range with mmu notifiers (MMU_NOTIFY_PROTECTION_PAGE) and skips a VMA without anon_vma", (t) => {
  calls.length = 0;
  const r = script('v6.6', [{ actor: 'notifier' }, { actor: 'fork' }], [{ actor: 'notifier' }, { actor: 'fork' }]);
  t.is(r.exec.outcome, 'clean', describe(r.exec));
  t.deepEqual(calls, ['start MMU_NOTIFY_PROTECTION_PAGE [0,8)', 'end [0,8)']);
});

// GUP-fast reads pte 0 (writable), fork finds page 3 not pinned and takes its reference, GUP-fast
// pins it and finds the pte unchanged, then fork write-protects it and shares it with the child.
const PIN_IN_WINDOW: readonly Segment[] = [
  { actor: 'gup_fast', until: 'ptep_get_lockless' },
  { actor: 'fork', until: 'not pinned' },
  { actor: 'gup_fast', until: 'local_irq_restore' },
  { actor: 'fork' },
];
const GUP_FORK: readonly ActorCall[] = [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'fork' }];

test('GUP-fast pins between the pinned check and the write-protect: v5.10 shares the pinned page (known race), v6.2 and v6.6 drop the pin (57efa1fe5957)', (t) => {
  const bad = script('v5.10', GUP_FORK, PIN_IN_WINDOW).exec;
  t.is(bad.violation?.kind, 'pinned-page-cow-shared', describe(bad));
  t.is(bad.violation?.changedBy?.name, 'fork');
  t.regex(bad.violation?.changedBy?.label ?? '', /ptep_set_wrprotect/);
  t.is(knownRace('v5.10', 'x86-ipi', ['gup_fast', 'fork'], 'pinned-page-cow-shared'), 'fork-gup-fast-cow-race');
  for (const era of ['v6.2', 'v6.6']) {
    const r = script(era, GUP_FORK, PIN_IN_WINDOW);
    t.is(r.exec.outcome, 'clean', `${era}: ${describe(r.exec)}`);
    t.true(stepOf(r.exec, 'gup_fast', 'read_seqcount_retry') >= 0, `${era}: GUP-fast saw write_protect_seq move`);
    t.true(stepOf(r.exec, 'gup_fast', 'DMA into') < 0, era);
  }
});

test('GUP-fast that starts while fork copies sees write_protect_seq odd and falls back (v6.2, v6.6)', (t) => {
  for (const era of ['v6.2', 'v6.6']) {
    const r = script(era, GUP_FORK, [{ actor: 'fork', until: 'raw_write_seqcount_begin' }, { actor: 'gup_fast' }, { actor: 'fork' }]);
    t.is(r.exec.outcome, 'clean', describe(r.exec));
    t.true(stepOf(r.exec, 'gup_fast', 'is odd') >= 0, era);
  }
});

test('a pin held across fork: v5.8 shares the pinned page (known, fixed by 70e806e4e645), v5.10+ copies it for the child at once', (t) => {
  const pinned: readonly Segment[] = [{ actor: 'gup_fast', until: 'local_irq_restore' }, { actor: 'fork' }, { actor: 'look' }, { actor: 'gup_fast' }];
  const actors = [...GUP_FORK, { actor: 'look' }];
  const bad = script('v5.8', actors, pinned).exec;
  t.is(bad.violation?.kind, 'pinned-page-cow-shared', describe(bad));
  t.is(knownRace('v5.8', 'x86-ipi', ['gup_fast', 'fork'], 'pinned-page-cow-shared'), 'fork-shares-pinned-page');
  for (const era of ['v5.10', 'v6.2', 'v6.6']) {
    const r = script(era, actors, pinned);
    t.is(r.exec.outcome, 'clean', `${era}: ${describe(r.exec)}`);
    t.true(stepOf(r.exec, 'fork', 'page_copy_prealloc') >= 0, era);
    // The parent keeps page 3, writable; the child maps a copy; page 4 is shared read-only.
    t.deepEqual(seen?.ptes.map((p, i) => (i === 2 ? p.replace(/^\d+/, 'copy') : p)), ['3 rw', '4 ro', 'copy rw', '4 ro'], era);
    t.is(seen?.mapcount3, 1, era);
  }
});

test('v5.10+: the pin dropped while fork preallocates: the page is shared after all and the unused prealloc page is freed (no leak)', (t) => {
  for (const era of ['v5.10', 'v6.2', 'v6.6']) {
    const r = script(era, [...GUP_FORK, { actor: 'look' }],
      [{ actor: 'gup_fast', until: 'local_irq_restore' }, { actor: 'fork', until: 'page_copy_prealloc' }, { actor: 'gup_fast' }, { actor: 'fork' }, { actor: 'look' }]);
    t.is(r.exec.outcome, 'clean', `${era}: ${describe(r.exec)}`);
    t.true(stepOf(r.exec, 'gup_fast', 'unpin_user_page') < stepOf(r.exec, 'fork', 'set_pte_at(child addr 0)'), era);
    t.deepEqual(seen?.ptes, ['3 ro', '4 ro', '3 ro', '4 ro'], era);
  }
});

test('fork vs khugepaged: the parent mmap_lock orders them; without it fork walks the table collapse_huge_page replaced', (t) => {
  // collapse first: fork copies the huge pmd (copy_huge_pmd(), both pmds write-protected).
  const first = script('v6.6', [{ actor: 'collapse_huge_page', args: { slot: 0 } }, { actor: 'fork' }, { actor: 'look' }],
    [{ actor: 'collapse_huge_page' }, { actor: 'fork' }, { actor: 'look' }]);
  t.is(first.exec.outcome, 'clean', describe(first.exec));
  t.is(seen?.childPmd0, 'huge');
  t.true(stepOf(first.exec, 'fork', 'copy_huge_pmd(): pmdp_set_wrprotect') >= 0);
  // fork first, collapse waits for mmap_lock, then finds the pages shared and gives up.
  for (const era of ERAS) {
    const r = script(era, [{ actor: 'fork' }, { actor: 'collapse_huge_page', args: { slot: 0 } }],
      [{ actor: 'fork', until: 'copy_page_range' }, { actor: 'collapse_huge_page' }, { actor: 'fork' }]);
    t.is(r.exec.outcome, 'clean', `${era}: ${describe(r.exec)}`);
  }
  // Without the parent's mmap_lock: fork has read pmd 0 when collapse replaces the table by a huge pmd.
  const bad = script('v5.10', [{ actor: 'fork_no_mmap_lock' }, { actor: 'collapse_huge_page', args: { slot: 0 } }],
    [{ actor: 'fork_no_mmap_lock', until: 'pmd_trans_huge(*src_pmd) [pmd 0]' }, { actor: 'collapse_huge_page' }, { actor: 'fork_no_mmap_lock' }]);
  t.is(bad.exec.violation?.kind, 'bogus-table-walked', describe(bad.exec));
  t.is(bad.exec.violation?.usedBy.name, 'fork_no_mmap_lock', describe(bad.exec));
});

test("the parent's CPU may write through its stale writable TLB entry until flush_tlb_mm(); after fork none is left, and without the flush one is", (t) => {
  const actors = (f: string) => [{ actor: 'hw_walker', args: { accesses: 2, write: 1 } }, { actor: f }, { actor: 'look' }];
  // The write before fork fills a writable entry for address 0; the second lands after the
  // write-protect, before the flush (concurrent with fork: no violation).
  const sched = (f: string): Segment[] => [{ actor: 'hw_walker', until: 'user write to 0' }, { actor: f, until: 'set_pte_at(child addr 0)' },
    { actor: 'hw_walker', until: 'user write to 0' }, { actor: f }, { actor: 'look' }];
  for (const era of ERAS) {
    const ok = script(era, actors('fork'), sched('fork'), 'x86-ipi', { 'hw-address': [0, 0] });
    t.is(ok.exec.outcome, 'clean', `${era}: ${describe(ok.exec)}`);
    const writes = ok.exec.trace.filter((x) => ok.exec.names[x.actor] === 'hw_walker' && x.label.includes('user write to 0 → frame 3'));
    t.is(writes.length, 2, era);
    t.true((writes[1]?.step ?? -1) > stepOf(ok.exec, 'fork', 'set_pte_at(child addr 0)'), era);
    t.true((writes[1]?.step ?? 99) < stepOf(ok.exec, 'fork', 'flush_tlb_mm(oldmm)'), era);
    t.is(seen?.staleWritable, 0, era);
    const bad = script(era, actors('fork_no_flush'), sched('fork_no_flush'), 'x86-ipi', { 'hw-address': [0, 0] });
    t.is(bad.exec.violation?.kind, 'kernel-bug', `${era}: ${describe(bad.exec)}`);
    t.is(seen?.staleWritable, 1, era);
  }
});

test('v6.6: a fault under the per-VMA lock waits for fork (vma_start_write() of the parent VMA, fb49c455323f); without it, it runs inside fork', (t) => {
  const actors = (f: string) => [{ actor: f }, { actor: 'fault_vma_lock', args: { addr: 2 } }];
  const sched = (f: string): Segment[] => [{ actor: f, until: 'raw_write_seqcount_begin' }, { actor: 'fault_vma_lock' }, { actor: f }, { actor: 'fault_vma_lock' }];
  const ok = script('v6.6', actors('fork'), sched('fork')).exec;
  t.is(ok.outcome, 'clean', describe(ok));
  t.true(stepOf(ok, 'fault_vma_lock', 'vm_lock_seq == mm_lock_seq') >= 0, 'lock_vma_under_rcu() fails on the write-locked VMA');
  t.true(stepOf(ok, 'fault_vma_lock', 'set_pte_at(addr 2') > stepOf(ok, 'fork', 'mmap_write_unlock(oldmm)'), 'the fault falls back to mmap_lock and waits');
  const bad = script('v6.6', actors('fork_no_vma_lock'), sched('fork_no_vma_lock')).exec;
  t.true(stepOf(bad, 'fault_vma_lock', 'read-locked') >= 0);
  t.true(stepOf(bad, 'fault_vma_lock', 'set_pte_at(addr 2') < stepOf(bad, 'fork_no_vma_lock', 'mmap_write_unlock(oldmm)'), 'the fault ran inside fork');
});

// Random schedules of fork against the other actors, in the fork world, at the fixed eras: clean
// but for the races known real at the release.
const FORK_POOL = ACTORS.filter((a) => ['fork', 'gup_fast', 'gup_slow', 'collapse_huge_page', 'hw_walker', 'fault', 'fault_vma_lock', 'thp_fault', 'munmap', 'madvise_dontneed', 'mincore'].includes(a.name));

function call(era: string): fc.Arbitrary<ActorCall> {
  const pool = FORK_POOL.filter((a) => a.name !== 'fork' && (!a.eras || a.eras.includes(era as 'v6.6')));
  return fc.constantFrom(...pool).chain((def) =>
    fc.record(Object.fromEntries(def.params.map((p) => [p.name, fc.integer({ min: p.min, max: p.name === 'addr' ? 7 : p.max })])))
      .map((args): ActorCall => ({ actor: def.name, args })));
}

for (const era of ['v6.2', 'v6.6'] as const) {
  for (const arch of ['x86-ipi', 'rcu-table-free']) {
    testProp(`${era} on ${arch}: fork against random actors, random schedules: clean`,
      [fc.array(call(era), { minLength: 1, maxLength: 2 }), fc.array(fc.nat(), { maxLength: 200 }), fc.array(fc.nat(), { maxLength: 20 })],
      (t, others, picks, choices) => {
        const e = execute(buildScenario({ arch, era, world: 'fork', actors: [{ actor: 'fork' }, ...others] }), fromStreams(picks, choices));
        const pair = [e.violation?.usedBy.name, e.violation?.changedBy?.name].filter((n): n is string => n !== undefined && n !== 'rcu');
        if (e.violation && knownRace(era, arch, pair, e.violation.kind)) t.pass();
        else t.is(e.outcome, 'clean', describe(e));
      },
      { numRuns: 150, seed: 7 });
  }
}

// The race needs three preemptions (GUP-fast after its pte read, fork after its pinned check,
// GUP-fast after its pin): every schedule with at most three, over fork and GUP-fast of address 0.
test('every schedule with three preemptions: v5.10 finds the pinned page shared (the known race); v6.2 is clean', (t) => {
  const scn = (era: string) => buildScenario({ arch: 'x86-ipi', era, world: 'fork', actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'fork' }] });
  const bad = exhaustive(scn('v5.10'), 3);
  t.is(bad.failure?.exec.violation?.kind, 'pinned-page-cow-shared');
  t.is(knownRace('v5.10', 'x86-ipi', ['gup_fast', 'fork'], 'pinned-page-cow-shared'), 'fork-gup-fast-cow-race');
  const ok = exhaustive(scn('v6.2'), 3);
  t.true(ok.complete && ok.failure === null && ok.explored > 1000, `${ok.explored} explored, ${describe(ok.failure?.exec ?? bad.failure!.exec)}`);
});
