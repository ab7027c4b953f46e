import { oldPct } from './old-pct.js';
import { pct } from '../src/explore/strategies/pct.js';
import { CATALOG } from './strategies.js';
import { execute } from '../src/explore/executor.js';
import { splitmix32 } from '../src/explore/schedulers.js';
import { buildScenario } from '../src/mm/scenario.js';
import { ACTORS } from '../src/mm/actors/index.js';
const budget = 20000;
for (const v of ['V3', 'V2', 'V7']) {
  const scn = buildScenario(CATALOG[v]!, ACTORS);
  const clean = execute(scn, { pick: (r, l) => (r.includes(l) ? l : r[0]!), choose: () => 0 });
  for (const k of [Number(process.argv[2] ?? 20), clean.steps]) for (const d of [3, 4]) for (const [name, f] of [['old', oldPct], ['new', pct]] as const) {
    const xs: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const rng = splitmix32(seed);
      let i = 1;
      for (; i <= budget; i++) if (execute(scn, f(rng(), scn.actors.length, d, k)).violation) break;
      xs.push(i);
    }
    xs.sort((a, b) => a - b);
    console.log(`${v} (${clean.steps} steps non-preemptive) ${name} k=${k} d=${d}: median ${xs[4]}, max ${xs[9]}, missed ${xs.filter((x) => x > budget).length}/10`);
  }
}
