// Canonical schedules (src/explore/schedule.ts): preemption points "after actor a's n-th step, run b",
// and data choices. fast-check shrinks them by dropping points and lowering step counts.

import fc from 'fast-check';
import type { Schedule } from '../explore/schedule.js';

export function scheduleArb(actors: number, maxSteps = 40, maxPreemptions = 6): fc.Arbitrary<Schedule> {
  const actor = fc.nat({ max: Math.max(0, actors - 1) });
  const point = fc.record({ after: actor, steps: fc.integer({ min: 1, max: maxSteps }), to: actor });
  return fc.record({
    preemptions: fc.array(point, { maxLength: maxPreemptions }),
    choices: fc.array(fc.nat({ max: 31 }), { maxLength: 8 }),
  });
}
