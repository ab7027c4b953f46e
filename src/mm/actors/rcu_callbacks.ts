// The RCU callback runner (rcu_do_batch in softirq context): runs, in queueing order, each call_rcu()
// callback whose grace period has ended. A daemon: the executor keeps stepping it after the others
// end, until every callback has run.

import type { ActorDef } from '../actor.js';
import { blockUntil, step } from '../step.js';

export const rcu_callbacks: ActorDef = {
  name: 'rcu_callbacks',
  summary: 'runs call_rcu() callbacks once their grace period has ended (frees RCU-deferred page tables)',
  follows: 'kernel/rcu/tree.c rcu_do_batch()',
  inMm: false,
  daemon: 'drain',
  params: [],
  *run(c) {
    const m = c.m;
    const ready = () => m.rcu.some((cb) => cb.waiting === 0);
    for (;;) {
      if (!ready()) yield* blockUntil('rcu: waiting for a grace period to end', ready);
      const i = m.rcu.findIndex((cb) => cb.waiting === 0);
      const cb = m.rcu.splice(i, 1)[0];
      if (!cb) continue;
      cb.fn(m);
      yield step(`rcu_do_batch(): ${cb.label}`);
    }
  },
};
