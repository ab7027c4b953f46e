// Shrinking: from a noisy random failure to the minimal interleaving, and what happens when the
// budget runs out.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { recording } from '../src/explore/schedule.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { shrink, type Candidate } from '../src/explore/shrink.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';

const spec: ScenarioSpec = {
  arch: 'rcu-table-free', era: 'v6.2', variants: ['khugepaged-no-ipi-sync'],
  actors: [{ actor: 'hw_walker' }, { actor: 'fault', args: { addr: 6 } }, { actor: 'gup_fast', args: { addr: 9 } }, { actor: 'collapse_file' }],
};

function firstFailure(): Candidate {
  const scn = buildScenario(spec);
  for (let seed = 0; ; seed++) {
    const rec = recording(uniformRandom(seed));
    if (execute(scn, rec).violation?.kind === 'table-use-after-free') return { spec, schedule: rec.schedule() };
  }
}

let clock = 0;
const tick = () => clock++;

test('a noisy random failure shrinks to the two actors of the race and one preemption', (t) => {
  const start = firstFailure();
  t.true(start.schedule.preemptions.length > 1, 'the random run was noisy');
  const r = shrink(start, 'table-use-after-free', { budgetMs: 1e9, now: tick });
  t.true(r.minimal);
  t.deepEqual(r.spec.actors.map((a) => a.actor).sort(), ['collapse_file', 'gup_fast']);
  t.is(r.schedule.preemptions.length, 1);
  t.is(r.exec.violation?.kind, 'table-use-after-free');
});

test('when the budget runs out, the best so far is reported as not known to be minimal', (t) => {
  const start = firstFailure();
  const r = shrink(start, 'table-use-after-free', { budgetMs: 0, now: tick });
  t.false(r.minimal);
  t.is(r.exec.violation?.kind, 'table-use-after-free', 'still the same failure');
});
