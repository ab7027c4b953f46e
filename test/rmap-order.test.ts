// The rmap's interval trees (src/mm/rmap_tree.ts): membership from anon_vma_clone() / __vma_link_file()
// until the unlink, and the walk order of include/linux/interval_tree_generic.h (by vm_pgoff, then
// insertion). mremap's move_ptes() runs without rmap locks (need_rmap_locks = false) and relies on
// it: an rmap walker must see the old pte, the new pte, or both.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { nonPreemptive } from '../src/explore/schedulers.js';
import { decodeToken } from '../src/explore/token.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { migrate_page } from '../src/mm/migrate.js';
import { find_vma, vma_interval_tree_foreach } from '../src/mm/model.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import type { Vma } from '../src/mm/types.js';
import { anon_vma_clone, anon_vma_interval_tree_foreach, copy_vma, mmap_write_lock, mmap_write_unlock, vm_area_dup } from '../src/index.js';
import { describe, runScript, stepOf, testActor, vmaAt } from './helpers.js';

/** migrate_pages of the page at 32 (the actor's addr stops at 15): VMA 2 of world mremap. */
const migrate32 = testActor('migrate_pages', (c) => migrate_page(c, c.mm, 32));

const ids = (vs: readonly Vma[]) => vs.map((v) => v.id);



// Found by a hunt at v6.2 (x86-pae): migration's remove_migration_ptes() walked the anon_vma while
// mremap's copy_vma() had cloned the new VMA into it but not yet vma_link()ed it; the model walked
// mm->vmas, so it never visited the new VMA and left the moved migration entry behind.
const HUNT_TOKEN = 'mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2Ni4yIiwidiI6W10sInMiOltbIm1yZW1hcCIseyJwYWdlcyI6MCwidG8iOjE3LCJ2bWEiOjB9XSxbIm1pZ3JhdGVfcGFnZXMiLHsiYWRkciI6MH1dXSwicCI6W1swLDMsMV0sWzEsMjMsMF1dLCJjIjpbXX0.9dd2d8a8';

test('hunt token (v6.2, x86-pae): the walker finds the migration entry at the new address', (t) => {
  const r = decodeToken(HUNT_TOKEN);
  const exec = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
  t.is(exec.violation, null, exec.violation?.message);
  const restored = stepOf(exec, 'migrate_pages', 'remove_migration_pte(addr 17)');
  t.true(restored > stepOf(exec, 'mremap', 'move_ptes(): pte = ptep_get_and_clear'), 'restored at 17, after the move');
});

test('the same race written down: the walk starts between anon_vma_clone() and vma_link() (v5.10, v6.2, v6.6)', (t) => {
  for (const era of ['v5.10', 'v6.2', 'v6.6'] as const) {
    const { exec, reached } = runScript({ arch: 'x86-pae', era, actors: [{ actor: 'mremap', args: { vma: 0, to: 17 } }, { actor: 'migrate_pages', args: { addr: 0 } }] },
      [{ actor: 'mremap', until: 'anon_vma_clone(' }, { actor: 'migrate_pages', until: 'move_to_new_page()' },
        { actor: 'migrate_pages', until: 'page_vma_mapped_walk()' }, { actor: 'mremap' }, { actor: 'migrate_pages' }]);
    t.deepEqual(reached, [true, true, true, false, false], era);
    t.true(stepOf(exec, 'mremap', 'vma_link()') > stepOf(exec, 'migrate_pages', 'move_to_new_page()'), `${era}: the walk began before vma_link()`);
    t.is(exec.violation, null, `${era}: ${describe(exec)}`);
    t.true(stepOf(exec, 'migrate_pages', 'remove_migration_pte(addr 17)') > stepOf(exec, 'mremap', 'move_ptes(): pte = ptep_get_and_clear'), `${era}: restored at 17`);
  }
});

test('a move to a lower address: the old VMA is walked first, so the walker cannot miss both ptes', (t) => {
  // World mremap: anon VMA 2 [32,48), page 12 at 32. Its first 8 pages go to [17,25) (move_ptes()).
  // The walk begins after vma_link() and reads the old pmd; then the pte moves. Walking by address
  // (the new VMA first, where nothing is mapped yet) would miss it at both addresses.
  for (const era of ['v5.10', 'v6.2', 'v6.6'] as const) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era, world: 'mremap', actors: [{ actor: 'mremap', args: { vma: 2, to: 17, pages: 8 } }, { actor: 'migrate_pages' }] },
      [{ actor: 'mremap', until: 'vma_link()' }, { actor: 'migrate_pages', until: 'move_to_new_page()' },
        { actor: 'migrate_pages', until: 'page_vma_mapped_walk()' }, { actor: 'mremap' }, { actor: 'migrate_pages' }], {}, [...ACTORS.filter((a) => a.name === 'mremap'), migrate32]);
    t.deepEqual(reached, [true, true, true, false, false], era);
    t.is(exec.violation, null, `${era}: ${describe(exec)}`);
    const moved = stepOf(exec, 'mremap', 'move_ptes(): pte = ptep_get_and_clear');
    t.true(stepOf(exec, 'migrate_pages', 'page_vma_mapped_walk()') < moved, `${era}: the walk began before the move`);
    t.true(moved > 0 && stepOf(exec, 'migrate_pages', 'remove_migration_pte(addr 17)') > moved, `${era}: restored at 17, after the move`);
  }
});

test('anon_vma order: a cloned VMA is walked before vma_link(), after the older VMA of equal vm_pgoff, at a lower address too', (t) => {
  const seen: unknown[] = [];
  const pool = [testActor('a', function* (c) {
    yield* mmap_write_lock(c, c.mm);
    const old = vmaAt(c, 32);
    const nw = vm_area_dup(c.m, old);
    nw.start = 17;
    nw.end = 25;
    yield* anon_vma_clone(c, nw, old);
    seen.push(ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 32)), find_vma(c.mm, 17) === undefined);
    const low = yield* copy_vma(c, old, 4, 4);
    seen.push(low?.id, ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 33)), ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 1)));
    mmap_write_unlock(c, c.mm);
    yield step('done');
  })];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.2', world: 'mremap', actors: [{ actor: 'a' }] }, [{ actor: 'a' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  // VMA 3 (cloned, not linked) after VMA 2; VMA 4 (copy_vma at 4, pgoff 32) after both; VMA 0 alone at pgoff 1.
  t.deepEqual(seen, [[2, 3], true, 4, [2, 3, 4], [0]]);
});

test('i_mmap order: copy_vma() of a file VMA to a lower address is walked after the old one', (t) => {
  const seen: unknown[] = [];
  const pool = [testActor('a', function* (c) {
    yield* mmap_write_lock(c, c.mm);
    const file = vmaAt(c, 8);
    seen.push(ids(vma_interval_tree_foreach(c.m.files, 0, 9)));
    const low = yield* copy_vma(c, file, 4, 4);
    seen.push(low?.id, ids(vma_interval_tree_foreach(c.m.files, 0, 9)));
    mmap_write_unlock(c, c.mm);
    yield step('done');
  })];
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', world: 'mremap', actors: [{ actor: 'a' }] }, [{ actor: 'a' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(seen, [[1], 3, [1, 3]]);
});

test('the trees are the world\'s again after resetModel(): VMAs linked in one execution are gone in the next', (t) => {
  const starts: unknown[] = [];
  const pool = [testActor('a', function* (c) {
    starts.push([ids(anon_vma_interval_tree_foreach(c.m.mms, 0, 32)), ids(vma_interval_tree_foreach(c.m.files, 0, 9))]);
    yield* mmap_write_lock(c, c.mm);
    yield* copy_vma(c, vmaAt(c, 32), 17, 8);
    yield* copy_vma(c, vmaAt(c, 8), 4, 4);
    mmap_write_unlock(c, c.mm);
    yield step('done');
  })];
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.2', world: 'mremap', actors: [{ actor: 'a' }] }, pool);
  t.is(execute(scn, nonPreemptive()).outcome, 'clean');
  t.is(execute(scn, nonPreemptive()).outcome, 'clean');
  t.deepEqual(starts, [[[2], [1]], [[2], [1]]]);
});
