// The diagram for a commit message (src/explore/diagram.ts): only the steps that make the race, and
// never so few that the race is hidden.
//
// The property checked, for every entry of the regression corpus: run the steps the diagram keeps in
// trace order, and delay every step it leaves out to just before its CPU's next kept step (a step of
// a generator cannot be dropped, only moved; the steps a CPU takes after its last kept step are not
// run before the violation). That schedule must be runnable (no CPU blocked when its turn comes) and
// must reach the same violation (kind, CPU and kernel line). So a step left out was not needed where it
// was: had it been needed before another CPU's kept step, delaying it past that step would lose the
// race, and the test would fail (the tests below show it does, for a step the race needs).

import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
import { diagramOf, keptSuffice, repairKept } from '../src/explore/diagram.js';
import { keptFirstOrder } from '../src/explore/reorder.js';
import { sliceRace } from '../src/explore/slice.js';

interface Entry { tag: string; variant: string; token: string }
const dir = new URL('../../test/corpus/', import.meta.url);
const entries: Entry[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Entry);

function run(token: string) {
  const r = decodeToken(token);
  const scn = buildScenario(r.spec);
  const exec = execute(scn, follow(r.schedule), { trace: true });
  return { scn, schedule: r.schedule, exec };
}

for (const e of entries) {
  test(`${e.tag} ${e.variant}: the diagram's steps alone, the others delayed, still reach the violation`, (t) => {
    const { scn, schedule, exec } = run(e.token);
    t.truthy(exec.violation);
    const slice = sliceRace(exec.trace, exec.violation!);
    // The rules alone suffice: no hidden step had to be shown again.
    t.true(keptSuffice(scn, schedule, exec, slice.kept), `kept ${slice.kept.join(',')}`);
    const d = diagramOf(scn, schedule, exec);
    t.is(d.restored, 0);
    t.deepEqual(d.kept, slice.kept);
    // It is shorter than the trace, and ends where the trace ends.
    t.true(d.kept.length < exec.trace.length, `${d.kept.length} of ${exec.trace.length}`);
    t.is(d.kept[d.kept.length - 1], exec.trace.length - 1);
  });
}

const V1 = entries.find((e) => e.tag === 'V1')!;
const V3 = entries.find((e) => e.tag === 'V3')!;

test('the check fails when the diagram hides the read the race needs (V1: exit_mmap reading *pmd = T)', (t) => {
  const { scn, schedule, exec } = run(V1.token);
  const kept = sliceRace(exec.trace, exec.violation!).kept;
  // Every read of pmd 2 by exit_mmap before khugepaged cleared it.
  const reads = kept.filter((i) => exec.trace[i]!.actor === 0 && /pmd_read_atomic|pmd_trans_huge/.test(exec.trace[i]!.label) && exec.trace[i]!.label.includes('[pmd 2]') && i < 19);
  t.true(reads.length > 0);
  t.false(keptSuffice(scn, schedule, exec, kept.filter((i) => !reads.includes(i))));
});

test('the check fails when the diagram hides GUP-fast\'s walk before khugepaged cleared the pmd (V3)', (t) => {
  const { scn, schedule, exec } = run(V3.token);
  const kept = sliceRace(exec.trace, exec.violation!).kept;
  // A hidden step runs just before its CPU's next kept step: hide the pmd read and the pte read after
  // it, and they run after khugepaged's pmdp_collapse_flush(), which GUP-fast then sees.
  const walk = kept.filter((i) => /^gup_(pmd|pte)_range\(\): (pmd|pte) = /.test(exec.trace[i]!.label));
  t.is(walk.length, 2);
  t.false(keptSuffice(scn, schedule, exec, kept.filter((i) => !walk.includes(i))));
  // Hiding only the pmd read moves nothing: the pte read kept after it pins its place.
  t.true(keptSuffice(scn, schedule, exec, kept.filter((i) => i !== walk[0])));
});

test('the reordering runs kept steps in order and delays the others to their CPU\'s next kept step', (t) => {
  const trace = [0, 0, 1, 0, 1, 1, 0].map((actor, step) => ({ step, actor, label: `s${step}`, events: [] }));
  // Kept: 2 (CPU 1), 3 (CPU 0), 6 (CPU 0). CPU 0's 0, 1 run before 3; CPU 1's 4, 5 are never run.
  t.deepEqual(keptFirstOrder(trace, [2, 3, 6]), [1, 0, 0, 0, 0]);
  t.deepEqual(keptFirstOrder(trace, [6]), [0, 0, 0, 0]);
  t.deepEqual(keptFirstOrder(trace, [0, 1, 2, 3, 4, 5, 6]), [0, 0, 1, 0, 1, 1, 0]);
});

test('too few steps are repaired: hidden steps are shown again until the check holds', (t) => {
  const { scn, schedule, exec } = run(V1.token);
  const last = exec.trace.length - 1;
  t.false(keptSuffice(scn, schedule, exec, [last]));
  const r = repairKept(scn, schedule, exec, [last]);
  t.true(r.restored > 0);
  t.true(keptSuffice(scn, schedule, exec, r.kept));
});

test("V1's diagram reads like a commit message's: two CPUs, kernel lines, '...' for what is left out", (t) => {
  const { scn, schedule, exec } = run(V1.token);
  const text = diagramOf(scn, schedule, exec).text;
  const lines = text.split('\n');
  t.regex(lines[0]!, /^CPU 0: exit_mmap\s+CPU 1: collapse_file$/);
  t.true(lines.some((l) => l.trim() === '...'));
  for (const want of ['pmd_read_atomic(pmd)', 'mmap_write_trylock(mm)', 'pmdp_huge_get_and_clear()', 'pte_free(5)', 'spin_lock(ptl(0))']) {
    t.true(text.includes(want), want);
  }
  // No model detail: no step numbers, no annotations such as "[pmd 2]" or "[no exit test]".
  t.false(/\[pmd \d+\]|\[no exit test\]/.test(text));
  t.false(lines.some((l) => /^\s*\d+\s{2}/.test(l)));
  t.regex(text, /spin_lock\(ptl\(0\)\)\s+<==/);
  // What it leaves out: exit_mmap's zap of pmds 0 and 1.
  t.false(text.includes('addr 0'));
  t.false(text.includes('pmd 1 ='));
});
