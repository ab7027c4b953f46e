// The page cache: speculative lookups (filemap_get_entry: folio_try_get_rcu, then the slot checked
// again), adding a locked page with a reference for the cache, removing it under its lock and
// freeing it with the last reference; and a lookup racing a removal gets the page or nothing.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { rcu_read_lock, rcu_read_unlock } from '../src/mm/cpu.js';
import { filemap_add_folio, filemap_get_folio, filemap_lock_folio, filemap_remove_folio, folio_put, folio_unlock } from '../src/mm/filemap.js';
import { alloc_page, frameOf, get_page_unless_zero, put_page } from '../src/mm/frames.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step, type ActorGen, type Ctx } from '../src/mm/step.js';
import { NOBODY } from '../src/mm/types.js';
import { describe, runScript, stepOf } from './helpers.js';

function actor(name: string, run: (c: Ctx) => ActorGen): ActorDef {
  return { name, summary: 'test', follows: '(test)', inMm: true, daemon: 'no', params: [], run };
}
const pool = (...defs: ActorDef[]) => [...ACTORS, ...defs];
const file = (c: Ctx) => c.m.files[0]!;

// The default world's file caches huge page 6 at index 2 (unmapped) and 8 at index 3 (pte-mapped).

test('a lookup takes a reference on the cached page; an empty slot gives nothing; names follow the era', (t) => {
  for (const era of ['v5.10', 'v6.6'] as const) {
    const seen: (number | null)[] = [];
    const look = actor('look', function* (c) {
      const p = yield* filemap_get_folio(c, file(c), 2);
      seen.push(p, frameOf(c.m, 6).refcount, yield* filemap_get_folio(c, file(c), 0));
      if (p !== null) folio_put(c, p);
      yield step('folio_put()');
    });
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'look' }] }, [], {}, pool(look));
    t.is(exec.outcome, 'clean', describe(exec));
    t.deepEqual(seen, [6, 2, null]);
    t.true(stepOf(exec, 'look', era === 'v6.6' ? 'folio_try_get_rcu(6)' : 'page_cache_get_speculative(6)') >= 0);
  }
});

test('filemap_add_folio(): the page goes in locked, with a reference for the cache; a taken slot is -EEXIST', (t) => {
  const seen: unknown[] = [];
  const add = actor('add', function* (c) {
    const pfn = alloc_page(c, 'huge');
    const ok = yield* filemap_add_folio(c, file(c), pfn, 0);
    const f = frameOf(c.m, pfn);
    seen.push(ok, file(c).hpage[0] === pfn, f.pg_locked === c.id, f.refcount, f.mapping);
    folio_unlock(c, pfn);
    folio_put(c, pfn);
    yield step('folio_unlock(); folio_put(): the cache keeps its reference');
    const other = alloc_page(c, 'huge');
    const taken = yield* filemap_add_folio(c, file(c), other, 2);
    const g = frameOf(c.m, other);
    seen.push(taken, g.pg_locked === NOBODY, g.refcount, g.mapping, file(c).hpage[2]);
    folio_put(c, other);
    yield step('folio_put(): freed');
  });
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'add' }] }, [], {}, pool(add));
  t.is(exec.outcome, 'clean', `the end audit counts the cache's reference: ${describe(exec)}`);
  t.deepEqual(seen, [true, true, true, 2, 0, false, true, 1, -1, 6]);
});

/** Truncation of one page, as truncate_inode_pages_range() does it for an unmapped page: find and
 *  lock it, take it out of the cache, unlock, drop our reference (the last: freed). */
const remover = actor('remover', function* (c) {
  const pfn = yield* filemap_lock_folio(c, file(c), 2);
  if (pfn === null) return;
  yield* filemap_remove_folio(c, pfn);
  folio_unlock(c, pfn);
  folio_put(c, pfn);
  yield step('folio_unlock(); folio_put()');
});

test('filemap_remove_folio(): under the page lock, slot emptied and mapping cleared; the last reference frees it', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'remover' }] }, [], {}, pool(remover));
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(exec.trace.flatMap((s) => s.events).some((e) => e.e === 'free' && e.pfn === 6), 'page 6 freed with its last reference');
  const v510 = runScript({ arch: 'x86-ipi', era: 'v5.10', actors: [{ actor: 'remover' }] }, [], {}, pool(remover)).exec;
  t.is(v510.outcome, 'clean', describe(v510));
  t.true(stepOf(v510, 'remover', 'delete_from_page_cache(6)') >= 0);
});

test('removal without the page lock is BUG_ON; removal of a mapped page is what truncation must unmap first', (t) => {
  const unlocked = actor('unlocked', function* (c) { yield* filemap_remove_folio(c, 6); });
  const e1 = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'unlocked' }] }, [], {}, pool(unlocked)).exec;
  t.is(e1.violation?.kind, 'kernel-bug');
  t.regex(e1.violation?.message ?? '', /BUG_ON\(!folio_test_locked/);
  const mapped = actor('mapped', function* (c) {
    const pfn = yield* filemap_lock_folio(c, file(c), 3);
    if (pfn === null) return;
    yield* filemap_remove_folio(c, pfn);
  });
  const e2 = runScript({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'mapped' }] }, [], {}, pool(mapped)).exec;
  t.is(e2.violation?.kind, 'kernel-bug');
  t.regex(e2.violation?.message ?? '', /VM_BUG_ON_FOLIO\(folio_mapped\(folio\)\): page 8 is still mapped 4/);
});

/** Takes the next free frame (page 6, once the remover freed it) as an anon data page and keeps it
 *  mapped nowhere: a reuse of the struct page that a stale lookup could take a reference on. */
const reuser = actor('reuser', function* (c) {
  const pfn = alloc_page(c, 'data');
  yield step(`alloc_page() → ${pfn}`);
  put_page(c.m, pfn);
  yield step('put_page()');
});

test('a lookup racing a removal gets the page (alive, referenced) or nothing, never a freed or reused page', (t) => {
  const got: { pfn: number | null; kind: string; inCache: boolean }[] = [];
  const lookup = actor('lookup', function* (c) {
    const pfn = yield* filemap_get_folio(c, file(c), 2);
    const f = pfn === null ? null : frameOf(c.m, pfn);
    got.push({ pfn, kind: f?.kind ?? '-', inCache: f !== null && f.mapping === 0 });
    if (pfn !== null) folio_put(c, pfn);
    yield step('folio_put()');
  });
  const spec = { arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'lookup' }, { actor: 'remover' }, { actor: 'reuser' }] };
  // The window: the slot read, then the page freed and reused before folio_try_get_rcu().
  const { exec } = runScript(spec, [{ actor: 'lookup', until: 'xas_load() → 6' }, { actor: 'remover' }, { actor: 'reuser', until: 'alloc_page' }, { actor: 'lookup' }],
    {}, pool(lookup, remover, reuser));
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [{ pfn: null, kind: '-', inCache: false }], 'the reference on the reused page was dropped when xas_reload() saw the slot empty');
  t.true(stepOf(exec, 'lookup', 'moved: folio_put(6)') >= 0);
  got.length = 0;
  const scn = buildScenario(spec, pool(lookup, remover, reuser));
  for (let seed = 0; seed < 400; seed++) {
    const e = execute(scn, uniformRandom(seed));
    t.is(e.outcome, 'clean', `seed ${seed}: ${describe(e)}`);
  }
  t.true(got.every((g) => g.pfn === null || (g.pfn === 6 && g.kind === 'huge')), 'page 6 as it was, or nothing');
  t.true(got.some((g) => g.pfn === 6) && got.some((g) => g.pfn === null), 'both outcomes happen');
});

test('without the xas_reload() re-check a lookup returns a page that is no longer in the cache', (t) => {
  const got: { pfn: number | null; kind: string; inCache: boolean }[] = [];
  const sloppy = actor('sloppy', function* (c) {
    rcu_read_lock(c);
    const pfn = file(c).hpage[2] ?? 0;
    yield step(`xas_load() → ${pfn}`);
    const ok = get_page_unless_zero(c, pfn);
    rcu_read_unlock(c);
    yield step(`folio_try_get_rcu(${pfn})${ok ? '' : ' failed'}; no xas_reload()`);
    const f = frameOf(c.m, pfn);
    got.push({ pfn: ok ? pfn : null, kind: f.kind, inCache: f.mapping === 0 && file(c).hpage[2] === pfn });
    if (ok) put_page(c.m, pfn);
    yield step('put');
  });
  const spec = { arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'sloppy' }, { actor: 'remover' }, { actor: 'reuser' }] };
  const { exec } = runScript(spec, [{ actor: 'sloppy', until: 'xas_load() → 6' }, { actor: 'remover' }, { actor: 'reuser', until: 'alloc_page' }, { actor: 'sloppy' }],
    {}, pool(sloppy, remover, reuser));
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [{ pfn: 6, kind: 'data', inCache: false }], 'it holds a reference on an anon data page it took for the file\'s');
});

test('filemap_lock_folio() looks again when the page was truncated while it waited for the lock', (t) => {
  const got: (number | null)[] = [];
  const locker = actor('locker', function* (c) {
    const pfn = yield* filemap_lock_folio(c, file(c), 2);
    got.push(pfn);
    if (pfn !== null) {
      folio_unlock(c, pfn);
      folio_put(c, pfn);
    }
    yield step('done');
  });
  const spec = { arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'remover' }, { actor: 'locker' }] };
  // The remover holds the lock; the locker gets its reference and waits; the remover empties the
  // slot and unlocks; the locker sees ->mapping cleared.
  const { exec } = runScript(spec, [{ actor: 'remover', until: 'lock_page(6)' }, { actor: 'locker' }, { actor: 'remover' }, { actor: 'locker' }],
    {}, pool(remover, locker));
  t.is(exec.outcome, 'clean', describe(exec));
  t.deepEqual(got, [null]);
  t.true(stepOf(exec, 'locker', 'truncated') >= 0);
});
