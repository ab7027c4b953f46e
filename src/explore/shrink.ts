// Shrinking a failure to its minimal interleaving. Minimal means, in this order: fewest actors
// (threads), fewest operations, fewest arguments away from their defaults (an mm other than 0 counts as one; what the user fixed
// on the command line is kept as given), fewest preemptions, shortest trace. A candidate is kept
// when it still fails with the same kind of violation and is smaller in that order. Greedy passes
// (delta debugging over actors, arguments, preemption points and choices) repeat until none helps or
// the time budget runs out; the result says whether it is known to be minimal (a fixpoint).

import type { ActorDef } from '../mm/actor.js';
import { allActors } from '../mm/registry.js';
import { buildScenario, opsOf, type ActorCall, type ScenarioSpec } from '../mm/scenario.js';
import type { ViolationKind } from '../oracle/violations.js';
import { execute, type Execution } from './executor.js';
import { exhaustive } from './exhaustive.js';
import { follow, recording, trimZeros, type Preemption, type Schedule } from './schedule.js';
import { uniformRandom } from './schedulers.js';
import { pct } from './pct.js';

export interface Candidate {
  readonly spec: ScenarioSpec;
  readonly schedule: Schedule;
}

export interface ShrinkResult extends Candidate {
  readonly exec: Execution;
  /** Candidates run. */
  readonly tries: number;
  /** A fixpoint was reached: no pass could shrink further. False when the budget ran out. */
  readonly minimal: boolean;
  readonly ms: number;
  /** Candidates whose run threw (a bug in the model, not a race): skipped, as a candidate that does
   *  not fail would be, and kept here, the first of each message, with what replays it. */
  readonly errors: readonly ShrinkError[];
}

export interface ShrinkError extends Candidate {
  readonly message: string;
}

export interface ShrinkOptions {
  readonly budgetMs: number;
  /** Random schedules tried on a scenario with one actor fewer when the mapped schedule no longer
   *  fails (removing an actor can move work, such as the last mmput(), to another thread). */
  readonly researchRuns?: number;
  /** The clock, injected (the fuzzer passes performance.now; tests can pass a counter). */
  readonly now: () => number;
  readonly pool?: readonly ActorDef[];
  /** What the user fixed and shrinking must keep: an argument of a call (`mm` for its mm). */
  readonly pinned?: (call: ActorCall, arg: string) => boolean;
}

/** Arguments away from their defaults, and mms other than 0 (an mm is an argument whose default is
 *  mm 0). */
function nonDefaultArgs(spec: ScenarioSpec, pool: readonly ActorDef[]): number {
  let n = 0;
  for (const call of spec.actors) {
    for (const op of opsOf(call)) {
      const def = pool.find((d) => d.name === op.actor);
      for (const p of def?.params ?? []) if ((op.args?.[p.name] ?? p.default) !== p.default) n++;
    }
    if ((call.mm ?? 0) !== 0) n++;
  }
  return n;
}

/** The size that minimal is measured by, compared lexicographically. With one operation per thread
 *  the count of operations is the count of actors, and the order is what it was before programs. */
export function size(c: Candidate, steps: number, pool: readonly ActorDef[]): number[] {
  const ops = c.spec.actors.reduce((n, a) => n + opsOf(a).length, 0);
  return [c.spec.actors.length, ops, nonDefaultArgs(c.spec, pool), c.schedule.preemptions.length, steps, c.schedule.choices.length];
}

export function smaller(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

function withoutActor(c: Candidate, i: number): Candidate {
  const actors = c.spec.actors.filter((_, j) => j !== i);
  const renumber = (a: number) => (a > i ? a - 1 : a);
  const preemptions = c.schedule.preemptions
    .filter((p) => p.to !== i && p.after !== i)
    .map((p) => ({ after: renumber(p.after), steps: p.steps, to: renumber(p.to) }));
  return { spec: { ...c.spec, actors }, schedule: { ...c.schedule, preemptions } };
}

/** Argument `name` of operation `k` of thread `i` set to `value`. */
function withArg(c: Candidate, i: number, k: number, name: string, value: number): Candidate {
  const actors = c.spec.actors.map((a, j): ActorCall => {
    if (j !== i) return a;
    if (k === 0) return { ...a, args: { ...a.args, [name]: value } };
    return { ...a, then: (a.then ?? []).map((o, m) => (m === k - 1 ? { ...o, args: { ...o.args, [name]: value } } : o)) };
  });
  return { spec: { ...c.spec, actors }, schedule: c.schedule };
}

/** Thread `i` without its operation `k` (a thread keeps at least one). Its preemption points stay as
 *  they are; where they no longer fit, the search variant looks for a schedule that does. */
function withoutOp(c: Candidate, i: number, k: number): Candidate {
  const actors = c.spec.actors.map((a, j): ActorCall => {
    if (j !== i) return a;
    const ops = opsOf(a).filter((_, m) => m !== k);
    const [first, ...rest] = ops;
    return { actor: first!.actor, ...(first!.args ? { args: first!.args } : {}), ...(a.mm !== undefined ? { mm: a.mm } : {}), ...(rest.length ? { then: rest } : {}) };
  });
  return { spec: { ...c.spec, actors }, schedule: c.schedule };
}

/** The call `i` in mm 0. */
function inMm0(c: Candidate, i: number): Candidate {
  const actors = c.spec.actors.map((a, j): ActorCall => (j === i ? { actor: a.actor, ...(a.args ? { args: a.args } : {}), ...(a.then ? { then: a.then } : {}) } : a));
  return { spec: { ...c.spec, actors }, schedule: c.schedule };
}

function withPointsOf(s: Schedule, preemptions: readonly Preemption[]): Schedule {
  return { ...s, preemptions };
}

function withChoicesOf(s: Schedule, choices: readonly number[]): Schedule {
  return { ...s, choices: trimZeros(choices) };
}

/** Candidates in the order the passes try them: cheapest wins first. A candidate marked `search`
 *  stands for its scenario under any schedule: the shrinker looks for one that fails. */
function* candidates(c: Candidate, pool: readonly ActorDef[], pinned: (call: ActorCall, arg: string) => boolean): Generator<Candidate & { search?: boolean }> {
  for (let i = c.spec.actors.length - 1; i >= 0; i--) yield withoutActor(c, i);
  for (let i = c.spec.actors.length - 1; i >= 0; i--) yield { ...withoutActor(c, i), search: true };
  // Operations of threads of several, the last first.
  for (let i = c.spec.actors.length - 1; i >= 0; i--) {
    const n = opsOf(c.spec.actors[i]!).length;
    if (n > 1) for (let k = n - 1; k >= 0; k--) yield withoutOp(c, i, k);
  }
  for (let i = c.spec.actors.length - 1; i >= 0; i--) {
    const n = opsOf(c.spec.actors[i]!).length;
    if (n > 1) for (let k = n - 1; k >= 0; k--) yield { ...withoutOp(c, i, k), search: true };
  }
  for (let i = 0; i < c.spec.actors.length; i++) {
    const call = c.spec.actors[i]!;
    for (const [k, op] of opsOf(call).entries()) {
      const def = pool.find((d) => d.name === op.actor);
      const asCall: ActorCall = k === 0 ? call : op;
      for (const p of def?.params ?? []) {
        const v = op.args?.[p.name] ?? p.default;
        if (v !== p.default && !pinned(asCall, p.name)) {
          yield withArg(c, i, k, p.name, p.default);
          yield { ...withArg(c, i, k, p.name, p.default), search: true };
        }
      }
    }
    if ((call.mm ?? 0) !== 0 && !pinned(call, 'mm')) {
      yield inMm0(c, i);
      yield { ...inMm0(c, i), search: true };
    }
  }
  for (const schedule of scheduleCandidates(c.schedule)) yield { spec: c.spec, schedule };
}

/** The schedule's own shrinks, in the order shrinking tries them: fewer preemptions (chunks, halving,
 *  then one at a time), each point earlier in its actor's run, then fewer data choices. */
export function* scheduleCandidates(schedule: Schedule): Generator<Schedule> {
  const c = { schedule };
  const pts = c.schedule.preemptions;
  // Remove chunks of preemption points, halving the chunk size (ddmin), then one at a time.
  for (let chunk = Math.max(1, Math.floor(pts.length / 2)); chunk >= 1; chunk = chunk === 1 ? 0 : Math.max(1, Math.floor(chunk / 2))) {
    for (let start = 0; start < pts.length; start += chunk) yield withPointsOf(c.schedule, [...pts.slice(0, start), ...pts.slice(start + chunk)]);
  }
  // Move each point earlier in its actor's run: a shorter way to the same race.
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    for (const steps of new Set([1, Math.floor(p.steps / 2), p.steps - 1])) {
      if (steps >= 1 && steps < p.steps) yield withPointsOf(c.schedule, pts.map((q, j) => (j === i ? { ...q, steps } : q)));
    }
  }
  const ch = c.schedule.choices;
  if (ch.length > 0) yield withChoicesOf(c.schedule, []);
  for (let i = 0; i < ch.length; i++) if (ch[i] !== 0) yield withChoicesOf(c.schedule, ch.map((x, j) => (j === i ? 0 : x)));
}

export function run(c: Candidate, pool: readonly ActorDef[] = allActors()): Execution {
  return execute(buildScenario(c.spec, pool), follow(c.schedule));
}

/** Where shrinking keeps the candidates that threw: the first of each message. */
type Errors = Map<string, ShrinkError>;

function keepError(errors: Errors, c: Candidate, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  if (!errors.has(message)) errors.set(message, { ...c, message });
}

/** run(), with a candidate that throws kept in `errors` and taken as not failing (null). */
function tryRun(c: Candidate, pool: readonly ActorDef[], errors: Errors): Execution | null {
  try {
    return run(c, pool);
  } catch (e) {
    keepError(errors, c, e);
    return null;
  }
}

/** Look for a schedule under which `spec` fails with `kind`: seeded schedules, uniform random and PCT
 *  of depth 2 and 3 in turn (PCT finds the races where one actor must stall for long). */
function research(spec: ScenarioSpec, kind: ViolationKind, runs: number, pool: readonly ActorDef[], errors: Errors): { hit: Candidate | null; exec: Execution | null; tries: number } {
  const scn = buildScenario(spec, pool);
  for (let seed = 1; seed <= runs; seed++) {
    const s = seed * 0x9e3779b1;
    const rec = recording(seed % 3 === 0 ? uniformRandom(s) : pct(s, scn.actors.length, 2 + (seed % 3 === 1 ? 0 : 1), 60));
    let e: Execution;
    try {
      e = execute(scn, rec);
    } catch (err) {
      // The schedule up to the exception is what replays it.
      keepError(errors, { spec, schedule: rec.schedule() }, err);
      continue;
    }
    if (e.violation?.kind === kind) return { hit: { spec, schedule: rec.schedule() }, exec: e, tries: seed };
  }
  return { hit: null, exec: null, tries: runs };
}

/** One shrinking in progress: what it keeps across steps (its clock, its count of runs), shared by
 *  the command line's loop and the fast-check arbitrary's shrinker, which take the same steps. */
export interface ShrinkSession {
  readonly kind: ViolationKind;
  readonly opts: ShrinkOptions;
  readonly pool: readonly ActorDef[];
  readonly t0: number;
  tries: number;
  /** The budget ran out before a fixpoint. */
  outOfTime: boolean;
  /** Candidates that threw (a bug in the model), by message: each becomes an internal error. */
  readonly errors: Errors;
}

/** Where a shrinking is: greedy passes, then (at their fixpoint) the exhaustive search for fewer
 *  preemptions, then the canonical form of the schedule, then done. */
export type ShrinkPhase = 'greedy' | 'canonical' | 'done';

export interface ShrinkState extends Candidate {
  readonly exec: Execution;
  readonly phase: ShrinkPhase;
  readonly session: ShrinkSession;
}

export function startShrinking(start: Candidate, kind: ViolationKind, opts: ShrinkOptions, exec?: Execution): ShrinkState {
  const pool = opts.pool ?? allActors();
  const session: ShrinkSession = { kind, opts, pool, t0: opts.now(), tries: 1, outOfTime: false, errors: new Map() };
  return { ...start, exec: exec ?? run(start, pool), phase: 'greedy', session };
}

/** The steps shrinking may take from `st`, best first: each a candidate that still fails with the
 *  same kind of violation and is smaller. The command line takes the first, and asks again from it;
 *  fast-check's shrinker offers them all, and takes the first its property still fails on (with
 *  assertSafe, the first): the same path. Lazy: a candidate is run only when asked for. */
export function* shrinkSteps(st: ShrinkState): Generator<ShrinkState> {
  const { session, kind, pool } = { ...st.session, session: st.session };
  const opts = session.opts;
  const pinned = opts.pinned ?? (() => false);
  const timeUp = () => opts.now() - session.t0 > opts.budgetMs;
  const bestSize = size(st, st.exec.steps, pool);
  if (st.phase === 'greedy') {
    let broke = false;
    for (const c of candidates(st, pool, pinned)) {
      if (opts.now() - session.t0 > opts.budgetMs) { broke = true; break; }
      let cand: Candidate = c;
      let e: Execution;
      if (c.search) {
        const found = research(c.spec, kind, opts.researchRuns ?? 300, pool, session.errors);
        session.tries += found.tries;
        if (!found.hit) continue;
        cand = found.hit;
        e = found.exec!;
      } else {
        session.tries++;
        const ran = tryRun(cand, pool, session.errors);
        if (!ran) continue;
        e = ran;
      }
      if (e.violation?.kind !== kind) continue;
      if (!smaller(size(cand, e.steps, pool), bestSize)) continue;
      yield { ...cand, exec: e, phase: 'greedy', session };
    }
    session.outOfTime = broke;
    // Fewest preemptions, exactly: a bounded exhaustive search of the shrunk scenario, and of it with
    // each actor moved to the front, for P = 0, 1, ... below what greedy shrinking reached.
    if (!broke && !timeUp()) {
      const best = st;
      const orders = [best.spec.actors, ...best.spec.actors.slice(1).map((_, j) => [best.spec.actors[j + 1]!, ...best.spec.actors.filter((__, k) => k !== j + 1)])];
      const isFailure = (e: Execution) => e.violation?.kind === kind;
      search: for (let p = 0; p < best.schedule.preemptions.length; p++) {
        for (const actors of orders) {
          if (timeUp()) break search;
          const spec = { ...best.spec, actors };
          const r = exhaustive(buildScenario(spec, pool), p, {
            stopAfter: 20_000, choices: best.schedule.choices, isFailure, shouldStop: timeUp,
            onError: (schedule, err) => keepError(session.errors, { spec, schedule }, err),
          });
          session.tries += r.explored;
          if (!r.failure) continue;
          const cand = { spec, schedule: r.failure.schedule };
          if (smaller(size(cand, r.failure.exec.steps, pool), bestSize)) {
            yield { ...cand, exec: r.failure.exec, phase: 'canonical', session };
            break search;
          }
        }
      }
    }
  }
  if (st.phase === 'done') return;
  // Points that no longer change anything (that actor would have run anyway) are dropped by running
  // the result once more through the recorder: the canonical form of what actually happened.
  const rec = recording(follow(st.schedule));
  const exec = execute(buildScenario(st.spec, pool), rec);
  if (exec.violation?.kind === kind) yield { spec: st.spec, schedule: rec.schedule(), exec, phase: 'done', session };
}

/** Shrink a failure to its minimal interleaving: take the first step of shrinkSteps() until there is
 *  none. */
export function shrink(start: Candidate, kind: ViolationKind, opts: ShrinkOptions): ShrinkResult {
  let st = startShrinking(start, kind, opts);
  for (;;) {
    const next = shrinkSteps(st).next();
    if (next.done) break;
    st = next.value;
  }
  const { session } = st;
  return { spec: st.spec, schedule: st.schedule, exec: st.exec, tries: session.tries, minimal: !session.outOfTime, ms: opts.now() - session.t0, errors: [...session.errors.values()] };
}
