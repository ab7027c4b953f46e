// VMAs that change (src/mm/vma.ts) and per-VMA locks (src/mm/vma_lock.ts), each with a written-down
// schedule: the result, the locks taken, the lock-discipline check, and the vm_lock_seq scheme.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { nonPreemptive } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { down_read, up_read } from '../src/mm/locks.js';
import { find_vma, vma_interval_tree_foreach } from '../src/mm/model.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step, type ActorGen, type Ctx } from '../src/mm/step.js';
import type { Vma } from '../src/mm/types.js';
// From the public entry point, as an actor module would import them.
import {
  __split_vma, anon_vma_interval_tree_foreach, copy_vma, detach_vmas_to_be_unmapped, insert_vm_struct, unlink_file_vma,
  vm_area_alloc, vma_link, vma_merge,
  lock_vma_under_rcu, mmap_write_downgrade, mmap_write_lock, mmap_write_unlock, vma_end_read, vma_start_read, vma_start_write,
  vma_write_locked,
} from '../src/index.js';
import { describe, runScript, stepOf, testActor, vmaAt } from './helpers.js';

const actor = testActor;


const span = (v: Vma | null | undefined) => (v ? { id: v.id, start: v.start, end: v.end, pgoff: v.pgoff, detached: v.detached, inRmap: v.inRmap } : null);
const ids = (vs: readonly Vma[]) => vs.map((v) => v.id);

function run1(era: string, body: (c: Ctx) => ActorGen, extra: readonly ActorDef[] = []) {
  const pool = [actor('a', body), ...extra];
  return runScript({ arch: 'x86-ipi', era, actors: pool.map((p) => ({ actor: p.name })) }, [{ actor: 'a' }], {}, pool);
}

for (const era of ['v5.10', 'v6.6']) {
  test(`${era}: __split_vma() of a file VMA: both halves, vm_pgoff, i_mmap and the tree`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const vma = vmaAt(c, 8);
      const upper = yield* __split_vma(c, vma, 12, false);
      const lowerNew = yield* __split_vma(c, vma, 10, true);
      seen.push(span(vma), span(upper), span(lowerNew), c.mm.vmas.map((v) => v.start),
        ids(vma_interval_tree_foreach(c.m.files, 0, 13)), ids(vma_interval_tree_foreach(c.m.files, 0, 9)),
        ids(vma_interval_tree_foreach(c.m.files, 0, 11)), find_vma(c.mm, 13)?.id);
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [
      { id: 1, start: 10, end: 12, pgoff: 10, detached: false, inRmap: true },
      { id: 2, start: 12, end: 16, pgoff: 12, detached: false, inRmap: true },
      { id: 3, start: 8, end: 10, pgoff: 8, detached: false, inRmap: true },
      [0, 8, 10, 12],
      [2], [3], [1], 2,
    ]);
  });

  test(`${era}: __split_vma() of an anon VMA keeps both halves in its anon_vma`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const nw = yield* __split_vma(c, vmaAt(c, 0), 4, false);
      seen.push(span(nw), ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 5)), ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 1)),
        ids(anon_vma_interval_tree_foreach(c.m.mms, 1, 5)));
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [{ id: 2, start: 4, end: 8, pgoff: 4, detached: false, inRmap: true }, [2], [0], []]);
  });

  test(`${era}: vma_merge() puts a split back together; unmergeable neighbours are left alone`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const vma = vmaAt(c, 8);
      const upper = yield* __split_vma(c, vma, 12, false);
      if (!upper) return;
      const before = c.m.step;
      seen.push((yield* vma_merge(c, vmaAt(c, 0), vma)) === null, c.m.step === before);
      const merged = yield* vma_merge(c, vma, upper);
      seen.push(merged === vma, span(vma), span(upper), ids(vma_interval_tree_foreach(c.m.files, 0, 13)), find_vma(c.mm, 13)?.id);
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [
      true, true,
      true, { id: 1, start: 8, end: 16, pgoff: 8, detached: false, inRmap: true },
      { id: 2, start: 12, end: 16, pgoff: 12, detached: true, inRmap: false }, [1], 1,
    ]);
  });

  test(`${era}: vma_merge() of anon VMAs takes the merged-away one out of the anon_vma after the change`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const vma = vmaAt(c, 0);
      const upper = yield* __split_vma(c, vma, 4, false);
      if (!upper) return;
      seen.push(ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 5)));
      yield* vma_merge(c, vma, upper);
      seen.push(span(vma), span(upper), ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 5)));
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [[2], { id: 0, start: 0, end: 8, pgoff: 0, detached: false, inRmap: true },
      { id: 2, start: 4, end: 8, pgoff: 4, detached: true, inRmap: false }, [0]]);
    t.true(stepOf(exec, 'a', 'unlink_anon_vmas(vma 2)') > stepOf(exec, 'a', 'vma_merge(): vma 0 now [0,8)'), 'anon_vma_merge() comes after the locked change');
  });

  test(`${era}: copy_vma() makes a VMA at a new address with the same pgoff, in the same rmap`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const file = yield* copy_vma(c, vmaAt(c, 8), 16);
      const anon = yield* copy_vma(c, vmaAt(c, 0), 24);
      seen.push(span(file), span(anon), ids(vma_interval_tree_foreach(c.m.files, 0, 9)), ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 1)),
        (yield* copy_vma(c, vmaAt(c, 0), 4)) === null, find_vma(c.mm, 17)?.id);
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [
      { id: 2, start: 16, end: 24, pgoff: 8, detached: false, inRmap: true },
      { id: 3, start: 24, end: 32, pgoff: 0, detached: false, inRmap: true },
      [1, 2], [0, 3], true, 2,
    ]);
  });

  test(`${era}: insert_vm_struct() links a new anon VMA at vm_pgoff = vm_start, and refuses an overlap`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const a = vm_area_alloc(c.mm, { start: 20, end: 24, kind: 'anon', pgoff: 99 });
      const b = vm_area_alloc(c.mm, { start: 4, end: 6, kind: 'anon' });
      seen.push(find_vma(c.mm, 21) === undefined);
      seen.push(yield* insert_vm_struct(c, c.mm, a), yield* insert_vm_struct(c, c.mm, b));
      seen.push(span(a), find_vma(c.mm, 21)?.id, c.mm.vmas.map((v) => v.id));
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [true, true, false, { id: 2, start: 20, end: 24, pgoff: 20, detached: false, inRmap: true }, 2, [0, 1, 2]]);
  });

  test(`${era}: vma_link() of a file VMA puts it in i_mmap; detach and unlink_file_vma() take it out again`, (t) => {
    const seen: unknown[] = [];
    const { exec } = run1(era, function* (c) {
      yield* mmap_write_lock(c, c.mm);
      const v = vm_area_alloc(c.mm, { start: 16, end: 20, kind: 'file', file: 0, pgoff: 0 });
      yield* vma_link(c, c.mm, v);
      seen.push(ids(vma_interval_tree_foreach(c.m.files, 0, 1)), find_vma(c.mm, 17)?.id);
      yield* detach_vmas_to_be_unmapped(c, c.mm, [v]);
      seen.push(find_vma(c.mm, 17), ids(vma_interval_tree_foreach(c.m.files, 0, 1)));
      yield* unlink_file_vma(c, v);
      seen.push(ids(vma_interval_tree_foreach(c.m.files, 0, 1)));
      mmap_write_unlock(c, c.mm);
      yield step('done');
    });
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [[2], 2, undefined, [2], []]);
  });
}

test('the split waits for an rmap walker that holds i_mmap_rwsem for read, and the walker sees the VMA whole', (t) => {
  const walked: unknown[] = [];
  const pool = [
    actor('walker', function* (c) {
      const f = c.m.files[0]!;
      yield* down_read(c, f.i_mmap_rwsem);
      walked.push(vma_interval_tree_foreach(c.m.files, 0, 13).map(span));
      yield step('walking i_mmap');
      walked.push(vma_interval_tree_foreach(c.m.files, 0, 13).map(span));
      up_read(c, f.i_mmap_rwsem);
      yield step('i_mmap_unlock_read');
    }),
    actor('splitter', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield* __split_vma(c, vmaAt(c, 8), 12, false);
      mmap_write_unlock(c, c.mm);
      yield step('split done');
    }),
  ];
  for (const era of ['v5.10', 'v6.6']) {
    walked.length = 0;
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'walker' }, { actor: 'splitter' }] },
      [{ actor: 'walker', until: 'walking i_mmap' }, { actor: 'splitter' }, { actor: 'walker' }, { actor: 'splitter' }], {}, pool);
    t.is(exec.outcome, 'clean', describe(exec));
    const change = stepOf(exec, 'splitter', '__split_vma(): vma 1 now');
    t.true(change > stepOf(exec, 'walker', 'i_mmap_unlock_read'), `${era}: the split changed the VMA only after the walker let go`);
    t.true(stepOf(exec, 'splitter', 'down_write(i_mmap_rwsem)') > stepOf(exec, 'walker', 'i_mmap_unlock_read'), `${era}: i_mmap_lock_write() was taken after the walker's unlock`);
    const whole = { id: 1, start: 8, end: 16, pgoff: 8, detached: false, inRmap: true };
    t.deepEqual(walked, [[whole], [whole]], `${era}: the walker saw one VMA [8,16) throughout`);
  }
});

test('an anon split waits for an anon rmap walker that holds the anon_vma lock', (t) => {
  const pool = [
    actor('walker', function* (c) {
      yield* down_read(c, c.mm.anon_vma_lock);
      yield step('walking anon_vma');
      up_read(c, c.mm.anon_vma_lock);
      yield step('anon_vma_unlock_read');
    }),
    actor('splitter', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield* __split_vma(c, vmaAt(c, 0), 4, false);
      mmap_write_unlock(c, c.mm);
      yield step('split done');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'walker' }, { actor: 'splitter' }] },
    [{ actor: 'walker', until: 'walking anon_vma' }, { actor: 'splitter' }, { actor: 'walker' }, { actor: 'splitter' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(stepOf(exec, 'splitter', 'anon_vma_clone(vma 2, vma 0)') > stepOf(exec, 'walker', 'anon_vma_unlock_read'));
  t.true(stepOf(exec, 'splitter', '__split_vma(): vma 0 now [0,4)') > stepOf(exec, 'walker', 'anon_vma_unlock_read'));
});

test('a VMA changed without mmap_lock for write is a kernel bug, at every primitive and era; with it, quiet', (t) => {
  type Op = (c: Ctx) => ActorGen;
  const ops: Record<string, Op> = {
    '__split_vma': function* (c) { yield* __split_vma(c, vmaAt(c, 8), 12, false); },
    'vma_merge': function* (c) {
      const lower = vmaAt(c, 0);
      const nw = vm_area_alloc(c.mm, { start: 16, end: 20, kind: 'anon' });
      yield* vma_merge(c, lower, nw);
    },
    'copy_vma': function* (c) { yield* copy_vma(c, vmaAt(c, 8), 16); },
    'insert_vm_struct': function* (c) { yield* insert_vm_struct(c, c.mm, vm_area_alloc(c.mm, { start: 20, end: 24, kind: 'anon' })); },
    'vma_link': function* (c) { yield* vma_link(c, c.mm, vm_area_alloc(c.mm, { start: 20, end: 24, kind: 'anon' })); },
    'detach_vmas_to_be_unmapped': function* (c) { yield* detach_vmas_to_be_unmapped(c, c.mm, [vmaAt(c, 0)]); },
  };
  for (const era of ['v5.8', 'v6.2', 'v6.6']) {
    for (const [name, op] of Object.entries(ops)) {
      const bare = run1(era, function* (c) { yield* op(c); yield step('done'); }).exec;
      t.is(bare.violation?.kind, 'vma-change-without-mmap-lock', `${era} ${name} without mmap_lock: ${describe(bare)}`);
      t.regex(bare.violation?.message ?? '', /mmap_assert_write_locked\(mmap_lock\)/, `${era} ${name}`);
      const read = run1(era, function* (c) {
        yield* down_read(c, c.mm.mmap_lock);
        yield* op(c);
        up_read(c, c.mm.mmap_lock);
        yield step('done');
      }).exec;
      t.is(read.violation?.kind, 'vma-change-without-mmap-lock', `${era} ${name} under mmap_lock for read: ${describe(read)}`);
      const held = run1(era, function* (c) {
        yield* mmap_write_lock(c, c.mm);
        yield* op(c);
        mmap_write_unlock(c, c.mm);
        yield step('done');
      }).exec;
      t.is(held.outcome, 'clean', `${era} ${name} under mmap_lock for write: ${describe(held)}`);
    }
  }
});

test('another task holding mmap_lock for write does not make the change legal', (t) => {
  const pool = [
    actor('holder', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield step('holding mmap_lock');
      mmap_write_unlock(c, c.mm);
      yield step('released');
    }),
    actor('changer', function* (c) {
      yield* __split_vma(c, vmaAt(c, 8), 12, false);
      yield step('split');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.2', actors: [{ actor: 'holder' }, { actor: 'changer' }] },
    [{ actor: 'holder', until: 'holding mmap_lock' }, { actor: 'changer' }], {}, pool);
  t.is(exec.violation?.kind, 'vma-change-without-mmap-lock', describe(exec));
  t.is(exec.violation?.usedBy.name, 'changer');
});

// ---- per-VMA locks ----

test('v6.6: lock_vma_under_rcu() read-locks the VMA that covers the address, and vma_end_read() lets it go', (t) => {
  const seen: unknown[] = [];
  const { exec } = run1('v6.6', function* (c) {
    const vma = yield* lock_vma_under_rcu(c, c.mm, 9);
    seen.push(vma?.id, vma?.vm_lock.readers.includes(c.id), c.cpu.rcuDepth);
    if (vma) vma_end_read(c, vma);
    seen.push(vma?.vm_lock.readers.length);
    seen.push((yield* lock_vma_under_rcu(c, c.mm, 20)) === null);
    yield step('done');
  });
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(seen, [1, true, 0, 0, true]);
});

test('before v6.6 there are no per-VMA locks: lock_vma_under_rcu() falls back at once, mm_lock_seq stays', (t) => {
  const seen: unknown[] = [];
  const { exec } = run1('v6.2', function* (c) {
    seen.push((yield* lock_vma_under_rcu(c, c.mm, 9)) === null, c.m.step);
    yield* mmap_write_lock(c, c.mm);
    yield* vma_start_write(c, vmaAt(c, 8));
    seen.push(vmaAt(c, 8).vm_lock_seq, vma_write_locked(c, vmaAt(c, 8)));
    mmap_write_unlock(c, c.mm);
    seen.push(c.mm.mm_lock_seq);
    yield step('done');
  });
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(seen, [true, 0, -1, false, 0]);
});

/** A writer that write-locks the file VMA and holds mmap_lock until told; a reader that tries
 *  vma_start_read() twice. */
function writerReader(release: 'unlock' | 'downgrade') {
  const got: boolean[] = [];
  const pool = [
    actor('writer', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield* vma_start_write(c, vmaAt(c, 8));
      yield step('write-locked');
      if (release === 'unlock') {
        mmap_write_unlock(c, c.mm);
        yield step('mmap_write_unlock');
      } else {
        mmap_write_downgrade(c, c.mm);
        yield step('mmap_write_downgrade');
        up_read(c, c.mm.mmap_lock);
        yield step('mmap_read_unlock');
      }
    }),
    actor('reader', function* (c) {
      const vma = vmaAt(c, 8);
      const first = yield* vma_start_read(c, vma);
      got.push(first);
      if (first) vma_end_read(c, vma);
      yield step('first try');
      const second = yield* vma_start_read(c, vma);
      got.push(second);
      if (second) vma_end_read(c, vma);
      yield step('second try');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'writer' }, { actor: 'reader' }] },
    [{ actor: 'writer', until: 'write-locked' }, { actor: 'reader', until: 'first try' }, { actor: 'writer' }, { actor: 'reader' }], {}, pool);
  return { exec, got };
}

test('v6.6: after vma_start_write(), vma_start_read() fails until mmap_write_unlock() bumps mm_lock_seq', (t) => {
  const { exec, got } = writerReader('unlock');
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [false, true]);
  t.true(exec.trace.some((s) => s.label.includes('vm_lock_seq == mm_lock_seq (0): write-locked, fail')));
});

test('v6.6: mmap_write_downgrade() ends the VMA write locks too', (t) => {
  const { exec, got } = writerReader('downgrade');
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [false, true]);
});

test('v6.6: a writer that comes between the lockless check and the trylock is caught by the check under vm_lock', (t) => {
  const got: boolean[] = [];
  const pool = [
    actor('reader', function* (c) {
      const vma = vmaAt(c, 8);
      const ok = yield* vma_start_read(c, vma);
      got.push(ok);
      if (ok) vma_end_read(c, vma);
      yield step('read done');
    }),
    actor('writer', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield* vma_start_write(c, vmaAt(c, 8));
      yield step('write-locked');
      mmap_write_unlock(c, c.mm);
      yield step('mmap_write_unlock');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'reader' }, { actor: 'writer' }] },
    [{ actor: 'reader', until: 'READ_ONCE(vm_lock_seq) != mm_lock_seq' }, { actor: 'writer', until: 'write-locked' }, { actor: 'reader' }, { actor: 'writer' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [false]);
  t.true(exec.trace.some((s) => s.label.includes('vm_lock_seq == mm_lock_seq now: up_read(), fail')));
});

test('v6.6: vma_start_write() waits out a reader that holds the VMA read-locked', (t) => {
  const pool = [
    actor('reader', function* (c) {
      const vma = yield* lock_vma_under_rcu(c, c.mm, 9);
      yield step('faulting under the VMA lock');
      if (vma) vma_end_read(c, vma);
      yield step('vma_end_read');
    }),
    actor('writer', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield* vma_start_write(c, vmaAt(c, 8));
      mmap_write_unlock(c, c.mm);
      yield step('done');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'reader' }, { actor: 'writer' }] },
    [{ actor: 'reader', until: 'faulting under the VMA lock' }, { actor: 'writer' }, { actor: 'reader' }, { actor: 'writer' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(stepOf(exec, 'writer', 'vma_start_write(vma 1): vm_lock_seq') > stepOf(exec, 'reader', 'vma_end_read'));
  t.true(stepOf(exec, 'writer', 'down_write(vm_lock(vma1))') > stepOf(exec, 'reader', 'vma_end_read'), 'down_write(vm_lock) was taken after the reader let go');
});

test('v6.6: lock_vma_under_rcu() lets go of a VMA detached after it was found, and falls back', (t) => {
  const got: unknown[] = [];
  const pool = [
    actor('fault', function* (c) {
      const vma = yield* lock_vma_under_rcu(c, c.mm, 1);
      got.push(vma?.id ?? null, c.mm.vmas.find((v) => v.id === 0)?.vm_lock.readers.length, c.cpu.rcuDepth);
      if (vma) vma_end_read(c, vma);
      yield step('fault done');
    }),
    actor('munmap', function* (c) {
      yield* mmap_write_lock(c, c.mm);
      yield* detach_vmas_to_be_unmapped(c, c.mm, [vmaAt(c, 0)]);
      mmap_write_unlock(c, c.mm);
      yield step('munmap done');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'fault' }, { actor: 'munmap' }] },
    [{ actor: 'fault', until: 'mas_walk() → vma 0' }, { actor: 'munmap' }, { actor: 'fault' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [null, 0, 0]);
  t.true(exec.trace.some((s) => s.label.includes('vma 0 detached: vma_end_read(); retry: mas_walk() found none')), 'it took the VMA lock, saw it detached, retried');
});

test('v6.6: the primitives write-lock what they change, until mmap_write_unlock()', (t) => {
  const seen: unknown[] = [];
  const { exec } = run1('v6.6', function* (c) {
    yield* mmap_write_lock(c, c.mm);
    const vma = vmaAt(c, 8);
    seen.push(vma_write_locked(c, vma));
    const nw = yield* __split_vma(c, vma, 12, false);
    const cp = yield* copy_vma(c, vmaAt(c, 0), 16);
    seen.push(vma_write_locked(c, vma), nw && vma_write_locked(c, nw), cp && vma_write_locked(c, cp), vma_write_locked(c, vmaAt(c, 0)));
    mmap_write_unlock(c, c.mm);
    seen.push(vma_write_locked(c, vma), nw && vma_write_locked(c, nw), c.mm.mm_lock_seq);
    yield step('done');
  });
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(seen, [false, true, true, true, false, false, false, 1]);
});

test('VMAs made, split and locked in one execution are gone in the next (resetModel)', (t) => {
  const starts: unknown[] = [];
  const pool = [actor('a', function* (c) {
    starts.push([c.mm.vmas.map((v) => [v.id, v.start, v.end, v.vm_lock_seq, v.anon_vma_id]), c.mm.mm_lock_seq, c.mm.next_vma_id]);
    yield* mmap_write_lock(c, c.mm);
    yield* __split_vma(c, vmaAt(c, 8), 12, false);
    yield* copy_vma(c, vmaAt(c, 0), 16);
    mmap_write_unlock(c, c.mm);
    yield step('done');
  })];
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'a' }] }, pool);
  for (let i = 0; i < 2; i++) t.is(execute(scn, nonPreemptive()).outcome, 'clean');
  t.deepEqual(starts[1], starts[0]);
  t.deepEqual(starts[0], [[[0, 0, 8, -1, 0], [1, 8, 16, -1, 0]], 0, 2]);
});
