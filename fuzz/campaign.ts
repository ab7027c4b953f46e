// A campaign: generate scenarios and schedules by the chosen strategy, run them, and for each distinct
// failure shrink it, draw its trace and give its replay token. Deterministic from its seed and
// options, except for how many executions fit in the time given.

import fc from 'fast-check';
import { worldProgram } from '../src/arbitraries/program.js';
import type { DirectedWeights } from '../src/arbitraries/directed.js';
import { focusGroups } from '../src/explore/focus.js';
import { originOf } from '../src/mm/registry.js';
import { scheduleValue, type ScheduleStrategy } from '../src/arbitraries/schedule.js';
import type { PoolEntry } from '../src/arbitraries/scenario.js';
import { archArb } from '../src/arbitraries/arch.js';
import { execute, type Execution } from '../src/explore/executor.js';
import { knownRace } from '../src/explore/known.js';
import { depth, follow, recording, type Schedule } from '../src/explore/schedule.js';
import { splitmix32 } from '../src/explore/schedulers.js';
import { findStrategy, type Member, type SamplingStrategy, type StrategyName } from '../src/explore/strategies/index.js';
import { samplersOf } from '../src/explore/strategies/samplers.js';
import { membersOf } from '../src/explore/strategies/portfolio.js';
import { PCT_PROBE_RUNS, pctFindsAt } from '../src/explore/strategies/pct.js';
import { shrink } from '../src/explore/shrink.js';
import { encodeToken } from '../src/explore/token.js';
import { renderTrace, traceJson, type JsonTrace } from '../src/explore/trace.js';
import type { ArchId } from '../src/mm/arch.js';
import type { ActorDef } from '../src/mm/actor.js';
import { actorNames, buildScenario, findActor, type ActorCall, type OpCall, type ScenarioSpec } from '../src/mm/scenario.js';
import { parseWorld } from '../src/mm/world/registry.js';
import { raceOf, type Race } from './races.js';
import { makeSwitches, type EraId, type VariantId } from '../src/mm/switches.js';
import type { ViolationKind } from '../src/oracle/violations.js';
/** A strategy's name, as in the table of src/explore/strategies/index.ts. */
export type Strategy = StrategyName;

/** How to search: shared by the command line's options and the campaign. */
export interface SearchSettings {
  readonly strategy: Strategy;
  readonly depth: number;
  /** Programs: each thread runs 1 to this many operations (random, pct, pos); 1 when absent. */
  readonly opsPerThread?: number;
  readonly preemptions: number;
  readonly timeMs: number | null;
  readonly runs: number | null;
  readonly seed: number;
  readonly shrinkMs: number;
  /** Exhaustive: also enumerate data choices, with at most this many away from 0 per schedule (0:
   *  off, the default; Infinity: any number). */
  readonly enumerateChoices?: number;
}

export interface CampaignConfig extends SearchSettings {
  readonly archs: readonly ArchId[];
  readonly era: EraId;
  readonly variants: readonly VariantId[];
  readonly pool: readonly ActorDef[];
  /** For exhaustive: the fixed scenario, in order (arguments not given take their defaults). */
  readonly fixedActors: readonly ActorCall[] | undefined;
  /** For random and pct: the pool as the user gave it (--actors), each entry with the arguments and
   *  the mm it fixes, which are never drawn nor shrunk. Absent: every actor of `pool`, nothing fixed. */
  readonly pins?: readonly ActorCall[];
  /** The worlds to draw among, by name (default: `default`). */
  readonly worlds?: readonly string[];
  /** Stop once this many distinct failures are found (tests, bench). */
  readonly stopAfterFailures?: number;
  /** With the portfolio strategy: which worker this campaign is, of how many (the pool sets it; a
   *  campaign on its own is worker 0 of 1 and runs every member). */
  readonly portfolioSlot?: { readonly slot: number; readonly workers: number };
  /** Runs per depth PCT is given to say at which --depth it finds a failure (Failure.pctDepth);
   *  default PCT_PROBE_RUNS, 0: not asked (bench: search time only). */
  readonly pctProbeRuns?: number;
  /** The directed draw (src/explore/focus.ts, src/arbitraries/directed.ts): 'on' (the command line's
   *  default when the pool is every actor) changes nothing unless a variant is on or a user module's
   *  actor is in the pool; 'off' or absent (a pool the caller chose, --actors, --focus off): the
   *  undirected draw whatever the variants. */
  readonly focus?: 'on' | 'off';
  /** To measure another share-out of the directed draw than DIRECTED_WEIGHTS (absent: that). */
  readonly focusWeights?: DirectedWeights;
}

export interface Failure {
  readonly kind: ViolationKind;
  readonly actors: readonly string[];
  readonly arch: ArchId;
  readonly era: EraId;
  readonly variants: readonly VariantId[];
  readonly world: string;
  readonly depth: number;
  readonly token: string;
  readonly trace: string;
  readonly traceJson: JsonTrace;
  /** The known race it is (docs/known-races.md), or null when it is new. A failure that goes away
   *  with the requested variants off is theirs, not the era's, and is never called known. */
  readonly known: string | null;
  /** It reproduces only with the requested variants on. */
  readonly needsVariants: boolean;
  /** Shrinking reached a fixpoint within its budget. */
  readonly minimal: boolean;
  readonly shrinkMs: number;
  /** The strategy (and, for PCT, the depth) whose run found it: the portfolio's member. */
  readonly foundBy?: Member;
  /** The smallest --depth (from `depth` to depth + 2) at which PCT finds it in its shrunk scenario
   *  (strategies/pct.ts pctFindsAt), null when none did: `depth` counts preemptions of the canonical
   *  schedule, PCT's d priority drops, and the two can differ. */
  readonly pctDepth?: number | null;
  /** The key it was first seen (and saved) under, before shrinking. */
  readonly foundKey: string;
  /** Executions run, and milliseconds into the campaign, when it was first seen (before shrinking). */
  readonly foundAfter: number;
  readonly foundAtMs: number;
  /** Milliseconds of searching (not counting the shrinking of earlier failures) when it was seen. */
  readonly foundAtSearchMs: number;
  /** Other tokens printed for the same failure (another worker's, before this one was kept): each
   *  replays it too, and is kept in the corpus and the report so that every printed token is found. */
  readonly otherTokens?: readonly string[];
  /** The race it shows (races.ts): what groups failures in the summary, the corpus and the report. */
  readonly race: Race;
  /** Steps in its shrunk trace. */
  readonly steps: number;
  /** Executions and milliseconds into the whole campaign (all workers) when it was first seen. */
  readonly seenAfter: number;
  readonly seenAtMs: number;
}

/** A failure the moment it is seen, before shrinking: enough to replay it if the campaign dies. */
export interface Found {
  readonly key: string;
  readonly kind: ViolationKind;
  readonly arch: ArchId;
  readonly actors: readonly string[];
  readonly token: string;
  /** Executions this campaign (or worker) had run when it was seen. */
  readonly after?: number;
}

/** An exception inside an actor or the model: a bug in mmfuzz, not a race. */
export interface InternalError {
  readonly message: string;
  readonly actors: readonly string[];
  readonly arch: ArchId;
  readonly token: string;
}

export interface Progress {
  readonly executions: number;
  readonly failures: number;
  readonly elapsedMs: number;
  /** For exhaustive: schedules still to run. */
  readonly pending?: number;
}

export interface CampaignResult {
  readonly executions: number;
  readonly durationMs: number;
  readonly failures: readonly Failure[];
  readonly internalErrors: readonly InternalError[];
  /** Exhaustive only: every schedule within the bound was run. */
  readonly complete?: boolean;
  /** Exhaustive without a bound (DPOR): distinct states reached and executions cut short by sleep
   *  sets, over every scenario searched. */
  readonly states?: number;
  readonly sleepBlocked?: number;
  /** ... and executions cut at a state explored before (its subtree done). */
  readonly cuts?: number;
  /** A strategy with a per-run bound (PCT): what the runs done promise about a bug of depth ≤ d. */
  readonly guarantee?: Guarantee;
}

/** PCT's promise over a campaign. Each scenario s run r_s times, with n_s actors and k_s steps, would
 *  have shown a given bug of depth ≤ `depth` with probability p_s = 1 − Π(1 − 1/(n_s·k_s^(d−1))) over
 *  its runs. Over scenarios the weakest promise is the one that holds for all: `minP` (and `scenarios`
 *  says over how many it is taken); `medianP` shows how typical that is. */
export interface Guarantee {
  readonly depth: number;
  readonly scenarios: number;
  readonly minP: number;
  readonly medianP: number;
}

/** Aggregate per-scenario miss probabilities (the product of 1 − bound over a scenario's runs). */
export function guaranteeOf(depth: number, misses: readonly number[]): Guarantee | undefined {
  if (misses.length === 0) return undefined;
  const ps = misses.map((m) => 1 - m).sort((a, b) => a - b);
  return { depth, scenarios: ps.length, minP: ps[0]!, medianP: ps[(ps.length - 1) >> 1]! };
}

export interface Hooks {
  readonly now: () => number;
  /** The shrinker's clock (default `now`): tests give one that never moves, so that a shrink goes to
   *  its fixpoint however loaded the machine is, while --time still runs on `now`. */
  readonly shrinkNow?: () => number;
  readonly onFailure?: (f: Failure) => void;
  readonly onProgress?: (p: Progress) => void;
  readonly onFound?: (f: Found) => void;
  /** A failure seen under `foundKey` shrank to `key`, which was found before: nothing new, but the
   *  unshrunk entry saved under `foundKey` can go. */
  readonly onDuplicate?: (foundKey: string, key: string) => void;
  readonly onInternalError?: (e: InternalError) => void;
  /** Each scenario drawn, before its runs (tests: what the draw gives). */
  readonly onScenario?: (spec: ScenarioSpec) => void;
  /** Asked between executions: end the campaign now (bench: the failure it waited for is in). */
  readonly stop?: () => boolean;
}

/** The campaign's settings from the user's options: era defaulting to the variant's home era. */
export function resolveEra(era: EraId | undefined, variants: readonly VariantId[]): EraId {
  return makeSwitches(era, variants).era;
}

const focusMemo = new Map<string, readonly (readonly string[])[]>();

/** The campaign's focus groups: for each switched-on variant the actors of its pool that consult it,
 *  and the actors of user modules (src/explore/focus.ts); [] with --focus off. Worked out once per
 *  process for given settings (the probe runs each actor of the pool a few times). */
export function campaignFocus(cfg: Pick<CampaignConfig, 'era' | 'variants' | 'archs' | 'worlds' | 'pool' | 'focus'>): readonly (readonly string[])[] {
  if (cfg.focus !== 'on') return [];
  const loaded = (name: string) => originOf(name) !== null;
  if (cfg.variants.length === 0 && !cfg.pool.some((d) => loaded(d.name))) return [];
  const key = JSON.stringify([cfg.era, cfg.variants, cfg.archs, cfg.worlds ?? ['default'], cfg.pool.map((d) => d.name)]);
  let f = focusMemo.get(key);
  if (!f) {
    f = focusGroups({ era: cfg.era, variants: cfg.variants, archs: cfg.archs, worlds: cfg.worlds ?? ['default'], pool: cfg.pool, loaded });
    focusMemo.set(key, f);
  }
  return f;
}

/** Forget the focus worked out so far (bench: each seed a campaign of its own, probe included). */
export function forgetFocus(): void {
  focusMemo.clear();
}

const baseName = (n: string) => n.replace(/#\d+$/, '');

/** Distinct failures: the kind, the architecture and the actors (shrunk, when the key is final). */
export function failureKey(kind: string, arch: string, actors: readonly string[]): string {
  return `${kind}|${arch}|${[...actors].map(baseName).sort().join(',')}`;
}

export function runCampaign(cfg: CampaignConfig, hooks: Hooks): CampaignResult {
  const t0 = hooks.now();
  const rng = splitmix32(cfg.seed);
  const seen = new Set<string>();
  const failures: Failure[] = [];
  const internalErrors: InternalError[] = [];
  const seenErrors = new Set<string>();
  let executions = 0;
  let shrinkingMs = 0;
  let lastProgress = t0;
  const timeUp = () => cfg.timeMs !== null && hooks.now() - t0 >= cfg.timeMs;
  const runsUp = () => (cfg.runs !== null && executions >= cfg.runs) || failures.length >= (cfg.stopAfterFailures ?? Infinity) || hooks.stop?.() === true;

  // What the user fixed (--actors) stays as given while shrinking: an argument, or the mm, of an
  // actor that some pool entry fixes.
  const strategy = findStrategy(cfg.strategy);
  const fixed = strategy.kind === 'exhaustive' ? cfg.fixedActors ?? [] : cfg.pins ?? [];
  const pinned = (call: ActorCall, arg: string) => fixed.some((p) => p.actor === call.actor && (arg === 'mm' ? p.mm !== undefined : p.args?.[arg] !== undefined));
  const worlds = (cfg.worlds ?? ['default']).map(parseWorld);

  // A bug in the model (an exception from a step), reported once per message and actors, with the
  // token that replays it; the campaign goes on.
  const internalError = (message: string, spec: ScenarioSpec, schedule: Schedule) => {
    const arch = spec.arch as ArchId;
    const err: InternalError = { message, actors: spec.actors.map((a) => a.actor), arch, token: encodeToken({ spec, schedule }) };
    const key = `${message}|${failureKey('', arch, err.actors)}`;
    if (seenErrors.has(key)) return;
    seenErrors.add(key);
    internalErrors.push(err);
    hooks.onInternalError?.(err);
  };

  const report = (spec: ScenarioSpec, schedule: Schedule, exec: Execution, foundBy?: Member) => {
    const v = exec.violation;
    if (!v) return;
    const arch = spec.arch as ArchId;
    const involved = [...new Set([v.usedBy.name, v.changedBy?.name].filter((n): n is string => !!n).map(baseName))];
    const early = failureKey(v.kind, arch, involved);
    if (seen.has(early)) return;
    seen.add(early);
    const foundAtMs = hooks.now() - t0;
    hooks.onFound?.({ key: early, kind: v.kind, arch, actors: actorNames(spec.actors), token: encodeToken({ spec, schedule }), after: executions });
    const foundAtSearchMs = foundAtMs - shrinkingMs;
    const s = shrink({ spec, schedule }, v.kind, { budgetMs: cfg.shrinkMs, now: hooks.shrinkNow ?? hooks.now, pool: cfg.pool, pinned });
    shrinkingMs += s.ms;
    // Candidates that threw while shrinking: each is an internal error of its own.
    for (const e of s.errors) internalError(e.message, e.spec, e.schedule);
    const actors = actorNames(s.spec.actors);
    const key = failureKey(v.kind, arch, actors);
    if (key !== early && seen.has(key)) {
      hooks.onDuplicate?.(early, key);
      return;
    }
    seen.add(key);
    const scenario = buildScenario(s.spec, cfg.pool);
    const traced = execute(scenario, follow(s.schedule), { trace: true });
    const needsVariants = cfg.variants.length > 0
      && execute(buildScenario({ ...s.spec, variants: [] }, cfg.pool), follow(s.schedule)).violation?.kind !== v.kind;
    const known = needsVariants ? null : knownRace(scenario.sw.era, arch, actors, v.kind);
    // Which --depth PCT finds it at: search time it is not (counted with shrinking).
    const p0 = hooks.now();
    const probeRuns = cfg.pctProbeRuns ?? PCT_PROBE_RUNS;
    const pctDepth = probeRuns > 0 ? pctFindsAt(scenario, v.kind, depth(s.schedule), Math.max(1, traced.steps), probeRuns) : undefined;
    shrinkingMs += hooks.now() - p0;
    const f: Failure = {
      kind: v.kind, actors, arch, era: scenario.sw.era, variants: scenario.sw.variants, world: scenario.world.name,
      depth: depth(s.schedule), ...(pctDepth !== undefined ? { pctDepth } : {}), token: encodeToken(s),
      trace: renderTrace({ scenario, schedule: s.schedule, exec: traced }),
      traceJson: traceJson({ scenario, schedule: s.schedule, exec: traced }),
      known,
      needsVariants,
      minimal: s.minimal, shrinkMs: Math.round(s.ms), ...(foundBy ? { foundBy } : {}), foundKey: early, foundAfter: executions, foundAtMs, foundAtSearchMs,
      race: raceOf(traced, traced.violation ?? v, known), steps: traced.trace.length, seenAfter: executions, seenAtMs: foundAtMs,
    };
    failures.push(f);
    hooks.onFailure?.(f);
  };

  const progress = (pending?: number) => {
    const now = hooks.now();
    if (now - lastProgress < 250) return;
    lastProgress = now;
    hooks.onProgress?.({ executions, failures: failures.length, elapsedMs: now - t0, ...(pending !== undefined ? { pending } : {}) });
  };

  if (strategy.kind === 'exhaustive') {
    const calls = cfg.fixedActors ?? [];
    let complete = true;
    let states: number | undefined;
    let sleepBlocked: number | undefined;
    let cuts: number | undefined;
    // A search cut short by --runs or --time between two (world, architecture) pairs proves nothing
    // of the pairs it never reached.
    let searched = 0;
    for (const world of worlds) {
      for (const arch of cfg.archs) {
        const spec: ScenarioSpec = { arch, era: cfg.era, variants: cfg.variants, world: world.name, actors: calls };
        const scn = buildScenario(spec, cfg.pool);
        // --time bounds the search as it bounds sampling (the result is then not complete), and a
        // schedule whose run throws is an internal error with its token: the search goes on past it,
        // but what it did not run below that schedule is not proven.
        let threw = false;
        const r = strategy.run(scn, cfg.preemptions, {
          onProgress: (p) => hooks.onProgress?.({ executions: executions + p.explored, failures: failures.length, elapsedMs: hooks.now() - t0, pending: p.pending }),
          stopAfter: cfg.runs === null ? Infinity : cfg.runs - executions,
          shouldStop: timeUp,
          enumerateChoices: cfg.enumerateChoices ?? 0,
          onError: (schedule, e) => { threw = true; internalError(e instanceof Error ? e.message : String(e), spec, schedule); },
        });
        executions += r.explored;
        searched++;
        if (r.failure) report(spec, r.failure.schedule, r.failure.exec);
        complete &&= r.complete && !threw;
        if (r.states !== undefined) states = (states ?? 0) + r.states;
        if (r.sleepBlocked !== undefined) sleepBlocked = (sleepBlocked ?? 0) + r.sleepBlocked;
        if (r.cuts !== undefined) cuts = (cuts ?? 0) + r.cuts;
        if (runsUp() || timeUp()) break;
      }
      if (runsUp() || timeUp()) break;
    }
    complete &&= searched === worlds.length * cfg.archs.length;
    return { executions, durationMs: hooks.now() - t0, failures, internalErrors, complete,
      ...(states !== undefined ? { states } : {}), ...(sleepBlocked !== undefined ? { sleepBlocked } : {}),
      ...(cuts !== undefined ? { cuts } : {}) };
  }

  const inEra = (d: ActorDef) => !d.eras || d.eras.includes(cfg.era);
  const op = (o: OpCall) => ({ def: findActor(o.actor, cfg.pool), ...(o.args ? { args: o.args } : {}) });
  const entries: PoolEntry[] = cfg.pins
    ? cfg.pins.map((c): PoolEntry => ({ ...op(c), ...(c.mm !== undefined ? { mm: c.mm } : {}), ...(c.then?.length ? { then: c.then.map(op) } : {}) }))
      .filter((e) => inEra(e.def) && (e.then ?? []).every((o) => inEra(o.def)))
    : cfg.pool.filter(inEra).map((def) => ({ def }));
  const focus = campaignFocus(cfg);
  // One path: the scenarios and architectures are drawn from the arbitraries a fast-check suite uses
  // (mmfuzz/arbitraries), 32 scenarios at a time, each with the seeds of its first 8 schedules; a
  // run's schedule is the value schedule() generates for its strategy and seed (scheduleValue()).
  const draw = fc.record({
    wp: worldProgram(worlds, { pool: entries, focus, ...(cfg.focusWeights ? { focusWeights: cfg.focusWeights } : {}), ...(cfg.opsPerThread !== undefined && cfg.opsPerThread > 1 ? { opsPerThread: { min: 1, max: cfg.opsPerThread } } : {}) }),
    arch: archArb(cfg.archs),
    seeds: fc.array(fc.integer({ min: 0, max: 0x7fffffff }), { minLength: 8, maxLength: 8 }),
  });
  // The sampling strategies this campaign runs, one scenario each in turn (one, but for a portfolio),
  // and the guide of each that learns (greybox), kept for the whole campaign.
  const members: readonly Member[] = strategy.kind === 'portfolio'
    ? membersOf(strategy.members, cfg.portfolioSlot?.slot ?? 0, cfg.portfolioSlot?.workers ?? 1)
    : [{ strategy: cfg.strategy, depth: cfg.depth }];
  const samplers = samplersOf(members, rng);
  let turn = 0;
  let avgSteps = 60;
  // Per scenario (by its spec): the mean length of its runs so far (PCT's k: change points must be
  // able to fall anywhere in a run, and a scenario's length is its own, not the campaign's average;
  // the mean, not the longest, since one run that spins on a retry loop to the step limit would
  // spread the change points over thousands of steps), and the probability that the strategy's
  // bound leaves a given bug unseen so far.
  const mean = new Map<string, { runs: number; steps: number }>();
  const missed = new Map<string, number>();
  const meanOf = (key: string) => { const m = mean.get(key); return m ? m.steps / m.runs : undefined; };
  while (!timeUp() && !runsUp()) {
    const batch = fc.sample(draw, { seed: rng() | 0, numRuns: 32 });
    for (const { wp: { world, program: actors }, arch, seeds } of batch) {
      const spec: ScenarioSpec = { arch, era: cfg.era, variants: cfg.variants, world: world.name, actors };
      hooks.onScenario?.(spec);
      const scn = buildScenario(spec, cfg.pool);
      const specKey = JSON.stringify(spec);
      const { mem, st, guide } = samplers[turn++ % samplers.length]!;
      // A learning strategy gives a scenario whose runs keep showing new things more runs: a run that
      // shows something new to the campaign, 8 more from there (at most 16 times the 8 of the others;
      // those past the 8 drawn take their seeds from the campaign's). Not 8 more per such run: with every
      // actor in the pool most early runs show some pair new to the campaign, and a scenario that cannot
      // fail piled up runs it then spent (V9's coredump race, every actor, greybox: 4.45 finds per 1000
      // runs with 8 more per such run, 5.35 with 8 from there; V1, V3, V4, V5 gained too).
      let runsHere = 8;
      for (let k = 0; k < runsHere; k++) {
        if (timeUp() || runsUp()) break;
        // Search without recording; a failure's schedule is written down by running the same
        // schedule again under its recorder (an execution is a function of its seed).
        const seed = seeds[k] ?? rng();
        const ctx = { actors: scn.actors.length, depth: mem.depth, k: Math.max(1, Math.round(meanOf(specKey) ?? avgSteps)) };
        const plan = guide?.plan(specKey, ctx, seed);
        const sv = plan ? null : scheduleValue(mem.strategy as ScheduleStrategy, seed, mem.depth);
        const recorded = (): Schedule => {
          const rec = plan ? recording(plan.make()) : null;
          try { execute(scn, rec ?? sv!.scheduler(ctx, true)); } catch { /* the schedule up to the exception is what replays it */ }
          return rec ? rec.schedule() : sv!.recorded() ?? { preemptions: [], choices: [] };
        };
        let exec: Execution;
        try {
          exec = execute(scn, plan ? plan.make() : sv!.scheduler(ctx, false));
        } catch (e) {
          executions++;
          internalError(e instanceof Error ? e.message : String(e), spec, recorded());
          continue;
        }
        executions++;
        if (plan && guide && guide.feedback(plan) > 0) runsHere = Math.min(Math.max(runsHere, k + 1 + 8), 128);
        // A guide that has nothing left to try on this scenario: a new one instead.
        if (plan && guide?.more && !guide.more(specKey)) runsHere = k + 1;
        avgSteps += (exec.steps - avgSteps) / 64;
        // The bound holds for runs whose length is within k: a longer run is counted as promising
        // nothing (and k grows for the next).
        if (boundOf(st, strategy.kind)) missed.set(specKey, (missed.get(specKey) ?? 1) * (exec.steps <= ctx.k ? 1 - st.bound!(ctx) : 1));
        const seen = mean.get(specKey) ?? { runs: 0, steps: 0 };
        mean.set(specKey, { runs: seen.runs + 1, steps: seen.steps + exec.steps });
        if (exec.violation) {
          const schedule = recorded();
          try {
            report(spec, schedule, exec, mem);
          } catch (e) {
            // Not the shrinker's candidates (kept above) but reporting itself: the token replays the
            // failure that was being reported.
            internalError(`${e instanceof Error ? e.message : String(e)} (while reporting the failure this token replays)`, spec, schedule);
          }
        }
        if ((executions & 255) === 0) progress();
      }
      if (timeUp() || runsUp()) break;
    }
  }
  const guarantee = guaranteeOf(cfg.depth, [...missed.values()]);
  return { executions, durationMs: hooks.now() - t0, failures, internalErrors, ...(guarantee ? { guarantee } : {}) };
}


/** A strategy's per-run bound counts toward the campaign's guarantee only when the campaign runs that
 *  strategy alone at the asked depth (a portfolio's PCT runs are at several depths and not all of
 *  its runs). */
function boundOf(st: SamplingStrategy, kind: string): boolean {
  return st.bound !== undefined && kind !== 'portfolio';
}
