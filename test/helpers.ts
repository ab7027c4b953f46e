// Shared by the tests: build a scenario, run it under a written-down schedule, and name the result.

import type { ExecutionContext } from 'ava';
import { execute, type Execution } from '../src/explore/executor.js';
import { fromStreams, scripted, type Segment } from '../src/explore/schedulers.js';
import { knownRace } from '../src/explore/known.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { buildScenario, type ActorCall, type ScenarioSpec } from '../src/mm/scenario.js';
import { alloc_page, freeFrame } from '../src/mm/frames.js';
import { find_vma } from '../src/mm/model.js';
import { pte_read, tableNow } from '../src/mm/pgtable.js';
import { step, type ActorGen, type Ctx } from '../src/mm/step.js';
import type { Vma } from '../src/mm/types.js';

export interface ScriptRun {
  readonly exec: Execution;
  /** Which segments' `until` labels were reached. */
  readonly reached: boolean[];
}

/** Run `spec` under the schedule `segments` (see scripted()), with the trace's events kept. */
export function runScript(spec: ScenarioSpec, segments: readonly Segment[], choices: Readonly<Record<string, readonly number[]>> = {}, pool: readonly ActorDef[] = ACTORS): ScriptRun {
  const scn = buildScenario(spec, pool);
  const sched = scripted(scn.actors.map((a) => a.name), segments, choices);
  const exec = execute(scn, sched, { trace: true });
  return { exec, reached: sched.reached() };
}

/** The step index of the first trace line of `actor` whose label contains `text`, or -1. */
export function stepOf(e: Execution, actor: string, text: string): number {
  const id = e.names.indexOf(actor);
  return e.trace.find((t) => t.actor === id && t.label.includes(text))?.step ?? -1;
}

/** A one-line summary for assertion messages. */
export function describe(e: Execution): string {
  return e.violation ? `${e.violation.kind}: ${e.violation.message} (at ${e.violation.usedBy.name}: ${e.violation.usedBy.label})` : e.outcome;
}

/** A clock a test moves by hand, with the timers armed on it: tests assert behaviour, never wall-clock
 *  time. `fire()` fires the timers armed now (not those they arm); `tick(ms)` moves the clock on first. */
export function fakeClock() {
  const c = {
    t: 0,
    timers: [] as { ms: number; fn: () => void }[],
    now: () => c.t,
    setTimer: (ms: number, fn: () => void) => {
      const timer = { ms, fn };
      c.timers.push(timer);
      return () => { c.timers = c.timers.filter((x) => x !== timer); };
    },
    fire: () => { const due = c.timers; c.timers = []; for (const x of due) x.fn(); },
    tick: (ms: number) => { c.t += ms; c.fire(); },
  };
  return c;
}

/** Random scenarios at the fixed eras (v6.2, v6.6) on every architecture, 120 each: the `anchor` actor
 *  and one to three drawn from `names`, with random arguments, under random schedules; all from one
 *  seeded generator. Every violation must be a race known to be real at that release, judged by its
 *  racing pair. Returns how many ran, and how many were known races. */
export function randomSchedulesKnownOnly(t: ExecutionContext, anchor: (next: () => number) => ActorCall, names: readonly string[], seed: number): { runs: number; known: number } {
  let s = seed;
  const next = () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s >>> 8; };
  let runs = 0;
  let known = 0;
  for (const era of ['v6.2', 'v6.6'] as const) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      for (let i = 0; i < 120; i++) {
        const actors: ActorCall[] = [anchor(next)];
        for (let k = 0; k < 1 + (next() % 3); k++) {
          const name = names[next() % names.length];
          const def = ACTORS.find((a) => a.name === name)!;
          if (def.eras && !def.eras.includes(era)) continue;
          actors.push({ actor: def.name, args: Object.fromEntries(def.params.map((p) => [p.name, p.min + (next() % (p.max - p.min + 1))])) });
        }
        const e = execute(buildScenario({ arch, era, actors }), fromStreams(Array.from({ length: 120 }, next), Array.from({ length: 12 }, next)));
        runs++;
        if (!e.violation) { t.is(e.outcome, 'clean', JSON.stringify(actors)); continue; }
        const pair = [e.violation.usedBy.name, e.violation.changedBy?.name].filter((n): n is string => n !== undefined && n !== 'rcu');
        t.truthy(knownRace(era, arch, pair, e.violation.kind), `${era} ${arch} ${JSON.stringify(actors)}: ${describe(e)}`);
        known++;
      }
    }
  }
  return { runs, known };
}

/** A campaign clock that never moves: its budgets are counted in runs, and shrinking goes on to its
 *  fixpoint however loaded the machine is, so that what a test asserts of the shrunk failure (its
 *  actors, its depth, that it is minimal) never depends on wall-clock time. */
export const frozenClock = (): number => 0;

/** What main() is given (its Deps) so that a campaign's shrinking, in the pool's workers too, runs on
 *  a clock that never moves: what the CLI prints of a shrunk failure does not depend on load. */
export const frozenShrink = { shrinkClock: 'frozen' } as const;

/** A test actor in the actor's own mm, a foreground thread. */
export function testActor(name: string, run: (c: Ctx) => ActorGen): ActorDef {
  return { name, summary: 'test', follows: '(test)', inMm: true, daemon: 'no', params: [], run };
}

/** The VMA of the actor's mm that covers `addr` (default world: 0 anon [0,8), 1 file [8,16)). */
export function vmaAt(c: Ctx, addr: number): Vma {
  const v = find_vma(c.mm, addr);
  if (!v) throw new Error(`no VMA at ${addr}`);
  return v;
}

/** An error path that frees the pte table it just allocated and allocates again, and goes on using
 *  the first table's number: right only when the allocator hands the same frame back, which it does
 *  when every choice is 0 (the lowest free frame both times). */
export const recycler: ActorDef = testActor('recycler', function* (c) {
  const first = alloc_page(c, 'pte-table');
  yield step(`pte_alloc_one() = ${first}`);
  freeFrame(c.m, first, 'now');
  yield step(`pte_free(${first})`);
  const again = alloc_page(c, 'pte-table');
  yield step(`pte_alloc_one() = ${again}`);
  pte_read(c, tableNow(c.m, first), 0);
  yield step(`read a pte of table ${first}`);
  freeFrame(c.m, again, 'now');
  yield step(`pte_free(${again})`);
});
