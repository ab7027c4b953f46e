// Frame allocation and reference counts. Which free frame the allocator returns is a choice drawn
// from the schedule: reusing a just-freed table is what turns a use-after-free into silent corruption.

import { PTE_NONE } from './entries.js';
import { refGetSuspect, type FreeHow, traceOnly } from './events.js';
import { blockUntil, step, type ActorGen, type Ctx } from './step.js';
import { NOBODY } from './types.js';
import type { Frame, FrameKind, Model } from './types.js';

/** The name of a frame's split lock, by what the frame is: pmd_lock() for a pmd table. */
export function ptlName(kind: FrameKind, pfn: number): string {
  return kind === 'pmd-table' ? `pmd_lock(${pfn})` : `ptl(${pfn})`;
}

/** The frame's ptl named for what it now is (the names are made once, with the frame). */
function nameLock(f: Frame, kind: FrameKind): void {
  f.ptl.name = kind === 'pmd-table' ? f.ptlPmd : f.ptlFree;
}

export function allocFrame(m: Model, kind: FrameKind): number {
  let n = 0;
  for (const f of m.frames) if (f.kind === 'free') n++;
  if (n === 0) throw new Error('model: out of frames (the scenario allocates more than the model holds)');
  let pick = m.choose(n, 'alloc');
  for (const f of m.frames) {
    if (f.kind !== 'free') continue;
    if (pick-- > 0) continue;
    f.kind = kind;
    f.refcount = 1;
    f.refStep = m.step;
    f.gen++;
    nameLock(f, kind);
    // Page tables come zeroed (__GFP_ZERO in pte_alloc_one and pmd_alloc_one). Loops, not fill():
    // Array.prototype.fill is a call into the runtime, four per allocation.
    for (let i = 0; i < f.ptes.length; i++) f.ptes[i] = PTE_NONE;
    for (let i = 0; i < f.lo.length; i++) {
      f.lo[i] = 0;
      f.hi[i] = 0;
      f.deposited[i] = 0;
    }
    if (kind === 'pmd-table' || kind === 'pte-table') m.events.push({ e: 'table-zeroed', pfn: f.pfn, kind });
    else if (traceOnly(m)) m.events.push({ e: 'alloc', pfn: f.pfn, kind });
    return f.pfn;
  }
  throw new Error('model: allocator lost count');
}

/** alloc_pages() for `kind`, from an actor. */
export function alloc_page(c: Ctx, kind: FrameKind): number {
  return allocFrame(c.m, kind);
}

/** Return a frame to the allocator. The struct page (and its split ptl) goes with it. */
export function freeFrame(m: Model, pfn: number, how: FreeHow): void {
  const f = frameOf(m, pfn);
  const kind = f.kind;
  if (kind === 'free') {
    m.events.push({ e: 'bug', msg: `BUG: Bad page state: frame ${pfn} freed twice` });
    return;
  }
  f.kind = 'free';
  f.refcount = 0;
  f.gen++;
  m.events.push({ e: 'free', pfn, kind, how });
}

export function frameOf(m: Model, pfn: number) {
  const f = m.frames[pfn];
  if (!f) throw new Error(`model: no frame ${pfn}`);
  return f;
}

/** get_page(): an unconditional reference, as x86 GUP-fast took it before try_get_page(). */
export function get_page(c: Ctx, pfn: number): void {
  const f = frameOf(c.m, pfn);
  const frameKind = f.kind;
  f.refcount++;
  f.refStep = c.m.step;
  if (traceOnly(c.m) || refGetSuspect(false, frameKind)) c.m.events.push({ e: 'ref-get', pfn, frameKind, ok: true, speculative: false });
}

/** get_page_unless_zero() / folio_ref_try_add_rcu(): fails on a page whose count is zero. */
export function get_page_unless_zero(c: Ctx, pfn: number): boolean {
  const f = frameOf(c.m, pfn);
  const ok = f.refcount > 0;
  if (ok) {
    f.refcount++;
    f.refStep = c.m.step;
  }
  if (traceOnly(c.m)) c.m.events.push({ e: 'ref-get', pfn, frameKind: f.kind, ok, speculative: true });
  return ok;
}

/** put_page(): the last reference frees the page. */
export function put_page(m: Model, pfn: number, how: FreeHow = 'now'): void {
  const f = frameOf(m, pfn);
  f.refcount--;
  f.refStep = m.step;
  if (traceOnly(m)) m.events.push({ e: 'ref-put', pfn });
  if (f.refcount === 0) freeFrame(m, pfn, how);
  else if (f.refcount < 0) m.events.push({ e: 'bug', msg: `page ${pfn}: refcount underflow (put_page on a free page)` });
}

/** page_ref_sub(): drop `n` references at once (the page must keep one). */
export function page_ref_sub(c: Ctx, pfn: number, n: number): void {
  const f = frameOf(c.m, pfn);
  f.refcount -= n;
  f.refStep = c.m.step;
}

/** lock_page() / find_lock_page(): PG_locked, waited for. The page lock is what serializes
 *  try_to_unmap() (its caller holds the folio lock) with khugepaged, which locks the huge page. */
export function* lock_page(c: Ctx, pfn: number): ActorGen {
  const f = frameOf(c.m, pfn);
  if (f.pg_locked !== NOBODY) yield* blockUntil(`lock_page(${pfn})`, () => f.pg_locked === NOBODY);
  f.pg_locked = c.id;
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: `PG_locked(${pfn})`, mode: 'spin' });
  yield step(`lock_page(${pfn})`);
}

/** trylock_page() / folio_trylock(): the caller yields the step. */
export function trylock_page(c: Ctx, pfn: number): boolean {
  const f = frameOf(c.m, pfn);
  if (f.pg_locked !== NOBODY) {
    if (traceOnly(c.m)) c.m.events.push({ e: 'trylock-failed', lock: `PG_locked(${pfn})` });
    return false;
  }
  f.pg_locked = c.id;
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: `PG_locked(${pfn})`, mode: 'spin' });
  return true;
}

export function unlock_page(c: Ctx, pfn: number): void {
  const f = frameOf(c.m, pfn);
  if (f.pg_locked !== c.id) c.m.events.push({ e: 'bug', msg: `unlock_page(${pfn}) by a task that does not hold it` });
  f.pg_locked = NOBODY;
  if (traceOnly(c.m)) c.m.events.push({ e: 'unlock', lock: `PG_locked(${pfn})`, mode: 'spin' });
}

/** copy_user_highpage(): copy `from` into `to` (subpage of a huge page, for collapse) for the
 *  mapping at `addr`. A write through an entry filled before now reaches `from`, not the copy. */
export function copy_user_highpage(c: Ctx, from: number, to: number, addr: number): void {
  frameOf(c.m, from).copiedAt = c.m.step;
  c.m.events.push({ e: 'copy', addr, from, to });
}
