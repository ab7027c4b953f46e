// State an actor module keeps for one execution (a counter, a shadow of what it mapped, a secondary
// MMU's own tables). It lives in the model and is emptied by resetModel() before each execution, so
// nothing one execution leaves behind reaches the next, in a campaign that reuses its model.

import type { Ctx } from './step.js';

/** The value stored under `key` for this execution, created by `init` on first use. Keys are the
 *  module's to choose; prefix them with the module's name to stay clear of others. */
export function actorState<T>(c: Ctx, key: string, init: () => T): T {
  const s = c.m.actorState;
  if (!s.has(key)) s.set(key, init());
  return s.get(key) as T;
}
