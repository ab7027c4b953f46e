// The JSON report a campaign writes, and merging reports from several machines (shards).

import type { Failure, InternalError } from './campaign.js';
import { failureKey } from './campaign.js';
import { UsageError } from './options.js';

/** What a report keeps of a failure (the campaign's timings stay out). */
export type ReportFailure = Pick<Failure, 'kind' | 'actors' | 'arch' | 'era' | 'variants' | 'depth' | 'known' | 'needsVariants' | 'minimal' | 'token' | 'trace'>
  & { readonly traceJson?: Failure['traceJson']; readonly world?: string };

export interface Report {
  readonly version: 1;
  readonly options: Readonly<Record<string, unknown>>;
  readonly executions: number;
  readonly execsPerSec: number;
  readonly durationMs: number;
  readonly failures: readonly ReportFailure[];
  readonly internalErrors: readonly InternalError[];
}

export function reportFailure(f: Failure): ReportFailure {
  return {
    kind: f.kind, actors: f.actors, arch: f.arch, era: f.era, variants: f.variants, world: f.world, depth: f.depth, known: f.known,
    needsVariants: f.needsVariants, minimal: f.minimal, token: f.token, trace: f.trace, traceJson: f.traceJson,
  };
}

function isReport(x: unknown): x is Report {
  const r = x as Partial<Report> | null;
  return !!r && r.version === 1 && typeof r.executions === 'number' && typeof r.durationMs === 'number' && Array.isArray(r.failures);
}

/** Parse a report file's text; a file that is not a version-1 report is a usage error. */
export function parseReport(name: string, text: string): Report {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    throw new UsageError(`merge: ${name} is not JSON`);
  }
  if (!isReport(x)) throw new UsageError(`merge: ${name} is not an mmfuzz report (version 1)`);
  return { ...x, internalErrors: x.internalErrors ?? [] };
}

/** Shards ran side by side: executions add up, the duration is the longest, failures are deduplicated
 *  by kind, architecture and actors (keeping the one of least depth). */
export function mergeReports(reports: readonly Report[]): Report {
  const byKey = new Map<string, ReportFailure>();
  for (const r of reports) {
    for (const f of r.failures) {
      const k = failureKey(f.kind, f.arch, f.actors);
      const old = byKey.get(k);
      if (!old || f.depth < old.depth) byKey.set(k, f);
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
    internalErrors: [...errors.values()],
  };
}
