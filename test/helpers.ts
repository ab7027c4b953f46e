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
