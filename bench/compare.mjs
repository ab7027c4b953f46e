// Side-by-side throughput of two builds, robust to a loaded machine: each scenario runs in a process
// of its own, builds alternate, and each run reports its best 100 ms slice by CPU time after 1.5 s of
// warm-up; the best of K runs is printed. Two builds in one process would share one heap, and the
// newer one's allocation would slow the older.
//   node bench/compare.mjs ROOT_A ROOT_B [K]     (each ROOT a checkout with dist/ built)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCENARIOS = [
  ['x86-ipi', [{ actor: 'gup_fast' }, { actor: 'munmap' }, { actor: 'hw_walker' }]],
  ['rcu-table-free', [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 5 } }]],
  ['x86-pae', [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }, { actor: 'mincore' }]],
];

async function one(root, idx) {
  const { execute } = await import(`${root}/dist/src/explore/executor.js`);
  const { uniformRandom } = await import(`${root}/dist/src/explore/schedulers.js`);
  const { buildScenario } = await import(`${root}/dist/src/mm/scenario.js`);
  const [arch, actors] = SCENARIOS[idx];
  const scn = buildScenario({ arch, era: 'v6.6', actors });
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) execute(scn, uniformRandom(n++));
  let best = 0;
  for (let s = 0; s < 15; s++) {
    const c0 = process.cpuUsage();
    const t1 = performance.now();
    let k = 0;
    while (performance.now() - t1 < 100) { execute(scn, uniformRandom(n++)); k++; }
    const c = process.cpuUsage(c0);
    best = Math.max(best, k / ((c.user + c.system) / 1e6));
  }
  return Math.round(best);
}

const [a, b, third] = process.argv.slice(2);
if (process.argv[2] === '--one') {
  console.log(await one(process.argv[3], Number(process.argv[4])));
} else if (!a || !b) {
  console.error('usage: node bench/compare.mjs ROOT_A ROOT_B [K]');
  process.exit(2);
} else {
  const k = Number(third ?? 3);
  const self = fileURLToPath(import.meta.url);
  for (let idx = 0; idx < SCENARIOS.length; idx++) {
    const best = { [a]: 0, [b]: 0 };
    for (let i = 0; i < k; i++) for (const root of [a, b]) {
      best[root] = Math.max(best[root], Number(execFileSync(process.execPath, [self, '--one', root, String(idx)], { encoding: 'utf8' })));
    }
    const name = SCENARIOS[idx][1].map((x) => x.actor).join('+');
    console.log(`${name} (${SCENARIOS[idx][0]}): A ${best[a]}/s  B ${best[b]}/s  B/A ${(best[b] / best[a]).toFixed(2)}`);
  }
}
