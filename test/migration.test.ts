// Page migration: migration entries in place of the old page's mappings, a copy, the new page mapped
// in their place, the old page freed. Faults wait on a migration entry and retry; GUP-fast and the
// refcount check keep a pinned page from being copied away; the flushes keep a stale TLB entry from
// outliving the old page; zaps and pmd walkers handle the entries as their era does.

import test from 'ava';
import { execute, type Scheduler } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { migrate_pages } from '../src/mm/actors/migrate_pages.js';
import { migrate_page, type MigrateOpts } from '../src/mm/migrate.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import type { EraId } from '../src/mm/switches.js';
import { describe, runScript, stepOf } from './helpers.js';

const ERAS: readonly EraId[] = ['v5.8', 'v5.10', 'v6.2', 'v6.6'];
const ARCHES = ['x86-ipi', 'rcu-table-free', 'x86-pae'];

/** migrate_pages with one rule taken out: what that rule protects. */
function weakened(name: string, opts: MigrateOpts): ActorDef {
  return { ...migrate_pages, name, *run(c, args) { yield* migrate_page(c, c.mm, args['addr'] ?? 0, opts); } };
}
const POOL = [...ACTORS, weakened('migrate_no_flush', { flush: false }), weakened('migrate_no_refcheck', { refcheck: false })];

const pinOf = (e: { trace: readonly { events: readonly { e: string }[] }[] }) => e.trace.some((s) => s.events.some((x) => x.e === 'pin'));

test('migration maps the new page in place of the old, which is freed (every era and architecture)', (t) => {
  for (const era of ERAS) {
    for (const arch of ARCHES) {
      const { exec } = runScript({ arch, era, actors: [{ actor: 'migrate_pages', args: { addr: 1 } }] }, []);
      t.is(exec.outcome, 'clean', `${era} ${arch}: ${describe(exec)}`);
      const restored = exec.trace.find((s) => s.label.includes('remove_migration_pte(addr 1)'));
      t.truthy(restored, `${era} ${arch}`);
      t.true(exec.trace.some((s) => s.events.some((e) => e.e === 'free' && e.pfn === 4)), `${era} ${arch}: old page 4 freed`);
      const unmapped = stepOf(exec, 'migrate_pages', 'set_pte_at(addr 1, migration entry)');
      const copied = stepOf(exec, 'migrate_pages', 'migrate_page_copy(4');
      t.true(unmapped >= 0 && unmapped < copied && copied < (restored?.step ?? -1), `${era} ${arch}: unmap, copy, remap`);
    }
  }
});

test('a THP migrates by a pmd migration entry and comes back as a huge pmd of the new page', (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 6 } }] }, []);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(exec.trace.some((s) => s.label.includes('set_pmd_migration_entry(): set_pmd_at(migration')), era);
    t.true(exec.trace.some((s) => s.label.includes('remove_migration_pmd()')), era);
  }
});

// The fault meets the migration entry after the unmap, and must wait for the old page's lock.
const faultMeetsEntry = [{ actor: 'migrate_pages', until: 'anon_vma_unlock_read' }, { actor: 'fault' }, { actor: 'migrate_pages' }, { actor: 'fault' }];

test('migration vs fault: the fault waits on the migration entry until the old page is unlocked, then finds the new page', (t) => {
  for (const era of ERAS) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'migrate_pages', args: { addr: 0 } }, { actor: 'fault', args: { addr: 0 } }] }, faultMeetsEntry);
    t.true(reached[0], era);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const woke = stepOf(exec, 'fault', 'PG_locked(3) clear');
    const unlocked = stepOf(exec, 'migrate_pages', 'unlock_page(3)');
    t.true(woke > unlocked && unlocked >= 0, `${era}: woke at ${woke}, unlocked at ${unlocked}`);
    t.true(stepOf(exec, 'fault', 'spurious fault') > woke, `${era}: the retried fault finds the new page mapped`);
  }
});

test("the wait's page reference: ≤ v5.10 it can fail the migration (-EAGAIN), from v5.19 (ffa65753c431) none is taken", (t) => {
  for (const era of ERAS) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'migrate_pages', args: { addr: 0 } }, { actor: 'fault', args: { addr: 0 } }] },
      [{ actor: 'migrate_pages', until: 'anon_vma_unlock_read' }, { actor: 'fault', until: 'migration_entry_wait()' }, { actor: 'migrate_pages' }, { actor: 'fault' }]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const old = era === 'v5.8' || era === 'v5.10';
    t.is(stepOf(exec, 'fault', 'get_page_unless_zero(3)') >= 0, old, `${era}: reference taken`);
    t.is(stepOf(exec, 'migrate_pages', '-EAGAIN') >= 0, old, `${era}: migration failed`);
    t.is(stepOf(exec, 'migrate_pages', '(freed)') >= 0, !old, `${era}: old page freed`);
  }
});

test('a THP fault and a small fault on a pmd migration entry wait in pmd_migration_entry_wait()', (t) => {
  for (const era of ERAS) {
    for (const faulter of [{ actor: 'fault', args: { addr: 5 } }, { actor: 'thp_fault#2', real: 'thp_fault', args: { slot: 1 } }]) {
      const name = faulter.actor;
      const call: ActorCall = { actor: faulter.real ?? faulter.actor, args: faulter.args };
      const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 4 } }, call] },
        [{ actor: 'thp_fault' }, { actor: 'migrate_pages', until: 'set_pmd_migration_entry(): set_pmd_at' }, { actor: name }, { actor: 'migrate_pages' }, { actor: name }]);
      t.is(exec.outcome, 'clean', `${era} ${name}: ${describe(exec)}`);
      t.true(stepOf(exec, name, 'pmd_migration_entry_wait()') >= 0, `${era} ${name}: waited`);
      t.true(stepOf(exec, name, 'PG_locked(') > stepOf(exec, 'migrate_pages', 'unlock_page('), `${era} ${name}: woke after the unlock`);
    }
  }
});

test('migration vs GUP-fast: a pin held makes the refcount check refuse the copy; without the check the pin is stale', (t) => {
  for (const arch of ['x86-ipi', 'rcu-table-free']) {
    for (const [actor, want] of [['migrate_pages', 'clean'], ['migrate_no_refcheck', 'stale-pin']] as const) {
      const { exec, reached } = runScript({ arch, era: 'v6.6', actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor, args: { addr: 0 } }] },
        [{ actor: 'gup_fast', until: 'local_irq_restore' }, { actor }, { actor: 'gup_fast' }], {}, POOL);
      t.true(reached[0] && pinOf(exec), `${arch} ${actor}: pinned`);
      t.is(String(exec.violation?.kind ?? exec.outcome), want, `${arch} ${actor}: ${describe(exec)}`);
      if (want === 'clean') t.true(stepOf(exec, actor, 'page_count(3) = 2 != 1: -EAGAIN') >= 0, `${arch}: -EAGAIN`);
    }
  }
  // Where the flush waits for nobody, GUP-fast may take its reference after the pte became a
  // migration entry: its re-check of the pte sees it and drops the reference.
  const { exec } = runScript({ arch: 'rcu-table-free', era: 'v6.6', actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'migrate_pages', args: { addr: 0 } }] },
    [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'migrate_pages', until: 'set_pte_at(addr 0, migration entry)' }, { actor: 'gup_fast' }, { actor: 'migrate_pages' }]);
  t.is(exec.outcome, 'clean', describe(exec));
  t.false(pinOf(exec), 'no pin');
  t.true(stepOf(exec, 'gup_fast', 'pte_val(pte) != pte_val(ptep_get(ptep)): moved') >= 0, 'the pte re-check saw the migration entry');
});

test('the flush before the copy: without it the old page is freed while a TLB maps it, or a write misses the copy', (t) => {
  for (const arch of ['x86-ipi', 'rcu-table-free']) {
    for (const [actor, freed, copied] of [['migrate_pages', 'clean', 'clean'], ['migrate_no_flush', 'stale-tlb', 'lost-write']] as const) {
      const spec = { arch, era: 'v6.6', actors: [{ actor: 'hw_walker', args: { accesses: 2, write: 1 } }, { actor, args: { addr: 0 } }] };
      const whole = runScript(spec, [{ actor: 'hw_walker', until: 'user write to 0' }, { actor }], { 'hw-address': [0, 0] }, POOL);
      t.is(String(whole.exec.violation?.kind ?? whole.exec.outcome), freed, `${arch} ${actor}: ${describe(whole.exec)}`);
      const mid = runScript(spec, [{ actor: 'hw_walker', until: 'user write to 0' }, { actor, until: 'migrate_page_copy' }, { actor: 'hw_walker' }, { actor }], { 'hw-address': [0, 0] }, POOL);
      t.is(String(mid.exec.violation?.kind ?? mid.exec.outcome), copied, `${arch} ${actor}: ${describe(mid.exec)}`);
    }
  }
});

test('a zap between unmap and remap clears the migration ptes and pmd (rss, mapcounts and tables stay right)', (t) => {
  for (const era of ERAS) {
    const small = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'migrate_pages', args: { addr: 0 } }, { actor: 'madvise_dontneed', args: { slot: 0 } }] },
      [{ actor: 'migrate_pages', until: 'anon_vma_unlock_read' }, { actor: 'madvise_dontneed' }, { actor: 'migrate_pages' }]);
    t.is(small.exec.outcome, 'clean', `${era}: ${describe(small.exec)}`);
    t.true(stepOf(small.exec, 'madvise_dontneed', 'migration entry at 0') >= 0, era);
    const huge = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 4 } }, { actor: 'munmap', args: { vma: 0 } }] },
      [{ actor: 'thp_fault' }, { actor: 'migrate_pages', until: 'anon_vma_unlock_read' }, { actor: 'munmap' }, { actor: 'migrate_pages' }]);
    t.is(huge.exec.outcome, 'clean', `${era}: ${describe(huge.exec)}`);
    t.true(huge.exec.trace.some((s) => s.label.includes('zap_huge_pmd(): pmdp_huge_get_and_clear_full(); zap_deposited_table')), era);
  }
});

// The fault checks *pmd (none), a THP appears and becomes a migration entry, then the fault's
// pmd_trans_unstable() looks at it: 84c3fc4e9c56 made it skip a non-present pmd rather than judge it bad.
const unstable = [{ actor: 'fault', until: 'handle_pte_fault(): pmd_none(*vmf->pmd)' }, { actor: 'thp_fault' },
  { actor: 'migrate_pages', until: 'set_pmd_migration_entry(): set_pmd_at' }, { actor: 'fault' }, { actor: 'migrate_pages' }];

test('pmd_trans_unstable() leaves a pmd migration entry alone; pmd_none_or_clear_bad() (V5) clears it', (t) => {
  for (const [variants, want] of [[[], 'clean'], [['pmd-bad-clears-huge'], 'valid-mapping-cleared']] as const) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era: 'v6.2', variants: [...variants], actors: [{ actor: 'fault', args: { addr: 5 } }, { actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 4 } }] }, unstable);
    t.true(reached[0] && reached[2], `${variants.join()}`);
    t.is(String(exec.violation?.kind ?? exec.outcome), want, `${variants.join()}: ${describe(exec)}`);
    if (want === 'clean') t.true(stepOf(exec, 'fault', 'pmd_trans_unstable(): pmdval = pmdp_get_lockless(pmd)') > stepOf(exec, 'migrate_pages', 'set_pmd_migration_entry()'));
  }
});

function randomish(seed: number, first: boolean): Scheduler {
  const u = uniformRandom(seed);
  return { pick: (r, last) => (first && seed % 2 === 0 && r.includes(0) ? 0 : u.pick(r, last)), choose: u.choose };
}

test('random schedules of migration with faults, GUP, zaps, mincore and the hardware walker: clean at v6.2 and v6.6 but for known races', (t) => {
  const scenarios: ActorCall[][] = [
    [{ actor: 'migrate_pages', args: { addr: 0 } }, { actor: 'fault', args: { addr: 0 } }, { actor: 'gup_fast', args: { addr: 0 } }, { actor: 'hw_walker', args: { write: 1 } }],
    [{ actor: 'migrate_pages', args: { addr: 1 } }, { actor: 'madvise_dontneed', args: { slot: 0 } }, { actor: 'gup_slow', args: { addr: 1 } }, { actor: 'mincore', args: { slot: 0 } }],
    [{ actor: 'thp_fault' }, { actor: 'migrate_pages', args: { addr: 5 } }, { actor: 'fault', args: { addr: 6 } }, { actor: 'gup_fast', args: { addr: 6 } }],
    [{ actor: 'migrate_pages', args: { addr: 0 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }, { actor: 'exit_mmap' }],
  ];
  let known = 0;
  for (const era of ['v6.2', 'v6.6'] as const) {
    for (const arch of ARCHES) {
      for (const actors of scenarios) {
        const scn = buildScenario({ arch, era, actors });
        for (let seed = 0; seed < 50; seed++) {
          const e = execute(scn, randomish(seed, actors[0]?.actor === 'thp_fault'));
          if (e.violation) {
            const pair = [e.violation.usedBy.name, e.violation.changedBy?.name].filter((n): n is string => n !== undefined && n !== 'rcu');
            if (knownRace(era, arch, pair, e.violation.kind)) { known++; continue; }
          }
          t.is(e.outcome, 'clean', `${era} ${arch} ${actors.map((a) => a.actor).join(',')} seed ${seed}: ${describe(e)}`);
        }
      }
    }
  }
  t.log(`${known} known-race schedules`);
});

// remove_migration_ptes() walks the anon_vma and finds the page where each VMA has it now
// (vma_address(): vm_start + page->index - vm_pgoff). Found by a campaign with every actor: mremap
// moved VMA 0 (and its migration entry) to 16 while migration waited, and a walk at the old address
// left the entry behind ("rss is 6, but the tables map 5").
test('migration entries moved by mremap() are found and restored at their new address', (t) => {
  for (const era of ['v5.10', 'v6.2', 'v6.6'] as const) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'migrate_pages', args: { addr: 0 } }, { actor: 'mremap', args: { vma: 0, to: 16 } }] },
      [{ actor: 'migrate_pages', until: 'move_to_new_page()' }, { actor: 'mremap' }, { actor: 'migrate_pages' }]);
    t.true(reached[0], era);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(stepOf(exec, 'migrate_pages', 'remove_migration_pte(addr 16)') > stepOf(exec, 'mremap', 'mremap('), `${era}: restored at 16`);
  }
});
