// Reclaim that frees pages (shrink_page_list() / shrink_folio_list()): try_to_unmap() with the TLB
// flush batched (x86), __remove_mapping()'s refcount freeze against GUP, and the free. The large
// folio freed before the batched flush is a race real at every era of the model
// (docs/known-races.md, reclaim-large-folio-before-batched-flush); its later ordering closes it.

import test from 'ava';
import { type Execution } from '../src/explore/executor.js';
import { knownRace } from '../src/explore/known.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { makeShrinkFolioList } from '../src/mm/actors/shrink_folio_list.js';
import { makeTruncate } from '../src/mm/actors/truncate.js';
import { type ActorCall } from '../src/mm/scenario.js';
import { ERA_IDS } from '../src/mm/switches.js';
import { describe, randomSchedulesKnownOnly, runScript, stepOf } from './helpers.js';

// Page 6 (file range 2) too, in these scripted tests (the registered actors keep to range 3).
const POOL = [
  makeShrinkFolioList({}, 'shrink_folio_list', 0),
  makeTruncate({}, 'truncate', 0),
  makeShrinkFolioList({ flushBeforeFree: true }, 'reclaim_flush_first', 0),
  makeShrinkFolioList({ noRefFreeze: true }, 'reclaim_no_freeze', 0),
  makeShrinkFolioList({ noBatch: true }, 'reclaim_no_batch', 0),
  ...ACTORS,
];
const run = (spec: { era: string; arch?: string; actors: ActorCall[] }, schedule: Parameters<typeof runScript>[1] = [], choices: Parameters<typeof runScript>[2] = {}) =>
  runScript({ arch: spec.arch ?? 'x86-ipi', era: spec.era, actors: spec.actors }, schedule, choices, POOL).exec;
const freed = (e: Execution, pfn: number) => e.trace.some((s) => s.events.some((ev) => ev.e === 'free' && ev.pfn === pfn));

test('reclaim frees a clean file THP: isolated, locked, unmapped, frozen, deleted, freed; each era names its function', (t) => {
  for (const era of ERA_IDS) {
    for (const slot of [2, 3]) {
      const e = run({ era, actors: [{ actor: 'shrink_folio_list', args: { slot } }] });
      t.is(e.outcome, 'clean', `${era} slot ${slot}: ${describe(e)}`);
      t.true(freed(e, slot === 2 ? 6 : 8), `${era} slot ${slot}`);
      t.true(stepOf(e, 'shrink_folio_list', era === 'v6.2' || era === 'v6.6' ? 'shrink_folio_list(): free_it: destroy_large_folio' : 'shrink_page_list(): free_it: destroy_compound_page') >= 0, era);
    }
  }
});

/** CPU 1 reads address 12 (its TLB maps page 8), then reclaim runs to the end. */
const readThenReclaim = (reclaim: string) => [{ actor: 'hw_walker', until: 'user access to 12' }, { actor: reclaim }];
const at12 = { 'hw-address': [12] };

test('reclaim-large-folio-before-batched-flush: on x86 the THP is freed before try_to_unmap_flush() while a TLB maps it (every era)', (t) => {
  for (const era of ERA_IDS) {
    for (const arch of ['x86-ipi', 'x86-pae']) {
      const e = run({ era, arch, actors: [{ actor: 'shrink_folio_list' }, { actor: 'hw_walker', args: { accesses: 1 } }] }, readThenReclaim('shrink_folio_list'), at12);
      t.is(e.violation?.kind, 'stale-tlb', `${era} ${arch}: ${describe(e)}`);
      t.is(e.violation?.pfn, 8);
      t.is(e.violation?.usedBy.name, 'hw_walker');
      t.regex(e.violation?.changedBy?.label ?? '', /free_it: destroy_(large_folio|compound_page)\(8\)/);
      t.true(stepOf(e, 'shrink_folio_list', 'should_defer_flush(): ptep_get_and_clear(addr 12)') >= 0, 'the flush was deferred');
      const pair = [e.violation?.usedBy.name ?? '', e.violation?.changedBy?.name ?? ''];
      t.is(knownRace(era as 'v6.6', arch, pair, 'stale-tlb'), 'reclaim-large-folio-before-batched-flush');
    }
  }
});

test('reclaim-large-folio-before-batched-flush: closed by freeing after try_to_unmap_flush() (bc2ff4cbc329), or by flushing at once', (t) => {
  for (const era of ['v5.10', 'v6.6']) {
    const fixed = run({ era, actors: [{ actor: 'reclaim_flush_first' }, { actor: 'hw_walker', args: { accesses: 1 } }] }, readThenReclaim('reclaim_flush_first'), at12);
    t.is(fixed.outcome, 'clean', `${era}: ${describe(fixed)}`);
    t.true(stepOf(fixed, 'reclaim_flush_first', 'try_to_unmap_flush(): arch_tlbbatch_flush()') < stepOf(fixed, 'reclaim_flush_first', 'free the list (8)'));
    const unbatched = run({ era, actors: [{ actor: 'reclaim_no_batch' }, { actor: 'hw_walker', args: { accesses: 1 } }] }, readThenReclaim('reclaim_no_batch'), at12);
    t.is(unbatched.outcome, 'clean', `${era}: ${describe(unbatched)}`);
    // arm64-like: the broadcast flush is done as each pte is cleared (ptep_clear_flush()).
    const rcu = run({ era, arch: 'rcu-table-free', actors: [{ actor: 'shrink_folio_list' }, { actor: 'hw_walker', args: { accesses: 1 } }] }, readThenReclaim('shrink_folio_list'), at12);
    t.is(rcu.outcome, 'clean', `${era}: ${describe(rcu)}`);
    t.true(stepOf(rcu, 'shrink_folio_list', 'ptep_clear_flush(addr 12)') >= 0);
  }
});

test('no TLB holds the page: nothing to defer to, nothing stale (no other CPU in mm_cpumask)', (t) => {
  const e = run({ era: 'v6.6', actors: [{ actor: 'shrink_folio_list' }] });
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'shrink_folio_list', 'ptep_clear_flush(addr 12)') >= 0, 'should_defer_flush() is false with mm_cpumask empty of other CPUs');
});

test('GUP-fast pinned first: __remove_mapping()\'s refcount freeze fails and the page is kept; without the freeze it is freed under the pin', (t) => {
  const sched = (reclaim: string) => [{ actor: 'gup_fast', until: 'local_irq_restore' }, { actor: reclaim }, { actor: 'gup_fast' }];
  for (const era of ['v5.10', 'v6.6']) {
    const kept = run({ era, actors: [{ actor: 'gup_fast', args: { addr: 12, write: 0 } }, { actor: 'reclaim_flush_first' }] }, sched('reclaim_flush_first'));
    t.is(kept.outcome, 'clean', `${era}: ${describe(kept)}`);
    t.true(stepOf(kept, 'reclaim_flush_first', 'failed (refcount 3): cannot_free') >= 0, era);
    t.false(freed(kept, 8));
    const lost = run({ era, actors: [{ actor: 'gup_fast', args: { addr: 12, write: 0 } }, { actor: 'reclaim_no_freeze' }] }, sched('reclaim_no_freeze'));
    t.is(lost.violation?.kind, 'freed-while-pinned', `${era}: ${describe(lost)}`);
  }
});

test('GUP-fast that read the pte before reclaim cleared it: its pte re-check drops the reference, and reclaim frees the page', (t) => {
  const e = run({ era: 'v6.6', actors: [{ actor: 'gup_fast', args: { addr: 12, write: 0 } }, { actor: 'reclaim_flush_first' }] },
    [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'reclaim_flush_first', until: 'ptep_get_and_clear(addr 12)' }, { actor: 'gup_fast' }, { actor: 'reclaim_flush_first' }]);
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'gup_fast', "pte_val(ptep_get(ptep)): moved") >= 0);
  t.true(freed(e, 8));
});

test('GUP-fast grabs its reference after the freeze: try_grab_folio() fails on the frozen page', (t) => {
  const e = run({ era: 'v6.6', actors: [{ actor: 'gup_fast', args: { addr: 12, write: 0 } }, { actor: 'reclaim_flush_first' }] },
    [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'reclaim_flush_first', until: 'folio_ref_freeze' }, { actor: 'gup_fast' }, { actor: 'reclaim_flush_first' }]);
  t.is(e.outcome, 'clean', describe(e));
  t.true(stepOf(e, 'gup_fast', 'try_grab_folio(8) failed') >= 0);
  t.true(freed(e, 8));
});

test('reclaim and truncation meet at the page lock: whoever takes it second finds the page gone from the cache', (t) => {
  for (const order of [['shrink_folio_list', 'truncate'], ['truncate', 'shrink_folio_list']] as const) {
    const e = run({ era: 'v6.6', actors: [{ actor: order[0], args: { slot: 3 } }, { actor: order[1], args: { slot: 3 } }] },
      [{ actor: order[0], until: order[0] === 'truncate' ? 'folio_trylock(8)' : 'folio_trylock(8)' }, { actor: order[1] }, { actor: order[0] }]);
    t.is(e.outcome, 'clean', `${order.join(' then ')}: ${describe(e)}`);
    t.true(freed(e, 8));
  }
});

test('random schedules of the registered reclaim against faults, truncation, GUP and user accesses at the fixed eras are clean but for known races', (t) => {
  const names = ['file_fault', 'truncate', 'shrink_folio_list', 'gup_fast', 'gup_slow', 'hw_walker', 'collapse_file', 'munmap', 'lazy_tlb'];
  const { runs, known } = randomSchedulesKnownOnly(t, () => ({ actor: 'shrink_folio_list', args: { slot: 3 } }), names, 11);
  t.is(runs, 720);
  t.true(known > 0, 'the known race shows up in random schedules on x86');
});

test("try_to_unmap_one() drops the page's reference with put_page() before the folio conversion (5.18) and folio_put() after, in the try_to_unmap actor as in reclaim", (t) => {
  for (const era of ERA_IDS) {
    const e = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'try_to_unmap' }] }, []).exec;
    const labels = e.trace.map((s) => s.label).filter((l) => l.startsWith('try_to_unmap_one():') && l.includes('page_remove_rmap()'));
    t.true(labels.length > 0, `${era}: ${describe(e)}`);
    const want = era === 'v5.8' || era === 'v5.10' ? 'put_page()' : 'folio_put()';
    for (const l of labels) t.true(l.endsWith(want), `${era}: ${l}`);
  }
});
