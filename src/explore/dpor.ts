// Exhaustive search without a preemption bound, by dynamic partial-order reduction: source-DPOR with
// sleep sets (Abdulla, Aronis, Jonsson, Sagonas, "Optimal Dynamic Partial Order Reduction", POPL
// 2014, Algorithm 1, race detection done on each execution as it ends). It runs at least one
// schedule of every Mazurkiewicz trace of a fixed scenario, so every state the unreduced search can
// end in, every violation the oracle can see, is reached; where the unreduced search would run many
// orders of steps that commute, this runs one.
//
// Dependency: two steps of different actors are dependent when one writes what the other reads or
// writes, as the model's accesses show them (access.ts records every property of the model's
// objects each step reads and writes: the same frame's entry, the same lock, the same TLB, the RCU
// list, an IPI pending on a CPU), the oracle's reads when it judges the step included. A blocked
// actor's wait condition is charged to its next step: the write that enables it is then a
// dependency. A foreground actor's steps all count as writing "the foreground is running", which a
// background daemon's steps read (the executor stops it when the foreground is done), and an actor
// a clean run ended without finishing is run before the step that disabled it. The step counter is
// a location too (CLOCK_LOC). Anything access.ts cannot see precisely it charges as a read or write
// of the whole container: more dependencies, never fewer.
//
// Data choices (which free frame the allocator returns, which address the walker touches) are
// branches too, with `enumerateChoices`: a step that draws choices is run with every vector of
// values (an odometer over the values drawn) before the search moves on, and its footprint for the
// sleep set is the union over all of them.
//
// States, and cutting at one seen before (Yang, Chen, Gopalakrishnan, Kirby, "Efficient Stateful
// Dynamic Partial Order Reduction", SPIN 2008). A state's key must be the whole state, everything
// that decides what can happen from it:
// - the model, by its canonical text (state_hash.ts) with the step numbers kept (`since`,
//   `copiedAt`...: the oracle compares them with its own), per component, each hash kept until
//   something in the component is written;
// - the oracle's own state (Oracle.stateText(): the pmd history, the stores, the pins, the copies,
//   with their step numbers; not the steps it keeps only to name one in a message);
// - per actor, how many times it was picked and its observations (access.ts): a generator's locals
//   (a pmd value it read earlier, a choice it drew) are not in the model, but an actor is a
//   deterministic function of the values its steps read and the choices it drew, so the same count
//   and the same sequence give the same locals, the same wait condition, the same next step; and the
//   containers it took a plain object from (whose later reads access.ts does not see: their text is
//   hashed into its observations at each of its steps);
// - which actors can step; the room left for data choices (`enumerateChoices`).
// A closure in the model (an RCU callback's `fn`) is known by its label, which names what it frees.
// Whether an actor is done or waits, whether the foreground still runs (which stops a background
// daemon), what an RCU callback or IPI pending will do (the model's rcu list and CPUs) all follow
// from these. The step counter is not in the key but is the same in two states with the same key:
// it counts the steps taken, the sum over actors of their picks less those that did nothing, and
// which of an actor's picks did nothing follows from its observations. So the executor's step limit
// (which ends an execution at a fixed count) decides the same from both. The search's own state is
// the sleep set (the actor that stepped last only orders the search's first pick, not what it
// explores from there): a state is cut only if the earlier visit's sleep set is within the current one (it
// explored every actor this visit would). The hashes are 52-bit: a collision would cut wrongly,
// with odds of about n²/2⁵³ for n states.
//
// When a state is reached again whose subtree is done (backtrack points are only added on the
// path, so a node's subtree is final when the search leaves it), the execution stops there; but the
// races the skipped subtree would have had with the current prefix must still be found: each node
// keeps a summary of what ran anywhere below it (each actor's steps' footprints, united, and the
// actors left unfinished whose disabling step was above), united up the path as subtrees finish, and
// at a cut each actor's steps there are taken as if they ran next (summaryRaces(): Flanagan and
// Godefroid's rule as Yang et al. use it, with source-DPOR's besides, over-approximated). A
// violation below the earlier visit was reported then (the search stops at a failure), so a cut
// hides none.
//
// What the key does not merge: two orders of steps that leave the oracle's history stamped with
// different step numbers, or an actor that read different values (a lock it found held, an entry's
// old value) though its locals would not differ. That is most orders in the kernel scenarios (the
// fixed V2 scenario has no state reached twice under this key); the cuts come where steps leave the
// oracle nothing and read the same whatever the order. Every execution is finite (the executor's
// step limit) so the search terminates with or without cuts.
//
// The schedule of a failure is written down as a canonical schedule (schedule.ts), which replays in
// the ordinary executor.

import { execute, type Execution, type Scheduler } from './executor.js';
import { CLOCK_LOC, conflict, createTracker, emptyFootprint, FOREGROUND_LOC, mergeInto, type Footprint, type Tracker } from './access.js';
import { recording, type Schedule } from './schedule.js';
import type { ExhaustiveOptions, ExhaustiveResult } from './exhaustive.js';
import type { Scenario } from '../mm/scenario.js';
import type { Model } from '../mm/types.js';
import type { Oracle } from '../oracle/oracle.js';
import { hashText, STATE_ROOTS, valueText } from '../mm/state_hash.js';

/** What ran anywhere below a state, once its subtree is explored: each actor's steps' footprints
 *  (united), and the actors that an execution below ended without finishing, though they could not
 *  step at that state or below it (their disabling step was above). */
interface Summary {
  readonly fps: Map<number, Footprint>;
  readonly unfinished: Set<number>;
}

const emptySummary = (): Summary => ({ fps: new Map(), unfinished: new Set() });

function addStep(s: Summary, actor: number, fp: Footprint): void {
  let f = s.fps.get(actor);
  if (!f) { f = emptyFootprint(); s.fps.set(actor, f); }
  mergeInto(f, fp);
}

function mergeSummary(into: Summary, from: Summary): void {
  for (const [a, f] of from.fps) addStep(into, a, f);
  for (const q of from.unfinished) into.unfinished.add(q);
}

interface Node {
  /** The state's key (stateful search). */
  readonly key: string;
  /** What ran from here so far: this node's steps and its finished children's summaries. */
  readonly summary: Summary;
  /** The actors that could step here. */
  readonly runnable: readonly number[];
  /** Asleep on arrival: actors whose step from here is independent of the path since they were
   *  explored, with that step's footprint. */
  readonly sleep: ReadonlyMap<number, Footprint>;
  /** DPOR's backtrack set: actors to run from here. */
  readonly backtrack: Set<number>;
  /** Explored from here, each with the union of its steps' footprints over its choice vectors. */
  readonly done: Map<number, Footprint>;
  /** The step taken from here now: its actor, its data choices (values and counts). */
  actor: number;
  choices: number[];
  counts: number[];
  /** Its footprint in the current execution, and the union over its choice vectors so far. */
  fp: Footprint;
  union: Footprint;
}

/** Thrown out of the executor when every runnable actor is asleep: the rest of the execution is a
 *  reordering of one already run. */
const SLEEP_BLOCKED = { sleepBlocked: true } as const;
/** Thrown out of the executor at a state explored before (its subtree done). */
const CUT = { cut: true } as const;

export interface DporResult extends ExhaustiveResult {
  /** Distinct states reached. */
  readonly states: number;
  /** Executions cut short because every runnable actor was asleep. */
  readonly sleepBlocked: number;
  /** Executions cut short at a state explored before (stateful search). */
  readonly cuts: number;
}

const nonZero = (xs: readonly number[]) => xs.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);

/** The next vector of data choices for a step that drew `choices` of `counts` values, in odometer
 *  order (the last choice moves first; the choices after it start again at 0), or null. */
function nextVector(choices: readonly number[], counts: readonly number[], room: number): number[] | null {
  for (let i = choices.length - 1; i >= 0; i--) {
    const v = choices[i]! + 1;
    if (v < counts[i]!) {
      const next = [...choices.slice(0, i), v];
      if (nonZero(next) <= room) return next;
    }
  }
  return null;
}

export interface DporOptions extends ExhaustiveOptions {
  /** Called with the model after each complete execution (tests compare final states). */
  readonly onFinal?: (m: Model, e: Execution, raw: <T extends object>(o: T) => T) => void;
  /** Cut at a state explored before (default on). */
  readonly stateful?: boolean;
  /** Tests only, to show what each measure is for: cut on the weaker key (the model without its
   *  step numbers, each actor's steps and last label: no actor's locals, no oracle), or without the
   *  races between the prefix and the steps below the earlier visit. Unsound. */
  readonly unsoundForTest?: { readonly weakKey?: boolean; readonly noSummary?: boolean };
}

export function dpor(scn0: Scenario, opts: DporOptions = {}): DporResult {
  const { onProgress, stopAfter = Infinity, enumerateChoices = 0 } = opts;
  const isFailure = opts.isFailure ?? ((e: Execution) => e.violation !== null || e.outcome === 'step-limit');
  // A scenario object of its own: the executor keeps one model per scenario, and this one is
  // instrumented (access.ts).
  const scn: Scenario = { ...scn0 };
  const tracker: Tracker = createTracker();
  const foreground = scn.actors.map((a) => a.def.daemon === 'no');
  const background = scn.actors.map((a) => a.def.daemon === 'background');
  const hasBackground = background.some((b) => b);
  const stateful = opts.stateful ?? true;
  const weakKey = opts.unsoundForTest?.weakKey === true;
  const noSummary = opts.unsoundForTest?.noSummary === true;
  const nodes: Node[] = [];
  const states = new Set<number>();
  /** States whose subtree is explored: the sleep set they were explored with, and their summary. */
  const visited = new Map<string, { readonly sleep: readonly number[]; readonly summary: Summary }>();
  let explored = 0;
  let sleepBlocked = 0;
  let cuts = 0;
  /** Replay nodes[0..replay) as they are; nodes[replay] (if any) runs its actor with its choices. */
  let replay = 0;

  // The state's key: the hashes of its components' texts (a frame, a CPU, the RCU list), each kept
  // until something in it is written.
  const cache = new Map<string, string>();
  const stateKey = (m: Model): string => {
    const w = tracker.takeWritten();
    if (w.all) cache.clear();
    else {
      for (const c of w.comps) {
        cache.delete(c);
        if (!c.includes(':')) for (const key of [...cache.keys()]) if (key.startsWith(`${c}:`)) cache.delete(key);
      }
    }
    let out = '';
    for (const k of STATE_ROOTS) {
      const v: unknown = tracker.raw(m[k]);
      if (Array.isArray(v)) {
        out += `${k}=[`;
        for (let i = 0; i < v.length; i++) {
          const c = `${k}:${i}`;
          let t = cache.get(c);
          if (t === undefined) { t = String(hashText(valueText(v[i], tracker.raw, !weakKey))); cache.set(c, t); }
          out += `${t},`;
        }
        out += '];';
      } else {
        let t = cache.get(k);
        if (t === undefined) { t = String(hashText(valueText(v, tracker.raw, !weakKey))); cache.set(k, t); }
        out += `${k}=${t};`;
      }
    }
    return out;
  };

  const choicesBefore = (k: number) => {
    let n = 0;
    for (let i = 0; i < k; i++) n += nonZero(nodes[i]!.choices);
    return n;
  };

  // Footprints name the model's objects, and sleep sets carry them from one execution to the next:
  // the objects must be the same in every execution. resetModel() makes some the first times round
  // (each mm's VMAs, once per model and once more when it first meets the instrumented mm): run the
  // default schedule until an execution starts with nothing new to instrument.
  for (let warm = 0; ; warm++) {
    let fresh = 0;
    const rec = recording({ pick: (r, last) => (r.includes(last) ? last : r[0]!), choose: () => 0 });
    try {
      execute(scn, rec, { prepare: (m) => { fresh = tracker.instrument(m); } });
    } catch (e) {
      if (!opts.onError) throw e;
      tracker.record(null);
      opts.onError(rec.schedule(), e);
      return { explored: 1, complete: false, failure: null, states: 0, sleepBlocked: 0, cuts: 0 };
    }
    tracker.record(null);
    if (fresh === 0) break;
    if (warm >= 8) throw new Error('dpor: the model makes new long-lived objects at every reset');
  }

  for (;;) {
    if (explored >= stopAfter || opts.shouldStop?.()) return { explored, complete: false, failure: null, states: states.size, sleepBlocked, cuts };
    nodes.length = Math.min(nodes.length, replay + 1);
    let pos = 0;
    let model: Model | null = null;
    let fp: Footprint | null = null;
    let node: Node | null = null;
    let choiceIndex = 0;
    const pending: (Footprint | undefined)[] = [];
    const steps: number[] = scn.actors.map(() => 0);
    const picks: number[] = scn.actors.map(() => 0);
    const lastLabel: string[] = scn.actors.map(() => '');
    let oracle: Oracle | null = null;
    let cutAt: Summary | null = null;
    /** The state's key (see the header): the model with its step numbers, the oracle's state, and
     *  per actor its steps so far and what they read. */
    const fullKey = (m: Model, runnable: readonly number[], k: number): string => {
      if (weakKey) return `${stateKey(m)}|${runnable.join(',')}|${steps.join(',')}|${lastLabel.join('\u0001')}`;
      const obs = tracker.observations();
      let actors = '';
      for (let a = 0; a < picks.length; a++) actors += `${picks[a]}:${obs[a] ?? ''}:${[...tracker.sticky(a)].sort((x, y) => x - y).join('.')};`;
      const room = enumerateChoices > 0 && enumerateChoices !== Infinity ? enumerateChoices - choicesBefore(k) : '';
      const o: Oracle | null = oracle;
      return `${stateKey(m)}|${hashText(o ? o.stateText() : '')}|${runnable.join(',')}|${actors}|${room}`;
    };
    const endStep = () => {
      tracker.observe(false);
      if (!fp) return;
      tracker.record(null);
      tracker.settle(fp);
      fp = null;
    };
    const inner: Scheduler = {
      pick(runnable, last) {
        endStep();
        tracker.record(null);
        const k = pos++;
        let n = nodes[k];
        if (k <= replay && n) {
          if (n.runnable.length !== runnable.length || n.runnable.some((a, i) => a !== runnable[i])) {
            throw new Error(`dpor: replay diverged at step ${k}: runnable ${runnable.join(',')} where ${n.runnable.join(',')} were`);
          }
        } else {
          // A new state: its sleep set is the parent's, plus what the parent explored before, less
          // whatever the parent's step depends on.
          const parent = k > 0 ? nodes[k - 1]! : null;
          const sleep = new Map<number, Footprint>();
          if (parent) {
            for (const src of [parent.sleep, parent.done]) {
              for (const [q, f] of src) if (q !== parent.actor && !conflict(f, parent.fp)) sleep.set(q, f);
            }
          }
          const key = model ? fullKey(model, runnable, k) : '';
          states.add(hashText(key));
          const awake = runnable.filter((a) => !sleep.has(a));
          const p = awake.includes(last) ? last : awake[0];
          if (p === undefined) throw SLEEP_BLOCKED;
          // Explored before, with no more awake then than now: what ran below it is what would run
          // below here. Stop; the races of those steps with this prefix are done at the end.
          const seen = stateful && k > 0 ? visited.get(key) : undefined;
          if (seen && seen.sleep.every((q) => sleep.has(q))) {
            cutAt = seen.summary;
            throw CUT;
          }
          n = { key, summary: emptySummary(), runnable: runnable.slice(), sleep, backtrack: new Set([p]), done: new Map(), actor: p, choices: [], counts: [], fp: emptyFootprint(), union: emptyFootprint() };
          nodes[k] = n;
        }
        node = n;
        n.fp = emptyFootprint();
        n.counts = [];
        choiceIndex = 0;
        const f = n.fp;
        const a = n.actor;
        const waited = pending[a];
        if (waited) { mergeInto(f, waited); pending[a] = undefined; }
        for (const o of tracker.sticky(a)) { f.readAll.add(o); f.objs.add(o); }
        if (hasBackground) {
          if (foreground[a]) f.writes.add(FOREGROUND_LOC);
          if (background[a]) f.reads.add(FOREGROUND_LOC);
          f.objs.add(Math.floor(FOREGROUND_LOC / (1 << 16)));
        }
        fp = f;
        tracker.setActor(a);
        tracker.record(f);
        picks[a] = (picks[a] ?? 0) + 1;
        if (!weakKey) {
          tracker.noteSticky();
          tracker.observe(true);
        }
        return a;
      },
      choose(count) {
        const n = node;
        if (!n) return 0;
        const i = choiceIndex++;
        const v = n.choices[i] ?? 0;
        n.counts[i] = count;
        if (i >= n.choices.length) n.choices[i] = v;
        const r = v < count ? v : 0;
        tracker.note(`choice:${r}`);
        return r;
      },
      observe(actor, label, events) {
        // What the oracle reads is charged to the step's footprint, not to what the actor saw.
        tracker.observe(false);
        if (fp && events.some((e) => e.e === 'copy' || e.e === 'prot-done')) { fp.writes.add(CLOCK_LOC); fp.objs.add(1); }
        // The step stays open through the oracle's check of it: what the oracle reads of the model to
        // judge the step is part of what the step depends on (a check of a mapping against another
        // CPU's store), so that an order in which the verdict differs is run too.
        steps[actor] = (steps[actor] ?? 0) + 1;
        lastLabel[actor] = label;
      },
    };
    const rec = recording(inner);
    let exec: Execution | null = null;
    tracker.reset();
    try {
      exec = execute(scn, rec, {
        ...(opts.trace === true ? { trace: true } : {}),
        onOracle: (o) => { oracle = o; },
        prepare: (m) => {
          model = m;
          if (tracker.instrument(m) > 0) throw new Error('dpor: the model made new long-lived objects between executions');
        },
        beforeUntil: (a) => {
          // A wait condition's reads are not the actor's: it is tested any number of times.
          endStep();
          let w = pending[a];
          if (!w) { w = emptyFootprint(); pending[a] = w; }
          tracker.setActor(a);
          tracker.record(w);
        },
      });
    } catch (e) {
      if (e === SLEEP_BLOCKED) sleepBlocked++;
      else if (e === CUT) cuts++;
      else if (opts.onError) opts.onError(rec.schedule(), e); // a bug in the model: not explored below
      else throw e;
    }
    endStep();
    tracker.record(null);
    explored++;
    const len = Math.min(pos, nodes.length);
    // Each node's step ran below it (those before `replay` ran the same step before).
    if (stateful) for (let i = Math.max(0, replay); i < len; i++) addStep(nodes[i]!.summary, nodes[i]!.actor, nodes[i]!.fp);
    if (exec) {
      if (isFailure(exec)) {
        const schedule: Schedule = rec.schedule();
        return { explored, complete: false, failure: { schedule, exec }, states: states.size, sleepBlocked, cuts };
      }
      if (model) opts.onFinal?.(model, exec, tracker.raw);
      // Only a run that came to its end: one the oracle stopped left its actors unfinished itself.
      if (exec.outcome === 'clean' && !exec.violation) {
        disabled(nodes, len, exec.finished);
        if (stateful) unfinishedBelow(nodes, len, exec.finished);
      }
    }
    const cut = cutAt as Summary | null;
    if (cut && len > 0) {
      // What ran below the earlier visit is below this prefix too: its races with the prefix, and
      // the actors left unfinished there, disabled by a step above.
      mergeSummary(nodes[len - 1]!.summary, cut);
      if (!noSummary) {
        const finished = scn.actors.map((_, q) => !cut.unfinished.has(q));
        disabled(nodes, len, finished);
        unfinishedBelow(nodes, len, finished);
        summaryRaces(nodes, len, cut);
      }
    }
    races(nodes, len);
    if (onProgress && explored % 256 === 0) onProgress({ explored, pending: nodes.reduce((s, n) => s + n.backtrack.size - n.done.size, 0) });
    // Backtrack: the deepest node with another choice vector for its step, or another actor to run.
    let k = len - 1;
    for (; k >= 0; k--) {
      const n = nodes[k]!;
      mergeInto(n.union, n.fp);
      const room = enumerateChoices - choicesBefore(k);
      const next = room > 0 ? nextVector(n.choices, n.counts, room) : null;
      if (next) { n.choices = next; break; }
      n.done.set(n.actor, n.union);
      const q = [...n.backtrack].sort((a, b) => a - b).find((a) => !n.done.has(a) && !n.sleep.has(a));
      if (q !== undefined) {
        n.actor = q;
        n.choices = [];
        n.union = emptyFootprint();
        break;
      }
      // Its subtree is done (backtrack points are only ever added on the path): remember it, with
      // what ran below it, which ran below its parent too.
      if (stateful) {
        visited.set(n.key, { sleep: [...n.sleep.keys()], summary: n.summary });
        if (k > 0) mergeSummary(nodes[k - 1]!.summary, n.summary);
      }
    }
    if (k < 0) {
      onProgress?.({ explored, pending: 0 });
      return { explored, complete: true, failure: null, states: states.size, sleepBlocked, cuts };
    }
    replay = k;
  }
}

/** An actor the execution ended without finishing, though it could step at some point: the step
 *  after which it never could again disabled it (the last foreground actor's return stops a
 *  background daemon, the hardware walker). Its next step races with that one: run it before. (A
 *  waiting actor's own step that left it blocked for good needs nothing: no one could wake it.) */
function disabled(nodes: readonly Node[], len: number, finished: readonly boolean[]): void {
  finished.forEach((done, q) => {
    if (done) return;
    let d = -1;
    for (let k = 0; k < len; k++) if (nodes[k]!.runnable.includes(q)) d = k;
    if (d >= 0 && nodes[d]!.actor !== q) nodes[d]!.backtrack.add(q);
  });
}

/** For the summary of an execution's end: an actor it left unfinished is among what ended
 *  unfinished below each node from the last at which it could step. */
function unfinishedBelow(nodes: readonly Node[], len: number, finished: readonly boolean[]): void {
  finished.forEach((done, q) => {
    if (done) return;
    let d = -1;
    for (let k = 0; k < len; k++) if (nodes[k]!.runnable.includes(q)) d = k;
    for (let k = d + 1; k < len; k++) nodes[k]!.summary.unfinished.add(q);
  });
}

/** The happens-before of the steps nodes[0..len) took (a step after another of the same actor, or
 *  after a dependent one): `hb(i, k)` when step i happens before step k (or is it); `preds[j]` the
 *  steps j depends on directly; `lastOf[a]` actor a's last step, -1 if none. */
function happensBefore(nodes: readonly Node[], len: number) {
  const actors = nodes.reduce((m, n) => Math.max(m, n.actor, ...n.runnable), 0) + 1;
  // vc[j][a]: the last step of actor a that happens before (or is) step j; -1 if none.
  const vc: Int32Array[] = [];
  const preds: number[][] = [];
  const lastOf = new Int32Array(actors).fill(-1);
  for (let j = 0; j < len; j++) {
    const nj = nodes[j]!;
    const c = new Int32Array(actors).fill(-1);
    const d: number[] = [];
    const prev = lastOf[nj.actor]!;
    if (prev >= 0) d.push(prev);
    for (let i = 0; i < j; i++) {
      const ni = nodes[i]!;
      if (ni.actor !== nj.actor && conflict(ni.fp, nj.fp)) d.push(i);
    }
    for (const i of d) { const ci = vc[i]!; for (let a = 0; a < actors; a++) if (ci[a]! > c[a]!) c[a] = ci[a]!; }
    c[nj.actor] = j;
    vc.push(c);
    preds.push(d);
    lastOf[nj.actor] = j;
  }
  const hb = (i: number, k: number) => vc[k]![nodes[i]!.actor]! >= i;
  return { hb, preds, lastOf };
}

/** The actors whose first step in `v` (step indices, in order) follows no other step of `v`: those
 *  that can start it. */
function initialsOf(nodes: readonly Node[], v: readonly number[], hb: (i: number, k: number) => boolean): Set<number> {
  const initials = new Set<number>();
  for (let x = 0; x < v.length; x++) {
    const k = v[x]!;
    let first = true;
    for (let y = 0; y < x; y++) if (hb(v[y]!, k)) { first = false; break; }
    if (first) initials.add(nodes[k]!.actor);
  }
  return initials;
}

/** The actors that can start `notdep(i)` (the steps after i not ordered after it). */
function initialsAfter(nodes: readonly Node[], len: number, i: number, hb: (i: number, k: number) => boolean): Set<number> {
  const v: number[] = [];
  for (let k = i + 1; k < len; k++) if (!hb(i, k)) v.push(k);
  return initialsOf(nodes, v, hb);
}

/** Source-DPOR's race detection over the steps nodes[0..len) took: for each race (i, j) (steps of
 *  different actors, dependent, with no step between them ordered after i and before j), the
 *  reversal must be explored from nodes[i]: some actor that can start `notdep(i).j` there must be in
 *  its backtrack set. */
function races(nodes: readonly Node[], len: number): void {
  const { hb, preds } = happensBefore(nodes, len);
  for (let j = 0; j < len; j++) {
    const nj = nodes[j]!;
    const d = preds[j]!;
    for (const i of d) {
      const ni = nodes[i]!;
      if (ni.actor === nj.actor) continue;
      if (d.some((k) => k !== i && k > i && hb(i, k))) continue;
      // v = the steps after i not ordered after it, then j; its initials can start it from nodes[i].
      const v: number[] = [];
      for (let k = i + 1; k < j; k++) if (!hb(i, k)) v.push(k);
      v.push(j);
      const initials = initialsOf(nodes, v, hb);
      if ([...initials].some((a) => ni.backtrack.has(a))) continue;
      const can = [...initials].filter((a) => ni.runnable.includes(a)).sort((a, b) => a - b);
      // An initial that cannot run from there (it waits for something step i does): every actor
      // that can, which is always enough.
      if (can.length > 0) ni.backtrack.add(can[0]!);
      else for (const a of ni.runnable) ni.backtrack.add(a);
    }
  }
}

/** At a cut, the races the search would have found had it gone on below the state, whose earlier
 *  visit ran the steps in `s` (Yang, Chen, Gopalakrishnan, Kirby, "Efficient Stateful Dynamic Partial
 *  Order Reduction", SPIN 2008: each step reachable from the cached state is taken as if it ran next
 *  after the prefix). Over-approximated: an actor's steps below are one footprint (the union), every
 *  prefix step i it conflicts with counts (not only the last), unless i happens before the actor's
 *  last step in the prefix (then all its later steps come after i). For each such i, both rules add
 *  to backtrack(i): Flanagan and Godefroid's (the actor, if it can step at i; else every actor that
 *  can) and source-DPOR's (an actor that can start notdep(i), if none is there yet). More
 *  backtracking is sound; less is not. */
function summaryRaces(nodes: readonly Node[], len: number, s: Summary): void {
  const { hb, lastOf } = happensBefore(nodes, len);
  for (const [q, f] of [...s.fps].sort((a, b) => a[0] - b[0])) {
    const lastQ = lastOf[q] ?? -1;
    for (let i = 0; i < len; i++) {
      const ni = nodes[i]!;
      if (ni.actor === q || !conflict(ni.fp, f)) continue;
      if (lastQ > i && hb(i, lastQ)) continue;
      const qCan = ni.runnable.includes(q);
      if (qCan) ni.backtrack.add(q);
      const initials = initialsAfter(nodes, len, i, hb);
      if ([...initials].some((a) => ni.backtrack.has(a))) continue;
      const can = [...initials].filter((a) => ni.runnable.includes(a)).sort((a, b) => a - b);
      if (can.length > 0) ni.backtrack.add(can[0]!);
      else if (!qCan) for (const a of ni.runnable) ni.backtrack.add(a);
    }
  }
}
