// The public entry point (src/index.ts), used as a kernel developer would: two walkers written
// against it alone, fuzzed against the built-in actors. The wrong one takes its table pointer from
// *pmd under mmap_lock read, which since v6.6 no longer keeps retract_page_tables() out; the right
// one uses pte_offset_map_lock(), which maps under RCU and re-checks the pmd under the ptl.

import test from 'ava';
import { runCampaign } from '../fuzz/campaign.js';
import {
  BUG_ON, down_read, findActor, mmap_read_unlock_step, pmd_read, pmd_table, pte_lockptr, pte_offset_map_lock,
  pte_read, pte_unmap_unlock, spin_lock_ptl, spin_unlock, step, type ActorDef, pmd_off_present, pmdAddr,
} from '../src/index.js';
import { frozenClock } from './helpers.js';

const wrong_walker: ActorDef = {
  name: 'wrong_walker',
  summary: 'reads pmd 2 under mmap_lock read and walks its table without RCU or a re-check',
  follows: '(a patch under review) mincore_pte_range() without pte_offset_map_lock(), v6.6',
  inMm: true, daemon: 'no', params: [],
  *run(c) {
    yield* down_read(c, c.mm.mmap_lock);
    const v = yield* pmd_read(c, pmd_off_present(c, pmdAddr(2)), 'pmdval = *pmd');
    if (v.entry.t === 'table') {
      const t = pmd_table(c, v);
      yield* spin_lock_ptl(c, t);
      pte_read(c, t, 0);
      spin_unlock(c, pte_lockptr(c.m, t));
      yield step('pte = ptep_get(pte); spin_unlock(ptl)');
    }
    yield* mmap_read_unlock_step(c, 'walk done');
  },
};

const right_walker: ActorDef = {
  ...wrong_walker,
  name: 'right_walker',
  summary: 'walks pmd 2 with pte_offset_map_lock(): RCU and a re-check of the pmd under the ptl',
  follows: 'mm/mincore.c mincore_pte_range(), v6.6',
  *run(c) {
    yield* down_read(c, c.mm.mmap_lock);
    const t = yield* pte_offset_map_lock(c, pmd_off_present(c, pmdAddr(2)));
    if (t) {
      BUG_ON(c, pte_read(c, t, 0).t === 'present', 'retract found a mapped pte in an empty table');
      pte_unmap_unlock(c, t);
      yield step('pte = ptep_get(pte); pte_unmap_unlock()');
    }
    yield* mmap_read_unlock_step(c, 'walk done');
  },
};

function fuzz(walker: ActorDef) {
  return runCampaign({
    archs: ['x86-ipi', 'rcu-table-free'], era: 'v6.6', variants: [], pool: [walker, findActor('collapse_file')], fixedActors: undefined,
    strategy: 'pct', depth: 3, preemptions: 2, timeMs: null, runs: 20_000, seed: 3, shrinkMs: 60_000, stopAfterFailures: 1,
  }, { now: frozenClock });
}

test('a walker written against the public API that reads *pmd unprotected is caught freeing under it', (t) => {
  const r = fuzz(wrong_walker);
  const f = r.failures[0];
  if (!f) return t.fail(`not found in ${r.executions} runs`);
  t.true(['table-use-after-free', 'table-reused'].includes(f.kind), f.kind);
  t.deepEqual([...f.actors].sort(), ['collapse_file', 'wrong_walker']);
  t.regex(f.trace, /pte_free_now/, 'the trace shows the RCU-deferred free');
});

test('the same walk through pte_offset_map_lock() stays clean', (t) => {
  const r = fuzz(right_walker);
  t.is(r.executions, 20_000);
  t.deepEqual(r.failures.map((f) => f.kind), []);
});

test('BUG_ON() fails the step it is in, and only when its condition holds', async (t) => {
  const { buildScenario, execute } = await import('../src/index.js');
  const { nonPreemptive } = await import('../src/explore/schedulers.js');
  const asserting = (cond: boolean): ActorDef => ({
    name: 'asserting', summary: 'BUG_ON', follows: '(test)', inMm: false, daemon: 'no', params: [],
    *run(c) {
      BUG_ON(c, cond, 'pte_none(*pte)');
      yield step('VM_BUG_ON');
    },
  });
  const run = (cond: boolean) => execute(buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'asserting' }] }, [asserting(cond)]), nonPreemptive());
  const fired = run(true);
  t.is(fired.violation?.kind, 'kernel-bug');
  t.is(fired.violation?.message, 'BUG_ON(pte_none(*pte))');
  t.is(run(false).violation, null);
});
