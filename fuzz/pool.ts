// A campaign across worker threads, bounded by p-limit. Each worker slot runs a deterministic stream
// of seeds derived from the campaign's seed, the shard and the slot, so that the same seed, shard and
// worker count give the same campaign. A worker that dies is reported and replaced (a new generation,
// a new seed), and the campaign does not wait for it.

import pLimit from 'p-limit';
import { Worker } from 'node:worker_threads';
import { splitmix32 } from '../src/explore/schedulers.js';
import { failureKey, type CampaignConfig, type Failure, type Found, type Guarantee, type InternalError } from './campaign.js';
import { after, realClock, type Clock } from './timers.js';
import { newHeartbeat, STEP_DEADLINE_MS, stuckMessage, watchdog } from './watchdog.js';
import type { WorkerJob, WorkerMessage } from './worker.js';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export interface PoolConfig extends Omit<CampaignConfig, 'pool'> {
  readonly actors: readonly string[];
  /** User modules each worker loads before it runs (--load). */
  readonly load?: readonly string[];
  readonly workers: number;
  readonly shard: Shard;
  /** Test hook: the worker in this slot and generation crashes after a number of stop checks. */
  readonly crash?: (slot: number, generation: number) => number | undefined;
  /** A step that has not returned after this long never will (default STEP_DEADLINE_MS). */
  readonly stepDeadlineMs?: number;
  /** Tests: the workers shrink on a clock that never moves, so that what a shrink gives does not
   *  depend on the machine's load (the campaign's --time still runs on the real clock). */
  readonly shrinkClock?: 'frozen';
}

export interface PoolHooks {
  readonly now: () => number;
  /** Timers on the same clock as `now` (tests inject both); by default setTimeout. */
  readonly setTimer?: Clock['setTimer'];
  readonly onFound?: (f: Found) => void;
  /** A distinct failure, shrunk; again (with the earlier tokens in otherTokens) when a lower slot
   *  finds the same one. */
  readonly onFailure?: (f: Failure) => void;
  /** A failure first seen under `foundKey` turned out to be `key`, which is already kept. */
  readonly onDuplicate?: (foundKey: string, key: string) => void;
  readonly onInternalError?: (e: InternalError) => void;
  readonly onProgress?: (executions: number, failures: number) => void;
  readonly onWorkerDied?: (slot: number, generation: number, why: string) => void;
}

export interface PoolResult {
  readonly executions: number;
  readonly durationMs: number;
  /** One per distinct failure, by key; where workers found the same one, the lowest (slot, run). */
  readonly failures: readonly Failure[];
  readonly internalErrors: readonly InternalError[];
  readonly workerDeaths: number;
  /** PCT's promise: the weakest a worker's scenarios give (a scenario two workers ran is counted
   *  at each one's share of the runs, which only understates it). */
  readonly guarantee?: Guarantee;
}

const MAX_GENERATIONS = 3;

export interface Kept {
  readonly failure: Failure;
  readonly rank: readonly [number, number];
}

/** Keep, for each distinct failure, the one of the lowest (slot, run), so that the same seed gives
 *  the same report. Returns the failure to announce when `f` is kept (carrying the tokens announced
 *  before it for the same failure, so that each printed token stays findable), or null when an
 *  earlier-ranked one is kept already. */
export function keepBest(best: Map<string, Kept>, f: Failure, rank: readonly [number, number]): Failure | null {
  const key = failureKey(f.kind, f.arch, f.actors);
  const old = best.get(key);
  if (old && (old.rank[0] < rank[0] || (old.rank[0] === rank[0] && old.rank[1] <= rank[1]))) return null;
  const others = old ? [...(old.failure.otherTokens ?? []), old.failure.token].filter((t) => t !== f.token) : [];
  const kept: Failure = others.length > 0 ? { ...f, otherTokens: others } : f;
  best.set(key, { failure: kept, rank });
  return kept;
}

/** The seed of one worker's stream: a function of the campaign seed, the shard, the slot and the
 *  generation (a replaced worker gets a fresh stream). */
export function workerSeed(seed: number, shard: Shard, slot: number, generation: number): number {
  const mix = splitmix32((seed ^ Math.imul(shard.index + 1, 0x9e3779b1) ^ Math.imul(shard.count, 0x85ebca6b)) >>> 0);
  let s = mix();
  for (let i = 0; i <= slot * MAX_GENERATIONS + generation; i++) s = mix();
  return s;
}

export function runPool(cfg: PoolConfig, hooks: PoolHooks, stopFlag = new SharedArrayBuffer(4)): { done: Promise<PoolResult>; stop: () => void; kill: () => void } {
  const t0 = hooks.now();
  const stop = new Int32Array(stopFlag);
  const limit = pLimit(cfg.workers);
  const clock: Clock = { now: hooks.now, setTimer: hooks.setTimer ?? realClock.setTimer };
  const deadlineMs = cfg.stepDeadlineMs ?? STEP_DEADLINE_MS;
  /** Actors whose step never returned: replaced workers run without them. */
  const hung = new Set<string>();
  const live = new Set<Worker>();
  const counts: number[] = [];
  const best = new Map<string, Kept>();
  const internal: InternalError[] = [];
  let deaths = 0;
  const total = () => counts.reduce((a, b) => a + b, 0);
  const runsFor = (slot: number) => cfg.runs === null ? null : Math.floor(cfg.runs / cfg.workers) + (slot < cfg.runs % cfg.workers ? 1 : 0);

  const runSlot = (slot: number, generation: number, doneBefore: number): Promise<void> => new Promise((resolve) => {
    const elapsed = hooks.now() - t0;
    const timeMs = cfg.timeMs === null ? null : Math.max(1, cfg.timeMs - elapsed);
    const runs = runsFor(slot);
    const crashAfter = cfg.crash?.(slot, generation);
    // Only plain data crosses to the worker (structured clone): not the pool's own settings.
    const { crash: _crash, workers: _workers, shard: _shard, stepDeadlineMs: _deadline, ...campaign } = cfg;
    const heartbeat = newHeartbeat();
    const job: WorkerJob = {
      ...campaign, actors: cfg.actors.filter((a) => !hung.has(a)),
      seed: workerSeed(cfg.seed, cfg.shard, slot, generation), timeMs, runs: runs === null ? null : Math.max(1, runs - doneBefore),
      stop: stopFlag, heartbeat, ...(crashAfter !== undefined ? { crashAfter } : {}),
      ...(cfg.strategy === 'portfolio' ? { portfolioSlot: { slot, workers: cfg.workers } } : {}),
    };
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: job });
    live.add(w);
    // A step that never returns holds the worker: the watchdog ends it and names the actor, which
    // the replacement runs without.
    let stuck = false;
    const unwatch = watchdog(heartbeat, clock, deadlineMs, (s) => {
      stuck = true;
      const actor = s.actor.replace(/#\d+$/, '');
      hung.add(actor);
      const e: InternalError = { message: `${stuckMessage(s, deadlineMs)} (left out of the rest of the campaign)`, actors: [actor], arch: s.arch, token: '' };
      internal.push(e);
      hooks.onInternalError?.(e);
      void w.terminate();
    });
    let finished = false;
    let mine = 0;
    /** When each failure this worker found was first seen, across the whole campaign. */
    const seen = new Map<string, { after: number; ms: number }>();
    w.on('message', (m: WorkerMessage) => {
      switch (m.t) {
        case 'progress': mine = m.executions; counts[slot] = doneBefore + mine; hooks.onProgress?.(total(), best.size); break;
        case 'found':
          if (!seen.has(m.found.key)) seen.set(m.found.key, { after: total() - (counts[slot] ?? 0) + doneBefore + (m.found.after ?? m.executions), ms: hooks.now() - t0 });
          hooks.onFound?.(m.found);
          break;
        case 'internal': internal.push(m.error); hooks.onInternalError?.(m.error); break;
        case 'failure': {
          const at = seen.get(m.failure.foundKey);
          const f: Failure = at ? { ...m.failure, seenAfter: at.after, seenAtMs: at.ms } : m.failure;
          const kept = keepBest(best, f, [slot, doneBefore + m.failure.foundAfter]);
          if (kept) hooks.onFailure?.(kept);
          else hooks.onDuplicate?.(f.foundKey, failureKey(f.kind, f.arch, f.actors));
          break;
        }
        case 'duplicate': hooks.onDuplicate?.(m.foundKey, m.key); break;
        case 'done': finished = true; counts[slot] = doneBefore + m.executions; if (m.guarantee) guarantees.push(m.guarantee); break;
      }
    });
    let ended = false;
    const end = (why: string | null) => {
      if (ended) return;
      ended = true;
      unwatch();
      live.delete(w);
      if (finished || why === null) return resolve();
      if (!stuck) {
        deaths++;
        hooks.onWorkerDied?.(slot, generation, why);
      }
      const timeLeft = cfg.timeMs === null || hooks.now() - t0 < cfg.timeMs;
      const actorsLeft = cfg.actors.some((a) => !hung.has(a));
      if (generation + 1 < MAX_GENERATIONS && timeLeft && actorsLeft && Atomics.load(stop, 0) === 0) {
        resolve(runSlot(slot, generation + 1, counts[slot] ?? doneBefore));
      } else {
        resolve();
      }
    };
    w.on('error', (e) => end(e instanceof Error ? e.message : String(e)));
    w.on('exit', (code) => end(finished ? null : `exited with code ${code}`));
  });

  // The deadline is the pool's, not each worker's: a worker's clock starts only once it has loaded.
  const cancelDeadline = cfg.timeMs === null ? () => {} : after(clock, cfg.timeMs, () => Atomics.store(stop, 0, 1));
  const guarantees: Guarantee[] = [];
  const done = Promise.all(Array.from({ length: cfg.workers }, (_, slot) => limit(() => runSlot(slot, 0, 0)))).then(() => {
    cancelDeadline();
  }).then(() => ({
    executions: total(),
    ...(guarantees.length ? { guarantee: guarantees.reduce((a, b) => ({ depth: a.depth, scenarios: a.scenarios + b.scenarios, minP: Math.min(a.minP, b.minP), medianP: Math.min(a.medianP, b.medianP) })) } : {}),
    durationMs: hooks.now() - t0,
    failures: [...best.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v.failure),
    internalErrors: internal,
    workerDeaths: deaths,
  }));
  return {
    done,
    stop: () => Atomics.store(stop, 0, 1),
    kill: () => { for (const w of live) void w.terminate(); },
  };
}
