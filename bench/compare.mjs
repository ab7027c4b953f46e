// Side-by-side throughput of two builds, robust to a loaded machine: each scenario runs in a process
// of its own, builds alternate, and each run reports its best 100 ms slice by CPU time after 1.5 s of
// warm-up; the best of K runs is printed. Two builds in one process would share one heap, and the
// newer one's allocation would slow the older. The three light scenarios are the yardstick;
// the last line is what a campaign runs: the scenarios a default campaign draws first (every actor,
// every architecture, seed 1), each 8 times in a row, as the campaign gives a scenario its runs.
//   node bench/compare.mjs ROOT_A ROOT_B [K]     (each ROOT a checkout with dist/ built)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCENARIOS = [
  ['x86-ipi', [{ actor: 'gup_fast' }, { actor: 'munmap' }, { actor: 'hw_walker' }]],
  ['rcu-table-free', [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 5 } }]],
  ['x86-pae', [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }, { actor: 'mincore' }]],
];

/** The scenarios a default campaign (portfolio, every actor and architecture, v6.6) draws first. */
async function drawn(root) {
  const { runCampaign } = await import(`${root}/dist/fuzz/campaign.js`);
  const { ACTORS } = await import(`${root}/dist/src/mm/actors/index.js`);
  const { ARCH_IDS } = await import(`${root}/dist/src/mm/arch.js`);
  const specs = [];
  let t = 0;
  runCampaign({
    archs: ARCH_IDS, era: 'v6.6', variants: [], pool: ACTORS.filter((a) => !a.eras || a.eras.includes('v6.6')), fixedActors: undefined,
    strategy: 'portfolio', depth: 3, preemptions: 2, timeMs: null, runs: 2000, seed: 1, shrinkMs: 1, stopAfterFailures: 1000,
  }, { now: () => (t += 0.01), onScenario: (s) => specs.push(s) });
  return specs;
}

async function one(root, idx) {
  const { execute } = await import(`${root}/dist/src/explore/executor.js`);
  const { uniformRandom } = await import(`${root}/dist/src/explore/schedulers.js`);
  const { buildScenario } = await import(`${root}/dist/src/mm/scenario.js`);
  const scns = idx < SCENARIOS.length
    ? [buildScenario({ arch: SCENARIOS[idx][0], era: 'v6.6', actors: SCENARIOS[idx][1] })]
    : (await drawn(root)).map((s) => buildScenario(s));
  let n = 0;
  const next = () => execute(scns[Math.floor(n / 8) % scns.length], uniformRandom(n++));
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) next();
  let best = 0;
  for (let s = 0; s < 15; s++) {
    const c0 = process.cpuUsage();
    const t1 = performance.now();
    let k = 0;
    while (performance.now() - t1 < 100) { next(); k++; }
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
  for (let idx = 0; idx <= SCENARIOS.length; idx++) {
    const best = { [a]: 0, [b]: 0 };
    for (let i = 0; i < k; i++) for (const root of [a, b]) {
      best[root] = Math.max(best[root], Number(execFileSync(process.execPath, [self, '--one', root, String(idx)], { encoding: 'utf8' })));
    }
    const name = idx < SCENARIOS.length ? `${SCENARIOS[idx][1].map((x) => x.actor).join('+')} (${SCENARIOS[idx][0]})` : 'a default campaign\'s first scenarios, 8 runs each';
    console.log(`${name}: A ${best[a]}/s  B ${best[b]}/s  B/A ${(best[b] / best[a]).toFixed(2)}`);
  }
}
