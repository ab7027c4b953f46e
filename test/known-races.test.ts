// Races that were real and unfixed at a release (docs/known-races.md): the model finds them in that
// era, and the later fix closes them.

import test from 'ava';
import { describe, frozenClock, runScript } from './helpers.js';

// v5.10: retract's mmap_write_trylock and exit test pass while mm_users is still 1 (after exit_mm()
// dropped mmap_lock, before mmput()); then exit_mmap() zaps without mmap_lock while retract frees.
const window = [
  { actor: 'exit_mmap', until: 'exit_mm()' },
  { actor: 'collapse_file', until: 'spin_lock(pmd_lock(' },
  { actor: 'exit_mmap', until: 'pmd_read_atomic(pmd) [pmd 2]' },
  { actor: 'collapse_file' },
  { actor: 'exit_mmap' },
];

test('exit-mmput-window: at v5.10 retract passes its exit test just before the last mmput()', (t) => {
  const { exec, reached } = runScript({ arch: 'x86-ipi', era: 'v5.10', actors: [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }] }, window);
  t.deepEqual(reached.slice(0, 3), [true, true, true]);
  t.is(exec.violation?.kind, 'frame-zero-walked', describe(exec));
  t.is(exec.violation?.usedBy.name, 'exit_mmap');
});

test('exit-mmput-window: not when khugepaged is scanning this mm (__khugepaged_exit waits for it)', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v5.10', actors: [{ actor: 'exit_mmap', args: { scanned: 1 } }, { actor: 'collapse_file' }] }, window);
  t.is(exec.violation, null, describe(exec));
});

test('exit-mmput-window: closed once exit_mmap takes mmap_lock (v6.2)', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.2', actors: [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }] }, window);
  t.is(exec.violation, null, describe(exec));
});

test('a seeded v5.10 campaign on every architecture finds only known races', async (t) => {
  const { runCampaign } = await import('../fuzz/campaign.js');
  const { ACTORS } = await import('../src/mm/actors/index.js');
  const r = runCampaign({
    archs: ['x86-ipi', 'rcu-table-free', 'x86-pae'], era: 'v5.10', variants: [], pool: ACTORS, fixedActors: undefined,
    strategy: 'random', depth: 3, preemptions: 2, timeMs: null, runs: 15_000, seed: 3, shrinkMs: 5_000,
  }, { now: frozenClock });
  t.true(r.failures.length > 0, 'v5.10 has known races to find');
  for (const f of r.failures) t.truthy(f.known, `not a known race: ${f.kind} ${f.actors.join(' vs ')} on ${f.arch}\n${f.trace}`);
});
