// Truncation and hole punch that free pages (truncate_pagecache(), truncate_pagecache_range()): the
// pages leave the page cache under their lock and are freed with the cache's reference; and the rules
// that keep a racing file fault from mapping a truncated page (the page lock held across
// finish_fault(), filemap_fault()'s page->mapping and i_size re-checks, truncation's unmap under the
// page lock and its final even_cows unmap), each shown holding and, taken out, failing.

import test from 'ava';
import { type Execution } from '../src/explore/executor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeFileFault } from '../src/mm/actors/file_fault.js';
import { makeTruncate } from '../src/mm/actors/truncate.js';
import { makeShrinkFolioList } from '../src/mm/actors/shrink_folio_list.js';
import { type ActorCall } from '../src/mm/scenario.js';
import { ERA_IDS } from '../src/mm/switches.js';
import { describe, randomSchedulesKnownOnly, runScript, stepOf } from './helpers.js';

// The registered actors keep to the pte-mapped THP (page 8); these scripted tests use page 6 too (its
// premise, collapse_file() holding it locked, is not in play here), so they take the wide forms first.
const PAGES_6_AND_8: readonly [number, number] = [8, 15];
const POOL = [
  makeFileFault({}, 'file_fault', PAGES_6_AND_8),
  makeTruncate({}, 'truncate', 0),
  makeShrinkFolioList({}, 'shrink_folio_list', 0),
  makeFileFault({ unlockBeforeFinish: true }, 'fault_unlocked', PAGES_6_AND_8),
  makeFileFault({ noMappingRecheck: true }, 'fault_no_mapping_check', PAGES_6_AND_8),
  makeFileFault({ noSizeRecheck: true }, 'fault_no_size_check', PAGES_6_AND_8),
  makeFileFault({ noMappingRecheck: true, noSizeRecheck: true }, 'fault_no_checks', PAGES_6_AND_8),
  makeTruncate({ noUnmapUnderLock: true }, 'truncate_no_relock_unmap', 0),
  makeTruncate({ noFinalUnmap: true }, 'truncate_no_final_unmap', 0),
  ...ACTORS,
];
const run = (era: string, actors: ActorCall[], schedule: Parameters<typeof runScript>[1] = [], arch = 'x86-ipi') =>
  runScript({ arch, era, actors }, schedule, {}, POOL);
const freed = (e: Execution, pfn: number) => e.trace.some((s) => s.events.some((ev) => ev.e === 'free' && ev.pfn === pfn));

test('truncate frees the pte-mapped THP: unmapped, out of the cache, the last reference gone; each era names its functions', (t) => {
  for (const era of ERA_IDS) {
    const { exec } = run(era, [{ actor: 'truncate', args: { slot: 3 } }]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(freed(exec, 8), `${era}: page 8 freed`);
    t.true(stepOf(exec, 'truncate', era === 'v6.6' || era === 'v6.2' ? 'filemap_remove_folio(8)' : 'delete_from_page_cache(8)') >= 0, era);
    t.true(stepOf(exec, 'truncate', 'i_size_write(12)') >= 0, era);
    t.true(stepOf(exec, 'truncate', era === 'v6.6' || era === 'v6.2' ? 'i_mmap_unlock_read' : 'i_mmap_unlock_write') >= 0, `${era}: i_mmap_rwsem shared from 2c8659951654`);
  }
});

test('a hole punch frees the page in the hole and leaves i_size: a later fault there finds nothing', (t) => {
  const { exec } = run('v6.6', [{ actor: 'truncate', args: { slot: 2, punch: 1 } }, { actor: 'file_fault', args: { addr: 8 } }]);
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(freed(exec, 6));
  t.true(stepOf(exec, 'file_fault', 'page cache miss') >= 0, 'offset 8 is inside i_size: the miss, not SIGBUS');
  t.is(stepOf(exec, 'truncate', 'i_size_write'), -1);
});

/** The fault holds page 6 locked from filemap_fault() to after finish_fault(); truncation meets it
 *  in the middle. */
const faultHoldsLock = (fault: string, truncate: string) => [
  { actor: fault, until: 'VM_FAULT_LOCKED' }, { actor: truncate }, { actor: fault }, { actor: truncate },
];

test('truncate vs file fault: the page lock makes truncation wait, find the page mapped, and unmap it under the lock', (t) => {
  for (const era of ERA_IDS) {
    const { exec, reached } = run(era, [{ actor: 'file_fault', args: { addr: 8 } }, { actor: 'truncate', args: { slot: 2 } }], faultHoldsLock('file_fault', 'truncate'));
    t.true(reached[0]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const mapped = stepOf(exec, 'truncate', 'mapped() = true');
    t.true(mapped > stepOf(exec, 'file_fault', 'set_pte_at(addr 8)'), `${era}: truncation saw the fault's pte`);
    t.true(stepOf(exec, 'truncate', 'ptep_get_and_clear_full(addr 8)') > mapped, `${era}: and zapped it under the page lock`);
    t.true(freed(exec, 6), era);
  }
});

test('truncate vs file fault: without the unmap under the page lock, the page leaves the cache still mapped (VM_BUG_ON)', (t) => {
  const v66 = run('v6.6', [{ actor: 'file_fault', args: { addr: 8 } }, { actor: 'truncate_no_relock_unmap', args: { slot: 2 } }], faultHoldsLock('file_fault', 'truncate_no_relock_unmap')).exec;
  t.is(v66.violation?.kind, 'kernel-bug', describe(v66));
  t.regex(v66.violation?.message ?? '', /VM_BUG_ON_FOLIO\(folio_mapped\(folio\)\): page 6/);
  const v510 = run('v5.10', [{ actor: 'file_fault', args: { addr: 8 } }, { actor: 'truncate_no_relock_unmap', args: { slot: 2 } }], faultHoldsLock('file_fault', 'truncate_no_relock_unmap')).exec;
  t.regex(v510.violation?.message ?? '', /Bad page cache: page 6 is still mapped/, describe(v510));
});

test('truncate vs file fault: a fault that drops the page lock before finish_fault() maps the page between truncation\'s check and the delete', (t) => {
  // The fault, unlocked, stops just inside finish_fault(); truncation locks the page, finds it
  // unmapped; the fault maps it; truncation deletes a mapped page.
  const sched = (fault: string, era: string) => [
    { actor: fault, until: `${era === 'v6.6' ? 'finish_fault' : 'alloc_set_pte'}(): pmd_none` },
    { actor: 'truncate', until: era === 'v6.6' ? 'truncate_cleanup_folio(6)' : 'truncate_cleanup_page(6)' }, { actor: fault }, { actor: 'truncate' },
  ];
  for (const era of ['v5.10', 'v6.6']) {
    const bad = run(era, [{ actor: 'fault_unlocked', args: { addr: 8 } }, { actor: 'truncate', args: { slot: 2 } }], sched('fault_unlocked', era));
    t.true(bad.reached[1], `${era}: truncation got the lock`);
    t.is(bad.exec.violation?.kind, 'kernel-bug', `${era}: ${describe(bad.exec)}`);
    // With the lock held across finish_fault(), the same schedule cannot happen: truncation waits.
    const good = run(era, [{ actor: 'file_fault', args: { addr: 8 } }, { actor: 'truncate', args: { slot: 2 } }], sched('file_fault', era));
    t.false(good.reached[1], `${era}: truncation could not check the page while the fault held it`);
    t.is(good.exec.outcome, 'clean', `${era}: ${describe(good.exec)}`);
  }
});

/** The fault has its reference on page 6 (xas_reload) when truncation runs to its end. */
const lookupThenTruncate = (fault: string) => [{ actor: fault, until: 'xas_reload() → 6' }, { actor: 'truncate' }, { actor: fault }];

test('filemap_fault()\'s re-checks under the page lock: either catches a truncate; without both, the truncated page is mapped', (t) => {
  const go = (fault: string) => run('v6.6', [{ actor: fault, args: { addr: 8 } }, { actor: 'truncate', args: { slot: 2 } }], lookupThenTruncate(fault)).exec;
  const both = go('file_fault');
  t.is(both.outcome, 'clean', describe(both));
  t.true(stepOf(both, 'file_fault', '->mapping != mapping (truncated)') >= 0);
  const sizeOnly = go('fault_no_mapping_check');
  t.is(sizeOnly.outcome, 'clean', describe(sizeOnly));
  t.true(stepOf(sizeOnly, 'fault_no_mapping_check', 'VM_FAULT_SIGBUS') >= 0, 'the i_size re-check gives SIGBUS');
  const mappingOnly = go('fault_no_size_check');
  t.is(mappingOnly.outcome, 'clean', describe(mappingOnly));
  const none = go('fault_no_checks');
  t.is(none.violation?.kind, 'truncated-page-mapped', describe(none));
  t.is(none.violation?.changedBy?.name, 'truncate', 'names the removal from the cache');
});

test('a hole punch leaves i_size alone: only the page->mapping re-check stops the fault', (t) => {
  const go = (fault: string) => run('v6.6', [{ actor: fault, args: { addr: 8 } }, { actor: 'truncate', args: { slot: 2, punch: 1 } }], lookupThenTruncate(fault)).exec;
  t.is(go('file_fault').outcome, 'clean');
  const e = go('fault_no_mapping_check');
  t.is(e.violation?.kind, 'truncated-page-mapped', describe(e));
});

test('truncate vs COW fault: the anon copy made after the first unmap is removed by the final even_cows unmap', (t) => {
  // do_cow_fault() holds page 6 locked while it copies and maps the copy; truncation's first unmap
  // has already run; its per-page unmap skips anon pages (even_cows false).
  const sched = (tr: string) => [{ actor: 'file_fault', until: 'VM_FAULT_LOCKED' }, { actor: tr }, { actor: 'file_fault' }, { actor: tr }];
  const good = run('v6.6', [{ actor: 'file_fault', args: { addr: 9, write: 1 } }, { actor: 'truncate', args: { slot: 2 } }], sched('truncate'));
  t.is(good.exec.outcome, 'clean', describe(good.exec));
  t.true(stepOf(good.exec, 'file_fault', 'page_add_new_anon_rmap') >= 0, 'the copy was mapped');
  const bad = run('v6.6', [{ actor: 'file_fault', args: { addr: 9, write: 1 } }, { actor: 'truncate_no_final_unmap', args: { slot: 2 } }], sched('truncate_no_final_unmap'));
  t.like(bad.exec.violation, { kind: 'mapping-survives-zap', addr: 9 }, describe(bad.exec));
});

test('truncate of a PMD-mapped file THP (do_set_pmd() after retraction): the huge pmd is zapped and the page freed', (t) => {
  const { exec } = run('v6.6', [{ actor: 'collapse_file', args: { slot: 2 } }, { actor: 'file_fault', args: { addr: 8 } }, { actor: 'truncate', args: { slot: 2 } }]);
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(stepOf(exec, 'file_fault', 'set_pmd_at(huge 6)') >= 0);
  t.true(stepOf(exec, 'truncate', 'zap_huge_pmd(): pmdp_huge_get_and_clear_full()') >= 0);
  t.true(freed(exec, 6));
});

test('random schedules of the registered truncate against faults, reclaim, GUP and khugepaged at the fixed eras are clean but for known races', (t) => {
  const names = ['file_fault', 'truncate', 'shrink_folio_list', 'gup_fast', 'gup_slow', 'hw_walker', 'collapse_file', 'munmap', 'madvise_dontneed'];
  const { runs } = randomSchedulesKnownOnly(t, (next) => ({ actor: 'truncate', args: { slot: 3, punch: next() % 2 } }), names, 5);
  t.is(runs, 720);
});
