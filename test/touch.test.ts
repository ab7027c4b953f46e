// The user thread that touches memory through its TLB: what it may do after each kind of change
// (mprotect(), NUMA hinting, a THP fault), at each era where the kernel differs, and what the oracle
// makes of it.

import test from 'ava';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeMprotect } from '../src/mm/actors/mprotect.js';
import type { ActorCall } from '../src/mm/scenario.js';
import type { EraId } from '../src/mm/switches.js';
import type { Segment } from '../src/explore/schedulers.js';
import { describe, runScript } from './helpers.js';

const POOL = [...ACTORS, makeMprotect('mprotect_no_flush', { noFlush: true })];

function run(era: EraId, actors: readonly ActorCall[], schedule: readonly Segment[], arch = 'x86-ipi') {
  return runScript({ era, arch, actors }, schedule, {}, POOL).exec;
}

const labels = (e: ReturnType<typeof run>, actor: string) => e.trace.filter((s) => e.names[s.actor] === actor).map((s) => s.label);

test('touch goes through its TLB: one walk fills it, the next access is a hit', (t) => {
  const e = run('v6.6', [{ actor: 'touch', args: { addr: 1, write: 0, accesses: 3 } }], []);
  t.is(e.violation, null, describe(e));
  const fills = e.trace.flatMap((s) => s.events).filter((ev) => ev.e === 'tlb-fill' && ev.addr === 1);
  t.is(fills.length, 1, 'one fill for three reads');
  t.deepEqual(labels(e, 'touch'), ['user read to 1 → frame 4', 'user read to 1 → frame 4', 'user read to 1 → frame 4']);
});

test('after mprotect(PROT_READ) a read goes through and a write is SIGSEGV', (t) => {
  const read = run('v6.6', [{ actor: 'mprotect', args: { vma: 0, prot: 1 } }, { actor: 'touch', args: { addr: 0, write: 0, accesses: 1 } }], [{ actor: 'mprotect' }, { actor: 'touch' }]);
  t.is(read.violation, null, describe(read));
  t.deepEqual(labels(read, 'touch'), ['user read to 0 → frame 3']);
  const write = run('v6.6', [{ actor: 'mprotect', args: { vma: 0, prot: 1 } }, { actor: 'touch', args: { addr: 0, write: 1, accesses: 1 } }], [{ actor: 'mprotect' }, { actor: 'touch' }]);
  t.is(write.violation, null, describe(write));
  t.is(labels(write, 'touch').at(-1), 'user write to 0: SIGSEGV');
});

test('mprotect(PROT_READ) then mprotect(PROT_READ|PROT_WRITE): v5.10 leaves the pte read-only (a write fault to come), v6.2 makes it writable (can_change_pte_writable)', (t) => {
  const actors: ActorCall[] = [{ actor: 'mprotect', args: { vma: 0, prot: 1 } }, { actor: 'mprotect', args: { vma: 0, prot: 3 } }, { actor: 'touch', args: { addr: 0, write: 1, accesses: 1 } }];
  const sched: Segment[] = [{ actor: 'mprotect' }, { actor: 'mprotect#2' }, { actor: 'touch' }];
  const old = run('v5.10', actors, sched);
  t.is(old.violation, null, describe(old));
  t.true(labels(old, 'touch').includes('do_wp_page() (not modelled here): mmap_read_unlock(mm)'), 'v5.10: PAGE_COPY, the write faults');
  const now = run('v6.2', actors, sched);
  t.is(now.violation, null, describe(now));
  t.deepEqual(labels(now, 'touch'), ['user write to 0 → frame 3'], 'v6.2: the exclusive anon page is writable again');
});

for (const era of ['v5.10', 'v6.6'] as const) {
  test(`${era}: a NUMA hinting pte faults once and do_numa_page() restores it writable`, (t) => {
    const e = run(era, [{ actor: 'task_numa_work', args: { vma: 0 } }, { actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }], [{ actor: 'task_numa_work' }, { actor: 'touch' }]);
    t.is(e.violation, null, describe(e));
    const l = labels(e, 'touch');
    t.true(l.some((s) => s.startsWith('do_numa_page(): ') && s.includes('(0 rw)')), l.join('\n'));
    t.deepEqual(l.slice(-2), ['user write to 0 (retried) → frame 3', 'user write to 0 → frame 3']);
    // The pte under the TLB entry: present, writable, young, not protnone.
    const last = e.trace.flatMap((s) => s.events).filter((ev) => ev.e === 'pte-store' && ev.pfn === 2 && ev.idx === 0).at(-1);
    t.like(last, { now: { t: 'present', pfn: 3, writable: true, accessed: true } });
  });
}

test('NUMA hinting skips a shared copy-on-write page (the file THP mapped by four ptes): no fault', (t) => {
  const e = run('v6.2', [{ actor: 'task_numa_work', args: { vma: 1 } }, { actor: 'touch', args: { addr: 12, write: 0, accesses: 1 } }], [{ actor: 'task_numa_work' }, { actor: 'touch' }]);
  t.is(e.violation, null, describe(e));
  t.deepEqual(labels(e, 'touch'), ['user read to 12 → frame 8']);
});

test('a huge pmd: the TLB takes its write bit, so after mprotect(PROT_READ) a write through a fresh walk faults', (t) => {
  const w = run('v6.6', [{ actor: 'thp_fault', args: { slot: 1 } }, { actor: 'touch', args: { addr: 5, write: 1, accesses: 1 } }], [{ actor: 'thp_fault' }, { actor: 'touch' }]);
  t.is(w.violation, null, describe(w));
  t.deepEqual(labels(w, 'touch'), ['user write to 5 → frame 9']);
  const ro = run('v6.6', [{ actor: 'thp_fault', args: { slot: 1 } }, { actor: 'mprotect', args: { vma: 0, prot: 1 } }, { actor: 'touch', args: { addr: 5, write: 1, accesses: 1 } }],
    [{ actor: 'thp_fault' }, { actor: 'mprotect' }, { actor: 'touch' }]);
  t.is(ro.violation, null, describe(ro));
  t.is(labels(ro, 'touch').at(-1), 'user write to 5: SIGSEGV');
});

test('the oracle: a stale writable entry may still be read after mprotect(PROT_READ) returned (reads are allowed), but not written', (t) => {
  // touch reads address 0 (its pte is writable, so is the entry), mprotect(PROT_READ) returns without a
  // flush, touch reads through the old writable entry: allowed by PROT_READ, no violation.
  const reads = run('v6.6', [{ actor: 'touch', args: { addr: 0, write: 0, accesses: 2 } }, { actor: 'mprotect_no_flush', args: { vma: 0, prot: 1 } }],
    [{ actor: 'touch', until: 'user read to 0 → frame 3' }, { actor: 'mprotect_no_flush' }, { actor: 'touch' }]);
  t.is(reads.violation, null, describe(reads));
  t.is(reads.trace.flatMap((s) => s.events).filter((ev) => ev.e === 'tlb-fill').length, 1, 'the second read used the stale entry');
  const sched: Segment[] = [{ actor: 'touch', until: 'user write to 0 → frame 3' }, { actor: 'mprotect_no_flush' }, { actor: 'touch' }];
  const writes = run('v6.6', [{ actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }, { actor: 'mprotect_no_flush', args: { vma: 0, prot: 1 } }], sched);
  t.is(writes.violation?.kind, 'stale-tlb-protection', describe(writes));
  t.regex(writes.violation?.message ?? '', /after mprotect\(PROT_READ\) of \[0, 8\) returned/);
});

test('after mprotect(PROT_READ) the anonymous faults that map writable pages give up on access_error()', (t) => {
  const small = run('v6.6', [{ actor: 'mprotect', args: { vma: 0, prot: 1 } }, { actor: 'fault', args: { addr: 4 } }], [{ actor: 'mprotect' }, { actor: 'fault' }]);
  t.is(small.violation, null, describe(small));
  t.is(labels(small, 'fault').at(-1), 'access_error(): no VM_WRITE: bad_area: mmap_read_unlock(mm)');
  const huge = run('v5.10', [{ actor: 'mprotect', args: { vma: 0, prot: 1 } }, { actor: 'thp_fault', args: { slot: 1 } }], [{ actor: 'mprotect' }, { actor: 'thp_fault' }]);
  t.is(huge.violation, null, describe(huge));
  t.is(labels(huge, 'thp_fault').at(-1), 'access_error(): no VM_WRITE: bad_area: mmap_read_unlock(mm)');
});
