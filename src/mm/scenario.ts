// A scenario: which actors run, with which arguments, on which architecture, era and variants.
// buildScenario() validates every name and argument and throws a ModelError that lists what is
// accepted. The RCU callback runner is always added last: every scenario needs its grace periods.
//
// A scenario is a program: each call is a thread on its own CPU, and a call with `then` runs further
// operations on that thread, in order, after its first. A call without `then` (a sequence of one) is
// exactly what a scenario was before programs, step for step.

import { allArchIds, archOf, paravirtGuest, type Arch, type ArchId } from './arch.js';
import type { ActorDef, Args } from './actor.js';
import { ModelError, unknownName } from './errors.js';
import { rcu_callbacks } from './actors/index.js';
import { allActors } from './registry.js';
import { exit_mmap_actor, mmput } from './actors/exit_mmap.js';
import { type ActorGen, call, type Ctx, step } from './step.js';
import type { MmSetup } from './types.js';
import type { World } from './world/types.js';
import { parseWorld } from './world/registry.js';
import { collapse_huge_page } from './actors/collapse_huge_page.js';
import { collapse_pte_mapped_thp } from './actors/collapse_pte_mapped_thp.js';
import { coredump, zap_threads_park } from './actors/coredump.js';
import { forkChildren, forkerExits, forkThenWake, runsInMm, wakeThenRun } from './fork_child.js';
import { makeSwitches, parseEra, type EraId, type Switches, type VariantId, parseVariant } from './switches.js';

/** One operation of a thread: an actor call with its arguments. */
export interface OpCall {
  readonly actor: string;
  readonly args?: Readonly<Record<string, number>>;
}

export interface ActorCall extends OpCall {
  /** The mm it runs in (a user thread) or works on (a kernel thread such as khugepaged): an index
   *  into the world's mms, 0 when absent. */
  readonly mm?: number;
  /** Operations the same thread runs after this one, in order, on the same CPU and in the same mm.
   *  Absent or empty: a thread of one operation. */
  readonly then?: readonly OpCall[];
}

/** The operations of a thread, its first included. */
export function opsOf(call: ActorCall): readonly OpCall[] {
  return call.then && call.then.length > 0 ? [call, ...call.then] : [call];
}

/** Every operation's actor name, thread after thread (what failure keys and known races name). */
export function actorNames(calls: readonly ActorCall[]): string[] {
  return calls.flatMap((c) => opsOf(c).map((o) => o.actor));
}

export interface ScenarioSpec {
  readonly arch: string;
  readonly era?: string;
  readonly variants?: readonly string[];
  /** The world's name; `default` when absent. */
  readonly world?: string;
  readonly actors: readonly ActorCall[];
}

/** One operation of a thread, bound. */
export interface ScenarioOp {
  readonly def: ActorDef;
  readonly args: Args;
}

export interface ScenarioActor {
  /** The first operation's actor (a thread of several: what they share, inMm, daemon and lazyTlb,
   *  is the same for all, and buildScenario checks it). */
  readonly def: ActorDef;
  /** Unique in the scenario: the actor's name, with #2, #3 for repeats (a thread of several
   *  operations: their names joined by `+`). */
  readonly name: string;
  /** The first operation's arguments. */
  readonly args: Args;
  /** Every operation of the thread, in order; one for a thread of one operation. */
  readonly ops: readonly ScenarioOp[];
  /** Its mm: an index into the world's mms. */
  readonly mm: number;
  /** The actor's body, and for a user thread of an exiting process, its mmput() at thread exit. */
  readonly run: (c: Ctx) => ActorGen;
}

export interface Scenario {
  readonly archId: ArchId;
  /** The architecture as the switches leave it (V8 makes an IPI arch a paravirt guest). */
  readonly arch: Arch;
  readonly sw: Switches;
  readonly world: World;
  readonly actors: readonly ScenarioActor[];
  /** Per mm of the world: mm_users at the start (one per user thread if the process exits in the
   *  scenario, so that the last mmput() tears the mm down; else one more for the rest of the
   *  process), and whether khugepaged is scanning it (collapse_huge_page and
   *  collapse_pte_mapped_thp only run on the mm being scanned; exit_mmap's `scanned` says so for
   *  retract). */
  readonly mms: readonly MmSetup[];
}

export function parseArch(name: string): ArchId {
  if (!archOf(name)) throw unknownName('unknown-arch', 'architecture', name, allArchIds());
  return name;
}

export function findActor(name: string, pool: readonly ActorDef[] = allActors()): ActorDef {
  const d = pool.find((a) => a.name === name);
  if (!d) throw unknownName('unknown-actor', 'actor', name, pool.map((a) => a.name));
  return d;
}

function bindArgs(def: ActorDef, given: Readonly<Record<string, number>>): Args {
  const out: Record<string, number> = {};
  for (const k of Object.keys(given).sort()) {
    if (!def.params.some((p) => p.name === k)) {
      const ok = def.params.map((p) => p.name);
      throw new ModelError('bad-argument', `actor '${def.name}' has no argument '${k}': accepted are ${ok.length ? ok.join(', ') : '(none)'}`, ok);
    }
  }
  for (const p of def.params) {
    const v = given[p.name] ?? p.default;
    if (!Number.isInteger(v) || v < p.min || v > p.max) {
      throw new ModelError('bad-argument', `actor '${def.name}' argument '${p.name}' = ${v}: accepted are integers ${p.min}..${p.max}`, [`${p.min}..${p.max}`]);
    }
    out[p.name] = v;
  }
  return out;
}

export function buildScenario(spec: ScenarioSpec, pool: readonly ActorDef[] = allActors()): Scenario {
  const archId = parseArch(spec.arch);
  const era: EraId | undefined = spec.era === undefined ? undefined : parseEra(spec.era);
  const variants: VariantId[] = (spec.variants ?? []).map((v) => parseVariant(v).id);
  const sw = makeSwitches(era, variants);
  const base = archOf(archId)!;
  const arch = sw.bugs.has('paravirt-flush-no-rcu') ? paravirtGuest(base) : base;
  const world = parseWorld(spec.world ?? 'default');
  const seen = new Map<string, number>();
  const actors: ScenarioActor[] = spec.actors.map((call) => {
    const mm = call.mm ?? 0;
    if (!Number.isInteger(mm) || mm < 0 || mm >= world.mms.length) {
      throw new ModelError('bad-argument', `actor '${call.actor}' names mm ${mm}: world '${world.name}' has mms 0..${world.mms.length - 1}`, []);
    }
    const ops = opsOf(call).map((op): ScenarioOp => {
      const def = findActor(op.actor, pool);
      if (def.eras && !def.eras.includes(sw.era)) {
        throw new ModelError('unknown-actor', `actor '${def.name}' is not modelled in era ${sw.era}: it is in ${def.eras.join(', ')}`, def.eras);
      }
      return { def, args: bindArgs(def, op.args ?? {}) };
    });
    if (ops.length > 1) checkThread(ops);
    const first = ops[0]!;
    const base = ops.map((o) => o.def.name).join('+');
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const run = ops.length === 1 ? (c: Ctx) => first.def.run(c, first.args) : (c: Ctx) => thread(c, ops);
    return { def: first.def, name: n === 1 ? base : `${base}#${n}`, args: first.args, ops, mm, run };
  });
  // A fork's child mm: its threads wait for the fork to return (fork_child.ts).
  const forkedBy = forkChildren(world, actors);
  const forker = (i: number) => forkedBy.includes(i);
  const inChild = (a: ScenarioActor) => (forkedBy[a.mm] ?? -1) >= 0 && runsInMm(a.def);
  const born = actors.map((a, i) => (forker(i) ? { ...a, run: (c: Ctx) => forkThenWake(c, a.def.run(c, a.args)) } : a));
  const has = (a: ScenarioActor, pred: (o: ScenarioOp) => boolean) => a.ops.some(pred);
  const exitsIn = (a: ScenarioActor) => has(a, (o) => o.def === exit_mmap_actor);
  const mms = world.mms.map((_, id): MmSetup & { exits: boolean } => {
    const mine = actors.filter((a) => a.mm === id);
    const exits = mine.some(exitsIn);
    const threads = mine.filter((a) => a.def.inMm && a.def.daemon === 'no').length;
    const khugepagedScanning = mine.some((a) => has(a, (o) => o.def === collapse_huge_page || o.def === collapse_pte_mapped_thp
      || (o.def === exit_mmap_actor && o.args['scanned'] === 1)));
    return { mmUsers: exits ? threads : threads + 1, khugepagedScanning, exits, forkedBy: forkedBy[id] ?? -1 };
  });
  // coredump_wait() zaps the other user threads of an mm that dumps (zap_threads_park()). The exiting
  // thread is left alone: its mmput() cannot be the last while the dumper holds mm_users.
  const dumpsIn = (a: ScenarioActor) => has(a, (o) => o.def === coredump);
  const dumps = new Set(actors.filter(dumpsIn).map((a) => a.mm));
  const parked = born.map((a) => (dumps.has(a.mm) && !dumpsIn(a) && !exitsIn(a) && a.def.inMm && a.def.daemon === 'no'
    ? { ...a, run: (c: Ctx) => zap_threads_park(c, a.run(c)) }
    : a));
  const withMmput = parked.map((a) => (mms[a.mm]?.exits && !exitsIn(a) && a.def.inMm && a.def.daemon === 'no'
    ? { ...a, run: (c: Ctx) => threadThenMmput(a.run(c), c) }
    : a));
  // Outermost: a child's thread waits before it does anything; a forker that never forked says so.
  const woken = withMmput.map((a, i) => {
    if (!inChild(a) && !forker(i)) return a;
    const own = a.run;
    const waits = inChild(a) ? (c: Ctx) => wakeThenRun(c, own(c)) : own;
    return { ...a, run: forker(i) ? (c: Ctx) => forkerExits(c, waits(c)) : waits };
  });
  woken.push({ def: rcu_callbacks, name: 'rcu', args: {}, ops: [{ def: rcu_callbacks, args: {} }], mm: 0, run: (c: Ctx) => rcu_callbacks.run(c, {}) });
  return { archId, arch, sw, world, actors: woken, mms: mms.map(({ mmUsers, khugepagedScanning, forkedBy: by = -1 }) => ({ mmUsers, khugepagedScanning, forkedBy: by })) };
}

/** A thread of several operations runs on one CPU as one kind of thread: all user threads of its mm,
 *  or all kernel threads; none a daemon. exit_mmap and coredump end a thread (the process is gone, or
 *  dumping), so they may only come last. What is wrong with the thread `defs` would make, or null. */
export function threadProblem(defs: readonly ActorDef[]): string | null {
  const first = defs[0]!;
  const names = defs.map((d) => d.name).join(', ');
  for (const [i, def] of defs.entries()) {
    if (def.daemon !== 'no') return `a thread of several operations (${names}) cannot run '${def.name}': it is a background actor, give it a thread of its own`;
    if (def.inMm !== first.inMm || (def.lazyTlb === true) !== (first.lazyTlb === true)) {
      return `a thread of several operations (${names}) mixes user-thread and kernel-thread actors ('${first.name}', '${def.name}'): a thread is one or the other`;
    }
    // (fork_child.ts wraps a forking actor's whole run: a fork is a thread of its own, for now.)
    if (def.forks === true) return `a thread of several operations (${names}) cannot run '${def.name}': a fork runs as a thread of its own`;
    if ((def === exit_mmap_actor || def === coredump) && i < defs.length - 1) {
      return `in a thread of several operations (${names}), '${def.name}' must come last: the thread does not run on after it`;
    }
  }
  return null;
}

function checkThread(ops: readonly ScenarioOp[]): void {
  const problem = threadProblem(ops.map((o) => o.def));
  if (problem) throw new ModelError('bad-argument', problem, []);
}

/** Label of the step that starts operation `i` of a thread of several: the trace shows each
 *  operation as it starts. */
export function opLabel(i: number, op: ScenarioOp): string {
  const args = op.def.params.filter((p) => op.args[p.name] !== p.default).map((p) => `${p.name}=${op.args[p.name]}`);
  return `op ${i + 1}: ${op.def.name}${args.length ? `(${args.join(',')})` : ''}`;
}

/** A thread of several operations: before each one a step that names it (a scheduling point between
 *  operations, as at the end of a thread), then the operation's own steps. */
function* thread(c: Ctx, ops: readonly ScenarioOp[]): ActorGen {
  for (const [i, op] of ops.entries()) {
    yield step(opLabel(i, op));
    yield* op.def.run(c, op.args);
  }
}

/** A user thread of an exiting process: its work, then its own mmput() as it exits. */
function* threadThenMmput(body: ActorGen, c: Ctx): ActorGen {
  yield* body;
  yield* call(mmput(c));
}

