#!/usr/bin/env node
// mmfuzz's command line: npm run fuzz -- [options]. Exit 0 when clean, 1 when a failure was found
// (or a replay reproduces), 2 for bad usage (an unknown name, a bad value, a malformed token), 3 for
// an internal error: an exception in an actor or the model, which is a bug in mmfuzz, not a race.

import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { decodeToken, TokenError } from '../src/explore/token.js';
import { formatCall } from '../src/explore/trace.js';
import { allArchIds, archOf } from '../src/mm/arch.js';
import { allActors, originOf } from '../src/mm/registry.js';
import { ModelError } from '../src/mm/errors.js';
import { actorNames, buildScenario, findActor } from '../src/mm/scenario.js';
import { allVariants, ERAS, ERA_IDS } from '../src/mm/switches.js';
import { allWorlds, worldOf } from '../src/mm/world/registry.js';
import { campaignFocus, failureKey, resolveEra, runCampaign, type Failure, type Guarantee, type InternalError } from './campaign.js';
import { corpusStore, defaultCorpusDir, replayCorpus, scanCorpus } from './corpus.js';
import { HELP, parseOptions, UsageError, type Options } from './options.js';
import { loadArgs, loadedModules, loadModules, worldOrigin } from './load.js';
import { runPool } from './pool.js';
import { progressPrinter } from './progress.js';
import { PCT_PROBE_RUNS } from '../src/explore/strategies/pct.js';
import { guaranteeLine, proofLine, mergeReports, parseReport, reportFailure, reportRaces, type Report } from './report.js';
import { renderViewer, type ViewerTrace } from './html.js';
import { junitXml } from './junit.js';
import { groupRaces } from './races.js';
import { checkFolder, checkOutput, readInput } from './files.js';
import { echo, echoPath, oneLine } from './text.js';
import { runReplays } from './replays.js';
import { affectedTable, affectedText, diagramText, replayOf } from './explain.js';
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
  if (!existsSync(arg)) throw new UsageError(`--replay '${echo(arg)}': neither a replay token (mmfz1:... or mmfz2:...) nor a file`);
  const m = /mmfz\d+:[A-Za-z0-9_\-.]+/.exec(readInput('--replay', arg));
  if (!m) throw new UsageError(`--replay '${echo(arg)}': the file holds no replay token (mmfz1:... or mmfz2:...)`);
  return m[0];
}

/** What tests inject: the clock the watchdogs run on, and their deadline; the folder the default
 *  corpus is under (the current one). */
export interface Deps {
  readonly clock?: Clock;
  readonly stepDeadlineMs?: number;
  readonly cwd?: string;
  /** --affected: the runs each search makes at least (default AFFECTED_MIN_EXECUTIONS). */
  readonly affectedMinExecutions?: number;
  /** Tests: campaigns shrink on a clock that never moves, in the workers too, so that a shrunk
   *  failure (its actors, depth, token, minimal) does not depend on the machine's load. */
  readonly shrinkClock?: 'frozen';
}

/** mmfuzz's version, from the package.json it ships with (dist/fuzz/main.js → ../../package.json). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** --html: the page for these replays (each the shortest failure of a race, or the one replayed). */
async function writeViewer(file: string, items: readonly { readonly title: string; readonly token: string }[], deps: Deps, o: Partial<Pick<Options, 'era' | 'variants'>>): Promise<string | null> {
  const outcomes = await runReplays(items.map((i) => i.token), {
    trace: true, snapshots: true, ...deps,
    ...(o.era !== undefined ? { era: o.era } : {}), ...(o.variants !== undefined ? { variants: o.variants } : {}),
  });
  const pages: ViewerTrace[] = [];
  outcomes.forEach((r, i) => {
    const item = items[i];
    if (r?.t === 'ran' && r.json && r.view && item) pages.push({ title: item.title, token: item.token, trace: r.json, view: r.view });
  });
  if (pages.length === 0) return 'no trace could be replayed for it';
  try {
    writeFileSync(file, renderViewer(pages));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
  return null;
}

async function replay(o: Options, out: Out, err: Out, onSigint: (stop: () => void) => void, deps: Deps): Promise<number> {
  const token = tokenText(o.replay ?? '');
  const r = decodeToken(token);
  if (o.json !== undefined) checkOutput('--json', o.json);
  if (o.html !== undefined) checkOutput('--html', o.html);
  if (o.junit !== undefined) throw new UsageError('--junit is for a campaign (its races); with --replay, use --json or --html');
  const spec = {
    ...r.spec,
    ...(o.era !== undefined ? { era: o.era } : {}),
    ...(o.variants !== undefined ? { variants: o.variants } : {}),
  };
  if (spec.world !== undefined && !worldOf(spec.world)) throw new UsageError(`the token needs world '${spec.world}', which is not built in: load the module that defines it with --load FILE`);
  const missing = actorNames(spec.actors).find((n) => !allActors().some((d) => d.name === n));
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
  // --diagram draws the failure instead of the full trace; --affected adds the table after it.
  const asked = replayOf(token, { era: o.era, variants: o.variants });
  const diagram = o.diagram && res.kind !== null ? diagramText(asked) : null;
  out(diagram ?? res.text ?? '');
  const table = o.affected && res.kind !== null ? affectedTable(asked, o.affectedMs ?? 10_000, deps.affectedMinExecutions) : null;
  if (table) { out(''); out(affectedText(table, o.affectedMs ?? 10_000)); }
  if (o.json) writeFileSync(o.json, `${JSON.stringify(diagram || table ? { ...res.json, ...(diagram ? { diagram } : {}), ...(table ? { affected: table } : {}) } : res.json, null, 2)}\n`);
  if (o.html) {
    const v = res.json?.violation;
    const bad = await writeViewer(o.html, [{ title: v ? `${v.kind}: ${actorNames(spec.actors).join(' vs ')} on ${spec.arch}` : `replay on ${spec.arch}`, token }], deps, o);
    if (bad) err(`mmfuzz: the page could not be written to ${echoPath(o.html)} (${oneLine(bad, 80)})`);
    else out(`trace viewer written to ${o.html}`);
  }
  if (res.kind !== null) return 1;
  out('');
  out('the failure does not reproduce: this schedule runs clean with these switches');
  return 0;
}

let said: string | undefined;

/** The command a printed replay line gives: `npm run fuzz --` in mmfuzz's own checkout (its script
 *  builds first), `npx mmfuzz` in a project that installed it. */
function command(): string {
  if (said === undefined) {
    let name: unknown;
    try {
      name = (JSON.parse(readFileSync('package.json', 'utf8')) as { name?: unknown }).name;
    } catch {
      name = undefined;
    }
    said = name === 'mmfuzz' ? 'npm run fuzz --' : 'npx mmfuzz';
  }
  return said;
}

function printFailure(f: Failure, n: number, out: Out, diagram = false): void {
  const why = f.known ? ` (known race: ${f.known}, see docs/known-races.md)` : f.needsVariants ? ` (needs ${f.variants.join(', ')})` : '';
  out('');
  out(`=== failure ${n}: ${f.kind}${why}: ${f.actors.join(' vs ')} on ${f.arch}${f.world === 'default' ? '' : ` in world ${f.world}`}`);
  out(diagram ? diagramText(replayOf(f.token)) ?? f.trace : f.trace);
  out(`shrunk in ${f.shrinkMs} ms${f.minimal ? '' : ' (time budget ran out: not known to be minimal)'}; depth ${f.depth}${depthNote(f)}`);
  out(`replay: ${command()} --replay ${f.token}`);
}

/** Which strategy found it (a portfolio's member), and the --depth at which PCT runs its schedule. */
function depthNote(f: Failure): string {
  const by = f.foundBy ? `; found by ${f.foundBy.strategy}${f.foundBy.strategy === 'pct' ? ` --depth ${f.foundBy.depth}` : ''}` : '';
  const pct = f.pctDepth === undefined || f.pctDepth === f.depth ? ''
    : f.pctDepth === null ? ` (PCT did not find it at --depth ${f.depth} to ${f.depth + 2} in ${PCT_PROBE_RUNS} runs each)` : ` (PCT finds it at --depth ${f.pctDepth})`;
  return `${pct}${by}`;
}

function printInternal(e: InternalError, err: Out): void {
  // The message may come from a user's actor: one line, escaped.
  err(`mmfuzz: internal error (a bug in mmfuzz, not a race) in ${e.actors.join(', ')} on ${e.arch}: ${oneLine(e.message, 200)}${e.token ? `; replay: ${command()} --replay ${e.token}` : ''}`);
}

/** npm run fuzz -- merge A.json B.json ... --json OUT.json [--junit OUT.xml] */
function merge(argv: readonly string[], out: Out): number {
  const files: string[] = [];
  const given: { json?: string; junit?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const flag = (['json', 'junit'] as const).find((f) => a === `--${f}` || a.startsWith(`--${f}=`));
    if (flag) {
      if (given[flag] !== undefined) throw new UsageError(`merge: --${flag} is given twice: give it once`);
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`merge: --${flag} needs a value: the file to write the merged ${flag === 'json' ? 'report' : 'JUnit report'} to`);
      given[flag] = v;
    } else if (a.startsWith('-')) throw new UsageError(`merge: unknown option '${echo(a)}': accepted are --json OUT.json and --junit OUT.xml`);
    else files.push(a);
  }
  const json = given.json;
  if (files.length === 0) throw new UsageError('merge: give the reports to merge: merge A.json B.json ... --json OUT.json');
  if (!json) throw new UsageError('merge: give --json OUT.json for the merged report');
  checkOutput('merge: --json', json);
  if (given.junit !== undefined) checkOutput('merge: --junit', given.junit);
  const reports = files.map((f) => parseReport(echoPath(f), readInput('merge: report', f)));
  const m = mergeReports(reports);
  writeFileSync(json, `${JSON.stringify(m, null, 2)}\n`);
  if (given.junit !== undefined) {
    writeFileSync(given.junit, junitXml({ name: 'mmfuzz merged', executions: m.executions, durationMs: m.durationMs, races: m.races ?? [], internalErrors: m.internalErrors, workerDeaths: m.workerDeaths ?? 0 }));
  }
  out(`merged ${files.length} report(s): ${m.executions} executions, ${m.failures.length} distinct failure(s) in ${m.races?.length ?? 0} race(s) → ${json}${given.junit !== undefined ? `, ${given.junit}` : ''}`);
  return m.failures.length > 0 ? 1 : 0;
}

async function campaign(o: Options, out: Out, err: Out, onSigint: (stop: () => void) => void, deps: Deps): Promise<number> {
  const variants = o.variants ?? [];
  const era = resolveEra(o.era, variants);
  const names = o.actors ? [...new Set(actorNames(o.actors))] : undefined;
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
  if (o.junit !== undefined) checkOutput('--junit', o.junit);
  if (o.html !== undefined) checkOutput('--html', o.html);
  const corpus = o.corpus ?? defaultCorpusDir(deps.cwd);
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
  // The directed draw's focus, named in the header: not for exhaustive, which draws nothing, nor with
  // --actors, where the user chose the pool.
  const focusSetting = o.actors ? 'off' : o.focus;
  const groups = o.strategy === 'exhaustive' || o.actors ? null : campaignFocus({ era, variants, archs: o.archs, worlds: o.worlds, pool: eraPool, focus: focusSetting });
  const focus = groups === null ? null : eraPool.map((a) => a.name).filter((n) => groups.some((g) => g.includes(n)));
  const aimed = variants.length > 0 || eraPool.some((a) => originOf(a.name) !== null);
  const focusSaid = focus === null || !aimed ? '' : o.focus === 'off' ? ', focus off' : focus.length === 0 ? ', focus none' : `, focus ${focus.slice(0, 6).join(' ')}${focus.length > 6 ? ` (+${focus.length - 6})` : ''}`;
  say(`mmfuzz: ${o.strategy}${o.strategy === 'pct' ? ` (depth ${o.depth})` : o.strategy === 'exhaustive' ? ` (${o.preemptions === Infinity ? 'no preemption bound: DPOR' : `at most ${o.preemptions} preemptions`}${o.enumerateChoices ? ', data choices enumerated' : ''})` : ''} on ${o.archs.join(', ')}, era ${era}${variants.length ? `, variants ${variants.join(', ')}` : ''}${focusSaid}${worldsSaid}, seed ${o.seed}${o.shard.count > 1 ? `, shard ${o.shard.index}/${o.shard.count}` : ''}, ${o.strategy === 'exhaustive' ? 1 : o.workers} worker(s), ${o.timeMs !== null ? `${o.timeMs / 1000} s` : ''}${o.timeMs !== null && o.runs !== null ? ' or ' : ''}${o.runs !== null ? `${o.runs} runs` : ''}`);

  const progress = progressPrinter({ tty: process.stderr.isTTY === true, quiet: o.quiet, write: (s) => process.stderr.write(s), now });
  const t0 = now();
  let shown = 0;
  const store = corpusStore(corpus, (why) => {
    progress.finish();
    err(`mmfuzz: the corpus ${corpus} can't be written (${why}): going on without it; every failure is printed with its token below`);
  });
  /** The number each failure was printed under as it was found (not with --quiet). */
  const announced = new Map<string, number>();
  /** Races in the order their first failure was announced: a failure's race number. */
  const raceNumbers = new Map<string, number>();
  const onFailure = (f: Failure) => {
    const key = failureKey(f.kind, f.arch, f.actors);
    store.write({ version: 1, key, kind: f.kind, arch: f.arch, actors: f.actors, token: f.token, shrunk: true,
      era: f.era, variants: f.variants, depth: f.depth, known: f.known, minimal: f.minimal, trace: f.trace,
      ...(f.otherTokens?.length ? { otherTokens: f.otherTokens } : {}), race: f.race });
    if (f.foundKey !== key) store.dropUnshrunk(f.foundKey);
    const seenRace = raceNumbers.has(f.race.key);
    if (!seenRace) raceNumbers.set(f.race.key, raceNumbers.size + 1);
    if (!o.quiet) {
      progress.finish();
      announced.set(f.token, ++shown);
      printFailure(f, shown, out, o.diagram);
      out(`race ${raceNumbers.get(f.race.key)}${seenRace ? ' (seen before)' : ''}: ${f.race.title}`);
    }
  };
  // The unshrunk entry of a failure that shrank to one already kept goes: one entry per failure.
  const onDuplicate = (foundKey: string, key: string) => { if (foundKey !== key) store.dropUnshrunk(foundKey); };
  const onInternalError = (e: InternalError) => { progress.finish(); printInternal(e, err); };

  let result: { executions: number; durationMs: number; failures: readonly Failure[]; internalErrors: readonly InternalError[]; complete?: boolean | undefined; workerDeaths?: number; guarantee?: Guarantee | undefined; states?: number | undefined; sleepBlocked?: number | undefined; cuts?: number | undefined };
  if (o.strategy === 'exhaustive') {
    result = runCampaign({ ...o, era, variants, pool: eraPool, fixedActors: o.actors, ...(o.stopOnFailure ? { stopAfterFailures: 1 } : {}) }, {
      now, ...(deps.shrinkClock === 'frozen' ? { shrinkNow: () => 0 } : {}), onFailure, onInternalError, onDuplicate,
      onProgress: (p) => progress.update({ executions: p.executions, failures: p.failures, elapsedMs: p.elapsedMs, timeLeftMs: null, ...(p.pending !== undefined ? { pending: p.pending } : {}) }),
    });
  } else {
    let stopRun = () => {};
    const run = runPool({ ...o, focus: focusSetting, era, variants, actors: eraPool.map((a) => a.name), fixedActors: undefined, ...(pins ? { pins } : {}), load: loadedModules(),
      ...(o.stopOnFailure ? { stopAfterFailures: 1 } : {}),
      ...(deps.shrinkClock ? { shrinkClock: deps.shrinkClock } : {}),
      ...(deps.stepDeadlineMs !== undefined ? { stepDeadlineMs: deps.stepDeadlineMs } : {}) }, {
      now: deps.clock?.now ?? now, ...(deps.clock ? { setTimer: deps.clock.setTimer } : {}), onFailure, onInternalError, onDuplicate,
      onFound: (f) => {
        store.record({ version: 1, key: f.key, kind: f.kind, arch: f.arch, actors: f.actors, token: f.token, shrunk: false });
        // --stop-on-failure: the others stop searching now; the worker that found it still shrinks it.
        if (o.stopOnFailure) stopRun();
      },
      onProgress: (executions, failures) => {
        const elapsedMs = now() - t0;
        progress.update({ executions, failures, elapsedMs, timeLeftMs: o.timeMs === null ? null : o.timeMs - elapsedMs });
      },
      onWorkerDied: (slot, gen, why) => { progress.finish(); err(`mmfuzz: worker ${slot} (generation ${gen}) died: ${oneLine(why, 100)}; ${gen + 1 < 3 ? 'replaced' : 'not replaced again'}`); },
    });
    stopRun = run.stop;
    onSigint(run.stop);
    // --time is honoured within 2 s; shrinking keeps its own budget, and what it had is in the corpus.
    const cancelKill = o.timeMs === null ? () => {} : after(realClock, o.timeMs + o.shrinkMs + 2000, run.kill);
    result = await run.done;
    cancelKill();
  }
  progress.finish();
  const secs = result.durationMs / 1000;
  const rate = Math.round(result.executions / Math.max(0.001, secs));
  const races = groupRaces(result.failures);
  const knownRaces = races.filter((r) => r.race.known).length;
  out('');
  out(`${result.executions} executions in ${secs.toFixed(1)} s (${rate}/s): ${result.failures.length} distinct failure(s)${races.length ? ` in ${races.length} race(s)` : ''}${knownRaces ? `, ${knownRaces} of them known` : ''}${result.internalErrors.length ? `, ${result.internalErrors.length} internal error(s)` : ''}${result.workerDeaths ? `, ${result.workerDeaths} worker death(s)` : ''}${result.complete === true ? '; every schedule within the bound was run' : result.complete === false ? '; the bound was not covered' : ''}${o.stopOnFailure && result.failures.length > 0 ? '; stopped at the first failure (--stop-on-failure)' : ''}`);
  if (result.guarantee) out(guaranteeLine(result.guarantee));
  if (o.strategy === 'exhaustive' && result.complete !== undefined) out(proofLine({ ...result, complete: result.complete, bound: o.preemptions, choices: o.enumerateChoices ?? 0, archs: o.archs }));
  // One block per race (races.ts): what it was seen as, when first, and its shortest trace; every
  // other failure's token under it, so that none is lost.
  races.forEach((r, i) => {
    const f = r.shortest;
    out('');
    out(`--- race ${i + 1} of ${races.length}: ${r.race.title}`);
    out(`    ${r.race.known ? `known race: ${r.race.known} (see docs/known-races.md)` : f.needsVariants ? `needs ${f.variants.join(', ')}` : 'NEW: not a known race'}`);
    out(`    seen as ${r.kinds.join(', ')} on ${r.archs.join(', ')}; actors ${r.actors.join('; ')}`);
    if (r.firstAfter !== null && r.firstAtMs !== null) out(`    first seen after ${r.firstAfter} executions, ${(r.firstAtMs / 1000).toFixed(1)} s`);
    out(`    its shortest trace, ${f.steps} steps:`);
    printFailure(f, announced.get(f.token) ?? ++shown, out, o.diagram);
    for (const g of r.failures) {
      if (g !== f) out(`    also ${g.kind} on ${g.arch} (${g.actors.join(' vs ')}): ${command()} --replay ${g.token}`);
      if (g.otherTokens?.length) out(`    (${g.otherTokens.length} other token(s) printed for ${g.kind} on ${g.arch} replay it too: they are in the corpus entry and the report)`);
    }
  });
  // --affected: which eras and architectures have each race (it costs --affected-time a failure).
  const tables = o.affected ? result.failures.map((f) => affectedTable(replayOf(f.token), o.affectedMs ?? 10_000, deps.affectedMinExecutions)) : null;
  tables?.forEach((t, i) => { if (t) { out(''); out(`=== failure ${i + 1}, releases and architectures:`); out(affectedText(t, o.affectedMs ?? 10_000)); } });
  if (result.failures.length > 0) out(store.writable() ? `failures saved in ${corpus}` : `failures not saved: the corpus ${corpus} can't be written; the tokens above replay them`);
  const verdict = campaignVerdict(result);
  for (const l of verdict.lines) err(l);
  let code = verdict.code;
  if (o.json) {
    const report: Report = {
      version: 1,
      options: { archs: o.archs, era, variants, worlds: o.worlds, actors: o.actors?.map(formatCall) ?? null, enumerateChoices: o.enumerateChoices === Infinity ? 'all' : o.enumerateChoices, strategy: o.strategy, depth: o.depth, preemptions: o.preemptions === Infinity ? 'none' : o.preemptions, timeMs: o.timeMs, runs: o.runs, seed: o.seed, shrinkMs: o.shrinkMs, workers: o.workers, shard: `${o.shard.index}/${o.shard.count}`, ops: o.opsPerThread,
        ...(focus !== null && aimed ? { focus: o.focus === 'off' ? 'off' : focus } : {}) },
      executions: result.executions, execsPerSec: rate, durationMs: Math.round(result.durationMs),
      failures: result.failures.map((f, i) => ({ ...reportFailure(f), ...(tables?.[i] ? { affected: tables[i] } : {}) })),
      races: reportRaces(result.failures.map(reportFailure)),
      internalErrors: result.internalErrors,
      ...(result.workerDeaths ? { workerDeaths: result.workerDeaths } : {}),
      ...(result.complete !== undefined ? {
        complete: result.complete, preemptionBound: o.preemptions === Infinity ? null : o.preemptions, schedules: result.executions,
        ...(result.states !== undefined ? { states: result.states } : {}), ...(result.sleepBlocked !== undefined ? { sleepBlocked: result.sleepBlocked } : {}),
        ...(result.cuts !== undefined ? { cuts: result.cuts } : {}),
      } : {}),
      ...(result.guarantee ? { guarantee: result.guarantee } : {}),
    };
    try {
      writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    } catch (e) {
      err(`mmfuzz: the report could not be written to ${echoPath(o.json)} (${(e as NodeJS.ErrnoException).code ?? String(e)}); the summary above is all there is`);
      if (code === 0) code = 3;
    }
  }
  if (o.junit) {
    try {
      writeFileSync(o.junit, junitXml({ name: `mmfuzz ${era}`, executions: result.executions, durationMs: result.durationMs, races: reportRaces(result.failures.map(reportFailure)), internalErrors: result.internalErrors, workerDeaths: result.workerDeaths ?? 0 }));
    } catch (e) {
      err(`mmfuzz: the JUnit report could not be written to ${echoPath(o.junit)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      if (code === 0) code = 3;
    }
  }
  if (o.html) {
    if (races.length === 0) out(`no race to show: ${o.html} not written`);
    else {
      const bad = await writeViewer(o.html, races.map((r) => ({ title: r.race.title, token: r.shortest.token })), deps, {});
      if (bad) err(`mmfuzz: the page could not be written to ${echoPath(o.html)} (${oneLine(bad, 80)})`);
      else out(`trace viewer of ${races.length} race(s) written to ${o.html}`);
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
    if (o.version) { out(version()); return 0; }
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

/** Run as a command: `node dist/fuzz/main.js`, or the `mmfuzz` bin (a symlink npm makes to it). */
const isMain = (() => {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
})();

if (isMain) {
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
