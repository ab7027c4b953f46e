// POS, partial order sampling (Yuan, Yang, Gu, "Partial Order Aware Concurrency Sampling", CAV 2018):
// every pending step has a random priority, the runnable step of highest priority runs, and after a
// step runs, the pending steps that race with it draw new priorities. Random walks give most of
// their probability to interleavings that differ only in the order of independent steps; POS
// re-randomises only where the order matters, which brings it close to uniform over partial orders.
//
// The footprint approximation. The paper knows each pending event's accesses before it runs; the
// model does not (an actor's next step is a generator's next slice). We take an actor's *last* step's
// footprint as the footprint of its next one: the objects the step touched, from its events (the
// executor hands them to observe()):
//   - a frame: every pfn the step read or wrote through a table, installed, zeroed, freed or pinned
//     (a page table's frame for pmd/pte stores and reads);
//   - a pmd slot the step cleared as bad; a CPU whose TLB it filled.
// Locks, IPIs, allocations, references and lockless pmd reads are recorded for traces only, so a
// campaign (which runs untraced) sees frames touched through tables, frees, pins, pte and pmd stores;
// what a lock protects (the table under a ptl) is seen, the lock itself is not. A traced run sees more
// and may pick differently: POS is run untraced, always (a failure's token is its canonical
// schedule, which replays without POS).
// Why the last step: kernel code touches the same objects for several steps in a row (a walk reads a
// pmd and then the table it points to; a lock is taken and the same table is written), so the last
// footprint is a fair guess of the next, and it costs nothing. It errs in two ways: the first step of
// an actor has no footprint (it races with nothing and keeps its priority), and a step that moves on
// to new objects is seen racing only after it has run (its successor is then re-drawn). Reads and
// writes are not told apart: two steps on the same object race (more re-draws than needed, never
// fewer). Data choices are uniform, as in random.

import type { MmEvent } from '../../mm/events.js';
import type { Scheduler } from '../executor.js';
import { drawMod, splitmix32 } from '../schedulers.js';
import type { SamplingStrategy } from './strategy.js';

/** The objects a step touched, as keys ("f12" frame 12, "s3" pmd slot 3, "c1" CPU 1). */
export function footprint(events: readonly MmEvent[]): Set<string> {
  const out = new Set<string>();
  for (const ev of events) {
    switch (ev.e) {
      case 'pmd-store': case 'pmd-read': case 'dirty-pte-cleared':
        out.add(`f${ev.table}`);
        break;
      case 'entry-install':
        out.add(`f${ev.table}`);
        out.add(`f${ev.pfn}`);
        break;
      case 'pmd-clear-bad':
        out.add(`s${ev.slot}`);
        break;
      case 'table-access': case 'pte-store': case 'table-zeroed': case 'free': case 'pin': case 'unpin':
      case 'hw-access': case 'smmu-access': case 'unlocked-write': case 'page-dirty': case 'user-access':
        out.add(`f${ev.pfn}`);
        break;
      case 'tlb-fill':
        out.add(`c${ev.cpu}`);
        break;
      default:
        break;
    }
  }
  return out;
}

function meets(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (big.has(x)) return true;
  return false;
}

export function posScheduler(seed: number, actors: number): Scheduler {
  const next = splitmix32(seed);
  const prio = Array.from({ length: actors }, () => next());
  const foot: ReadonlySet<string>[] = Array.from({ length: actors }, () => new Set<string>());
  return {
    pick(runnable) {
      let best = runnable[0] ?? 0;
      for (const id of runnable) if ((prio[id] ?? 0) > (prio[best] ?? 0)) best = id;
      return best;
    },
    choose: (n) => drawMod(next(), n),
    observe(actor, _label, events) {
      const f = footprint(events);
      // The step taken leaves; its actor's next step is a new pending step.
      prio[actor] = next();
      // Pending steps that race with the one just taken draw again (in actor order: deterministic).
      for (let b = 0; b < actors; b++) if (b !== actor && meets(foot[b]!, f)) prio[b] = next();
      foot[actor] = f;
    },
  };
}

export const pos: SamplingStrategy = {
  kind: 'sampling',
  name: 'pos',
  summary: 'POS: random step priorities, re-drawn for the steps that race with the one just taken',
  make: (seed, ctx) => posScheduler(seed, ctx.actors),
};
