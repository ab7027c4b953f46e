// npm run bench: the speed targets of DESIGN.md, measured on this machine's one core and written to
// bench/results.json. Not part of npm test: timings belong here, not in assertions.

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { forgetFocus, runCampaign, type CampaignConfig, type Strategy } from '../fuzz/campaign.js';
import { runPool } from '../fuzz/pool.js';
import { checkOutput, readInput } from '../fuzz/files.js';
import { UsageError } from '../fuzz/options.js';
import { cpuMs } from '../fuzz/timers.js';
import { CATALOG_RACES } from '../src/explore/catalog.js';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { ARCH_IDS, type ArchId } from '../src/mm/arch.js';
import { buildScenario, findActor, type ActorCall } from '../src/mm/scenario.js';
import { parseVariant, type VariantId } from '../src/mm/switches.js';
import { timeSplit } from './split.js';
import type { ViolationKind } from '../src/oracle/violations.js';

const now = () => performance.now();
const SEEDS = 20;
const LIMIT_MS = 60_000;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : ((s[m - 1]! + s[m]!) / 2);
}

/** Executions per CPU second on one core, for a fixed scenario under uniform random schedules: after
 *  a second of warm-up (the JIT), by the process's CPU time (user + system, GC threads included), so
 *  that other load on the machine does not count against it. bench/compare.mjs compares two builds. */
function throughput(arch: ArchId, actors: ActorCall[], ms = 3000) {
  const scn = buildScenario({ arch, era: 'v6.6', actors });
  let n = 0;
  for (const w0 = now(); now() - w0 < 1000;) execute(scn, uniformRandom(n++));
  // The loop reads the cheap wall clock; the CPU time is read once on each side.
  let k = 0;
  let steps = 0;
  const c0 = cpuMs();
  for (const t0 = now(); now() - t0 < ms; k++) steps += execute(scn, uniformRandom(n++)).steps;
  const s = (cpuMs() - c0) / 1000;
  return { scenario: actors.map((a) => a.actor).join('+'), arch, execsPerSec: Math.round(k / s), stepsPerExec: Math.round(steps / k) };
}

/** The light three-actor scenarios of DESIGN.md's throughput target (v6.6, uniform random). */
const LIGHT: readonly (readonly [ArchId, ActorCall[]])[] = [
  ['x86-ipi', [{ actor: 'gup_fast' }, { actor: 'munmap' }, { actor: 'hw_walker' }]],
  ['rcu-table-free', [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 5 } }]],
  ['x86-pae', [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }, { actor: 'mincore' }]],
];

function campaign(cfg: Partial<CampaignConfig> & Pick<CampaignConfig, 'archs' | 'era' | 'variants' | 'pool'>): CampaignConfig {
  return { fixedActors: undefined, strategy: 'pct', depth: 3, preemptions: 2, timeMs: LIMIT_MS, runs: null, seed: 1, shrinkMs: 30_000, ...cfg };
}

/** The catalog's races (src/explore/catalog.ts), each with its actors by name: the campaign's pool
 *  when the pool is the catalog's. */
interface VariantCase { readonly tag: string; readonly variants: readonly VariantId[]; readonly arch: string; readonly actors: readonly string[]; readonly kind: ViolationKind }
const VARIANT_CASES: readonly VariantCase[] = CATALOG_RACES.map((r) => ({ tag: r.tag, variants: r.spec.variants, arch: r.spec.arch, actors: r.spec.actors.map((a) => a.actor), kind: r.kind }));

/** Time and runs to the first failure of the variant's catalog kind, over SEEDS seeds; shrinking is
 *  measured on each seed's failure. Time to first failure is search time: the shrinking of other
 *  failures found on the way is not counted. `pool`: the catalog's actors, or every actor. `clock`:
 *  the campaign's clock, which its time limit and shrink budget run on too (the strategies table
 *  gives it the process's CPU time). `focus`: the directed draw with every actor (fuzz/campaign.ts),
 *  as the command line has it by default; the catalog's pool is the user's choice, drawn undirected. */
function variantRow(c: VariantCase, pool: 'catalog' | 'all', strategy: Strategy = 'pct', seeds = SEEDS, limitMs = LIMIT_MS, shrinkMs = pool === 'catalog' ? 10_000 : 2_000, runs: number | null = null, clock: () => number = now, focus: 'on' | 'off' = 'on') {
  const v = parseVariant(c.variants[0]!);
  const actors = pool === 'catalog' ? c.actors.map((a) => findActor(a)) : ACTORS.filter((a) => !a.eras || a.eras.includes(v.home));
  const rows: { found: boolean; ms: number; runs: number; shrinkMs: number; steps: number; depth: number; minimal: boolean }[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const hits: { ms: number; runs: number; shrinkMs: number; steps: number; depth: number; minimal: boolean }[] = [];
    // Each seed is a campaign of its own: it works out its focus again (the probe is part of its time).
    forgetFocus();
    const r = runCampaign(campaign({ archs: [c.arch], era: v.home, variants: c.variants, pool: actors, seed, strategy, timeMs: limitMs, runs, shrinkMs, pctProbeRuns: 0, focus: pool === 'all' ? focus : 'off' }), {
      now: clock,
      onFailure: (f) => {
        if (f.kind === c.kind) hits.push({ ms: f.foundAtSearchMs, runs: f.foundAfter, shrinkMs: f.shrinkMs, steps: f.traceJson.steps.length, depth: f.depth, minimal: f.minimal });
      },
      stop: () => hits.length > 0,
    });
    const h = hits[0];
    rows.push(h ? { found: true, ...h } : { found: false, ms: r.durationMs, runs: r.executions, shrinkMs: 0, steps: 0, depth: 0, minimal: false });
    if (!h && r.durationMs >= limitMs && strategy === 'pct' && limitMs === LIMIT_MS && clock === now) break;
  }
  const found = rows.filter((r) => r.found);
  return {
    variant: `${v.tag} ${v.id}`, arch: c.arch, era: v.home, pool, kind: c.kind, strategy, ...(pool === 'all' ? { focus } : {}),
    /** Failures per execution over every seed's search (a seed that missed counts its executions). */
    hitRate: found.length / Math.max(1, rows.reduce((a, r) => a + r.runs, 0)),
    seeds: rows.length, found: found.length,
    msToFirst: { median: Math.round(median(rows.map((r) => r.ms))), max: Math.round(Math.max(...rows.map((r) => r.ms))) },
    runsToFirst: { median: median(rows.map((r) => r.runs)), max: Math.max(...rows.map((r) => r.runs)) },
    shrinkMs: found.length ? { median: Math.round(median(found.map((r) => r.shrinkMs))), max: Math.max(...found.map((r) => r.shrinkMs)) } : null,
    traceSteps: found.length ? { median: median(found.map((r) => r.steps)), max: Math.max(...found.map((r) => r.steps)) } : null,
    depth: found.length ? { min: Math.min(...found.map((r) => r.depth)), max: Math.max(...found.map((r) => r.depth)) } : null,
    minimal: found.filter((r) => r.minimal).length,
  };
}

/** Throughput of the default campaign in worker threads, for each worker count. */
async function scaling(counts: readonly number[], ms: number) {
  const rows = [];
  for (const workers of counts) {
    const cpu0 = process.cpuUsage();
    const r = await runPool({
      archs: ARCH_IDS, era: 'v6.6', variants: [], actors: ACTORS.filter((a) => !a.eras || a.eras.includes('v6.6')).map((a) => a.name),
      fixedActors: undefined, strategy: 'random', depth: 3, preemptions: 2, timeMs: ms, runs: null, seed: 1, shrinkMs: 10_000,
      workers, shard: { index: 0, count: 1 },
    }, { now }).done;
    const cpu = process.cpuUsage(cpu0);
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    // CPU time counts V8's GC helper threads too: one worker keeps more than one core busy.
    rows.push({ workers, execsPerSec: Math.round(r.executions / (r.durationMs / 1000)), coresBusy: Math.round((cpuSec / (r.durationMs / 1000)) * 100) / 100, execsPerCpuSec: Math.round(r.executions / cpuSec) });
  }
  const one = rows[0]?.execsPerSec ?? 1;
  return rows.map((r) => ({ ...r, speedup: Math.round((r.execsPerSec / one) * 100) / 100 }));
}

/** Strategies compared per variant and pool (issue 12): the portfolio is run by one campaign, which
 *  then goes round its members one scenario at a time. */
const STRATEGY_ROWS: readonly Strategy[] = ['random', 'pct', 'pos', 'greybox', 'portfolio'];

/** The process's CPU time (user + system), in ms: what a campaign spent, whatever else the machine
 *  runs. It counts V8's GC helper threads too. */

/** Issue 12's targets with every actor in the pool, on one core. */
const TARGETS = { allPoolMedianMs: 300, allPoolMaxMs: 5000 } as const;

type Row = ReturnType<typeof variantRow>;

/** A time, or ">cap" for a median or max that is a seed's miss. */
const shown = (ms: number, missed: boolean) => (missed ? `>${ms}` : String(ms));

/** The median is (or averages in) a seed that missed: at least half the seeds missed. */
const medianMissed = (r: Row) => r.found * 2 <= r.seeds - (r.seeds % 2);

/** The compact table: one line per variant, pool and strategy. */
function markdown(rows: readonly Row[]): string {
  const lines = ['| variant | pool | strategy | found | runs median / max | CPU ms median / max | hits per 1000 runs |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const missMedian = medianMissed(r);
    const missMax = r.found < r.seeds;
    const pool = r.pool === 'all' ? `all${r.focus === 'off' ? ' (undirected)' : ''}` : r.pool;
    lines.push(`| ${r.variant.split(' ')[0]} | ${pool} | ${r.strategy} | ${r.found}/${r.seeds} | ${shown(r.runsToFirst.median, missMedian)} / ${shown(r.runsToFirst.max, missMax)} | ${shown(r.msToFirst.median, missMedian)} / ${shown(r.msToFirst.max, missMax)} | ${(r.hitRate * 1000).toFixed(2)} |`);
  }
  return lines.join('\n');
}

/** One line per target and strategy, over the every-actor rows with the directed draw: met only if
 *  every variant meets it (a seed that missed fails the max, and the median when half missed). */
function targetChecks(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const st of STRATEGY_ROWS) {
    const mine = rows.filter((r) => r.pool === 'all' && r.focus !== 'off' && r.strategy === st);
    if (mine.length === 0) continue;
    const medianBad = mine.filter((r) => medianMissed(r) || r.msToFirst.median >= TARGETS.allPoolMedianMs);
    const maxBad = mine.filter((r) => r.found < r.seeds || r.msToFirst.max >= TARGETS.allPoolMaxMs);
    const say = (bad: readonly Row[], what: (r: Row) => string) => (bad.length === 0 ? 'met' : `not met: ${bad.map((r) => `${r.variant.split(' ')[0]} ${what(r)}`).join(', ')}`);
    out.push(`target median < ${TARGETS.allPoolMedianMs} ms CPU with every actor, ${st}: ${say(medianBad, (r) => (medianMissed(r) ? `found ${r.found}/${r.seeds}` : `${r.msToFirst.median} ms`))}`);
    out.push(`target max < ${TARGETS.allPoolMaxMs} ms CPU with every actor, ${st}: ${say(maxBad, (r) => (r.found < r.seeds ? `found ${r.found}/${r.seeds}` : `${r.msToFirst.max} ms`))}`);
  }
  return out;
}

/** npm run bench -- --strategies [--seeds N] [--limit-ms MS] [--runs R] [--undirected] [--pool P --out F]
 *  [--variants V5,V8] [--only greybox,pos]
 *  (then --strategies --merge F1,F2): only the
 *  per-strategy table, merged into bench/results.json as `strategies` (the rest kept from the last
 *  full run). Times are the process's CPU time; each seed is capped at MS of it (and R runs, when
 *  given), and a seed that missed counts as missed. --undirected adds every-actor rows with the
 *  directed draw off (--focus off), to compare. */
interface StrategiesOptions {
  readonly seeds: number;
  readonly limitMs: number;
  readonly runs: number | null;
  /** Add the every-actor rows with the directed draw off. */
  readonly undirected: boolean;
  /** One pool only (default both). */
  readonly pool?: 'catalog' | 'all' | undefined;
  /** Write the rows to this file (for --merge), not bench/results.json. */
  readonly out?: string | undefined;
  /** Only these variants (tags) and strategies (default all). */
  readonly variants?: readonly string[] | undefined;
  readonly strategies?: readonly Strategy[] | undefined;
}

function strategiesOnly({ seeds, limitMs, runs, undirected, pool: only, out, variants: variantTags, strategies: strategyNames }: StrategiesOptions): void {
  const t0 = cpuMs();
  // Warm up first (2 s of CPU over every actor, not measured): else the first every-actor rows pay for
  // compiling each actor's code, and the rows after them do not.
  runCampaign(campaign({ archs: ARCH_IDS, era: 'v6.6', variants: [], pool: ACTORS.filter((a) => !a.eras || a.eras.includes('v6.6')), strategy: 'random', timeMs: 2000, shrinkMs: 100 }), { now: cpuMs });
  const rows: Row[] = [];
  const pools = ([['catalog', 'on'], ['all', 'on'], ...(undirected ? [['all', 'off'] as const] : [])] as const).filter(([p]) => !only || p === only);
  for (const [pool, focus] of pools) {
    for (const c of VARIANT_CASES.filter((x) => !variantTags || variantTags.includes(x.tag))) {
      for (const st of STRATEGY_ROWS.filter((x) => !strategyNames || strategyNames.includes(x))) {
        // Shrinking is not what is measured here: a short budget for the other failures found on the way.
        const row = variantRow(c, pool, st, seeds, limitMs, 300, runs, cpuMs, focus);
        console.error(`${row.variant} (${pool}${pool === 'all' ? `, focus ${focus}` : ''}) ${st}: found ${row.found}/${row.seeds}, median ${row.msToFirst.median} ms CPU (${row.runsToFirst.median} runs), max ${row.msToFirst.max} ms, hit rate ${row.hitRate.toPrecision(3)}`);
        rows.push(row);
      }
    }
  }
  writeStrategies({ seeds, limitMs, runs, cpuMs: Math.round(cpuMs() - t0) }, rows, out);
}

interface StrategiesRun { readonly seeds: number; readonly limitMs: number; readonly runs: number | null; readonly cpuMs: number }

/** The table, the target checks and bench/results.json's `strategies` (or only the rows and the run's
 *  settings to `out`, for --merge to put together: the pools can run in processes of their own). */
function writeStrategies(run: StrategiesRun, rows: readonly Row[], out?: string): void {
  if (out) {
    writeFileSync(out, `${JSON.stringify({ run, rows }, null, 2)}\n`);
    console.error(`wrote ${out}`);
    return;
  }
  const { seeds, limitMs, runs } = run;
  const table = markdown(rows);
  const checks = targetChecks(rows);
  console.log(table);
  console.log('');
  for (const l of checks) console.log(l);
  const file = new URL('../../bench/results.json', import.meta.url);
  const old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const strategies = {
    seeds, limitCpuMsPerSeed: limitMs, runsPerSeed: runs, cpuMs: run.cpuMs,
    note: `times are CPU time of the bench process (process.cpuUsage(): user + system, V8's GC helper threads included), not wall time, so that a loaded machine does not distort them; after a 2 s warm-up over every actor, each seed is a campaign of its own (its focus probe included) capped at ${limitMs} ms of CPU${runs !== null ? ` and ${runs} runs` : ''}; a seed that missed counts its whole time and runs, and as missed; pool 'all' draws with the directed draw (focus on) unless focus says off`,
    targets: { ...TARGETS, hitRateVsPctOnV3V9: 10 },
    checks,
    markdown: table,
    rows,
  };
  writeFileSync(file, `${JSON.stringify({ ...old, strategies }, null, 2)}\n`);
  console.error('wrote bench/results.json (strategies)');
}

async function main(): Promise<void> {
  const t0 = now();
  const quick = process.argv.includes('--quick');
  if (process.argv.includes('--strategies')) {
    const flag = (f: string) => { const i = process.argv.indexOf(f); return i >= 0 ? process.argv[i + 1] ?? '' : undefined; };
    const count = (f: string, d: number) => {
      const v = flag(f);
      if (v === undefined) return d;
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`${f} '${v}': give a whole number above 0`);
      return Number(v);
    };
    const merge = flag('--merge');
    if (merge !== undefined) {
      // --merge A.json,B.json: the rows of runs made with --pool and --out, into bench/results.json.
      const parts = merge.split(',').map((f) => {
        let part: unknown;
        try { part = JSON.parse(readInput('--merge', f)); } catch (e) { if (e instanceof UsageError) throw e; }
        const p = part as Partial<{ run: StrategiesRun; rows: Row[] }> | undefined;
        if (!p?.run || !Array.isArray(p.rows)) throw new UsageError(`--merge '${f}': not a part written by --strategies --out`);
        return p as { run: StrategiesRun; rows: Row[] };
      });
      const run = parts[0]!.run;
      if (parts.some((x) => x.run.seeds !== run.seeds || x.run.limitMs !== run.limitMs || x.run.runs !== run.runs)) throw new UsageError('--merge: the parts differ in seeds, limit or runs');
      writeStrategies({ ...run, cpuMs: parts.reduce((n, x) => n + x.run.cpuMs, 0) }, parts.flatMap((x) => x.rows));
      return;
    }
    const pool = flag('--pool');
    if (pool !== undefined && pool !== 'catalog' && pool !== 'all') throw new UsageError(`--pool '${pool}': accepted are catalog or all`);
    // --variants V5,V8 and --only greybox,pos: a part of the table, for a quick look.
    const variants = flag('--variants')?.split(',');
    const bad = variants?.find((t) => !VARIANT_CASES.some((x) => x.tag === t));
    if (bad !== undefined) throw new UsageError(`--variants: no catalog variant '${bad}'; accepted are V1..V9, joined by commas`);
    const strategies = flag('--only')?.split(',') as Strategy[] | undefined;
    const badSt = strategies?.find((x) => !STRATEGY_ROWS.includes(x));
    if (badSt !== undefined) throw new UsageError(`--only: no strategy '${badSt}'; accepted are ${STRATEGY_ROWS.join(', ')}`);
    const out = flag('--out');
    // A part written into bench/results.json would replace the whole table.
    if (out === undefined && (pool !== undefined || variants || strategies)) throw new UsageError('--pool, --variants and --only give a part of the table: write it with --out F (then --merge)');
    if (out !== undefined) checkOutput('--out', out);
    const runs = flag('--runs') === undefined ? null : count('--runs', 0);
    strategiesOnly({ seeds: count('--seeds', SEEDS), limitMs: count('--limit-ms', 10_000), runs, undirected: process.argv.includes('--undirected'), pool, out, variants, strategies });
    return;
  }
  const tp = LIGHT.map(([arch, actors]) => throughput(arch, actors));
  console.error(`throughput: ${tp.map((x) => `${x.scenario} ${x.execsPerSec}/s`).join('; ')}`);
  // The first two: what their time is spent on, against the target's 10 µs (bench/split.ts).
  const split = LIGHT.slice(0, 2).map(([arch, actors]) => timeSplit(arch, actors));
  for (const s of split) console.error(`time split, ${s.scenario} (${s.arch}):\n${s.rows.map((r) => `  ${r.usPerExec.toFixed(2).padStart(6)} us/exec  ${String(r.stepsPerExec).padStart(5)} steps  ${r.part}`).join('\n')}`);
  const def = runCampaign(campaign({ archs: ARCH_IDS, era: 'v6.6', variants: [], pool: ACTORS, strategy: 'random', timeMs: quick ? 2000 : 10_000 }), { now });
  const defaults = { executions: def.executions, execsPerSec: Math.round(def.executions / (def.durationMs / 1000)), failures: def.failures.length };
  console.error(`default campaign: ${defaults.execsPerSec}/s, ${defaults.failures} failures`);
  if (process.argv.includes('--throughput')) {
    // Only the one-core figures, merged into the last full run's file (the variant rows take long).
    const file = new URL('../../bench/results.json', import.meta.url);
    const old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, `${JSON.stringify({ ...old, throughput: tp, timeSplit: split, defaultCampaign: defaults }, null, 2)}\n`);
    console.error('wrote bench/results.json (throughput, timeSplit, defaultCampaign)');
    return;
  }
  const counts = [...new Set([1, 2, cpus().length])].filter((n) => n <= Math.max(2, cpus().length));
  const workers = await scaling(counts, quick ? 3000 : 10_000);
  console.error(`workers: ${workers.map((w) => `${w.workers}: ${w.execsPerSec}/s (x${w.speedup}, ${w.coresBusy} cores busy, ${w.execsPerCpuSec}/cpu-s)`).join('; ')}`);
  const variants = [];
  for (const c of VARIANT_CASES) {
    for (const pool of quick ? (['catalog'] as const) : (['catalog', 'all'] as const)) {
      const row = variantRow(c, pool);
      console.error(`${row.variant} (${pool}): found ${row.found}/${row.seeds}, median ${row.msToFirst.median} ms, max ${row.msToFirst.max} ms; shrink median ${row.shrinkMs?.median ?? '-'} ms; depth ${row.depth?.min ?? '-'}`);
      variants.push(row);
    }
  }
  const results = {
    version: 1,
    machine: { node: process.version, cpus: cpus().length, model: cpus()[0]?.model ?? '?' },
    targets: { execsPerSecPerCore: 100_000, variantMedianMs: 1000, variantMaxMs: LIMIT_MS, shrinkMedianMs: 10_000 },
    throughput: tp,
    timeSplit: split,
    defaultCampaign: defaults,
    workers,
    variants,
    memory: { rssMb: Math.round(process.memoryUsage().rss / 2 ** 20), heapUsedMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20) },
    durationMs: Math.round(now() - t0),
  };
  writeFileSync(new URL('../../bench/results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  console.error('wrote bench/results.json');
}

// A bad flag value or file is one line and exit 2, as in the CLI.
await main().catch((e: unknown) => {
  if (!(e instanceof UsageError)) throw e;
  console.error(`bench: ${e.message}`);
  process.exit(2);
});
