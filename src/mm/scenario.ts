// A scenario: which actors run, with which arguments, on which architecture, era and variants.
// buildScenario() validates every name and argument and throws a ModelError that lists what is
// accepted. The RCU callback runner is always added last: every scenario needs its grace periods.

import { allArchIds, archOf, paravirtGuest, type Arch, type ArchId } from './arch.js';
import type { ActorDef, Args } from './actor.js';
import { ModelError, unknownName } from './errors.js';
import { rcu_callbacks } from './actors/index.js';
import { allActors } from './registry.js';
import { exit_mmap_actor, mmput } from './actors/exit_mmap.js';
import type { ActorGen, Ctx } from './step.js';
import type { MmSetup } from './types.js';
import type { World } from './world/types.js';
import { parseWorld } from './world/registry.js';
import { collapse_huge_page } from './actors/collapse_huge_page.js';
import { collapse_pte_mapped_thp } from './actors/collapse_pte_mapped_thp.js';
import { coredump, zap_threads_park } from './actors/coredump.js';
import { forkChildren, forkerExits, forkThenWake, runsInMm, wakeThenRun } from './fork_child.js';
import { makeSwitches, parseEra, type EraId, type Switches, type VariantId, parseVariant } from './switches.js';

export interface ActorCall {
  readonly actor: string;
  readonly args?: Readonly<Record<string, number>>;
  /** The mm it runs in (a user thread) or works on (a kernel thread such as khugepaged): an index
   *  into the world's mms, 0 when absent. */
  readonly mm?: number;
}

export interface ScenarioSpec {
  readonly arch: string;
  readonly era?: string;
  readonly variants?: readonly string[];
  /** The world's name; `default` when absent. */
  readonly world?: string;
  readonly actors: readonly ActorCall[];
}

export interface ScenarioActor {
  readonly def: ActorDef;
  /** Unique in the scenario: the actor's name, with #2, #3 for repeats. */
  readonly name: string;
  readonly args: Args;
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
    const def = findActor(call.actor, pool);
    if (def.eras && !def.eras.includes(sw.era)) {
      throw new ModelError('unknown-actor', `actor '${def.name}' is not modelled in era ${sw.era}: it is in ${def.eras.join(', ')}`, def.eras);
    }
    const n = (seen.get(def.name) ?? 0) + 1;
    seen.set(def.name, n);
    const args = bindArgs(def, call.args ?? {});
    return { def, name: n === 1 ? def.name : `${def.name}#${n}`, args, mm, run: (c: Ctx) => def.run(c, args) };
  });
  // A fork's child mm: its threads wait for the fork to return (fork_child.ts).
  const forkedBy = forkChildren(world, actors);
  const forker = (i: number) => forkedBy.includes(i);
  const inChild = (a: ScenarioActor) => (forkedBy[a.mm] ?? -1) >= 0 && runsInMm(a.def);
  const born = actors.map((a, i) => (forker(i) ? { ...a, run: (c: Ctx) => forkThenWake(c, a.def.run(c, a.args)) } : a));
  const mms = world.mms.map((_, id): MmSetup & { exits: boolean } => {
    const mine = actors.filter((a) => a.mm === id);
    const exits = mine.some((a) => a.def === exit_mmap_actor);
    const threads = mine.filter((a) => a.def.inMm && a.def.daemon === 'no').length;
    const khugepagedScanning = mine.some((a) => a.def === collapse_huge_page || a.def === collapse_pte_mapped_thp
      || (a.def === exit_mmap_actor && a.args['scanned'] === 1));
    return { mmUsers: exits ? threads : threads + 1, khugepagedScanning, exits, forkedBy: forkedBy[id] ?? -1 };
  });
  // coredump_wait() zaps the other user threads of an mm that dumps (zap_threads_park()). The exiting
  // thread is left alone: its mmput() cannot be the last while the dumper holds mm_users.
  const dumps = new Set(actors.filter((a) => a.def === coredump).map((a) => a.mm));
  const parked = born.map((a) => (dumps.has(a.mm) && a.def !== coredump && a.def !== exit_mmap_actor && a.def.inMm && a.def.daemon === 'no'
    ? { ...a, run: (c: Ctx) => zap_threads_park(c, a.run(c)) }
    : a));
  const withMmput = parked.map((a) => (mms[a.mm]?.exits && a.def !== exit_mmap_actor && a.def.inMm && a.def.daemon === 'no'
    ? { ...a, run: (c: Ctx) => threadThenMmput(a.run(c), c) }
    : a));
  // Outermost: a child's thread waits before it does anything; a forker that never forked says so.
  const woken = withMmput.map((a, i) => {
    if (!inChild(a) && !forker(i)) return a;
    const own = a.run;
    const waits = inChild(a) ? (c: Ctx) => wakeThenRun(c, own(c)) : own;
    return { ...a, run: forker(i) ? (c: Ctx) => forkerExits(c, waits(c)) : waits };
  });
  woken.push({ def: rcu_callbacks, name: 'rcu', args: {}, mm: 0, run: (c: Ctx) => rcu_callbacks.run(c, {}) });
  return { archId, arch, sw, world, actors: woken, mms: mms.map(({ mmUsers, khugepagedScanning, forkedBy: by = -1 }) => ({ mmUsers, khugepagedScanning, forkedBy: by })) };
}

/** A user thread of an exiting process: its work, then its own mmput() as it exits. */
function* threadThenMmput(body: ActorGen, c: Ctx): ActorGen {
  yield* body;
  yield* mmput(c);
}

