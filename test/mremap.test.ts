// mremap(2): move_page_tables() against the walkers. Each protocol rule the actor relies on has a
// scripted interleaving that is clean with the rule kept and fails with it taken out by a test switch
// (mm/mremap.ts MREMAP_TEST_SWITCHES), and the two races the model found are shown at the eras where
// they were real and closed where they were fixed.

import test from 'ava';
import { execute, type Execution } from '../src/explore/executor.js';
import { knownRace } from '../src/explore/known.js';
import { pct } from '../src/explore/pct.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import type { ArchId } from '../src/mm/arch.js';
import { MREMAP_TEST_SWITCHES } from '../src/mm/mremap.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import { registerVariant, type EraId } from '../src/mm/switches.js';
import { describe, runScript } from './helpers.js';

for (const v of MREMAP_TEST_SWITCHES) registerVariant(v, 'test/mremap.test.ts');

const ERAS: readonly EraId[] = ['v5.8', 'v5.10', 'v6.2', 'v6.6'];
const labels = (e: Execution) => e.trace.filter((s) => e.names[s.actor] === 'mremap').map((s) => s.label);

test('each kind of move at each era: move_normal_pmd(), move_ptes(), move_normal_pud() (v6.2+); the old range ends empty', (t) => {
  for (const era of ERAS) {
    const cases = [
      { args: { vma: 0, to: 4 }, path: 'move_normal_pmd(): pmd_populate', old: 'set_pmd_at(mm, new_addr' },
      { args: { vma: 0, to: 4, pages: 2 }, path: 'move_ptes(): pte = ptep_get_and_clear(addr 1); set_pte_at(addr 5, pte)' },
      { args: { vma: 2, to: 16 }, path: era === 'v6.2' || era === 'v6.6' ? 'move_normal_pud(): pud = *old_pud (table 10)' : 'move_normal_pmd(): pmd = *old_pmd (table 11)' },
      { args: { vma: 1, to: 17 }, path: 'move_ptes(): pte = ptep_get_and_clear(addr 12); set_pte_at(addr 21, pte)' },
    ];
    for (const k of cases) {
      const { exec } = runScript({ arch: 'x86-ipi', era, world: 'mremap', actors: [{ actor: 'mremap', args: k.args }] }, []);
      t.is(exec.violation, null, `${era} ${JSON.stringify(k.args)}: ${describe(exec)}`);
      // ≤ v5.10 move_normal_pmd() stores the pmd with set_pmd_at(); 0881ace292b6 (v5.14) pmd_populate().
      const want = k.old && (era === 'v5.8' || era === 'v5.10') ? k.old : k.path;
      t.true(labels(exec).some((l) => l.includes(want)), `${era} ${JSON.stringify(k.args)} took ${want}`);
      t.true(labels(exec).some((l) => l.includes('done: mmap_write_unlock(mm)')), `${era}: mremap finished`);
    }
  }
});

// The rule: the old range is flushed (move_ptes(): under the ptls, when a present pte moved,
// eb66ae030829; move_normal_pmd(): under the pmd locks) before anyone can free the page through its
// new mapping. A CPU filled its TLB from address 0 (page 3); after the move MADV_DONTNEED on the new
// range frees page 3, flushing only [4,8).
const flushCase = (era: EraId, pages: number, variants: string[] = []) => runScript({
  arch: 'x86-ipi', era, variants, world: 'mremap',
  actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'mremap', args: { vma: 0, to: 4, pages } }, { actor: 'madvise_dontneed', args: { slot: 1 } }],
}, [{ actor: 'hw_walker', until: 'user access to 0' }, { actor: 'mremap' }, { actor: 'madvise_dontneed' }], { 'hw-address': [0] });

for (const [what, pages] of [['move_normal_pmd()', 0], ['move_ptes()', 2]] as const) {
  test(`${what} flushes the old range: the TLB entry of the old address goes before the page can (every era); without the flush, stale-tlb`, (t) => {
    for (const era of ERAS) {
      const ok = flushCase(era, pages);
      t.true(ok.reached[0], era);
      t.is(ok.exec.violation, null, `${era}: ${describe(ok.exec)}`);
      t.true(labels(ok.exec).some((l) => l.startsWith(`${what}: flush_tlb_range(vma, 0, `)), era);
      const bad = flushCase(era, pages, ['mremap-no-flush']);
      t.is(bad.exec.violation?.kind, 'stale-tlb', `${era} without the flush: ${describe(bad.exec)}`);
      t.is(bad.exec.violation?.usedBy.name, 'hw_walker');
      t.is(bad.exec.violation?.changedBy?.name, 'madvise_dontneed');
    }
  });
}

test('move_ptes() writes the ptes under both ptls; without them the pte stores are unlocked (lockdep)', (t) => {
  for (const era of ['v5.10', 'v6.6'] as const) {
    const ok = flushCase(era, 2);
    t.is(ok.exec.violation, null, describe(ok.exec));
    t.true(labels(ok.exec).some((l) => l === 'spin_lock(ptl(2))'), 'the old table\'s ptl');
    const bad = flushCase(era, 2, ['mremap-no-ptl']);
    t.is(bad.exec.violation?.kind, 'pte-write-without-ptl', `${era}: ${describe(bad.exec)}`);
    t.is(bad.exec.violation?.usedBy.name, 'mremap');
  }
});

// The old pte table, emptied by move_ptes(), goes in do_munmap()'s free_pgtables(): GUP-fast, which
// read the old pmd with IRQs off, holds the flush IPI (x86) or the grace period (RCU) off.
test('GUP-fast on the old address while mremap moves its ptes and frees the old table: IRQs off keep the table; without (V7) a use-after-free on x86', (t) => {
  const script = [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'mremap' }, { actor: 'gup_fast' }];
  for (const era of ['v6.2', 'v6.6'] as const) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      const ok = runScript({ arch, era, actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'mremap', args: { vma: 0, to: 17 } }] }, script);
      t.true(ok.reached[0]);
      t.is(ok.exec.violation, null, `${era} ${arch}: ${describe(ok.exec)}`);
      t.true(labels(ok.exec).some((l) => l.includes('free page tables') || l.includes('call_rcu')), `${era} ${arch}: the old table was freed`);
    }
    const bad = runScript({ arch: 'x86-ipi', era, variants: ['gup-fast-no-irq-disable'], actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'mremap', args: { vma: 0, to: 17 } }] }, script);
    t.is(bad.exec.violation?.kind, 'table-use-after-free', `${era}: ${describe(bad.exec)}`);
    t.is(bad.exec.violation?.changedBy?.name, 'mremap');
  }
});

// 6fa1066fc5d0 "mm/mremap: fix move_normal_pmd/retract_page_tables race" (v6.12): move_page_tables() reads
// *old_pmd and decides NORMAL_PMD before take_rmap_locks(); v6.6's retract_page_tables() (no
// mmap_lock) clears that pmd in between; move_normal_pmd() reads none under the pmd lock and
// pmd_populate()s the new pmd with page 0.
const retractScript = [{ actor: 'mremap', until: 'move_page_tables(): is_swap_pmd' }, { actor: 'collapse_file' }, { actor: 'mremap' }];
const retract = (era: EraId, arch: string, variants: string[] = []) => runScript(
  { arch, era, variants, world: 'mremap', actors: [{ actor: 'mremap', args: { vma: 1, to: 16 } }, { actor: 'collapse_file' }] }, retractScript);

test('v6.6: retract_page_tables() between move_page_tables()\'s pmd read and move_normal_pmd(): page 0 installed as a pte table (known race mremap-retract-race)', (t) => {
  for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae'] as const) {
    const { exec, reached } = retract('v6.6', arch);
    t.true(reached[0], arch);
    t.true(exec.trace.some((s) => e(exec, s.actor) === 'collapse_file' && s.label.includes('pte_free_defer(5)')), `${arch}: retract took table 5 first`);
    t.is(exec.violation?.kind, 'bad-entry-installed', `${arch}: ${describe(exec)}`);
    t.regex(exec.violation?.message ?? '', /pmd_populate installed pmd table\(0\).*physical frame 0/);
    t.is(exec.violation?.usedBy.name, 'mremap');
    t.is(knownRace('v6.6', arch, ['mremap', 'collapse_file'], 'bad-entry-installed'), 'mremap-retract-race');
  }
});

test('the same schedule is clean with 6fa1066fc5d0 (move-pmd-recheck) and at v6.2, where retract needs mmap_write_trylock', (t) => {
  for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
    const fixed = retract('v6.6', arch, ['move-pmd-recheck']);
    t.is(fixed.exec.violation, null, `${arch} fixed: ${describe(fixed.exec)}`);
    t.true(labels(fixed.exec).some((l) => l.includes('racing with collapse: spin_unlock(); return false')), 'the re-check bailed out');
    t.true(labels(fixed.exec).some((l) => l.includes('move_page_tables(): pmd_none(*old_pmd)')), 'and the pte path stopped at pmd_none()');
    const old = retract('v6.2', arch);
    t.is(old.exec.violation, null, `${arch} v6.2: ${describe(old.exec)}`);
    t.true(old.exec.trace.some((s) => s.label.includes('mmap_write_trylock() failed')), 'v6.2 retract could not take mmap_lock');
    t.is(knownRace('v6.2', arch as ArchId, ['mremap', 'collapse_file'], 'bad-entry-installed'), null);
  }
});

// Before 97113eb39fa7 (v5.14) move_normal_pmd() took no rmap lock (need_rmap_locks is false for a
// copy that is not merged): an rmap walker holding only i_mmap_rwsem read its pmd, mremap moved the
// table, and the walker's map_pte() read *pmd again: none, page 0.
const rmapScript = [{ actor: 'mremap', until: 'move_normal_pmd(): spin_unlock' }, { actor: 'try_to_unmap', until: 'pmde = pmdp_get_lockless' }, { actor: 'mremap', until: 'move_normal_pmd(): spin_unlock' }, { actor: 'try_to_unmap' }];
const rmap = (era: EraId) => runScript({ arch: 'x86-ipi', era, world: 'mremap', actors: [{ actor: 'mremap', args: { vma: 1, to: 16 } }, { actor: 'try_to_unmap' }] }, rmapScript);

test('v5.8, v5.10: move_normal_pmd() without the rmap lock under an rmap walk: page 0 walked (known race mremap-pmd-no-rmap-lock); v6.2+ waits on i_mmap_rwsem', (t) => {
  for (const era of ['v5.8', 'v5.10'] as const) {
    const { exec, reached } = rmap(era);
    t.true(reached[1] && reached[2], era);
    t.is(exec.violation?.kind, 'frame-zero-walked', `${era}: ${describe(exec)}`);
    t.is(exec.violation?.usedBy.name, 'try_to_unmap');
    t.is(knownRace(era, 'x86-ipi', ['mremap', 'try_to_unmap'], 'frame-zero-walked'), 'mremap-pmd-no-rmap-lock');
  }
  for (const era of ['v6.2', 'v6.6'] as const) {
    const { exec } = rmap(era);
    t.is(exec.violation, null, `${era}: ${describe(exec)}`);
    t.true(exec.trace.some((s) => e(exec, s.actor) === 'mremap' && s.label === 'down_write(i_mmap_rwsem)'), `${era}: take_rmap_locks()`);
  }
});

function e(exec: Execution, actor: number): string | undefined {
  return exec.names[actor];
}

// Random schedules of mremap against the other actors, in the mremap world: at the fixed eras, only
// the known race may show, and it does show at v6.6.
test('random schedules in the mremap world at v6.2 and v6.6 are clean but for known races', (t) => {
  const moves = [{ vma: 0, to: 4 }, { vma: 0, to: 4, pages: 2 }, { vma: 1, to: 16 }, { vma: 1, to: 17 }, { vma: 2, to: 16 }];
  const others: ActorCall[] = [
    { actor: 'collapse_file' }, { actor: 'gup_fast', args: { addr: 0 } }, { actor: 'hw_walker', args: { accesses: 3 } },
    { actor: 'madvise_dontneed', args: { slot: 1 } }, { actor: 'try_to_unmap' }, { actor: 'unmap_mapping_range' }, { actor: 'lazy_tlb' }, { actor: 'fault', args: { addr: 1 } },
  ];
  let known = 0;
  for (const era of ['v6.2', 'v6.6'] as const) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae'] as const) {
      for (const other of others) {
        for (const args of moves) {
          const scn = buildScenario({ arch, era, world: 'mremap', actors: [{ actor: 'mremap', args }, other] });
          // The race needs collapse_file: more seeds there, so that it shows whatever PCT's change points do.
          for (let seed = 0; seed < (other.actor === 'collapse_file' ? 48 : 8); seed++) {
            const x = execute(scn, seed % 2 ? uniformRandom(seed) : pct(seed, scn.actors.length, 3, 60));
            // Judged as a campaign judges it: by the scenario's actors, both of them.
            const v = x.violation;
            const k = v ? knownRace(era, arch, ['mremap', other.actor], v.kind) : null;
            if (k) {
              known++;
              continue;
            }
            if (x.outcome !== 'clean') t.fail(`${era} ${arch} mremap(${JSON.stringify(args)}) vs ${other.actor} seed ${seed}: ${describe(x)}`);
          }
        }
      }
    }
  }
  t.true(known > 0, 'the v6.6 race shows under random schedules too');
});
