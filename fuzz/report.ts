// The JSON report a campaign writes, and merging reports from several machines (shards).

import type { Failure, Guarantee, InternalError } from './campaign.js';
import { failureKey } from './campaign.js';
import { UsageError } from './options.js';
import { groupRaces, raceFrom, type Race, type RaceSite } from './races.js';

/** What a report keeps of a failure (the campaign's timings stay out, but when it was first seen). */
export type ReportFailure = Pick<Failure, 'kind' | 'actors' | 'arch' | 'era' | 'variants' | 'depth' | 'known' | 'needsVariants' | 'minimal' | 'token' | 'trace'>
  & { readonly traceJson?: Failure['traceJson']; readonly world?: string; readonly otherTokens?: readonly string[];
    readonly race?: Race; readonly steps?: number; readonly seenAfter?: number; readonly seenAtMs?: number;
    readonly foundBy?: Failure['foundBy']; readonly pctDepth?: number | null };

/** One race (races.ts) in a report: what it was seen as, when first, and its failures, the one with
 *  the shortest trace first. */
export interface ReportRace {
  readonly title: string;
  readonly key: string;
  readonly known: string | null;
  readonly used: RaceSite;
  readonly changed: RaceSite | null;
  readonly kinds: readonly string[];
  readonly archs: readonly string[];
  readonly actors: readonly string[];
  /** Executions and milliseconds into the campaign when its first failure was seen (null: unknown,
   *  as in reports merged from older versions). */
  readonly firstFoundExecutions: number | null;
  readonly firstFoundMs: number | null;
  /** The token of its shortest failure (failures[0]). */
  readonly shortest: string;
  readonly failures: readonly ReportFailure[];
}

export interface Report {
  readonly version: 1;
  readonly options: Readonly<Record<string, unknown>>;
  readonly executions: number;
  readonly execsPerSec: number;
  readonly durationMs: number;
  /** Every failure, one per kind, architecture and actors (as version 1 always had). */
  readonly failures: readonly ReportFailure[];
  /** The same failures grouped by race: one entry per race, with its failures inside. */
  readonly races?: readonly ReportRace[];
  readonly internalErrors: readonly InternalError[];
  /** Workers that died (and were replaced, or not): a campaign with any is not clean. */
  readonly workerDeaths?: number;
  /** Exhaustive: every schedule with at most `preemptionBound` preemptions was run (null: no bound,
   *  every schedule up to partial-order equivalence, by DPOR). */
  readonly complete?: boolean;
  readonly preemptionBound?: number | null;
  /** Exhaustive: schedules run; without a bound also the distinct states reached and the schedules
   *  cut short as equivalent to one already run (sleep sets). */
  readonly schedules?: number;
  readonly states?: number;
  readonly sleepBlocked?: number;
  /** Exhaustive without a bound: the schedules cut at a state explored before (stateful DPOR). */
  readonly cuts?: number;
  /** PCT: what the runs promise about a bug of depth ≤ d (campaign.ts, Guarantee). */
  readonly guarantee?: Guarantee;
}

/** The summary's line for an exhaustive search: what it proved, within which bound. */
export function proofLine(r: { readonly complete: boolean; readonly bound: number; readonly choices: number; readonly executions: number;
  readonly failures: readonly unknown[]; readonly states?: number | undefined; readonly sleepBlocked?: number | undefined; readonly cuts?: number | undefined; readonly archs: readonly string[] }): string {
  const within = r.bound === Infinity ? 'every schedule (no preemption bound; DPOR runs one per class of equivalent schedules)' : `every schedule with at most ${r.bound} preemption(s)`;
  const data = r.choices === 0 ? 'data choices fixed at 0' : r.choices === Infinity ? 'every data choice' : `data choices with at most ${r.choices} away from 0`;
  const counts = `${r.executions} schedule(s) run${r.states !== undefined ? `, ${r.states} distinct state(s)` : ''}${r.sleepBlocked ? `, ${r.sleepBlocked} cut short as equivalent` : ''}${r.cuts !== undefined ? `, ${r.cuts} cut at a state seen before` : ''}`;
  if (!r.complete && r.failures.length > 0) return `exhaustive: stopped at a failure, within ${within}, ${data} (${counts})`;
  if (!r.complete) return `exhaustive: NOT proven: the search stopped before covering ${within} (${counts})`;
  return r.failures.length === 0
    ? `exhaustive: proven clean on ${r.archs.join(', ')}: ${within}, ${data} (${counts})`
    : `exhaustive: ${within} run, ${data} (${counts})`;
}

/** The summary's line for PCT's promise. */
export function guaranteeLine(g: Guarantee): string {
  const pc = (p: number) => `${(100 * p).toPrecision(3)}%`;
  return `PCT: a bug of depth ≤ ${g.depth} (preemptions + 1) in any of the ${g.scenarios} scenario(s) run would have been found with probability ≥ ${pc(g.minP)} (median scenario ${pc(g.medianP)})`;
}

export function reportFailure(f: Failure): ReportFailure {
  return {
    kind: f.kind, actors: f.actors, arch: f.arch, era: f.era, variants: f.variants, world: f.world, depth: f.depth, known: f.known,
    needsVariants: f.needsVariants, minimal: f.minimal, token: f.token, trace: f.trace, traceJson: f.traceJson,
    ...(f.otherTokens?.length ? { otherTokens: f.otherTokens } : {}),
    race: f.race, steps: f.steps, seenAfter: f.seenAfter, seenAtMs: Math.round(f.seenAtMs),
    ...(f.foundBy ? { foundBy: f.foundBy } : {}),
    ...(f.pctDepth !== undefined ? { pctDepth: f.pctDepth } : {}),
  };
}

/** A report failure's race: as recorded, or (a report from before races) read off its JSON trace's
 *  violation, or at worst its kind, architecture and actors. */
function raceOfReported(f: ReportFailure): Race {
  if (f.race) return f.race;
  const v = f.traceJson?.violation;
  if (v) return raceFrom(v.usedBy, v.changedBy, v.changedBy !== null, f.known ?? null);
  return raceFrom({ step: 0, actor: 0, name: f.actors.join(' vs '), label: f.kind }, null, false, f.known ?? null);
}

/** Failures grouped into races, for the report. */
export function reportRaces(failures: readonly ReportFailure[]): ReportRace[] {
  const g = groupRaces(failures.map((f) => ({ ...f, race: raceOfReported(f), steps: f.steps ?? f.traceJson?.steps.length ?? f.trace.split('\n').length, report: f })));
  return g.map((r) => ({
    title: r.race.title, key: r.race.key, known: r.race.known, used: r.race.used, changed: r.race.changed,
    kinds: r.kinds, archs: r.archs, actors: r.actors,
    firstFoundExecutions: r.firstAfter, firstFoundMs: r.firstAtMs === null ? null : Math.round(r.firstAtMs),
    shortest: r.shortest.token,
    failures: [r.shortest.report, ...r.failures.filter((f) => f !== r.shortest).map((f) => f.report)],
  }));
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((y) => typeof y === 'string');
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** What is wrong with a failure of a report, or null. */
function failureProblem(x: unknown): string | null {
  if (!isRecord(x)) return 'is not an object';
  for (const k of ['kind', 'arch', 'era', 'token', 'trace'] as const) if (typeof x[k] !== 'string') return `lacks '${k}'`;
  if (!isStrings(x['actors'])) return "lacks 'actors'";
  if (!isStrings(x['variants'])) return "lacks 'variants'";
  if (!isCount(x['depth'])) return "lacks 'depth'";
  return null;
}

/** What is wrong with a parsed report, or null. */
function reportProblem(x: unknown): string | null {
  if (!isRecord(x) || x['version'] !== 1) return 'is not an mmfuzz report (version 1)';
  for (const k of ['executions', 'durationMs'] as const) if (!isCount(x[k])) return `is not an mmfuzz report: it lacks '${k}'`;
  if (x['execsPerSec'] !== undefined && !isCount(x['execsPerSec'])) return "is not an mmfuzz report: 'execsPerSec' is not a number";
  if (!Array.isArray(x['failures'])) return "is not an mmfuzz report: it lacks 'failures'";
  for (const [i, f] of x['failures'].entries()) {
    const bad = failureProblem(f);
    if (bad) return `is not an mmfuzz report: failures[${i}] ${bad}`;
  }
  const errors = x['internalErrors'];
  if (errors !== undefined && !(Array.isArray(errors) && errors.every((e) => isRecord(e) && typeof e['message'] === 'string' && typeof e['arch'] === 'string' && typeof e['token'] === 'string' && isStrings(e['actors'])))) {
    return "is not an mmfuzz report: 'internalErrors' is malformed";
  }
  return null;
}

/** Parse a report file's text; a file that is not a version-1 report is a usage error. */
export function parseReport(name: string, text: string): Report {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    throw new UsageError(`merge: '${name}' is not JSON`);
  }
  const bad = reportProblem(x);
  if (bad) throw new UsageError(`merge: '${name}' ${bad}`);
  const r = x as Report;
  return { ...r, options: isRecord(r.options) ? r.options : {}, execsPerSec: r.execsPerSec ?? 0, internalErrors: r.internalErrors ?? [] };
}

/** `keep`, carrying the tokens of `drop` (the same failure from another shard), so that a token
 *  printed on any machine is still in the merged report. */
function withOthers(keep: ReportFailure, drop: ReportFailure): ReportFailure {
  const others = [...new Set([...(keep.otherTokens ?? []), drop.token, ...(drop.otherTokens ?? [])])].filter((t) => t !== keep.token);
  return others.length > 0 ? { ...keep, otherTokens: others } : keep;
}

/** Shards ran side by side: executions add up, the duration is the longest, failures are deduplicated
 *  by kind, architecture and actors (keeping the one of least depth). */
export function mergeReports(reports: readonly Report[]): Report {
  const byKey = new Map<string, ReportFailure>();
  for (const r of reports) {
    for (const f of r.failures) {
      const k = failureKey(f.kind, f.arch, f.actors);
      const old = byKey.get(k);
      byKey.set(k, !old ? f : f.depth < old.depth ? withOthers(f, old) : withOthers(old, f));
    }
  }
  const executions = reports.reduce((a, r) => a + r.executions, 0);
  const durationMs = Math.max(0, ...reports.map((r) => r.durationMs));
  const errors = new Map<string, InternalError>();
  for (const r of reports) for (const e of r.internalErrors) errors.set(`${e.message}|${failureKey('', e.arch, e.actors)}`, e);
  return {
    version: 1,
    options: { merged: reports.length, shards: reports.map((r) => r.options) },
    executions,
    execsPerSec: reports.reduce((a, r) => a + r.execsPerSec, 0),
    durationMs,
    failures: [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, f]) => f),
    races: reportRaces([...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, f]) => f)),
    internalErrors: [...errors.values()],
    ...(reports.some((r) => r.workerDeaths) ? { workerDeaths: reports.reduce((a, r) => a + (r.workerDeaths ?? 0), 0) } : {}),
  };
}
