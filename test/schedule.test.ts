// Canonical schedules, PCT and the bounded exhaustive search.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { exhaustive } from '../src/explore/exhaustive.js';
import { pct } from '../src/explore/pct.js';
import { depth, follow, recording } from '../src/explore/schedule.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { buildScenario } from '../src/mm/scenario.js';

const scn = buildScenario({ arch: 'rcu-table-free', era: 'v6.6', actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 5 } }] });

test('a recorded run, followed as a canonical schedule, is the same run', (t) => {
  for (let seed = 0; seed < 100; seed++) {
    const rec = recording(uniformRandom(seed));
    const a = execute(scn, rec, { trace: true });
    const b = execute(scn, follow(rec.schedule()), { trace: true });
    t.is(JSON.stringify(b.trace), JSON.stringify(a.trace), `seed ${seed}`);
  }
});

test('no preemption points is the non-preemptive run, depth 1', (t) => {
  const rec = recording(follow({ preemptions: [], choices: [] }));
  execute(scn, rec);
  t.deepEqual(rec.schedule(), { preemptions: [], choices: [] });
  t.is(depth(rec.schedule()), 1);
});

test('PCT is deterministic from its seed, and its recording replays it', (t) => {
  const runs = (seed: number) => JSON.stringify(execute(scn, pct(seed, scn.actors.length, 2, 40), { trace: true }).trace);
  t.is(runs(5), runs(5));
  const rec = recording(pct(9, scn.actors.length, 3, 40));
  const a = execute(scn, rec, { trace: true });
  t.is(JSON.stringify(execute(scn, follow(rec.schedule()), { trace: true }).trace), JSON.stringify(a.trace));
});

test('PCT finds a depth-2 race that uniform random almost never does (GUP-fast stalled across munmap)', (t) => {
  const v7 = buildScenario({ arch: 'x86-ipi', era: 'v6.6', variants: ['gup-fast-no-irq-disable'], actors: [{ actor: 'gup_fast' }, { actor: 'munmap' }] });
  let byPct = 0;
  let byRandom = 0;
  for (let seed = 0; seed < 2000; seed++) {
    if (execute(v7, pct(seed, v7.actors.length, 2, 40)).violation) byPct++;
    if (execute(v7, uniformRandom(seed)).violation) byRandom++;
  }
  t.true(byPct >= 10 * Math.max(1, byRandom), `PCT ${byPct}, uniform random ${byRandom} in 2000 runs`);
});

test('exhaustive search counts every schedule within the bound, and finds a race that needs one preemption', (t) => {
  const clean = buildScenario({ arch: 'rcu-table-free', era: 'v6.2', actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }] });
  const p0 = exhaustive(clean, 0);
  t.deepEqual([p0.explored, p0.complete], [1, true]);
  const p1 = exhaustive(clean, 1);
  t.true(p1.complete && p1.explored > 10 && p1.failure === null, `${p1.explored} schedules, all clean`);
  const p2 = exhaustive(clean, 2);
  t.true(p2.complete && p2.explored > p1.explored);
  const buggy = buildScenario({ arch: 'rcu-table-free', era: 'v6.2', variants: ['khugepaged-no-ipi-sync'], actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }] });
  const r = exhaustive(buggy, 1);
  t.is(r.failure?.exec.violation?.kind, 'table-use-after-free');
  t.is(r.failure?.schedule.preemptions.length, 1);
  t.false(r.complete);
  let last = 0;
  exhaustive(clean, 2, { onProgress: (p) => { last = p.explored; } });
  t.is(last, p2.explored, 'progress reports the count');
});
