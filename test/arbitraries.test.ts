// The scenario arbitraries: the mm of each actor in a world of several mms, arguments and mms that
// the user fixed, and worlds drawn among several.

import test from 'ava';
import fc from 'fast-check';
import { actorCallArb, actorsArb, worldActorsArb } from '../src/arbitraries/scenario.js';
import { findActor } from '../src/mm/scenario.js';
import { DEFAULT_WORLD, SHARED_FILE_WORLD, TWO_PMD_TABLES_WORLD } from '../src/mm/world/worlds.js';

const fault = findActor('fault');
const munmap = findActor('munmap');

test('in a world of one mm no mm is drawn (mm 0); in a world of two, both mms are drawn', (t) => {
  const one = fc.sample(actorsArb([fault, munmap]), { seed: 1, numRuns: 200 }).flat();
  t.true(one.every((c) => c.mm === undefined));
  const two = fc.sample(actorsArb([fault, munmap], 2, 4, 2), { seed: 1, numRuns: 200 }).flat();
  t.deepEqual([...new Set(two.map((c) => c.mm))].sort(), [0, 1]);
});

test('arguments and the mm the user fixed are never drawn; the others are', (t) => {
  const gup = findActor('gup_fast');
  const calls = fc.sample(actorCallArb({ def: gup, args: { addr: 5 }, mm: 1 }, 2), { seed: 2, numRuns: 200 });
  t.true(calls.every((c) => c.args?.['addr'] === 5 && c.mm === 1));
  t.deepEqual([...new Set(calls.map((c) => c.args?.['write']))].sort(), [0, 1], 'write is still drawn');
  t.true(new Set(fc.sample(actorCallArb(gup, 2), { seed: 2, numRuns: 200 }).map((c) => c.args?.['addr'])).size > 1);
  const pinnedMm0 = fc.sample(actorsArb([{ def: fault, mm: 0 }], 2, 4, 2), { seed: 2, numRuns: 100 }).flat();
  t.true(pinnedMm0.every((c) => c.mm === 0), 'mm=0 given is kept in a world of two mms');
});

test('several worlds: each is drawn, and every mm drawn is one of its world', (t) => {
  const worlds = [DEFAULT_WORLD, SHARED_FILE_WORLD, TWO_PMD_TABLES_WORLD];
  const xs = fc.sample(worldActorsArb(worlds, [fault, munmap]), { seed: 3, numRuns: 300 });
  t.deepEqual([...new Set(xs.map((x) => x.world.name))].sort(), worlds.map((w) => w.name).sort());
  for (const x of xs) for (const c of x.actors) t.true((c.mm ?? 0) < x.world.mms.length);
  t.true(xs.some((x) => x.world === SHARED_FILE_WORLD && x.actors.some((c) => c.mm === 1)));
});

test('with one world, worldActorsArb draws what actorsArb draws (campaigns of the default world are unchanged)', (t) => {
  const a = fc.sample(actorsArb([fault, munmap]), { seed: 4, numRuns: 50 });
  const b = fc.sample(worldActorsArb([DEFAULT_WORLD], [fault, munmap]), { seed: 4, numRuns: 50 }).map((x) => x.actors);
  t.deepEqual(b, a);
});
