// Shared by the tests: build a scenario, run it under a written-down schedule, and name the result.

import { execute, type Execution } from '../src/explore/executor.js';
import { scripted, type Segment } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { buildScenario, type ScenarioSpec } from '../src/mm/scenario.js';

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
