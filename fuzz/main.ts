// mmfuzz's command line: npm run fuzz -- [options]. Exit 0 when clean, 1 when a failure was found
// (or a replay reproduces), 2 for bad usage (an unknown name, a bad value, a malformed token), 3 for
// an internal error: an exception in an actor or the model, which is a bug in mmfuzz, not a race.

import { existsSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeToken, TokenError } from '../src/explore/token.js';
import { formatCall } from '../src/explore/trace.js';
import { allArchIds, archOf } from '../src/mm/arch.js';
import { allActors, originOf } from '../src/mm/registry.js';
import { ModelError } from '../src/mm/errors.js';
import { buildScenario, findActor } from '../src/mm/scenario.js';
import { allVariants, ERAS, ERA_IDS } from '../src/mm/switches.js';
import { allWorlds, worldOf } from '../src/mm/world/registry.js';
import { failureKey, resolveEra, runCampaign, type Failure, type Guarantee, type InternalError } from './campaign.js';
import { corpusStore, defaultCorpusDir, replayCorpus, scanCorpus } from './corpus.js';
import { HELP, parseOptions, UsageError, type Options } from './options.js';
import { loadArgs, loadedModules, loadModules, worldOrigin } from './load.js';
import { runPool } from './pool.js';
import { progressPrinter } from './progress.js';
import { guaranteeLine, mergeReports, parseReport, reportFailure, type Report } from './report.js';
import { checkFolder, checkOutput, readInput } from './files.js';
import { echo, echoPath, oneLine } from './text.js';
import { runReplays } from './replays.js';
import { after, realClock, type Clock } from './timers.js';
import { STEP_DEADLINE_MS, stuckMessage } from './watchdog.js';

type Out = (line: string) => void;

function listAll(out: Out): void {
  for (const a of allActors()) out(`actor    ${a.name.padEnd(24)} ${a.summary}${originOf(a.name) ? ` (from ${originOf(a.name)})` : ''}`);
  for (const v of allVariants()) {
    out(v.tag === v.id
      ? `variant  ${v.id.padEnd(27)} ${v.summary}; eras ${v.eras.join(' ')} ${v.fix}`
      : `variant  ${`${v.tag} ${v.id}`.padEnd(27)} home ${v.home}; eras ${v.eras.join(' ')}; shows on ${v.arches.join(' ')}`);
  }
  for (const e of ERA_IDS) out(`era      ${e.padEnd(24)} ${ERAS[e].summary}`);
  for (const a of allArchIds()) out(`arch     ${a.padEnd(24)} ${archOf(a)?.description ?? ''}`);
  for (const w of allWorlds()) out(`world    ${w.name.padEnd(24)} ${w.summary}${worldOrigin(w.name) ? ` (from ${worldOrigin(w.name)})` : ''}`);
}

/** A token given on the command line, or the first token in a file (a token file or a report). */
function tokenText(arg: string): string {
  if (/^mmfz\d*:/.test(arg.trim())) return arg;
  if (!existsSync(arg)) throw new UsageError(`--replay '${echo(arg)}': neither a replay token (mmfz1:...) nor a file`);
  const m = /mmfz\d+:[A-Za-z0-9_\-.]+/.exec(readInput('--replay', arg));
  if (!m) throw new UsageError(`--replay '${echo(arg)}': the file holds no replay token (mmfz1:...)`);
  return m[0];
}

/** What tests inject: the clock the watchdogs run on, and their deadline. */
export interface Deps {
  readonly clock?: Clock;
  readonly stepDeadlineMs?: number;
}

async function replay(o: Options, out: Out, err: Out, onSigint: (stop: () => void) => void, deps: Deps): Promise<number> {
  const token = tokenText(o.replay ?? '');
  const r = decodeToken(token);
  if (o.json !== undefined) checkOutput('--json', o.json);
  const spec = {
    ...r.spec,
    ...(o.era !== undefined ? { era: o.era } : {}),
    ...(o.variants !== undefined ? { variants: o.variants } : {}),
  };
  if (spec.world !== undefined && !worldOf(spec.world)) throw new UsageError(`the token needs world '${spec.world}', which is not built in: load the module that defines it with --load FILE`);
  const missing = spec.actors.map((a) => a.actor).find((n) => !allActors().some((d) => d.name === n));
  if (missing) throw new UsageError(`the token needs actor '${echo(missing)}', which is not built in: load the module that defines it with --load FILE`);
  const missingVariant = (spec.variants ?? []).find((v) => !allVariants().some((x) => x.id === v));
  if (missingVariant) throw new UsageError(`the token needs variant '${echo(missingVariant)}', which is not built in: load the module that defines it with --load FILE`);
  if (!archOf(spec.arch)) throw new UsageError(`the token needs architecture '${echo(spec.arch)}', which is not built in: load the module that defines it with --load FILE`);
  buildScenario(spec); // every name and argument checked here: bad usage, not the worker's to say
  // Run in a worker under the watchdog: an actor whose step never returns is named, not waited for.
  const [res] = await runReplays([token], {
    trace: true, ...deps, onStart: onSigint,
    ...(o.era !== undefined ? { era: o.era } : {}), ...(o.variants !== undefined ? { variants: o.variants } : {}),
  });
  if (!res) return 130; // interrupted
  if (res.t === 'hung') {
    err(`mmfuzz: internal error (a bug in mmfuzz or its module, not a race) in ${res.stuck.actor} on ${res.stuck.arch}: ${stuckMessage(res.stuck, deps.stepDeadlineMs ?? STEP_DEADLINE_MS)}`);
    return 3;
  }
  if (res.t === 'error') {
    if (res.usage) throw new UsageError(res.message);
    throw new Error(res.message);
  }
  out(res.text ?? '');
  if (o.json) writeFileSync(o.json, `${JSON.stringify(res.json, null, 2)}\n`);
  if (res.kind !== null) return 1;
  out('');
  out('the failure does not reproduce: this schedule runs clean with these switches');
  return 0;
}

function printFailure(f: Failure, n: number, out: Out): void {
  const why = f.known ? ` (known race: ${f.known}, see docs/known-races.md)` : f.needsVariants ? ` (needs ${f.variants.join(', ')})` : '';
  out('');
  out(`=== failure ${n}: ${f.kind}${why}: ${f.actors.join(' vs ')} on ${f.arch}${f.world === 'default' ? '' : ` in world ${f.world}`}`);
  out(f.trace);
  out(`shrunk in ${f.shrinkMs} ms${f.minimal ? '' : ' (time budget ran out: not known to be minimal)'}; depth ${f.depth}`);
  out(`replay: npm run fuzz -- --replay ${f.token}`);
}

function printInternal(e: InternalError, err: Out): void {
  // The message may come from a user's actor: one line, escaped.
  err(`mmfuzz: internal error (a bug in mmfuzz, not a race) in ${e.actors.join(', ')} on ${e.arch}: ${oneLine(e.message, 200)}${e.token ? `; replay: npm run fuzz -- --replay ${e.token}` : ''}`);
}

/** npm run fuzz -- merge A.json B.json ... --json OUT.json */
function merge(argv: readonly string[], out: Out): number {
  const files: string[] = [];
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json' || a.startsWith('--json=')) {
      if (json !== undefined) throw new UsageError('merge: --json is given twice: give it once');
      json = a.includes('=') ? a.slice(7) : argv[++i];
      if (json === undefined || json === '' || json.startsWith('--')) throw new UsageError('merge: --json needs a value: the file to write the merged report to');
    } else if (a.startsWith('-')) throw new UsageError(`merge: unknown option '${echo(a)}': accepted is --json OUT.json`);
    else files.push(a);
  }
  if (files.length === 0) throw new UsageError('merge: give the reports to merge: merge A.json B.json ... --json OUT.json');
  if (!json) throw new UsageError('merge: give --json OUT.json for the merged report');
  checkOutput('merge: --json', json);
  const reports = files.map((f) => parseReport(echoPath(f), readInput('merge: report', f)));
  const m = mergeReports(reports);
  writeFileSync(json, `${JSON.stringify(m, null, 2)}\n`);
  out(`merged ${files.length} report(s): ${m.executions} executions, ${m.failures.length} distinct failure(s) → ${json}`);
  return m.failures.length > 0 ? 1 : 0;
}

async function campaign(o: Options, out: Out, err: Out, onSigint: (stop: () => void) => void, deps: Deps): Promise<number> {
  const variants = o.variants ?? [];
  const era = resolveEra(o.era, variants);
  const names = o.actors ? [...new Set(o.actors.map((a) => a.actor))] : undefined;
  const pool = names ? names.map((n) => findActor(n)) : allActors();
  const eraPool = pool.filter((a) => !a.eras || a.eras.includes(era));
  // An actor named with --actors that the era lacks is a mistake to say, not to drop: the campaign
  // would run without it and read as clean.
  const missing = names ? pool.find((a) => a.eras && !a.eras.includes(era)) : undefined;
  if (missing) throw new UsageError(`--actors '${echo(missing.name)}': not modelled in era ${era}; it is in ${missing.eras?.join(', ')}`);
  if (eraPool.length === 0) throw new UsageError(`--actors '${echo(o.actors?.map(formatCall).join(',') ?? '')}': none of them is modelled in era ${era}`);
  // The pool as given, each distinct entry once: its fixed arguments and mm are kept by the campaign.
  const pins = o.actors ? [...new Map(o.actors.map((a) => [formatCall(a), a])).values()] : undefined;
  const worldsSaid = o.worlds.length === 1 && o.worlds[0] === 'default' ? '' : `, world${o.worlds.length > 1 ? 's' : ''} ${o.worlds.join(', ')}`;
  if (o.strategy === 'exhaustive' && !o.actors) throw new UsageError('--strategy exhaustive needs a fixed scenario: give it with --actors (e.g. --actors gup_fast,collapse_file)');
  if (o.corpus !== undefined) checkFolder('--corpus', o.corpus);
  if (o.json !== undefined) checkOutput('--json', o.json);
  const corpus = o.corpus ?? defaultCorpusDir();
  const now = () => performance.now();
  const say = (l: string) => { if (!o.quiet) err(l); };
  // Every option has been checked: from here on nothing is bad usage.
  for (const n of o.notes) err(n);

  const { entries, skipped } = scanCorpus(corpus);
  for (const k of skipped) err(`mmfuzz: corpus ${corpus}: skipped ${k.file}: it ${k.why}`);
  if (entries.length > 0) {
    const r = await replayCorpus(entries, deps);
    say(`corpus ${corpus}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${r.reproduce.length} still fail, ${r.fixed.length} fixed now${r.unreadable.length ? `, ${r.unreadable.length} unreadable` : ''}${r.hung.length ? `, ${r.hung.length} hang` : ''}`);
    for (const h of r.hung) err(`mmfuzz: internal error (a bug in mmfuzz or its module, not a race): corpus entry ${echo(h.entry.key, 60)}: ${stuckMessage(h.stuck, deps.stepDeadlineMs ?? STEP_DEADLINE_MS)}`);
    for (const e of r.fixed) say(`  fixed now: ${echo(e.key, 120)}`);
    for (const u of r.unreadable) say(`  unreadable: ${echo(u.entry.key, 80)}: ${oneLine(u.why, 100)}`);
  }
  say(`mmfuzz: ${o.strategy}${o.strategy === 'pct' ? ` (depth ${o.depth})` : o.strategy === 'exhaustive' ? ` (at most ${o.preemptions} preemptions${o.enumerateChoices ? ', data choices enumerated' : ''})` : ''} on ${o.archs.join(', ')}, era ${era}${variants.length ? `, variants ${variants.join(', ')}` : ''}${worldsSaid}, seed ${o.seed}${o.shard.count > 1 ? `, shard ${o.shard.index}/${o.shard.count}` : ''}, ${o.strategy === 'exhaustive' ? 1 : o.workers} worker(s), ${o.timeMs !== null ? `${o.timeMs / 1000} s` : ''}${o.timeMs !== null && o.runs !== null ? ' or ' : ''}${o.runs !== null ? `${o.runs} runs` : ''}`);

  const progress = progressPrinter({ tty: process.stderr.isTTY === true, quiet: o.quiet, write: (s) => process.stderr.write(s), now });
  const t0 = now();
  let shown = 0;
  const store = corpusStore(corpus, (why) => {
    progress.finish();
    err(`mmfuzz: the corpus ${corpus} can't be written (${why}): going on without it; every failure is printed with its token below`);
  });
  const onFailure = (f: Failure) => {
    const key = failureKey(f.kind, f.arch, f.actors);
    store.write({ version: 1, key, kind: f.kind, arch: f.arch, actors: f.actors, token: f.token, shrunk: true,
      era: f.era, variants: f.variants, depth: f.depth, known: f.known, minimal: f.minimal, trace: f.trace,
      ...(f.otherTokens?.length ? { otherTokens: f.otherTokens } : {}) });
    if (f.foundKey !== key) store.dropUnshrunk(f.foundKey);
    if (!o.quiet) { progress.finish(); printFailure(f, ++shown, out); }
  };
  // The unshrunk entry of a failure that shrank to one already kept goes: one entry per failure.
  const onDuplicate = (foundKey: string, key: string) => { if (foundKey !== key) store.dropUnshrunk(foundKey); };
  const onInternalError = (e: InternalError) => { progress.finish(); printInternal(e, err); };

  let result: { executions: number; durationMs: number; failures: readonly Failure[]; internalErrors: readonly InternalError[]; complete?: boolean | undefined; workerDeaths?: number; guarantee?: Guarantee | undefined };
  if (o.strategy === 'exhaustive') {
    result = runCampaign({ ...o, era, variants, pool: eraPool, fixedActors: o.actors }, {
      now, onFailure, onInternalError, onDuplicate,
      onProgress: (p) => progress.update({ executions: p.executions, failures: p.failures, elapsedMs: p.elapsedMs, timeLeftMs: null, ...(p.pending !== undefined ? { pending: p.pending } : {}) }),
    });
  } else {
    const run = runPool({ ...o, era, variants, actors: eraPool.map((a) => a.name), fixedActors: undefined, ...(pins ? { pins } : {}), load: loadedModules(),
      ...(deps.stepDeadlineMs !== undefined ? { stepDeadlineMs: deps.stepDeadlineMs } : {}) }, {
      now: deps.clock?.now ?? now, ...(deps.clock ? { setTimer: deps.clock.setTimer } : {}), onFailure, onInternalError, onDuplicate,
      onFound: (f) => store.record({ version: 1, key: f.key, kind: f.kind, arch: f.arch, actors: f.actors, token: f.token, shrunk: false }),
      onProgress: (executions, failures) => {
        const elapsedMs = now() - t0;
        progress.update({ executions, failures, elapsedMs, timeLeftMs: o.timeMs === null ? null : o.timeMs - elapsedMs });
      },
      onWorkerDied: (slot, gen, why) => { progress.finish(); err(`mmfuzz: worker ${slot} (generation ${gen}) died: ${oneLine(why, 100)}; ${gen + 1 < 3 ? 'replaced' : 'not replaced again'}`); },
    });
    onSigint(run.stop);
    // --time is honoured within 2 s; shrinking keeps its own budget, and what it had is in the corpus.
    const cancelKill = o.timeMs === null ? () => {} : after(realClock, o.timeMs + o.shrinkMs + 2000, run.kill);
    result = await run.done;
    cancelKill();
  }
  progress.finish();
  const secs = result.durationMs / 1000;
  const rate = Math.round(result.executions / Math.max(0.001, secs));
  const known = result.failures.filter((f) => f.known).length;
  out('');
  out(`${result.executions} executions in ${secs.toFixed(1)} s (${rate}/s): ${result.failures.length} distinct failure(s)${known ? `, ${known} of them known races` : ''}${result.internalErrors.length ? `, ${result.internalErrors.length} internal error(s)` : ''}${result.workerDeaths ? `, ${result.workerDeaths} worker death(s)` : ''}${result.complete === true ? `; every schedule within the bound was run (at most ${o.preemptions} preemption(s): no failure of depth ≤ ${o.preemptions + 1} in this scenario${!o.enumerateChoices ? ' with its data choices at 0' : o.enumerateChoices === Infinity ? '' : ` with at most ${o.enumerateChoices} data choice(s) away from 0`})` : result.complete === false ? '; the bound was not covered' : ''}`);
  if (result.guarantee) out(guaranteeLine(result.guarantee));
  if (o.quiet) for (const f of result.failures) printFailure(f, ++shown, out);
  else {
    // Printed with their traces as they were found; listed again here, where a long log ends.
    result.failures.forEach((f, i) => {
      const why = f.known ? ` (known race: ${f.known})` : f.needsVariants ? ` (needs ${f.variants.join(', ')})` : '';
      out(`  ${i + 1}. ${f.kind}${why}: ${f.actors.join(' vs ')} on ${f.arch}${f.world === 'default' ? '' : ` in world ${f.world}`}, depth ${f.depth}`);
      out(`     npm run fuzz -- --replay ${f.token}`);
      if (f.otherTokens?.length) out(`     (${f.otherTokens.length} other token(s) printed for it replay it too: they are in the corpus entry and the report)`);
    });
  }
  if (result.failures.length > 0) out(store.writable() ? `failures saved in ${corpus}` : `failures not saved: the corpus ${corpus} can't be written; the tokens above replay them`);
  const verdict = campaignVerdict(result);
  for (const l of verdict.lines) err(l);
  let code = verdict.code;
  if (o.json) {
    const report: Report = {
      version: 1,
      options: { archs: o.archs, era, variants, worlds: o.worlds, actors: o.actors?.map(formatCall) ?? null, enumerateChoices: o.enumerateChoices === Infinity ? 'all' : o.enumerateChoices, strategy: o.strategy, depth: o.depth, preemptions: o.preemptions, timeMs: o.timeMs, runs: o.runs, seed: o.seed, shrinkMs: o.shrinkMs, workers: o.workers, shard: `${o.shard.index}/${o.shard.count}` },
      executions: result.executions, execsPerSec: rate, durationMs: Math.round(result.durationMs),
      failures: result.failures.map(reportFailure),
      internalErrors: result.internalErrors,
      ...(result.workerDeaths ? { workerDeaths: result.workerDeaths } : {}),
      ...(result.complete !== undefined ? { complete: result.complete, preemptionBound: o.preemptions } : {}),
      ...(result.guarantee ? { guarantee: result.guarantee } : {}),
    };
    try {
      writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    } catch (e) {
      err(`mmfuzz: the report could not be written to ${echoPath(o.json)} (${(e as NodeJS.ErrnoException).code ?? String(e)}); the summary above is all there is`);
      if (code === 0) code = 3;
    }
  }
  return code;
}

/** How a campaign ends: 1 when it found a failure; else 3 when it cannot be called clean (an internal
 *  error, a worker that died, or no execution at all); else 0. With the lines that say why. */
export function campaignVerdict(r: { readonly executions: number; readonly failures: readonly { readonly known?: string | null }[]; readonly internalErrors: readonly unknown[]; readonly workerDeaths?: number }): { code: number; lines: string[] } {
  const lines: string[] = [];
  if (r.executions === 0) lines.push('mmfuzz: no execution ran, so this campaign says nothing about the protocol (see the errors above)');
  if (r.workerDeaths) lines.push(`mmfuzz: ${r.workerDeaths} worker death(s): the campaign did not run all it was asked to`);
  // A known race (docs/known-races.md) is reported, but is not news: exit 1 only for a new one.
  const code = r.failures.some((f) => !f.known) ? 1 : r.internalErrors.length > 0 || lines.length > 0 ? 3 : 0;
  return { code, lines };
}

export async function main(argv: readonly string[], out: Out, err: Out, onSigint: (stop: () => void) => void = () => {}, deps: Deps = {}): Promise<number> {
  try {
    if (argv[0] === 'merge') return merge(argv.slice(1), out);
    await loadModules(loadArgs(argv));
    const o = parseOptions(argv);
    if (o.help) { out(HELP); return 0; }
    if (o.list) { listAll(out); return 0; }
    if (o.replay !== undefined) return await replay(o, out, err, onSigint, deps);
    return await campaign(o, out, err, onSigint, deps);
  } catch (e) {
    // Bad input is one line of at most 200 characters; an echoed value is cut and escaped.
    if (e instanceof UsageError || e instanceof ModelError || e instanceof TokenError) {
      err(`mmfuzz: ${oneLine(e.message || `bad usage (${e.name})`, 190)}`);
      return 2;
    }
    const msg = oneLine((e instanceof Error ? e.message : String(e)) || '(no message)', 120);
    err(`mmfuzz: internal error (a bug in mmfuzz, not a race): ${msg}${process.env['MMFUZZ_DEBUG'] ? `\n${e instanceof Error ? e.stack : ''}` : ' (MMFUZZ_DEBUG=1 shows the stack)'}`);
    return 3;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Ctrl-C: the first asks the workers to stop and prints the summary; every failure found so far is
  // already in the corpus. A second one exits at once.
  let interrupted = false;
  const stops: (() => void)[] = [];
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    for (const s of stops) s();
  });
  process.exitCode = await main(process.argv.slice(2), (l) => console.log(l), (l) => console.error(l), (s) => stops.push(s));
}
