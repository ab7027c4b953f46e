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
    // (Loops, not some()/findIndex() with a closure: the executor asks ready() before every step.)
    const firstReady = (): number => {
      for (let i = 0; i < m.rcu.length; i++) if (m.rcu[i]!.waiting === 0) return i;
      return -1;
    };
    const ready = () => firstReady() >= 0;
    for (;;) {
      if (!ready()) yield* blockUntil('rcu: waiting for a grace period to end', ready);
      const i = firstReady();
      const cb = m.rcu.splice(i, 1)[0];
      if (!cb) continue;
      cb.fn(m);
      yield step(`rcu_do_batch(): ${cb.label}`);
    }
  },
};
