// One campaign worker (worker_threads): runs its share of the campaign and reports each failure the
// moment it is seen, again once it is shrunk, and its progress. The main thread asks it to stop
// through a shared flag, since the campaign loop never yields to the event loop.

import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { watchExecutions } from '../src/explore/executor.js';
import { findActor } from '../src/mm/scenario.js';
import { runCampaign, type CampaignConfig, type Failure, type Found, type Guarantee, type InternalError } from './campaign.js';
import { loadModules } from './load.js';

export interface WorkerJob extends Omit<CampaignConfig, 'pool'> {
  readonly actors: readonly string[];
  /** User modules to load first (--load), so that their actors can be found by name. */
  readonly load?: readonly string[];
  /** Int32Array over it: 1 means stop. */
  readonly stop: SharedArrayBuffer;
  /** Test hook: fail as if the worker crashed after this many stop checks. */
  readonly crashAfter?: number;
  /** The executor's heartbeat, which the pool's watchdog reads (watchdog.ts). */
  readonly heartbeat?: SharedArrayBuffer;
  /** Tests: shrink on a clock that never moves (no function crosses to a worker, so it is named). */
  readonly shrinkClock?: 'frozen';
}

export type WorkerMessage =
  | { readonly t: 'progress'; readonly executions: number }
  | { readonly t: 'found'; readonly found: Found; readonly executions: number }
  | { readonly t: 'failure'; readonly failure: Failure }
  | { readonly t: 'duplicate'; readonly foundKey: string; readonly key: string }
  | { readonly t: 'internal'; readonly error: InternalError }
  | { readonly t: 'done'; readonly executions: number; readonly complete: boolean | undefined; readonly guarantee?: Guarantee | undefined };

function run(job: WorkerJob): void {
  const port = parentPort;
  if (!port) throw new Error('worker.js runs as a worker thread');
  const post = (m: WorkerMessage) => port.postMessage(m);
  const stop = new Int32Array(job.stop);
  let checks = 0;
  let executions = 0;
  const r = runCampaign({ ...job, pool: job.actors.map((a) => findActor(a)) }, {
    now: () => performance.now(),
    ...(job.shrinkClock === 'frozen' ? { shrinkNow: () => 0 } : {}),
    stop: () => {
      if (job.crashAfter !== undefined && ++checks > job.crashAfter) throw new Error('injected worker crash (test)');
      return Atomics.load(stop, 0) === 1;
    },
    onProgress: (p) => { executions = p.executions; post({ t: 'progress', executions }); },
    onFound: (found) => post({ t: 'found', found, executions }),
    onFailure: (failure) => post({ t: 'failure', failure }),
    onDuplicate: (foundKey, key) => post({ t: 'duplicate', foundKey, key }),
    onInternalError: (error) => post({ t: 'internal', error }),
  });
  watchExecutions(null);
  post({ t: 'done', executions: r.executions, complete: r.complete, guarantee: r.guarantee });
}

const job = workerData as WorkerJob;
await loadModules(job.load ?? []);
watchExecutions(job.heartbeat ?? null);
run(job);
