// Where a light execution's time goes (npm run bench: `timeSplit` in bench/results.json). DESIGN.md's
// target, 100,000 executions per second per core, is a budget of 10 µs per execution; this measures,
// on the machine at hand, what each part of a light scenario's execution costs against it:
//   - the language's floor: three generators of ten steps each, stepped by a plain loop that picks
//     one at random (no model, no oracle): what yielding alone costs;
//   - the engine's floor: the scenario's model, oracle, end audit and RCU daemon, with actors that
//     take no step (reset, oracle made, audit of the untouched world), and per step with actors that
//     take empty steps;
//   - each actor of the scenario alone (its own path, with the engine's floor in it), and the
//     scenario itself.
// Each figure is the best of many 50 ms slices, by the process's CPU time, the parts taking turns: load
// on a shared machine only ever slows a slice, so the best is the closest to the code's own cost.

import { performance } from 'node:perf_hooks';
import { cpuMs } from '../fuzz/timers.js';
import { execute } from '../src/explore/executor.js';
import { splitmix32, drawMod, uniformRandom } from '../src/explore/schedulers.js';
import type { ArchId } from '../src/mm/arch.js';
import { buildScenario, type ActorCall, type Scenario } from '../src/mm/scenario.js';
import { step, type ActorGen, type Yield } from '../src/mm/step.js';

/** µs per call of each `run` (which returns the steps it took), and its steps per call. Each is
 *  warmed up for `warmMs`, then they take turns, a slice of 50 ms each for `rounds` rounds, so that
 *  a slow spell of the machine falls on all of them; the best slice of each counts. */
function bestMicros(runs: readonly ((i: number) => number)[], warmMs = 600, rounds = 16): { us: number; steps: number }[] {
  let i = 0;
  for (const run of runs) for (const t0 = performance.now(); performance.now() - t0 < warmMs;) run(i++);
  const best = runs.map(() => Infinity);
  const steps = runs.map(() => 0);
  const calls = runs.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    runs.forEach((run, j) => {
      const c0 = cpuMs();
      let k = 0;
      for (const t0 = performance.now(); performance.now() - t0 < 50; k++) steps[j]! += run(i++);
      calls[j]! += k;
      best[j] = Math.min(best[j]!, ((cpuMs() - c0) * 1000) / k);
    });
  }
  return best.map((b, j) => ({ us: Math.round(b * 100) / 100, steps: Math.round((10 * steps[j]!) / calls[j]!) / 10 }));
}

const EMPTY: Yield = step('empty step');
function* emptySteps(n: number): ActorGen {
  for (let i = 0; i < n; i++) yield EMPTY;
}

/** Three generators of ten steps, stepped in a random order until all end: no model, no oracle. */
function bareLoop(seed: number): number {
  const next = splitmix32(seed);
  const gens = [emptySteps(10), emptySteps(10), emptySteps(10)];
  const live = [0, 1, 2];
  let n = 3;
  let steps = 0;
  while (n > 0) {
    const k = drawMod(next(), n);
    if (gens[live[k]!]!.next().done) live[k] = live[--n]!;
    else steps++;
  }
  return steps;
}

/** `scn` with each of the first `n` actors (the scenario's own: the RCU daemon comes after them)
 *  replaced by `steps` empty steps. A background actor (hw_walker) still stops when the others have
 *  ended, so not all of its steps may run. */
function withEmptyActors(scn: Scenario, n: number, steps: number): Scenario {
  return { ...scn, actors: scn.actors.map((a, i) => (i < n ? { ...a, run: () => emptySteps(steps) } : a)) };
}

export interface SplitRow { readonly part: string; readonly usPerExec: number; readonly stepsPerExec: number }

/** The split of one light scenario (v6.6, uniform random schedules). */
export function timeSplit(arch: ArchId, actors: readonly ActorCall[]): { readonly scenario: string; readonly arch: ArchId; readonly rows: readonly SplitRow[] } {
  const scn = buildScenario({ arch, era: 'v6.6', actors });
  const runs = (s: Scenario) => (i: number) => execute(s, uniformRandom(i)).steps;
  const parts: [string, (i: number) => number][] = [
    ['language: 3 generators x 10 empty steps, random order', bareLoop],
    ['engine: the actors take no step', runs(withEmptyActors(scn, actors.length, 0))],
    ['engine: the actors take 10 empty steps each', runs(withEmptyActors(scn, actors.length, 10))],
    ...actors.map((a): [string, (i: number) => number] => [`${a.actor} alone`, runs(buildScenario({ arch, era: 'v6.6', actors: [a] }))]),
    ['the scenario', runs(scn)],
  ];
  const measured = bestMicros(parts.map(([, run]) => run));
  return {
    scenario: actors.map((a) => a.actor).join('+'), arch,
    rows: parts.map(([part], j) => ({ part, usPerExec: measured[j]!.us, stepsPerExec: measured[j]!.steps })),
  };
}
