// BUG_ON() / VM_BUG_ON(): a kernel assertion in an actor. When it fails, the oracle reports a
// kernel-bug violation at that step.

import type { Ctx } from './step.js';

export function BUG_ON(c: Ctx, cond: boolean, msg: string): void {
  if (cond) c.m.events.push({ e: 'bug', msg: `BUG_ON(${msg})` });
}
