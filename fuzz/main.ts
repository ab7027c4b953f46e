// mmfuzz's command line: npm run fuzz -- [options]. Exit 0 when clean, 1 when a failure was found
// (or a replay reproduces), 2 for bad usage: an unknown name, a bad value, a malformed token.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken, TokenError } from '../src/explore/token.js';
import { renderTrace, traceJson } from '../src/explore/trace.js';
import { ARCHES, ARCH_IDS } from '../src/mm/arch.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { ModelError } from '../src/mm/errors.js';
import { buildScenario, findActor } from '../src/mm/scenario.js';
import { ERAS, ERA_IDS, VARIANTS } from '../src/mm/switches.js';
import { resolveEra, runCampaign, type Failure } from './campaign.js';
import { HELP, parseOptions, UsageError, type Options } from './options.js';

type Out = (line: string) => void;

function listAll(out: Out): void {
  for (const a of ACTORS) out(`actor    ${a.name.padEnd(24)} ${a.summary}`);
  for (const v of VARIANTS) out(`variant  ${`${v.tag} ${v.id}`.padEnd(27)} home ${v.home}; eras ${v.eras.join(' ')}; shows on ${v.arches.join(' ')}`);
  for (const e of ERA_IDS) out(`era      ${e.padEnd(24)} ${ERAS[e].summary}`);
  for (const a of ARCH_IDS) out(`arch     ${a.padEnd(24)} ${ARCHES[a].description}`);
}

/** A token given on the command line, or the first token in a file (a token file or a report). */
function tokenText(arg: string): string {
  if (/^mmfz\d*:/.test(arg.trim())) return arg;
  if (!existsSync(arg)) throw new UsageError(`--replay '${arg.slice(0, 40)}': neither a replay token (mmfz1:...) nor a file`);
  const m = /mmfz\d+:[A-Za-z0-9_\-.]+/.exec(readFileSync(arg, 'utf8'));
  if (!m) throw new UsageError(`--replay ${arg}: the file holds no replay token`);
  return m[0];
}

function replay(o: Options, out: Out): number {
  const r = decodeToken(tokenText(o.replay ?? ''));
  const spec = {
    ...r.spec,
    ...(o.era !== undefined ? { era: o.era } : {}),
    ...(o.variants !== undefined ? { variants: o.variants } : {}),
  };
  const scenario = buildScenario(spec);
  const exec = execute(scenario, follow(r.schedule), { trace: true });
  out(renderTrace({ scenario, schedule: r.schedule, exec }));
  if (o.json) writeFileSync(o.json, `${JSON.stringify(traceJson({ scenario, schedule: r.schedule, exec }), null, 2)}\n`);
  if (exec.violation) return 1;
  out('');
  out('the failure does not reproduce: this schedule runs clean with these switches');
  return 0;
}

function printFailure(f: Failure, n: number, out: Out): void {
  out('');
  const why = f.known ? ` (known race: ${f.known}, see docs/known-races.md)` : f.needsVariants ? ` (needs ${f.variants.join(', ')})` : '';
  out(`=== failure ${n}: ${f.kind}${why}: ${f.actors.join(' vs ')} on ${f.arch}`);
  out(f.trace);
  out(`shrunk in ${f.shrinkMs} ms${f.minimal ? '' : ' (time budget ran out: not known to be minimal)'}; depth ${f.depth}`);
  out(`replay: npm run fuzz -- --replay ${f.token}`);
}

function campaign(o: Options, out: Out, err: Out): number {
  const variants = o.variants ?? [];
  const era = resolveEra(o.era, variants);
  const pool = o.actors ? [...new Set(o.actors)].map((n) => findActor(n)) : ACTORS;
  const eraPool = pool.filter((a) => !a.eras || a.eras.includes(era));
  if (eraPool.length === 0) throw new UsageError(`--actors: none of ${o.actors?.join(', ')} is modelled in era ${era}`);
  if (o.strategy === 'exhaustive' && !o.actors) throw new UsageError('--strategy exhaustive needs a fixed scenario: give it with --actors (e.g. --actors gup_fast,collapse_file)');
  const tty = process.stderr.isTTY === true;
  if (!o.quiet) {
    err(`mmfuzz: ${o.strategy}${o.strategy === 'pct' ? ` (depth ${o.depth})` : o.strategy === 'exhaustive' ? ` (at most ${o.preemptions} preemptions)` : ''} on ${o.archs.join(', ')}, era ${era}${variants.length ? `, variants ${variants.join(', ')}` : ''}, seed ${o.seed}, ${o.timeMs !== null ? `${o.timeMs / 1000} s` : ''}${o.timeMs !== null && o.runs !== null ? ' or ' : ''}${o.runs !== null ? `${o.runs} runs` : ''}`);
  }
  let shown = 0;
  const result = runCampaign({ ...o, era, variants, pool: eraPool, fixedActors: o.actors }, {
    now: () => performance.now(),
    onFailure: (f) => { if (!o.quiet) printFailure(f, ++shown, out); },
    onProgress: (p) => {
      if (o.quiet) return;
      const rate = Math.round(p.executions / Math.max(0.001, p.elapsedMs / 1000));
      const left = o.timeMs !== null ? `, ${Math.max(0, Math.round((o.timeMs - p.elapsedMs) / 1000))} s left` : '';
      const pend = p.pending !== undefined ? `, ${p.pending} schedules pending` : '';
      const line = `${p.executions} executions, ${rate}/s, ${p.failures} distinct failure(s)${left}${pend}`;
      if (tty) process.stderr.write(`\r${line}\x1b[K`);
      else err(line);
    },
  });
  if (tty && !o.quiet) process.stderr.write('\r\x1b[K');
  const secs = result.durationMs / 1000;
  const rate = Math.round(result.executions / Math.max(0.001, secs));
  const known = result.failures.filter((f) => f.known).length;
  out('');
  out(`${result.executions} executions in ${secs.toFixed(1)} s (${rate}/s): ${result.failures.length} distinct failure(s)${known ? `, ${known} of them known races` : ''}${result.complete === true ? '; every schedule within the bound was run' : result.complete === false ? '; the bound was not covered' : ''}`);
  if (o.quiet) for (const f of result.failures) printFailure(f, 0, out);
  if (o.json) {
    writeFileSync(o.json, `${JSON.stringify({
      version: 1,
      options: { archs: o.archs, era, variants, actors: o.actors ?? null, strategy: o.strategy, depth: o.depth, preemptions: o.preemptions, timeMs: o.timeMs, runs: o.runs, seed: o.seed, shrinkMs: o.shrinkMs },
      executions: result.executions, execsPerSec: rate, durationMs: Math.round(result.durationMs),
      failures: result.failures.map((f) => ({ kind: f.kind, actors: f.actors, arch: f.arch, era: f.era, variants: f.variants, depth: f.depth, known: f.known, needsVariants: f.needsVariants, minimal: f.minimal, token: f.token, trace: f.trace, traceJson: f.traceJson })),
    }, null, 2)}\n`);
  }
  return result.failures.length > 0 ? 1 : 0;
}

export function main(argv: readonly string[], out: Out, err: Out): number {
  try {
    const o = parseOptions(argv);
    if (o.help) { out(HELP); return 0; }
    if (o.list) { listAll(out); return 0; }
    if (o.replay !== undefined) return replay(o, out);
    return campaign(o, out, err);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ModelError || e instanceof TokenError) {
      err(`mmfuzz: ${e.message}`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    err(`mmfuzz: internal error (a bug in mmfuzz, not a race): ${msg}${process.env['MMFUZZ_DEBUG'] ? `\n${e instanceof Error ? e.stack : ''}` : ' (set MMFUZZ_DEBUG=1 for the stack)'}`);
    return 3;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = main(process.argv.slice(2), (l) => console.log(l), (l) => console.error(l));
}
