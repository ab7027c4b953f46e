// Reclaim (shrink_folio_list → try_to_unmap of a file page) and migration (migrate_pages of an anon
// page, under anon_vma read) are more rmap walkers that move_normal_pmd() could move a pte table
// out from under at v5.8–v5.13 (mremap-pmd-no-rmap-lock, fixed by 97113eb39fa7 in v5.14). Found
// by v5.8 campaigns in the fork world.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { knownRace } from '../src/explore/known.js';
import { follow } from '../src/explore/schedule.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';
import { describe } from './helpers.js';

const MIGRATE_TOKEN = 'mmfz1:eyJhIjoieDg2LWlwaSIsImUiOiJ2NS44IiwidiI6W10sInciOiJmb3JrIiwicyI6W1sibXJlbWFwIix7InBhZ2VzIjowLCJ0byI6MTYsInZtYSI6MH1dLFsibWlncmF0ZV9wYWdlcyIseyJhZGRyIjowfV1dLCJwIjpbWzAsMywxXSxbMSw1LDBdXSwiYyI6W119.ef0e1d8b';
const TOKEN = 'mmfz1:eyJhIjoieDg2LWlwaSIsImUiOiJ2NS44IiwidiI6W10sInciOiJmb3JrIiwicyI6W1sibXJlbWFwIix7InBhZ2VzIjowLCJ0byI6MTYsInZtYSI6MX1dLFsic2hyaW5rX2ZvbGlvX2xpc3QiLHsic2xvdCI6M31dXSwicCI6W1swLDMsMV0sWzEsNCwwXV0sImMiOltdfQ.b552a3e9';

/** How many of `seeds` uniform random schedules of `spec` end with a walk of page 0. */
function frameZeroWalks(spec: ScenarioSpec, seeds: number): number {
  const scn = buildScenario(spec);
  let n = 0;
  for (let seed = 1; seed <= seeds; seed++) if (execute(scn, uniformRandom(seed * 2654435761)).violation?.kind === 'frame-zero-walked') n++;
  return n;
}

test('mremap moves the pte table reclaim found through the old pmd: page 0 walked at v5.8, a known race', (t) => {
  const r = decodeToken(TOKEN);
  const e = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
  t.is(e.violation?.kind, 'frame-zero-walked', describe(e));
  t.is(e.violation?.usedBy.name, 'shrink_folio_list');
  t.is(knownRace('v5.8', 'x86-ipi', ['mremap', 'shrink_folio_list'], 'frame-zero-walked'), 'mremap-pmd-no-rmap-lock');
  // Not known where the fix is in.
  t.is(knownRace('v6.2', 'x86-ipi', ['mremap', 'shrink_folio_list'], 'frame-zero-walked'), null);
});

test('v6.2: move_pgt_entry() takes the rmap locks for a pmd move, and reclaim never walks page 0', (t) => {
  const r = decodeToken(TOKEN);
  const found = (era: string) => frameZeroWalks({ ...r.spec, era }, 300);
  // The same seeds find it at v5.8, where the move takes no rmap lock.
  t.true(found('v5.8') > 0);
  t.is(found('v6.2'), 0);
});

test('the anon form: migration walks page 0 after mremap moved the table at v5.8 and v5.10 (known), never at v6.2 and v6.6', (t) => {
  const r = decodeToken(MIGRATE_TOKEN);
  const e = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
  t.is(e.violation?.kind, 'frame-zero-walked', describe(e));
  t.is(e.violation?.usedBy.name, 'migrate_pages');
  t.is(knownRace('v5.8', 'x86-ipi', ['mremap', 'migrate_pages'], 'frame-zero-walked'), 'mremap-pmd-no-rmap-lock');
  const found = (era: string) => frameZeroWalks({ ...r.spec, era }, 100);
  t.true(found('v5.10') > 0);
  t.is(found('v6.2'), 0);
  t.is(found('v6.6'), 0);
});
