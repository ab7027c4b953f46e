// The executor: steps a scenario's actors over a fresh model, one atomic step at a time, as the
// scheduler says; hands each step's events to the oracle; stops at the first violation.
//
// An execution is fully determined by (scenario, scheduler). The scheduler is a callback: given the
// runnable actors (in id order) it says which one steps, and it draws the data choices (which free
// frame, which address) that the model asks for.

import { buildModel, NO_CHOICE, resetModel } from '../mm/model.js';
import type { Model } from '../mm/types.js';
import type { MmEvent } from '../mm/events.js';
import { resumeActor, type CallStack, type Ctx } from '../mm/step.js';
import { createOracle, type Oracle } from '../oracle/oracle.js';
import type { StepRef, Violation } from '../oracle/violations.js';
import type { Scenario } from '../mm/scenario.js';

export interface Scheduler {
  /** Which actor steps next: one of `runnable` (non-empty, ascending). `last` is the actor that took
   *  the previous step (-1 at the start). The executor reuses the array at the next pick: copy what
   *  you keep. */
  pick(runnable: readonly number[], last: number): number;
  /** A data choice in [0, n). */
  choose(n: number, what: string): number;
  /** Told of each step once it is taken (a scripted schedule follows its labels). `events` is what the
   *  step did (the model reuses the array after the call: copy what you keep). */
  observe?(actor: number, label: string, events: readonly MmEvent[]): void;
}

export interface TraceStep {
  readonly step: number;
  readonly actor: number;
  readonly label: string;
  /** What the step did, as the model recorded it. */
  readonly events: readonly MmEvent[];
}

export type Outcome = 'clean' | 'violation' | 'step-limit';

export interface Execution {
  readonly outcome: Outcome;
  readonly violation: Violation | null;
  readonly steps: number;
  /** Empty unless the execution was run with `trace: true`. */
  readonly trace: readonly TraceStep[];
  /** Actor names, by id, as the trace uses them. */
  readonly names: readonly string[];
  readonly finished: readonly boolean[];
}

export interface ExecOptions {
  /** Keep the trace: each step with its events (for rendering). Off for speed in campaigns: a
   *  failure is run again with the trace on, which gives the same execution. */
  readonly trace?: boolean;
  readonly maxSteps?: number;
  /** With `trace`: called with the model as each kept step left it (and once before the first step,
   *  with -1), for a viewer's snapshots (src/mm/snapshot.ts). Read-only; never called without `trace`. */
  readonly onStep?: (m: Model, step: number) => void;
  /** Called with the model, reset, before the actors start (the DPOR search instruments it there to
   *  see what each step reads and writes: src/explore/access.ts). */
  readonly prepare?: (m: Model) => void;
  /** Called before a blocked actor's wait condition is tested (DPOR charges what it reads to the
   *  actor's next step: that read is what makes the step enabled). */
  readonly beforeUntil?: (actor: number) => void;
  /** Given the execution's oracle (the stateful DPOR search reads its state: stateText()). */
  readonly onOracle?: (o: Oracle) => void;
}

/** A heartbeat for a watchdog in another thread (shared memory): a step that never returns (an actor
 *  that loops without yielding) leaves the count still, and says whose step it is. Layout, in
 *  Int32s: [0] steps begun, [1] the scenario index of the actor stepping, [2] the byte length of the
 *  text that follows at byte HEARTBEAT_TEXT (the architecture and the actors' names, a line each),
 *  [3] 1 while a step runs. */
export const HEARTBEAT_TEXT = 16;
export const HEARTBEAT_BYTES = HEARTBEAT_TEXT + 1024;

let beat: { readonly ints: Int32Array; readonly text: Uint8Array; scn: Scenario | null } | null = null;

/** Every execution in this thread from now on beats into `buffer` (null: none). */
export function watchExecutions(buffer: SharedArrayBuffer | null): void {
  if (beat) Atomics.store(beat.ints, 3, 0);
  beat = buffer ? { ints: new Int32Array(buffer, 0, 4), text: new Uint8Array(buffer, HEARTBEAT_TEXT), scn: null } : null;
}

/** What a heartbeat says: the steps begun, and whose step is running. */
export function readHeartbeat(buffer: SharedArrayBuffer): { readonly steps: number; readonly inStep: boolean; readonly actor: string; readonly arch: string } {
  const ints = new Int32Array(buffer, 0, 4);
  const len = Math.min(Atomics.load(ints, 2), HEARTBEAT_BYTES - HEARTBEAT_TEXT);
  const [arch = '', ...names] = new TextDecoder().decode(new Uint8Array(buffer, HEARTBEAT_TEXT, len).slice()).split('\n');
  return { steps: Atomics.load(ints, 0), inStep: Atomics.load(ints, 3) === 1, actor: names[Atomics.load(ints, 1)] ?? '?', arch };
}

function beatScenario(scn: Scenario): void {
  if (!beat || beat.scn === scn) return;
  beat.scn = scn;
  const { written } = new TextEncoder().encodeInto([scn.archId, ...scn.actors.map((a) => a.name)].join('\n'), beat.text);
  Atomics.store(beat.ints, 2, written);
}

interface Runner extends CallStack {
  readonly id: number;
  readonly daemon: 'no' | 'drain' | 'background';
  until: (() => boolean) | null;
  waitLabel: string;
  done: boolean;
  /** In this step's `runnable`: what the scheduler's pick is checked against. */
  ready: boolean;
}

/** The runnable list handed to the scheduler, one array per length, made once per length and
 *  overwritten each step (the contract: a scheduler copies what it keeps). Setting an array's
 *  length is a runtime call, and the list's length changes whenever an actor blocks, wakes or ends. */
const runnableOfLength: number[][] = [];
function runnableArray(n: number): number[] {
  let a = runnableOfLength[n];
  if (!a) {
    for (let k = runnableOfLength.length; k <= n; k++) runnableOfLength.push(new Array<number>(k).fill(0));
    a = runnableOfLength[n]!;
  }
  return a;
}

/** One model per scenario, reset before each execution: campaigns run a scenario many times, and
 *  allocating its 32 frames each time was a tenth of the time. An execution's result holds no
 *  reference into the model, and executions are never interleaved. */
const models = new WeakMap<Scenario, Model>();

/** Who took each step and its label, for the end audit to name an earlier step: one log for the
 *  thread (executions are never interleaved), overwritten by each execution, which reads only the
 *  steps it took, and grown to the largest step limit asked for. (Arrays made per execution and filled
 *  step by step were promoted wholesale by V8's scavenger with the labels they held, which tripled
 *  the cost of GC; a log per model cost a campaign 60 KB for each scenario it drew.) */
interface StepLog { actor: Int32Array; label: string[] }
let stepLog: StepLog = { actor: new Int32Array(0), label: [] };

function stepLogFor(maxSteps: number): StepLog {
  if (stepLog.actor.length < maxSteps) stepLog = { actor: new Int32Array(maxSteps), label: new Array<string>(maxSteps).fill('') };
  return stepLog;
}

function modelFor(scn: Scenario): Model {
  const m = models.get(scn);
  // An actor that replaced what the model was built with (c.m.arch = ...) gets no say in the next
  // execution: such a model is built afresh. (The tables themselves are frozen.)
  if (m && m.arch === scn.arch && m.sw === scn.sw && m.archId === scn.archId && m.setup === scn.mms) {
    resetModel(m);
    return m;
  }
  const fresh = buildModel(scn.archId, scn.arch, scn.sw, scn.world, scn.actors.map((a, i) => ({ actor: i, mm: a.def.inMm || a.def.lazyTlb === true ? a.mm : -1, lazy: a.def.lazyTlb === true })), scn.mms);
  models.set(scn, fresh);
  return fresh;
}

// execute() makes no closure: one would hold its whole frame (runners, generators, the scheduler),
// and the model held it until the next execution, long enough for V8 to promote all of it.

/** m.choose for an execution: the scheduler's choice, kept in range. */
function chooserFor(sched: Scheduler): (n: number, what: string) => number {
  return (n, what) => {
    if (n <= 1) return 0;
    const k = sched.choose(n, what);
    return k >= 0 && k < n ? k : 0;
  };
}

function refAtOf(log: StepLog, names: readonly string[], steps: number): (s: number) => StepRef | null {
  return (s) => (s >= 0 && s < steps
    ? { step: s, actor: log.actor[s]!, name: names[log.actor[s]!] ?? '', label: log.label[s]! } : null);
}

/** The execution's result; the model lets go of the scheduler. */
function finish(m: Model, outcome: Outcome, violation: Violation | null, steps: number, trace: readonly TraceStep[],
  names: readonly string[], runners: readonly Runner[]): Execution {
  m.choose = NO_CHOICE;
  return { outcome, violation, steps, trace, names, finished: runners.map((r) => r.done) };
}

export function execute(scn: Scenario, sched: Scheduler, opts: ExecOptions = {}): Execution {
  const maxSteps = opts.maxSteps ?? 5000;
  const keepEvents = opts.trace === true;
  beatScenario(scn);
  const calls = scn.actors;
  const m = modelFor(scn);
  opts.prepare?.(m);
  m.tracing = keepEvents;
  m.choose = chooserFor(sched);
  const names = calls.map((a) => a.name);
  const runners: Runner[] = calls.map((a, id) => {
    const cpu = m.cpus[id];
    if (!cpu) throw new Error('executor: no CPU for actor');
    const mm = m.mms[a.mm];
    if (!mm) throw new Error(`executor: no mm ${a.mm} in world ${scn.world.name}`);
    const c: Ctx = { id, name: a.name, m, cpu, mm };
    return { id, gen: a.run(c), callers: [], daemon: a.def.daemon, until: null, waitLabel: '', done: false, ready: false };
  });
  const oracle = createOracle(m);
  opts.onOracle?.(oracle);
  const trace: TraceStep[] = [];
  const log = stepLogFor(maxSteps);
  let steps = 0;
  let last = -1;
  /** Foreground actors not yet ended: once none is left, only the drain daemons run. */
  let foregroundLeft = 0;
  for (const r of runners) if (r.daemon === 'no') foregroundLeft++;
  const onStep = keepEvents ? opts.onStep : undefined;
  const beforeUntil = opts.beforeUntil;
  onStep?.(m, -1);

  for (;;) {
    const foreground = foregroundLeft > 0;
    let n = 0;
    for (let i = 0; i < runners.length; i++) {
      const r = runners[i]!;
      r.ready = false;
      if (r.done) continue;
      if (!foreground && r.daemon !== 'drain') continue;
      if (r.until !== null) {
        beforeUntil?.(r.id);
        if (!r.until()) continue;
      }
      r.ready = true;
      n++;
    }
    if (n === 0) {
      const blocked = foreground
        ? runners.filter((r) => !r.done && r.daemon === 'no').map((r) => `${names[r.id]} waits in ${r.waitLabel}`)
        : [];
      const refAt = refAtOf(log, names, steps);
      const lastRef: StepRef = refAt(steps - 1) ?? { step: -1, actor: -1, name: '', label: 'start' };
      const v = oracle.end({ blocked, finished: runners.map((r) => r.done), names, last: lastRef, refAt });
      return finish(m, v ? 'violation' : 'clean', v, steps, trace, names, runners);
    }
    if (steps >= maxSteps) return finish(m, 'step-limit', null, steps, trace, names, runners);
    const runnable = runnableArray(n);
    for (let i = 0, k = 0; k < n; i++) if (runners[i]!.ready) runnable[k++] = i;
    // A pick that is not runnable (out of range, not an integer, blocked) falls back to the first.
    const picked = runners[sched.pick(runnable, last)];
    const r = picked !== undefined && picked.ready ? picked : runners[runnable[0]!];
    if (!r) throw new Error('executor: scheduler picked no actor');
    r.until = null;
    m.step = steps;
    if (beat) {
      Atomics.store(beat.ints, 1, r.id);
      Atomics.add(beat.ints, 0, 1);
      Atomics.store(beat.ints, 3, 1);
    }
    m.traceOnly = 0;
    const y = resumeActor(r);
    if (beat) Atomics.store(beat.ints, 3, 0);
    let label: string;
    if (y === null) {
      r.done = true;
      if (r.daemon === 'no') foregroundLeft--;
      // An end or a block that did nothing is not a step; one that did is, traced or not.
      if (m.events.length === 0 && m.traceOnly === 0) continue;
      label = 'return';
    } else if (y.kind === 'block') {
      r.until = y.until;
      r.waitLabel = y.label;
      if (m.events.length === 0 && m.traceOnly === 0) continue;
      label = `… then waits in ${y.label}`;
    } else {
      label = y.label;
    }
    if (keepEvents) {
      trace.push({ step: steps, actor: r.id, label, events: m.events.slice() });
      onStep?.(m, steps);
    }
    log.actor[steps] = r.id;
    log.label[steps] = label;
    steps++;
    last = r.id;
    sched.observe?.(r.id, label, m.events);
    if (m.events.length === 0) continue;
    const v = oracle.step({ step: steps - 1, actor: r.id, name: names[r.id] ?? '', label }, m.events);
    // Emptied by pops, not \`length = 0\`: setting an array's length is a runtime call (1.8% of the
    // time), and a step records a few events.
    while (m.events.length > 0) m.events.pop();
    if (v) return finish(m, 'violation', v, steps, trace, names, runners);
  }
}
