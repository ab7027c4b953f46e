// --diagram and --affected: from a failure (a replay token) to a bug report. The diagram for the
// commit message, and which eras and architectures have the race. Both run on the main thread, after
// the failure was replayed under the watchdog (so its actors are known to return from their steps).

import { affected, renderAffected, type AffectedTable } from '../src/explore/affected.js';
import { diagramOf } from '../src/explore/diagram.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken, type Replay } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
import { allVariants } from '../src/mm/switches.js';
import { cpuMs } from './timers.js';

/** The token's contents, with --era and --variant applied as --replay applies them. */
export function replayOf(token: string, over: { readonly era?: string | undefined; readonly variants?: readonly string[] | undefined } = {}): Replay {
  const r = decodeToken(token);
  return {
    spec: { ...r.spec, ...(over.era !== undefined ? { era: over.era } : {}), ...(over.variants !== undefined ? { variants: over.variants } : {}) },
    schedule: r.schedule,
  };
}

/** The diagram's text, or null when the replay ends clean. */
export function diagramText(r: Replay): string | null {
  const scn = buildScenario(r.spec);
  const exec = execute(scn, follow(r.schedule), { trace: true });
  if (!exec.violation) return null;
  const d = diagramOf(scn, r.schedule, exec);
  const head = `${scn.archId}, era ${scn.sw.era}${scn.sw.variants.length ? `, variants ${scn.sw.variants.join(', ')}` : ''}: ${d.kept.length} of ${exec.trace.length} steps`;
  return `${head}\n\n${d.text}`;
}

/** Executions per search at most, whatever the time budget. */
export const AFFECTED_MAX_EXECUTIONS = 20_000;

/** Executions per search at least, whatever the time budget (so that a loaded machine still searches). */
export const AFFECTED_MIN_EXECUTIONS = 300;

/** The table, within `totalMs` of CPU time (cpuMs(): a loaded machine gets the same searches done, only
 *  later) for all its searches (each gets an even share of what is left), or null when the
 *  replay ends clean. */
export function affectedTable(r: Replay, totalMs: number, minExecutions = AFFECTED_MIN_EXECUTIONS, now: () => number = cpuMs): AffectedTable | null {
  const scn = buildScenario(r.spec);
  if (!execute(scn, follow(r.schedule)).violation) return null;
  return affected(r, { executions: AFFECTED_MAX_EXECUTIONS, minExecutions, totalMs, now });
}

export function affectedText(t: AffectedTable, totalMs: number): string {
  const tags = t.variants.map((id) => allVariants().find((v) => v.id === id)?.tag ?? id);
  return `${renderAffected(t)}\n(each search: the failure's schedule, then every schedule within 0..3 preemptions, then PCT samples; ${totalMs / 1000} s of CPU time for the table${tags.length ? `; "without": ${tags.join(',')} off, the era's own code` : ''})`;
}
