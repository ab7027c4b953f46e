// File page faults: do_read_fault(), do_cow_fault(), do_shared_fault() through __do_fault()
// (filemap_fault(), page locked) and finish_fault() of each era (alloc_set_pte() at v5.8 and v5.10,
// do_set_pte() at v6.2, set_pte_range() with a pte_offset_map_lock() that may fail at v6.6),
// do_set_pmd() for a PMD-sized file THP over a none pmd, and the COW of a read-only file pte
// (do_wp_page() → wp_page_copy(): clear and flush before the new pte) or its page_mkwrite in a
// shared mapping (wp_page_shared()).

import test from 'ava';
import { type Execution } from '../src/explore/executor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeFileFault } from '../src/mm/actors/file_fault.js';
import { makeShrinkFolioList } from '../src/mm/actors/shrink_folio_list.js';
import { makeTruncate } from '../src/mm/actors/truncate.js';
import { type ActorCall } from '../src/mm/scenario.js';
import { ERA_IDS } from '../src/mm/switches.js';
import { DEFAULT_WORLD } from '../src/mm/world/worlds.js';
import { registerWorld } from '../src/mm/world/registry.js';
import type { World } from '../src/mm/world/types.js';
import { describe, randomSchedulesKnownOnly, runScript, stepOf } from './helpers.js';

/** The default world with its file VMA mapped MAP_SHARED: the pte-mapped THP's ptes are read-only
 *  and clean (the filesystem wants write notification), so a write goes through page_mkwrite. */
const SHARED: World = {
  ...DEFAULT_WORLD,
  name: 'file-fault-test-shared',
  summary: 'the default world with its file VMA shared',
  mms: [{ ...DEFAULT_WORLD.mms[0]!, vmas: DEFAULT_WORLD.mms[0]!.vmas.map((v) => (v.kind === 'file' ? { ...v, shared: true } : v)) }],
};
registerWorld(SHARED, 'test/file-fault.test.ts');

// Page 6 too, in these scripted tests (the registered actors keep to the pte-mapped THP, page 8).
const POOL = [
  makeFileFault({}, 'file_fault', [8, 15]),
  makeTruncate({}, 'truncate', 0),
  makeShrinkFolioList({}, 'shrink_folio_list', 0),
  makeFileFault({ cowNoFlush: true }, 'cow_no_flush', [8, 15]),
  makeFileFault({ devmapReturnsZero: true }, 'fault_leaky', [8, 15]),
  ...ACTORS,
];
const run = (spec: { era: string; arch?: string; world?: string; actors: ActorCall[] }, schedule: Parameters<typeof runScript>[1] = [], choices: Parameters<typeof runScript>[2] = {}) =>
  runScript({ arch: spec.arch ?? 'x86-ipi', era: spec.era, world: spec.world ?? 'default', actors: spec.actors }, schedule, choices, POOL).exec;
const stores = (e: Execution) => e.trace.flatMap((s) => s.events).filter((ev) => ev.e === 'pte-store');
const FINISH: Record<string, string> = { 'v5.8': 'alloc_set_pte()', 'v5.10': 'alloc_set_pte()', 'v6.2': 'do_set_pte()', 'v6.6': 'set_pte_range()' };

test('a read fault maps the file page read-only under the page lock, through each era\'s finish_fault()', (t) => {
  for (const era of ERA_IDS) {
    const e = run({ era, actors: [{ actor: 'file_fault', args: { addr: 9 } }] });
    t.is(e.outcome, 'clean', `${era}: ${describe(e)}`);
    t.true(stepOf(e, 'file_fault', `${FINISH[era]}: pte_none() under the ptl; page_add_file_rmap(6)`) >= 0, era);
    const lock = stepOf(e, 'file_fault', 'lock_page(6)');
    const set = stepOf(e, 'file_fault', 'set_pte_at(addr 9)');
    const unlock = stepOf(e, 'file_fault', 'unlock_page(6)');
    t.true(lock < set && set < unlock, `${era}: the page is locked across finish_fault()`);
    t.deepEqual(stores(e).map((s) => s.e === 'pte-store' ? s.now : null), [{ t: 'present', pfn: 6, sub: 1, writable: false, dirty: false }]);
  }
});

test('past i_size the fault is SIGBUS before any lookup; a second fault on a mapped pte backs off under the ptl', (t) => {
  const e = run({ era: 'v6.6', actors: [{ actor: 'truncate', args: { slot: 2 } }, { actor: 'file_fault', args: { addr: 8 } }] });
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'file_fault', 'offset 8 >= i_size 8: VM_FAULT_SIGBUS') >= 0);
  // Both faults pass pte_none() without the ptl; the second finds the pte under it.
  const two = run({ era: 'v6.2', actors: [{ actor: 'file_fault', args: { addr: 9 } }, { actor: 'file_fault', args: { addr: 9 } }] },
    [{ actor: 'file_fault', until: 'VM_FAULT_LOCKED' }, { actor: 'file_fault#2', until: 'lock_page' }, { actor: 'file_fault' }, { actor: 'file_fault#2' }]);
  t.is(two.outcome, 'clean', describe(two));
  t.true(stepOf(two, 'file_fault#2', '!pte_none(*vmf->pte) under the ptl: VM_FAULT_NOPAGE') >= 0);
});

test('do_set_pmd(): over a none pmd the file THP is mapped by a huge pmd; the preallocated table is freed unused (x86 deposits none)', (t) => {
  for (const era of ERA_IDS) {
    const e = run({ era, actors: [{ actor: 'collapse_file', args: { slot: 2 } }, { actor: 'file_fault', args: { addr: 10 } }] });
    t.is(e.outcome, 'clean', `${era}: ${describe(e)}`);
    const prealloc = stepOf(e, 'file_fault', 'vmf->prealloc_pte = pte_alloc_one()');
    const pmd = stepOf(e, 'file_fault', 'set_pmd_at(huge 6)');
    t.true(prealloc >= 0 && prealloc < pmd, `${era}: prealloc_pte before the page lock`);
    t.true(stepOf(e, 'file_fault', 'pte_free(vmf->prealloc_pte): unused') > pmd, era);
  }
});

test('two faults on the THP: the second waits for the page lock, then finds the huge pmd and backs off (VM_FAULT_NOPAGE)', (t) => {
  for (const era of ERA_IDS) {
    const e = run({ era, actors: [{ actor: 'collapse_file', args: { slot: 2 } }, { actor: 'file_fault', args: { addr: 10 } }, { actor: 'file_fault', args: { addr: 11 } }] },
      [{ actor: 'collapse_file' }, { actor: 'file_fault', until: 'VM_FAULT_LOCKED' }, { actor: 'file_fault#2', until: 'lock_page(6)' }, { actor: 'file_fault' }, { actor: 'file_fault#2' }]);
    t.is(e.outcome, 'clean', `${era}: ${describe(e)}`);
    t.true(stepOf(e, 'file_fault', 'set_pmd_at(huge 6)') >= 0, era);
    t.true(stepOf(e, 'file_fault#2', 'VM_FAULT_NOPAGE') > stepOf(e, 'file_fault', 'set_pmd_at(huge 6)'), era);
    t.true(stepOf(e, 'file_fault#2', 'do_read_fault(): unlock_page(6); put_page()') >= 0, `${era}: the reference goes back`);
  }
});

test('the loser returning 0 instead of VM_FAULT_NOPAGE leaks its page reference (f9ce0be71d1f, fixed by 3fe2895cfecd)', (t) => {
  const sched = [{ actor: 'collapse_file' }, { actor: 'file_fault', until: 'VM_FAULT_LOCKED' }, { actor: 'fault_leaky', until: 'lock_page(6)' }, { actor: 'file_fault' }, { actor: 'fault_leaky' }];
  const e = run({ era: 'v6.2', actors: [{ actor: 'collapse_file', args: { slot: 2 } }, { actor: 'file_fault', args: { addr: 10 } }, { actor: 'fault_leaky', args: { addr: 11 } }] }, sched);
  t.like(e.violation, { kind: 'leak', pfn: 6 }, describe(e));
  t.true(stepOf(e, 'fault_leaky', 'pmd_devmap_trans_unstable(): return 0') >= 0);
});

test('COW of a read-only file pte: wp_page_copy() copies, clears and flushes, maps the copy writable, and drops the old page', (t) => {
  for (const era of ERA_IDS) {
    const e = run({ era, actors: [{ actor: 'file_fault', args: { addr: 12, write: 1 } }] });
    t.is(e.outcome, 'clean', `${era}: ${describe(e)}`);
    const clear = stepOf(e, 'file_fault', 'ptep_clear_flush_notify(addr 12)');
    const flush = stepOf(e, 'file_fault', 'ptep_clear_flush(): flush_tlb_page()');
    const set = stepOf(e, 'file_fault', 'set_pte_at_notify(addr 12');
    t.true(clear >= 0 && clear < flush && flush < set, `${era}: clear, flush, then the new pte`);
    t.true(stepOf(e, 'file_fault', 'page_remove_rmap(8)') === set, era);
  }
});

test('do_cow_fault(): a write to a none pte of a private file mapping maps an anon copy; the file page stays in the cache', (t) => {
  const e = run({ era: 'v6.6', actors: [{ actor: 'file_fault', args: { addr: 9, write: 1 } }] });
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'file_fault', 'anon_vma_prepare') >= 0);
  t.true(stepOf(e, 'file_fault', 'page_add_new_anon_rmap') >= 0);
  t.true(stepOf(e, 'file_fault', 'do_cow_fault(): unlock_page(6); put_page(6)') >= 0);
});

test('COW vs a stale TLB entry: without the flush, a CPU keeps the old page in its TLB after the pte moved, and it is freed under it', (t) => {
  // rcu-table-free: reclaim flushes each pte as it clears it, so only the COW's flush could drop
  // CPU 1's entry for address 12, which the pte no longer maps to page 8.
  const spec = (fault: string) => ({ era: 'v6.6', arch: 'rcu-table-free', actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: fault, args: { addr: 12, write: 1 } }, { actor: 'shrink_folio_list' }] });
  const sched = (fault: string) => [{ actor: 'hw_walker', until: 'user access to 12' }, { actor: fault }, { actor: 'shrink_folio_list' }];
  const good = run(spec('file_fault'), sched('file_fault'), { 'hw-address': [12] });
  t.is(good.outcome, 'clean', describe(good));
  const bad = run(spec('cow_no_flush'), sched('cow_no_flush'), { 'hw-address': [12] });
  t.like(bad.violation, { kind: 'stale-tlb', pfn: 8 }, describe(bad));
  t.is(bad.violation?.changedBy?.name, 'shrink_folio_list');
});

test('shared mapping: a read fault maps the page read-only; a write then goes through page_mkwrite and marks it dirty', (t) => {
  for (const era of ['v5.10', 'v6.6']) {
    const e = run({ era, world: SHARED.name, actors: [{ actor: 'file_fault', args: { addr: 9 } }, { actor: 'file_fault', args: { addr: 9, write: 1 } }, { actor: 'file_fault', args: { addr: 10, write: 1 } }] });
    t.is(e.outcome, 'clean', `${era}: ${describe(e)}`);
    t.true(stepOf(e, 'file_fault#2', 'do_wp_page(): VM_SHARED: wp_page_shared()') >= 0, era);
    t.true(stepOf(e, 'file_fault#2', 'filemap_page_mkwrite(): set_page_dirty(6)') >= 0, era);
    t.true(stepOf(e, 'file_fault#3', 'fault_dirty_shared_page(): set_page_dirty(6)') >= 0, `${era}: do_shared_fault()`);
    const last = stores(e).at(-1);
    t.deepEqual(last?.e === 'pte-store' ? last.now : null, { t: 'present', pfn: 6, sub: 2, writable: true, dirty: true });
  }
});

test('shared mapping: page_mkwrite finds the page truncated (page->mapping re-check) and backs off', (t) => {
  const e = run({ era: 'v6.6', world: SHARED.name, actors: [{ actor: 'file_fault', args: { addr: 9, write: 1 } }, { actor: 'truncate', args: { slot: 2, punch: 1 } }] },
    [{ actor: 'file_fault', until: 'do_shared_fault(): unlock_page(6)' }, { actor: 'truncate' }, { actor: 'file_fault' }]);
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'file_fault', 'filemap_page_mkwrite(): 6->mapping != inode->i_mapping') >= 0);
});

test('random schedules of the registered file fault against truncation, reclaim, GUP, khugepaged and unmapping at the fixed eras are clean but for known races', (t) => {
  const names = ['file_fault', 'truncate', 'shrink_folio_list', 'gup_fast', 'gup_slow', 'hw_walker', 'collapse_file', 'collapse_pte_mapped_thp', 'munmap', 'madvise_dontneed', 'try_to_unmap', 'unmap_mapping_range', 'exit_mmap'];
  const { runs } = randomSchedulesKnownOnly(t, (next) => ({ actor: 'file_fault', args: { addr: 12 + (next() % 4), write: next() % 2 } }), names, 3);
  t.is(runs, 720);
});
