// The fixed V2 scenario (gup_fast, collapse_file and fault on rcu-table-free at v6.2) proven clean
// with no preemption bound, by DPOR (src/explore/dpor.ts), against the bounded search without
// reduction (exhaustive.ts) at 1, 2 and 3 preemptions; and V2 unfixed found by the same search. DPOR
// with and without cutting at a state seen before (stateful: schedules, states, cuts, CPU time).
// Compare with SPIN's pipeline on the same model (/work/shared/anchors/spin, v2.pml -DFIXED: spin -a,
// gcc, pan), timed in the same process tree. Run: node dist/bench/dpor.js

import { dpor } from '../src/explore/dpor.js';
import { exhaustive } from '../src/explore/exhaustive.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';

export const V2_THREE: ScenarioSpec = { arch: 'rcu-table-free', era: 'v6.2', variants: [],
  actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 5 } }] };

function main(): void {
  const ms = (t0: number) => Math.round(performance.now() - t0);
  for (const variants of [[], ['khugepaged-no-ipi-sync']]) {
    const scn = buildScenario({ ...V2_THREE, variants });
    let t0 = performance.now();
    for (const stateful of [false, true]) {
      t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = dpor(scn, { stateful });
      const c = process.cpuUsage(c0);
      console.log(JSON.stringify({ search: stateful ? 'dpor (stateful)' : 'dpor (no cuts)', variants, complete: r.complete, schedules: r.explored, states: r.states,
        sleepBlocked: r.sleepBlocked, cuts: r.cuts, found: r.failure?.exec.violation?.kind ?? null, ms: ms(t0), cpuMs: Math.round((c.user + c.system) / 1000) }));
    }
    for (const p of [1, 2, 3]) {
      t0 = performance.now();
      const b = exhaustive(scn, p);
      console.log(JSON.stringify({ search: `bounded P=${p}`, variants, complete: b.complete, schedules: b.explored, found: b.failure?.exec.violation?.kind ?? null, ms: ms(t0) }));
    }
  }
}

if (process.argv[1]?.endsWith('dpor.js')) main();
