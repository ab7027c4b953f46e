// The model's snapshots for the trace viewer (src/mm/snapshot.ts, the executor's onStep hook): taken
// only when a trace is kept, one before the first step and one after each, and read-only: the
// execution with them is the execution without them.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import { traceJson } from '../src/explore/trace.js';
import { buildScenario } from '../src/mm/scenario.js';
import { snapshotModel, type ModelSnapshot } from '../src/mm/snapshot.js';

/** v5.8, rcu-table-free: unmap_mapping_range vs collapse_pte_mapped_thp, table-use-after-free. */
const TOKEN = 'mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJzIjpbWyJ1bm1hcF9tYXBwaW5nX3JhbmdlIix7InNsb3QiOjN9XSxbImNvbGxhcHNlX3B0ZV9tYXBwZWRfdGhwIix7InNsb3QiOjN9XV0sInAiOltbMCw0LDFdXSwiYyI6W119.714f2e03';

test('no trace kept, no snapshot taken: a campaign pays nothing', (t) => {
  const { spec, schedule } = decodeToken(TOKEN);
  let calls = 0;
  const exec = execute(buildScenario(spec), follow(schedule), { onStep: () => { calls++; } });
  t.is(exec.violation?.kind, 'table-use-after-free');
  t.is(calls, 0);
});

test('with a trace: one snapshot before the first step and one after each, and the same execution as without', (t) => {
  const { spec, schedule } = decodeToken(TOKEN);
  const scenario = buildScenario(spec);
  const plain = execute(scenario, follow(schedule), { trace: true });
  const snaps: ModelSnapshot[] = [];
  const names = scenario.actors.map((a) => a.name);
  const steps: number[] = [];
  const seen = execute(scenario, follow(schedule), { trace: true, onStep: (m, step) => { steps.push(step); snaps.push(snapshotModel(m, names)); } });
  t.deepEqual(traceJson({ scenario, schedule, exec: seen }), traceJson({ scenario, schedule, exec: plain }), 'snapshots change nothing');
  t.deepEqual(steps, [-1, ...plain.trace.map((s) => s.step)]);
  // What the snapshots show agrees with the events of the same steps.
  plain.trace.forEach((s, i) => {
    const snap = snaps[i + 1]!;
    for (const ev of s.events) {
      if (ev.e === 'pmd-store') {
        const pmd = snap.tables.find((x) => x.level === 'pmd' && x.mm === ev.mm && x.slots.includes(ev.slot));
        t.is(pmd?.entries[pmd.slots.indexOf(ev.slot)], ev.now.t === 'table' ? `table(${ev.now.pfn})` : ev.now.t, `step ${s.step}: pmd ${ev.slot}`);
      }
      if (ev.e === 'free') t.false(snap.frames.some((f) => f.startsWith(`${ev.pfn} `)), `step ${s.step}: frame ${ev.pfn} freed`);
      const released = s.events.slice(s.events.indexOf(ev)).some((u) => u.e === 'unlock' && ev.e === 'lock' && u.lock === ev.lock);
      if (ev.e === 'lock' && ev.mode !== 'downgrade' && !released) t.true(snap.locks.some((l) => l.name === ev.lock && l.holders.includes(names[s.actor]!)), `step ${s.step}: ${ev.lock} held by ${names[s.actor]}`);
    }
  });
  t.true(snaps[0]!.locks.length === 0 && snaps[0]!.tables.some((x) => x.level === 'pgd'), 'before the first step: no lock held, the tables built');
});
