// Replaying a trace with only some of its steps in their places: what the diagram's check needs.
//
// A schedule is a sequence of actor picks, and an actor is a generator: none of its steps can be
// dropped without dropping all its later ones. So "replay only the kept steps" means this reordering:
// the kept steps run in trace order, and each step left out runs as late as its actor allows, just
// before that actor's next kept step; the steps an actor takes after its last kept step are not run
// before the violation. If that schedule still reaches the violation, no step left out was needed
// where it was: delaying it past every other CPU's kept steps changed nothing.

import { execute, type Execution, type Scheduler, type TraceStep } from './executor.js';
import type { Scenario } from '../mm/scenario.js';
import { defaultPick, follow, type Schedule } from './schedule.js';

/** The actor order of the reordering, and for each position the actor's own step count there. */
export function keptFirstOrder(trace: readonly TraceStep[], kept: readonly number[]): number[] {
  const keep = new Set(kept);
  const last = kept.length ? Math.max(...kept) : -1;
  const pending = new Map<number, number[]>();
  const out: number[] = [];
  for (let i = 0; i <= last; i++) {
    const a = trace[i]!.actor;
    if (!keep.has(i)) { pending.set(a, [...(pending.get(a) ?? []), i]); continue; }
    for (const _ of pending.get(a) ?? []) out.push(a);
    pending.delete(a);
    out.push(a);
  }
  return out;
}

/** Data choices keyed by who drew them: the actor, its own step count, and the draw within the step. */
type ChoiceKey = string;
const keyOf = (actor: number, step: number, k: number): ChoiceKey => `${actor}/${step}/${k}`;

/** A scheduler that records the data choices of `inner` by who drew them. */
function choiceRecorder(inner: Scheduler): { sched: Scheduler; choices: Map<ChoiceKey, number> } {
  const steps: number[] = [];
  const choices = new Map<ChoiceKey, number>();
  let picked = -1;
  let k = 0;
  return {
    choices,
    sched: {
      pick(runnable, last) { picked = inner.pick(runnable, last); k = 0; return picked; },
      choose(n, what) { const v = inner.choose(n, what); choices.set(keyOf(picked, steps[picked] ?? 0, k++), v); return v; },
      observe(actor, label, events) { steps[actor] = (steps[actor] ?? 0) + 1; inner.observe?.(actor, label, events); },
    },
  };
}

export interface ReorderResult {
  readonly exec: Execution;
  /** Every pick of the reordering could be made (no actor of it was blocked when its turn came). */
  readonly feasible: boolean;
}

/** Run `scn` with the steps `kept` of the trace of `schedule` in place and the others delayed, as
 *  the header says; after the reordering's last pick, the default rule goes on (so that a violation
 *  the end audit finds is still found). */
export function replayKept(scn: Scenario, schedule: Schedule, trace: readonly TraceStep[], kept: readonly number[]): ReorderResult {
  const rec = choiceRecorder(follow(schedule));
  execute(scn, rec.sched);
  const order = keptFirstOrder(trace, kept);
  const steps: number[] = [];
  let p = 0;
  let feasible = true;
  let picked = -1;
  let k = 0;
  const sched: Scheduler = {
    pick(runnable, last) {
      k = 0;
      if (p < order.length) {
        const want = order[p]!;
        if (runnable.includes(want)) return (picked = want);
        feasible = false;
      }
      return (picked = defaultPick(runnable, last));
    },
    choose(n) {
      const v = rec.choices.get(keyOf(picked, steps[picked] ?? 0, k++)) ?? 0;
      return v < n ? v : 0;
    },
    observe(actor) {
      steps[actor] = (steps[actor] ?? 0) + 1;
      if (p < order.length) { if (order[p] === actor) p++; else feasible = false; }
    },
  };
  return { exec: execute(scn, sched, { trace: true }), feasible };
}
