// Replaying tokens (--replay, and the corpus before a campaign) in a worker thread under the watchdog:
// a token whose actor never returns from a step is reported by name instead of hanging mmfuzz.

import { Worker } from 'node:worker_threads';
import type { JsonTrace } from '../src/explore/trace.js';
import { loadedModules } from './load.js';
import type { ReplayJob, ReplayMessage, ReplayView } from './replay-worker.js';
import { realClock, type Clock } from './timers.js';
import { newHeartbeat, STEP_DEADLINE_MS, watchdog, type Stuck } from './watchdog.js';

export type ReplayOutcome =
  | { readonly t: 'ran'; readonly kind: string | null; readonly text?: string; readonly json?: JsonTrace; readonly view?: ReplayView }
  | { readonly t: 'error'; readonly message: string; readonly usage: boolean }
  | { readonly t: 'hung'; readonly stuck: Stuck };

export interface ReplayOptions {
  readonly trace: boolean;
  /** With `trace`: the model at each step, for --html. */
  readonly snapshots?: boolean;
  readonly variants?: readonly string[];
  readonly era?: string;
  readonly clock?: Clock;
  readonly stepDeadlineMs?: number;
  /** Given a function that ends the replay (Ctrl-C). */
  readonly onStart?: (kill: () => void) => void;
}

/** Replay each token, in order, one worker at a time; a token that hangs is ended and the rest go on
 *  in a new worker. */
export async function runReplays(tokens: readonly string[], o: ReplayOptions): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const clock = o.clock ?? realClock;
  const deadlineMs = o.stepDeadlineMs ?? STEP_DEADLINE_MS;
  let killed = false;
  while (outcomes.length < tokens.length && !killed) {
    const from = outcomes.length;
    const heartbeat = newHeartbeat();
    const job: ReplayJob = {
      load: loadedModules(), tokens: tokens.slice(from), trace: o.trace, heartbeat, ...(o.snapshots ? { snapshots: true } : {}),
      ...(o.variants !== undefined ? { variants: o.variants } : {}), ...(o.era !== undefined ? { era: o.era } : {}),
    };
    await new Promise<void>((resolve) => {
      const w = new Worker(new URL('./replay-worker.js', import.meta.url), { workerData: job });
      o.onStart?.(() => { killed = true; void w.terminate(); });
      const unwatch = watchdog(heartbeat, clock, deadlineMs, (stuck) => {
        outcomes.push({ t: 'hung', stuck });
        void w.terminate();
      });
      w.on('message', (m: ReplayMessage) => {
        outcomes.push(m.t === 'ran' ? { t: 'ran', kind: m.kind, ...(m.text !== undefined ? { text: m.text } : {}), ...(m.json !== undefined ? { json: m.json } : {}), ...(m.view !== undefined ? { view: m.view } : {}) }
          : { t: 'error', message: m.message, usage: m.usage });
      });
      const end = (why: string | null) => {
        unwatch();
        // A worker that died without a word (a module that ends its thread): the rest are not run.
        if (why !== null && outcomes.length < tokens.length && !killed && outcomes.length === from) {
          outcomes.push({ t: 'error', message: `the replay's worker died: ${why}`, usage: false });
        }
        resolve();
      };
      w.on('error', (e) => end(e instanceof Error ? e.message : String(e)));
      w.on('exit', (code) => end(code === 0 ? null : `exited with code ${code}`));
    });
    if (outcomes.length === from) break;
  }
  return outcomes;
}
