// The whole execution as one arbitrary: a world, a program, an architecture, the switches and a
// schedule. Its value runs the execution when first asked (outcome, violation, steps), and gives the
// kernel-style trace and the replay token of what ran. Shrinking is the command line's shrinker
// (src/explore/shrink.ts): threads, then operations, then arguments, then preemptions, then the
// trace, step by step, so fc.assert ends at the same minimal interleaving `npm run fuzz` prints.

import fc from 'fast-check';
import { execute, type Execution } from '../explore/executor.js';
import { nonPreemptive } from '../explore/schedulers.js';
import { follow, type Schedule } from '../explore/schedule.js';
import { shrinkSteps, startShrinking, type ShrinkOptions, type ShrinkState } from '../explore/shrink.js';
import { encodeToken } from '../explore/token.js';
import { renderTrace } from '../explore/trace.js';
import { allActors } from '../mm/registry.js';
import { buildScenario, type ActorCall, type ScenarioSpec } from '../mm/scenario.js';
import { makeSwitches, parseEra, parseVariant } from '../mm/switches.js';
import type { Violation } from '../oracle/violations.js';
import { arch as archOf } from './arch.js';
import { customArbitrary, streamOf } from './custom.js';
import { poolEntries, worldProgram, type Count } from './program.js';
import { parseWorld } from '../mm/world/registry.js';
import { schedule, scheduleValue, type ScheduleStrategy, type ScheduleValue } from './schedule.js';
import type { PoolEntry } from './scenario.js';
import { switches } from './switches.js';
import type { ActorDef } from '../mm/actor.js';

export interface ExecutionOptions {
  /** The era; by default the home era of the first variant, or v6.6. */
  readonly era?: string;
  /** Variants on (by id or tag: 'V2'). */
  readonly variants?: readonly string[];
  /** Architectures to draw among (every one when absent). */
  readonly arch?: readonly string[];
  /** The pool of actors (names, definitions, or entries fixing arguments): by default every actor
   *  registered when the arbitrary is made, that the era models. */
  readonly actors?: readonly (string | ActorDef | PoolEntry)[];
  /** Worlds to draw among, by name: `default` when absent. */
  readonly worlds?: readonly string[];
  /** Threads, and operations per thread: 2 to 4, and 1, as the command line's campaigns. */
  readonly threads?: Count;
  readonly opsPerThread?: Count;
  readonly strategy?: ScheduleStrategy;
  /** The bug depth (PCT's d): 3. */
  readonly depth?: number;
  /** PCT's k, the steps an execution takes: by default the length of the scenario's run without
   *  preemption. */
  readonly k?: number;
  readonly maxSteps?: number;
  /** A budget for shrinking, on `now` (both absent: none). */
  readonly shrinkMs?: number;
  readonly now?: () => number;
}

/** An execution: what it is (spec and schedule), and, run on first use, what it did. */
export interface ExecutionValue {
  readonly spec: ScenarioSpec;
  readonly schedule: ScheduleValue;
  readonly outcome: Execution['outcome'];
  readonly violation: Violation | null;
  readonly steps: number;
  /** The execution itself (no trace kept). */
  readonly exec: Execution;
  /** The canonical schedule of what ran. */
  readonly canonical: Schedule;
  /** The trace, drawn as kernel commit messages draw a race. */
  readonly trace: string;
  /** The replay token: `npm run fuzz -- --replay TOKEN` prints the same trace. */
  readonly token: string;
}

const kCache = new Map<string, number>();

/** PCT's k for a scenario: the steps of its run without preemption (a function of the spec alone). */
function kOf(spec: ScenarioSpec): number {
  const key = JSON.stringify(spec);
  let k = kCache.get(key);
  if (k === undefined) {
    k = Math.max(1, execute(buildScenario(spec, allActors()), nonPreemptive()).steps);
    if (kCache.size > 10_000) kCache.clear();
    kCache.set(key, k);
  }
  return k;
}

interface Env {
  readonly k: number | undefined;
  readonly maxSteps: number | undefined;
  readonly shrink: Omit<ShrinkOptions, 'pool'>;
}

function executionValue(spec: ScenarioSpec, sched: ScheduleValue, env: Env, done?: ShrinkState): ExecutionValue & { [fc.toStringMethod](): string } {
  let ran: { exec: Execution; canonical: Schedule } | null = done ? { exec: done.exec, canonical: done.schedule } : null;
  let traced: string | null = null;
  const result = () => {
    if (ran) return ran;
    const scn = buildScenario(spec, allActors());
    const s = sched.scheduler({ actors: scn.actors.length, depth: sched.depth, k: env.k ?? kOf(spec) });
    const exec = execute(scn, s, env.maxSteps !== undefined ? { maxSteps: env.maxSteps } : {});
    ran = { exec, canonical: sched.recorded() ?? { preemptions: [], choices: [] } };
    return ran;
  };
  return {
    spec,
    schedule: sched,
    get exec() { return result().exec; },
    get outcome() { return result().exec.outcome; },
    get violation() { return result().exec.violation; },
    get steps() { return result().exec.steps; },
    get canonical() { return result().canonical; },
    get token() { return encodeToken({ spec, schedule: result().canonical }); },
    get trace() {
      if (traced === null) {
        const { canonical } = result();
        const scenario = buildScenario(spec, allActors());
        traced = renderTrace({ scenario, schedule: canonical, exec: execute(scenario, follow(canonical), { trace: true, ...(env.maxSteps !== undefined ? { maxSteps: env.maxSteps } : {}) }) });
      }
      return traced;
    },
    [fc.toStringMethod]: () => `execution(${encodeToken({ spec, schedule: result().canonical })})`,
  };
}

/** Run the parts that separate arbitraries drew (world, program, arch, switches, schedule), for a
 *  property over them: the same value execution() gives. */
export function runExecution(parts: { readonly world?: { readonly name: string }; readonly program: readonly ActorCall[]; readonly arch: string; readonly switches: { readonly era: string; readonly variants: readonly string[] }; readonly schedule: ScheduleValue; readonly k?: number; readonly maxSteps?: number }): ExecutionValue {
  const name = parts.world?.name ?? 'default';
  const spec: ScenarioSpec = { arch: parts.arch, era: parts.switches.era, variants: parts.switches.variants, ...(name === 'default' ? {} : { world: name }), actors: parts.program };
  return executionValue(spec, parts.schedule, { k: parts.k, maxSteps: parts.maxSteps, shrink: { budgetMs: Infinity, now: () => 0 } });
}

export function execution(opts: ExecutionOptions = {}): fc.Arbitrary<ExecutionValue> {
  const variants = (opts.variants ?? []).map((v) => parseVariant(v).id);
  const era = makeSwitches(opts.era === undefined ? undefined : parseEra(opts.era), variants).era;
  const entries = poolEntries(opts.actors ?? allActors().filter((d) => !d.eras || d.eras.includes(era)));
  const worlds = opts.worlds ?? ['default'];
  const progOpts = { pool: entries, ...(opts.threads !== undefined ? { threads: opts.threads } : {}), ...(opts.opsPerThread !== undefined ? { opsPerThread: opts.opsPerThread } : {}) };
  const wps = worldProgram(worlds.map(parseWorld), progOpts).map(({ world: w, program: p }) => ({ w, p }));
  const parts = fc.record({ wp: wps, arch: archOf(opts.arch), sw: switches(era, variants), sched: schedule({ strategy: opts.strategy ?? 'pct', depth: opts.depth ?? 3 }) });
  const pins = entries.filter((e) => e.args !== undefined || e.mm !== undefined);
  const pinned = (call: ActorCall, arg: string) => pins.some((p) => p.def.name === call.actor && (arg === 'mm' ? p.mm !== undefined : p.args?.[arg] !== undefined));
  const env: Env = {
    k: opts.k, maxSteps: opts.maxSteps,
    shrink: { budgetMs: opts.shrinkMs ?? Infinity, now: opts.now ?? (() => 0), pinned },
  };
  return customArbitrary<ExecutionValue>({
    generate(mrng, bias) {
      const { wp, arch, sw, sched } = parts.generate(mrng, bias).value;
      const spec: ScenarioSpec = { arch, era: sw.era, variants: sw.variants, ...(wp.w.name === 'default' ? {} : { world: wp.w.name }), actors: wp.p };
      return new fc.Value<ExecutionValue>(executionValue(spec, sched, env), undefined);
    },
    canShrinkWithoutContext: (_v: unknown): _v is ExecutionValue => false,
    shrink(v, context) {
      const st = (context as ShrinkState | undefined)
        ?? (v.violation ? startShrinking({ spec: v.spec, schedule: v.canonical }, v.violation.kind, { ...env.shrink, pool: allActors() }, v.exec) : undefined);
      if (!st) return fc.Stream.nil();
      return streamOf(shrinkSteps(st)).map((next) => new fc.Value<ExecutionValue>(
        executionValue(next.spec, scheduleValue(v.schedule.strategy, v.schedule.seed, v.schedule.depth, next.schedule), env, next), next));
    },
  });
}
