// BUG_ON() / VM_BUG_ON(): a kernel assertion in an actor. When it fails, the oracle reports a
// kernel-bug violation at that step.

import type { Ctx } from './step.js';

export function BUG_ON(c: Ctx, cond: boolean, msg: string): void {
  if (cond) c.m.events.push({ e: 'bug', msg: `BUG_ON(${msg})` });
}

/** The oracle's check that [start, end) of the actor's mm maps nothing now: what MADV_DONTNEED,
 *  munmap and exit_mmap promise once their zap is done. A surviving mapping is mapping-survives-zap. */
export function assert_unmapped(c: Ctx, start: number, end: number, mm = c.mm): void {
  c.m.events.push({ e: 'zap-done', mm: mm.id, start, end });
}
