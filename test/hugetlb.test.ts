// Hugetlb PMD sharing: a pmd table linked from the puds of two mms, its share count (the table page's
// refcount at v5.10 and v6.6), huge_pmd_share() and huge_pmd_unshare() with the kernel's locks, what
// the world check accepts, and what the end audit says of a wrong share count.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { local_irq_restore, local_irq_save } from '../src/mm/cpu.js';
import { get_page, put_page } from '../src/mm/frames.js';
import { HUGETLB_SHARED_WORLD, huge_pmd_share, huge_pmd_unshare, hugetlb_unshare_pmds, pmd_share_count, want_pmd_share } from '../src/mm/hugetlb.js';
import { down_read, down_write, spin_unlock, up_read, up_write } from '../src/mm/locks.js';
import { pmd_load, pmd_lock, pmd_lockptr, pmd_off, set_pmd_at, type PmdPtr } from '../src/mm/pgtable.js';
import { page_add_rmap } from '../src/mm/rmap.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step, type ActorGen, type Ctx } from '../src/mm/step.js';
import { checkWorld, registerWorld } from '../src/mm/world/registry.js';
import type { World, WorldFrame } from '../src/mm/world/types.js';
import { SHARED_FILE_WORLD } from '../src/mm/world/worlds.js';
import { describe, runScript, stepOf } from './helpers.js';

registerWorld(HUGETLB_SHARED_WORLD, 'test/hugetlb.test.ts');
const W = HUGETLB_SHARED_WORLD.name;

function actor(name: string, run: (c: Ctx) => ActorGen): ActorDef {
  return { name, summary: 'test', follows: '(test)', inMm: true, daemon: 'no', params: [], run };
}
const pool = (...defs: ActorDef[]) => [...ACTORS, ...defs];
const vmaOf = (c: Ctx, mm: number) => c.m.mms[mm]!.vmas[0]!;

test('the hugetlb-shared world is valid: table 5 is linked from both mms with refcount 2, and counts once', (t) => {
  t.is(checkWorld(HUGETLB_SHARED_WORLD), null);
  const seen: number[] = [];
  const probe = actor('probe', function* (c) {
    seen.push(pmd_share_count(c.m, 5), c.m.mms[0]!.nr_pmds, c.m.mms[1]!.nr_pmds, c.m.mms[0]!.rss, c.m.frames[7]!.mapcount);
    t.true(want_pmd_share(c.m, vmaOf(c, 0), 16));
    t.false(want_pmd_share(c.m, { ...vmaOf(c, 0), shared: false }, 16), 'a private hugetlb mapping never shares');
    yield step('look');
  });
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'probe' }] }, [], {}, pool(probe));
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(seen, [2, 2, 1, 0, 1], 'share count 2; nr_pmds counts the shared table in each mm; hugetlb pages are in no rss; one mapping of page 7');
});

function withFrame(w: World, pfn: number, f: (x: WorldFrame) => WorldFrame): World {
  return { ...w, name: 'bad', frames: w.frames.map((x) => (x.pfn === pfn ? f(x) : x)) };
}

test('checkWorld() accepts a pmd table linked twice only as hugetlb PMD sharing builds it', (t) => {
  t.regex(checkWorld(withFrame(HUGETLB_SHARED_WORLD, 5, (f) => ({ ...f, refcount: 1 })))!, /linked from 2 pud entries but has refcount 1/);
  t.regex(checkWorld(withFrame(HUGETLB_SHARED_WORLD, 6, (f) => ({ ...f, refcount: 2 })))!, /linked once but has refcount 2/);
  t.regex(checkWorld({ ...HUGETLB_SHARED_WORLD, name: 'bad', files: [{ ...HUGETLB_SHARED_WORLD.files[0]!, hugetlbfs: false }] })!, /no VM_SHARED hugetlbfs VMA/);
  // The oracle's TLB keys have 4 bits for the mm.
  t.regex(checkWorld({ ...HUGETLB_SHARED_WORLD, name: 'bad', mms: Array.from({ length: 17 }, () => HUGETLB_SHARED_WORLD.mms[0]!) })!, /at most 16 mms, not 17/);
  const priv = { ...HUGETLB_SHARED_WORLD, name: 'bad', mms: HUGETLB_SHARED_WORLD.mms.map((mm) => ({ ...mm, vmas: mm.vmas.map((v) => ({ ...v, shared: false })) })) };
  t.regex(checkWorld(priv)!, /no VM_SHARED hugetlbfs VMA/);
  const shifted = { ...HUGETLB_SHARED_WORLD, name: 'bad', mms: [HUGETLB_SHARED_WORLD.mms[0]!, { ...HUGETLB_SHARED_WORLD.mms[1]!, vmas: [{ ...HUGETLB_SHARED_WORLD.mms[1]!.vmas[0]!, pgoff: 16 }] }] };
  t.regex(checkWorld(shifted)!, /map different file pages/);
  const withPte = withFrame(HUGETLB_SHARED_WORLD, 5, (f) => ({ ...f, entries: [{ t: 'table', pfn: 11 }] }));
  t.regex(checkWorld({ ...withPte, frames: [...withPte.frames, { pfn: 11, kind: 'pte-table', refcount: 1 }] })!, /not none or huge/);
  // The shared-file world's mms each have their own table; linking mm 1's pud to mm 0's table is
  // not hugetlb sharing (a plain file, not VM_SHARED).
  const linked = withFrame(SHARED_FILE_WORLD, 35, (f) => ({ ...f, entries: [{ t: 'table', pfn: 1 }] }));
  t.regex(checkWorld({ ...linked, frames: linked.frames.map((f) => (f.pfn === 1 ? { ...f, refcount: 2 } : f)) })!, /only hugetlb PMD sharing links a table twice/);
});

/** A hugetlb fault at `addr` in mm 1, up to huge_pte_alloc(): mmap_lock read (v5.10: i_mmap_rwsem
 *  for read around it, as hugetlb_fault() took it), huge_pmd_share(). */
const share = (addr: number) => function* (c: Ctx): ActorGen {
  const v6 = c.m.sw.era !== 'v5.10';
  const sem = c.m.files[0]!.i_mmap_rwsem;
  yield* down_read(c, c.mm.mmap_lock);
  if (!v6) yield* down_read(c, sem);
  yield* huge_pmd_share(c, vmaOf(c, c.mm.id), addr);
  if (!v6) up_read(c, sem);
  up_read(c, c.mm.mmap_lock);
  yield step('hugetlb_fault() done');
};

test('huge_pmd_share() links mm 0\'s table into mm 1 with a reference; unsharing gives it back; counts stay right', (t) => {
  for (const era of ['v5.10', 'v6.6'] as const) {
    const seen: number[] = [];
    const sharer = actor('sharer', function* (c) {
      yield* share(32)(c);
      seen.push(pmd_share_count(c.m, 6), c.mm.nr_pmds, pmd_off(c, 32)?.table ?? -1);
      if (era === 'v6.6') {
        yield* hugetlb_unshare_pmds(c, vmaOf(c, 1), 32, 48);
      } else {
        // v5.10's callers (__unmap_hugepage_range(), try_to_unmap_one()): i_mmap_rwsem for write, the
        // table's pmd lock, huge_pmd_unshare(); the caller's flush.
        const sem = c.m.files[0]!.i_mmap_rwsem;
        yield* down_write(c, sem);
        const p = pmd_off(c, 32)!;
        yield* pmd_lock(c, p);
        t.true(yield* huge_pmd_unshare(c, c.mm, vmaOf(c, 1), 32, p));
        spin_unlock(c, pmd_lockptr(c.m, p));
        up_write(c, sem);
        yield step('unlocked');
      }
      seen.push(pmd_share_count(c.m, 6), c.mm.nr_pmds, pmd_off(c, 32)?.table ?? -1);
    });
    const { exec } = runScript({ arch: 'x86-ipi', era, world: W, actors: [{ actor: 'sharer', mm: 1 }] }, [], {}, pool(sharer));
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.deepEqual(seen, [2, 2, 6, 1, 1, -1], `${era}: shared (count 2, mm 1 has 2 pmd tables), then unshared`);
    t.true(exec.trace.some((s) => s.label.includes(era === 'v6.6' ? 'spin_unlock(page_table_lock(mm1))' : 'spin_unlock(pmd_lock(6))')),
      `${era}: the pud is populated under ${era === 'v6.6' ? 'mm->page_table_lock' : "the shared table's pmd lock"}`);
  }
});

test('two faults racing to share: one links the table, the other drops its reference (pud populated meanwhile)', (t) => {
  const a = actor('a', share(32));
  const b = actor('b', share(32));
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'a', mm: 1 }, { actor: 'b', mm: 1 }] }, pool(a, b));
  for (let seed = 0; seed < 300; seed++) {
    const e = execute(scn, uniformRandom(seed), { trace: true });
    t.is(e.outcome, 'clean', `seed ${seed}: ${describe(e)}`);
  }
});

test('huge_pmd_unshare() of a table that is not shared does nothing; without i_mmap_rwsem for write lockdep says so', (t) => {
  const lone = actor('lone', function* (c) {
    const sem = c.m.files[0]!.i_mmap_rwsem;
    yield* down_write(c, sem);
    const p = pmd_off(c, 32)!;
    yield* pmd_lock(c, p);
    t.false(yield* huge_pmd_unshare(c, c.mm, vmaOf(c, 0), 32, p), 'table 6 has refcount 1');
    spin_unlock(c, pmd_lockptr(c.m, p));
    up_write(c, sem);
    yield step('done');
  });
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'lone' }] }, [], {}, pool(lone));
  t.is(exec.outcome, 'clean', describe(exec));
  const unlocked = actor('unlocked', function* (c) {
    const p = pmd_off(c, 16)!;
    yield* pmd_lock(c, p);
    yield* huge_pmd_unshare(c, c.mm, vmaOf(c, 0), 16, p);
    spin_unlock(c, pmd_lockptr(c.m, p));
    yield step('done');
  });
  const bad = runScript({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'unlocked' }] }, [], {}, pool(unlocked)).exec;
  t.is(bad.violation?.kind, 'kernel-bug');
  t.regex(bad.violation?.message ?? '', /i_mmap_assert_write_locked/);
});

/** A lockless walker in mm `mm` with IRQs off, as GUP-fast: take the pmd pointer for `addr` through
 *  the pud, then (a later step) read the pmd through it. */
function walker(name: string, addr: number, got: { pfn: number | null; mapsNow: boolean }[]): ActorDef {
  return actor(name, function* (c) {
    const irq = local_irq_save(c);
    const p: PmdPtr | null = pmd_off(c, addr);
    yield step('gup_pmd_range(): pmdp = pmd_offset(pudp)');
    if (p) {
      const v = pmd_load(c, p);
      // Does our own mm still reach this table at this instant?
      got.push({ pfn: v.entry.t === 'huge' ? v.entry.pfn : null, mapsNow: pmd_off(c, addr)?.table === p.table });
      yield step('gup_pmd_range(): pmd = pmdp_get_lockless(pmdp)');
    }
    local_irq_restore(c, irq);
    yield step('local_irq_restore()');
  });
}

test('a walker in mm 1 reading through the shared table while mm 0 unshares is safe: the table stays mm 1\'s', (t) => {
  for (const arch of ['x86-ipi', 'rcu-table-free']) {
    const got: { pfn: number | null; mapsNow: boolean }[] = [];
    const w = walker('walker', 16, got);
    const unsharer = actor('unsharer', function* (c) { yield* hugetlb_unshare_pmds(c, vmaOf(c, 0), 16, 32); });
    const spec = { arch, era: 'v6.6', world: W, actors: [{ actor: 'walker', mm: 1 }, { actor: 'unsharer', mm: 0 }] };
    const { exec } = runScript(spec, [{ actor: 'walker', until: 'pmd_offset' }, { actor: 'unsharer' }, { actor: 'walker' }], {}, pool(w, unsharer));
    t.is(exec.outcome, 'clean', `${arch}: ${describe(exec)}`);
    t.deepEqual(got, [{ pfn: 7, mapsNow: true }], `${arch}: mm 1 still maps page 7 through table 5`);
    const scn = buildScenario(spec, pool(walker('walker', 16, []), unsharer));
    for (let seed = 0; seed < 200; seed++) {
      const e = execute(scn, uniformRandom(seed));
      t.is(e.outcome, 'clean', `${arch} seed ${seed}: ${describe(e)}`);
    }
  }
});

/** mm 1 takes the now exclusive table over, as a hugetlb zap and refault would: under i_mmap_rwsem
 *  for write (unmap_single_vma() takes it around __unmap_hugepage_range_final()), install huge page 10
 *  at 24 (table 5, entry 2). */
const takeover = actor('takeover', function* (c) {
  const sem = c.m.files[0]!.i_mmap_rwsem;
  yield* down_write(c, sem);
  const p = pmd_off(c, 24)!;
  yield* pmd_lock(c, p);
  get_page(c, 10);
  page_add_rmap(c, 10);
  set_pmd_at(c, p, { t: 'huge', pfn: 10, writable: true });
  spin_unlock(c, pmd_lockptr(c.m, p));
  up_write(c, sem);
  yield step('set_huge_pte_at(24, page 10); i_mmap_unlock_write()');
});

test('1013af4f585f: without tlb_remove_table_sync_one(), GUP-fast in mm 0 reads mm 1\'s table after mm 0 unshared it', (t) => {
  // rcu-table-free: the flush is a broadcast that waits for no CPU, so nothing holds the unshare
  // back from a GUP-fast in flight (on an IPI architecture the flush before i_mmap_unlock_write()
  // waits for it, since its CPU is in mm 0's cpumask).
  for (const fixed of [false, true]) {
    const got: { pfn: number | null; mapsNow: boolean }[] = [];
    const w = walker('gup_fast_like', 24, got);
    const unsharer = actor('unsharer', function* (c) { yield* hugetlb_unshare_pmds(c, vmaOf(c, 0), 16, 32, { gupFastSync: fixed }); });
    const spec = { arch: 'rcu-table-free', era: 'v6.6', world: W, actors: [{ actor: 'gup_fast_like', mm: 0 }, { actor: 'unsharer', mm: 0 }, { actor: 'takeover', mm: 1 }] };
    const { exec } = runScript(spec, [{ actor: 'gup_fast_like', until: 'pmd_offset' }, { actor: 'unsharer' }, { actor: 'takeover' }, { actor: 'gup_fast_like' }],
      {}, pool(w, unsharer, takeover));
    t.is(exec.outcome, 'clean', describe(exec));
    if (fixed) {
      t.deepEqual(got, [{ pfn: null, mapsNow: false }], 'the pud was cleared, but put_page() waited for the walker: mm 1 could not take the table over under it');
      t.true(stepOf(exec, 'unsharer', 'put_page(5)') > stepOf(exec, 'gup_fast_like', 'local_irq_restore'));
    } else {
      t.deepEqual(got, [{ pfn: 10, mapsNow: false }], 'mm 0 no longer links table 5, yet its walker finds mm 1\'s new page 10 there');
    }
  }
});

test('the end audit catches a wrong share count: a stray reference leaks the table, a missing one would free it', (t) => {
  const stray = actor('stray', function* (c) {
    get_page(c, 5);
    yield step('get_page_unless_zero(pmd table 5): a speculative reference (59d9094df3d7)');
  });
  const e1 = runScript({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'stray' }] }, [], {}, pool(stray)).exec;
  t.is(e1.violation?.kind, 'leak', describe(e1));
  t.regex(e1.violation?.message ?? '', /pmd table 5 has refcount 3 but 2 pud entries link it: its share count is wrong/);
  t.is(e1.violation?.usedBy.name, 'stray', 'the audit names the step that changed the refcount');
  const lost = actor('lost', function* (c) {
    put_page(c.m, 5);
    yield step('put_page(pmd table 5) without pud_clear()');
  });
  const e2 = runScript({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'lost' }] }, [], {}, pool(lost)).exec;
  t.is(e2.violation?.kind, 'bad-refcount', describe(e2));
  t.regex(e2.violation?.message ?? '', /pmd table 5 has refcount 1 but 2 pud entries link it/);
  const unlinked = actor('unlinked', function* (c) {
    const sem = c.m.files[0]!.i_mmap_rwsem;
    yield* down_write(c, sem);
    const p = pmd_off(c, 16)!;
    yield* pmd_lock(c, p);
    yield* huge_pmd_unshare(c, c.mm, vmaOf(c, 0), 16, p);
    spin_unlock(c, pmd_lockptr(c.m, p));
    up_write(c, sem);
    yield step('done');
  });
  const e3 = runScript({ arch: 'x86-ipi', era: 'v6.6', world: W, actors: [{ actor: 'unlinked' }] }, [], {}, pool(unlinked)).exec;
  t.is(e3.outcome, 'clean', `unsharing keeps refcount = links and nr_pmds right: ${describe(e3)}`);
});
