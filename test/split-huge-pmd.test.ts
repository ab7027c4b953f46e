// split_huge_pmd(): a huge pmd becomes a pte table of its subpages under pmd_lock, after
// pmdp_invalidate() and its flush; a THP migration entry becomes migration ptes, which the old
// kernels counted as mappings (v5.8) and references (v5.8, v5.10).

import test from 'ava';
import { execute, type Scheduler } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { split_huge_pmd as splitActor } from '../src/mm/actors/split_huge_pmd.js';
import { down_read, mmap_read_unlock_step } from '../src/mm/locks.js';
import { find_vma } from '../src/mm/model.js';
import { pmd_lock, pmd_lockptr, pmd_off, pmdEntryAt, set_pmd_at } from '../src/mm/pgtable.js';
import { spin_unlock } from '../src/mm/locks.js';
import { step } from '../src/mm/step.js';
import { split_huge_pmd } from '../src/mm/huge_split.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import type { EraId } from '../src/mm/switches.js';
import { describe, runScript } from './helpers.js';

const ERAS: readonly EraId[] = ['v5.8', 'v5.10', 'v6.2', 'v6.6'];

/** A split whose pmdp_invalidate() does not flush: what the flush protects. */
const splitNoFlush: ActorDef = {
  ...splitActor,
  name: 'split_no_flush',
  *run(c, args) {
    const addr = args['addr'] ?? 4;
    yield* down_read(c, c.mm.mmap_lock);
    const vma = find_vma(c.mm, addr)!;
    yield* split_huge_pmd(c, vma, pmd_off(c, addr)!, addr, { flush: false });
    yield* mmap_read_unlock_step(c, 'split done');
  },
};
const POOL = [...ACTORS, splitNoFlush];

test('a huge pmd splits into ptes of its subpages, counted as the kernel counts them (every era)', (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'thp_fault' }, { actor: 'split_huge_pmd', args: { addr: 5 } }] }, []);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const stores = exec.trace.flatMap((s) => s.events).filter((e) => e.e === 'pte-store');
    t.deepEqual(stores.map((e) => (e.now.t === 'present' ? e.now.sub : -1)), [0, 1, 2, 3], era);
    const populate = exec.trace.find((s) => s.label.includes('pmd_populate(pmd'));
    const invalidate = exec.trace.find((s) => s.label.includes('pmdp_invalidate(): pmdp_mknotpresent'));
    t.truthy(populate && invalidate && invalidate.step < populate.step, `${era}: pmdp_invalidate() before pmd_populate()`);
  }
});

/** A user write through the huge pmd: the CPU sets its dirty bit (the model's THP fault maps it clean). */
const dirtyThp: ActorDef = {
  ...splitActor,
  name: 'dirty_thp',
  summary: 'test: set the dirty bit of the huge pmd at addr, as a write through it does',
  *run(c, args) {
    const pmd = pmd_off(c, args['addr'] ?? 4)!;
    yield* pmd_lock(c, pmd);
    const e = pmdEntryAt(c.m, pmd);
    if (e.t === 'huge') set_pmd_at(c, pmd, { ...e, dirty: true, writable: true });
    spin_unlock(c, pmd_lockptr(c.m, pmd));
    yield step('test: the CPU sets the huge pmd dirty');
  },
};

test('the huge pmd dirty bit: PG_dirty at v5.8 and v5.10, every pte from v6.0 (0ccf7f168e17)', (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'thp_fault' }, { actor: 'dirty_thp' }, { actor: 'split_huge_pmd', args: { addr: 5 } }] }, [], {}, [...POOL, dirtyThp]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const stores = exec.trace.flatMap((s) => s.events).filter((e) => e.e === 'pte-store');
    t.is(stores.length, 4, era);
    t.is(stores.every((e) => e.now.t === 'present' && e.now.dirty && e.now.writable), era === 'v6.2' || era === 'v6.6', `${era}: ptes dirty`);
    t.true(stores.every((e) => e.now.t === 'present' && e.now.writable), `${era}: ptes writable`);
    t.true(exec.trace.some((s) => s.events.some((e) => e.e === 'page-dirty')), `${era}: SetPageDirty()`);
  }
});

test('split vs GUP-fast: the invalidated pmd is refused, and the pmd re-check drops a reference taken before', (t) => {
  // GUP-fast reads the pmd after pmdp_invalidate() (broadcast flush: the split does not wait for it).
  const late = runScript({ arch: 'rcu-table-free', era: 'v6.6', actors: [{ actor: 'thp_fault' }, { actor: 'split_huge_pmd', args: { addr: 5 } }, { actor: 'gup_fast', args: { addr: 5 } }] },
    [{ actor: 'thp_fault' }, { actor: 'split_huge_pmd', until: 'pmdp_mknotpresent' }, { actor: 'gup_fast', until: 'restore' }, { actor: 'split_huge_pmd' }]);
  t.deepEqual(late.reached, [false, true, true, false]);
  t.is(late.exec.outcome, 'clean', describe(late.exec));
  t.false(late.exec.trace.some((s) => s.events.some((e) => e.e === 'pin')), 'no pin through an invalidated pmd (pmd_access_permitted)');
  // GUP-fast read the huge pmd before the split: its re-check sees the pmd changed.
  for (const arch of ['x86-ipi', 'rcu-table-free']) {
    const early = runScript({ arch, era: 'v6.6', actors: [{ actor: 'thp_fault' }, { actor: 'split_huge_pmd', args: { addr: 5 } }, { actor: 'gup_fast', args: { addr: 5 } }] },
      [{ actor: 'thp_fault' }, { actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'split_huge_pmd' }, { actor: 'gup_fast' }, { actor: 'split_huge_pmd' }]);
    t.is(early.exec.outcome, 'clean', `${arch}: ${describe(early.exec)}`);
    const pinned = early.exec.trace.some((s) => s.events.some((e) => e.e === 'pin'));
    const dropped = early.exec.trace.some((s) => s.label.includes('pmd_val(orig) != pmd_val(*pmdp): gup_put_folio()'));
    // pmdp_invalidate() stores before it flushes, so even on x86, where its IPI waits for GUP-fast's
    // IRQs-off walk, GUP-fast's re-check of the pmd sees the change and drops its reference.
    t.false(pinned, `${arch}: pinned`);
    t.true(dropped, `${arch}: dropped`);
  }
});

test("split vs the hardware walker: pmdp_invalidate()'s flush takes the huge TLB entry out", (t) => {
  for (const [actor, flushed] of [['split_huge_pmd', true], ['split_no_flush', false]] as const) {
    const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'thp_fault' }, { actor: 'hw_walker', args: { accesses: 2 } }, { actor, args: { addr: 5 } }] },
      [{ actor: 'thp_fault' }, { actor: 'hw_walker', until: 'user access to 5' }, { actor, until: 'pmd_populate(pmd' }, { actor: 'hw_walker' }, { actor }],
      { 'hw-address': [5, 5] }, POOL);
    t.is(exec.outcome, 'clean', describe(exec));
    // The second access walks again (a TLB fill from the new pte) only if the flush took the huge entry out.
    const fills = exec.trace.flatMap((s) => s.events).filter((e) => e.e === 'tlb-fill' && e.addr === 5);
    t.is(fills.length, flushed ? 2 : 1, `${actor}: ${fills.length} fill(s)`);
  }
});

const splitOfMigrationEntry = [{ actor: 'thp_fault' }, { actor: 'migrate_pages', until: 'set_pmd_migration_entry(): set_pmd_at' }, { actor: 'split_huge_pmd' }, { actor: 'migrate_pages' }];
const splitActors: ActorCall[] = [{ actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 4 } }, { actor: 'split_huge_pmd', args: { addr: 5 } }];

test('split of a THP migration entry: mapcount wrong at v5.8 (ec0abae6dcdf), refcount leaked to v5.10 (9d84604b845c), clean after', (t) => {
  const want: Record<EraId, string> = { 'v5.8': 'bad-mapcount', 'v5.10': 'leak', 'v6.2': 'clean', 'v6.6': 'clean' };
  for (const era of ERAS) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era, actors: splitActors }, splitOfMigrationEntry);
    t.true(reached[1], era);
    t.true(exec.trace.some((s) => s.label.includes('set_pte_at(4..7) (migration entries)')), `${era}: the split met the migration entry`);
    t.is(String(exec.violation?.kind ?? exec.outcome), want[era], `${era}: ${describe(exec)}`);
    if (exec.violation) {
      const pair = [exec.violation.usedBy.name, exec.violation.changedBy?.name].filter((n): n is string => n !== undefined);
      t.truthy(knownRace(era, 'x86-ipi', pair, exec.violation.kind), `${era}: known`);
    } else {
      // The migration ptes were restored as ptes of the new page, and the old page freed.
      t.true(exec.trace.some((s) => s.label.includes('remove_migration_pte(addr 7)')), era);
      t.true(exec.trace.some((s) => s.label.includes('(freed)')), era);
    }
  }
});

test("arm64: pmdp_invalidate() of a migration entry makes it a present huge pmd of a bogus page (every era; e783331c7720, v6.10)", (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'rcu-table-free', era, actors: splitActors }, splitOfMigrationEntry);
    t.is(exec.violation?.kind, 'bad-entry-installed', `${era}: ${describe(exec)}`);
    t.is(exec.violation?.usedBy.name, 'split_huge_pmd');
    t.is(knownRace(era, 'rcu-table-free', ['split_huge_pmd'], 'bad-entry-installed'), 'split-pmd-invalidate-migration-entry');
  }
  // x86's pmd_mkinvalid() leaves a swap-format entry as it is: no violation there at v6.6.
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: splitActors }, splitOfMigrationEntry);
  t.is(exec.outcome, 'clean', describe(exec));
});

/** Run thp_fault to its end first (half the seeds), so that the others meet the huge pmd. */
function thpFirst(seed: number): Scheduler {
  const u = uniformRandom(seed);
  const first = seed % 2 === 0;
  return { pick: (r, last) => (first && r.includes(0) ? 0 : u.pick(r, last)), choose: u.choose };
}

test('random schedules of split, migration, GUP-fast, the hardware walker and faults: clean at v6.2 and v6.6 but for known races', (t) => {
  const scenarios: ActorCall[][] = [
    [{ actor: 'thp_fault' }, { actor: 'split_huge_pmd', args: { addr: 4 } }, { actor: 'gup_fast', args: { addr: 6 } }, { actor: 'hw_walker', args: { write: 1 } }],
    [{ actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 4 } }, { actor: 'split_huge_pmd', args: { addr: 5 } }, { actor: 'fault', args: { addr: 5 } }],
    [{ actor: 'thp_fault' }, { actor: 'split_huge_pmd', args: { addr: 4 } }, { actor: 'migrate_pages', args: { addr: 6 } }, { actor: 'madvise_dontneed', args: { slot: 1 } }],
  ];
  let known = 0;
  for (const era of ['v6.2', 'v6.6'] as const) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      for (const actors of scenarios) {
        const scn = buildScenario({ arch, era, actors });
        for (let seed = 0; seed < 60; seed++) {
          const e = execute(scn, thpFirst(seed));
          if (e.violation) {
            const pair = [e.violation.usedBy.name, e.violation.changedBy?.name].filter((n): n is string => n !== undefined && n !== 'rcu');
            if (knownRace(era, arch, pair, e.violation.kind)) { known++; continue; }
          }
          t.is(e.outcome, 'clean', `${era} ${arch} seed ${seed}: ${describe(e)}`);
        }
      }
    }
  }
  t.log(`${known} known-race schedules`);
});
