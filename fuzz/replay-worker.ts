// Replays run in a worker thread, so that an actor whose step never returns cannot hang the command
// line: the main thread watches the heartbeat (watchdog.ts), ends the worker and names the actor.

import { parentPort, workerData } from 'node:worker_threads';
import { execute, watchExecutions } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken, TokenError } from '../src/explore/token.js';
import { renderTrace, traceJson, type JsonTrace } from '../src/explore/trace.js';
import { ModelError } from '../src/mm/errors.js';
import { buildScenario } from '../src/mm/scenario.js';
import { snapshotModel, type ModelSnapshot } from '../src/mm/snapshot.js';
import { loadModules } from './load.js';
import { changerOf } from './races.js';
import { UsageError } from './options.js';

export interface ReplayJob {
  readonly load: readonly string[];
  readonly tokens: readonly string[];
  /** Render the trace (text and JSON) of each. */
  readonly trace: boolean;
  /** Replay with these switches instead of the token's (--variant), or as recorded (undefined). */
  readonly variants?: readonly string[];
  readonly era?: string;
  readonly heartbeat: SharedArrayBuffer;
  /** With `trace`: a snapshot of the model before the first step and after each step (--html). */
  readonly snapshots?: boolean;
}

/** What the viewer needs beyond the JSON trace: the model at each step, and the step that changed
 *  what the violation used (races.ts). */
export interface ReplayView {
  readonly snapshots: readonly ModelSnapshot[];
  readonly changedStep: number | null;
}

export type ReplayMessage =
  | { readonly t: 'ran'; readonly i: number; readonly kind: string | null; readonly text?: string; readonly json?: JsonTrace; readonly view?: ReplayView }
  | { readonly t: 'error'; readonly i: number; readonly message: string; readonly usage: boolean };

const job = workerData as ReplayJob;
const port = parentPort;
if (!port) throw new Error('replay-worker.js runs as a worker thread');
await loadModules(job.load);
watchExecutions(job.heartbeat);
job.tokens.forEach((token, i) => {
  try {
    const r = decodeToken(token);
    const spec = { ...r.spec, ...(job.era !== undefined ? { era: job.era } : {}), ...(job.variants !== undefined ? { variants: job.variants } : {}) };
    const scenario = buildScenario(spec);
    const snapshots: ModelSnapshot[] = [];
    const names = scenario.actors.map((a) => a.name);
    const exec = execute(scenario, follow(r.schedule), { trace: job.trace, ...(job.snapshots ? { onStep: (m) => { snapshots.push(snapshotModel(m, names)); } } : {}) });
    const kind = exec.violation?.kind ?? null;
    const view: ReplayView | undefined = job.snapshots ? { snapshots, changedStep: exec.violation ? changerOf(exec, exec.violation)?.step ?? null : null } : undefined;
    port.postMessage(job.trace
      ? { t: 'ran', i, kind, text: renderTrace({ scenario, schedule: r.schedule, exec }), json: traceJson({ scenario, schedule: r.schedule, exec }), ...(view ? { view } : {}) } satisfies ReplayMessage
      : { t: 'ran', i, kind } satisfies ReplayMessage);
  } catch (e) {
    const usage = e instanceof TokenError || e instanceof ModelError || e instanceof UsageError;
    port.postMessage({ t: 'error', i, message: e instanceof Error ? e.message : String(e), usage } satisfies ReplayMessage);
  }
});
watchExecutions(null);
