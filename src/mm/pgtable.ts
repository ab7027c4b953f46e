// Page-table loads and stores, as include/linux/pgtable.h, mm/pgtable-generic.c and the x86 headers
// give them. Every access goes through here, so that the oracle sees it as an event.
//
// Locking (mm/memory.c): a pmd is changed under pmd_lock (the pmd page's ptl); a pte under the pte
// table's ptl. Which high-level lock (mmap_lock, i_mmap_rwsem, anon_vma) keeps a table alive is the
// protocol under test, so no primitive asserts it.

import { pmd_pfn, pmdDecode, pmdHi, pmdLo, type PmdEntry, type PteEntry } from './entries.js';
import { tableAccessSuspect } from './events.js';
import { frameOf } from './frames.js';
import { spin_take } from './locks.js';
import { flush_tlb_range } from './tlbflush.js';
import { blockUntil, step, type ActorGen, type Ctx, type Yield } from './step.js';
import { NOBODY, type Model, type SpinLock } from './types.js';

/** A generator that takes steps and returns a value. */
export type Stepper<T> = Generator<Yield, T, undefined>;

/** A pmd value as an actor holds it: the entry, its halves, and the generation of the frame it pointed
 *  to when read, so that a later use of the pointer is checked against that frame as it was. */
export interface PmdVal {
  readonly slot: number;
  readonly entry: PmdEntry;
  readonly lo: number;
  readonly hi: number;
  readonly gen: number;
  /** The step at which the read began (its first half, on PAE). */
  readonly since: number;
}

/** A pointer to a pte table, taken from a pmd value: pmd_page(pmdval). pmd_page(none) is frame 0. */
export interface TablePtr {
  readonly pfn: number;
  readonly gen: number;
}

export function pmdEntryAt(m: Model, slot: number): PmdEntry {
  return pmdDecode(m.mm.pmd_lo[slot] ?? 0, m.mm.pmd_hi[slot] ?? 0);
}

function makeVal(m: Model, slot: number, lo: number, hi: number, since: number): PmdVal {
  const entry = pmdDecode(lo, hi);
  const f = m.frames[pmd_pfn(entry)];
  if (m.tracing) m.events.push({ e: 'pmd-load', slot, value: entry });
  return { slot, entry, lo, hi, gen: f ? f.gen : -1, since };
}

/** The walker acts on a pmd value it read (takes a pointer from it, or clears the pmd because of it):
 *  the oracle checks that the value was really stored at some instant of the read. A value that is
 *  only tested for flags and then read again is not used, and is not checked. */
export function pmd_use(c: Ctx, v: PmdVal): void {
  c.m.events.push({ e: 'pmd-read', slot: v.slot, lo: v.lo, hi: v.hi, since: v.since });
}

/** One load of the whole pmd: READ_ONCE() on 64-bit, a read under pmd_lock, or the hardware walker. */
export function pmd_load(c: Ctx, slot: number): PmdVal {
  return makeVal(c.m, slot, c.m.mm.pmd_lo[slot] ?? 0, c.m.mm.pmd_hi[slot] ?? 0, c.m.step);
}

/** A plain `*pmdp` read, one step. On PAE it is two 32-bit loads, each its own step, in an order the
 *  compiler chooses (a schedule choice here): a store between them tears the value (CVE-2012-2373). */
export function* pmd_read(c: Ctx, slot: number, what: string): Stepper<PmdVal> {
  const m = c.m;
  const label = `${what} [pmd ${slot}]`;
  if (!m.arch.pae) {
    const v = pmd_load(c, slot);
    yield step(label);
    return v;
  }
  const since = m.step;
  const highFirst = m.choose(2, 'pae-load-order') === 1;
  const first = highFirst ? (m.mm.pmd_hi[slot] ?? 0) : (m.mm.pmd_lo[slot] ?? 0);
  yield step(`${label} [${highFirst ? 'high' : 'low'} half]`);
  const second = highFirst ? (m.mm.pmd_lo[slot] ?? 0) : (m.mm.pmd_hi[slot] ?? 0);
  const v = highFirst ? makeVal(m, slot, second, first, since) : makeVal(m, slot, first, second, since);
  yield step(`${label} [${highFirst ? 'low' : 'high'} half]`);
  return v;
}

/** pmdp_get_lockless(): atomic on 64-bit; on PAE (CONFIG_GUP_GET_PXX_LOW_HIGH) low, high, then
 *  re-read low and retry if it moved. With V4 (pae-torn-pmd-read) it is the plain two-load read. */
export function* pmdp_get_lockless(c: Ctx, slot: number, what: string): Stepper<PmdVal> {
  if (!c.m.arch.pae || c.m.sw.bugs.has('pae-torn-pmd-read')) return yield* pmd_read(c, slot, what);
  const label = `${what} [pmd ${slot}]`;
  for (;;) {
    const since = c.m.step;
    const lo = c.m.mm.pmd_lo[slot] ?? 0;
    yield step(`${label} [low half]`);
    const hi = c.m.mm.pmd_hi[slot] ?? 0;
    yield step(`${label} [high half]`);
    if ((c.m.mm.pmd_lo[slot] ?? 0) === lo) {
      const v = makeVal(c.m, slot, lo, hi, since);
      yield step(`${label} [low half again: same]`);
      return v;
    }
    yield step(`${label} [low half again: moved, retry]`);
  }
}

/** pmd_read_atomic() (26c191788f18, until v6.1): on PAE read the low half, and the high half only if
 *  the low half is not none, since under mmap_lock read a pmd only goes from none to populated. */
export function* pmd_read_atomic(c: Ctx, slot: number, what: string): Stepper<PmdVal> {
  if (!c.m.arch.pae || c.m.sw.bugs.has('pae-torn-pmd-read')) return yield* pmd_read(c, slot, what);
  const label = `${what} [pmd ${slot}]`;
  const since = c.m.step;
  const lo = c.m.mm.pmd_lo[slot] ?? 0;
  if (lo === 0) {
    const v = makeVal(c.m, slot, 0, 0, since);
    yield step(`${label} [low half: none]`);
    return v;
  }
  yield step(`${label} [low half]`);
  const v = makeVal(c.m, slot, lo, c.m.mm.pmd_hi[slot] ?? 0, since);
  yield step(`${label} [high half]`);
  return v;
}

function storePmd(m: Model, slot: number, now: PmdEntry, how: string): PmdEntry {
  const old = pmdEntryAt(m, slot);
  m.mm.pmd_lo[slot] = pmdLo(now);
  m.mm.pmd_hi[slot] = pmdHi(now);
  m.events.push({ e: 'pmd-store', slot, old, now, how });
  return old;
}

/** set_pmd_at() / set_pmd(): one atomic store (set_64bit on PAE). Caller holds pmd_lock. */
export function set_pmd_at(c: Ctx, slot: number, e: PmdEntry): void {
  storePmd(c.m, slot, e, 'set_pmd_at');
}

/** pmd_populate(): hook a pte table in. Caller holds pmd_lock. */
export function pmd_populate(c: Ctx, slot: number, table: number): void {
  storePmd(c.m, slot, { t: 'table', pfn: table }, 'pmd_populate');
}

/** pmd_clear(): one store on 64-bit; on PAE native_pmd_clear() writes the low half, then the high. */
export function* pmd_clear(c: Ctx, slot: number, label: string): ActorGen {
  const m = c.m;
  if (!m.arch.pae) {
    storePmd(m, slot, { t: 'none' }, 'pmd_clear');
    yield step(label);
    return;
  }
  const old = pmdEntryAt(m, slot);
  m.mm.pmd_lo[slot] = 0;
  m.events.push({ e: 'pmd-store', slot, old, now: pmdDecode(0, m.mm.pmd_hi[slot] ?? 0), how: 'pmd_clear [low half]' });
  yield step(`${label} [low half]`);
  storePmd(m, slot, { t: 'none' }, 'pmd_clear [high half]');
  yield step(`${label} [high half]`);
}

/** pmdp_huge_get_and_clear() / pmdp_get_and_clear(): an atomic exchange with none. */
export function pmdp_huge_get_and_clear(c: Ctx, slot: number): PmdEntry {
  return storePmd(c.m, slot, { t: 'none' }, 'pmdp_huge_get_and_clear');
}

/** xchg() on a pmd. */
export function pmdp_xchg(c: Ctx, slot: number, e: PmdEntry): PmdEntry {
  return storePmd(c.m, slot, e, 'xchg');
}

/** cmpxchg() on a pmd: stores `e` only if the pmd still equals `expect` (both halves). */
export function pmdp_cmpxchg(c: Ctx, slot: number, expect: PmdVal, e: PmdEntry): boolean {
  if ((c.m.mm.pmd_lo[slot] ?? 0) !== expect.lo || (c.m.mm.pmd_hi[slot] ?? 0) !== expect.hi) return false;
  storePmd(c.m, slot, e, 'cmpxchg');
  return true;
}

/** pmdp_collapse_flush(): clear the pmd and flush the range (mm/pgtable-generic.c). Caller holds
 *  pmd_lock. Returns the old entry. The flush is an IPI, waited for, only on an IPI architecture. */
export function* pmdp_collapse_flush(c: Ctx, slot: number): Stepper<PmdEntry> {
  const old = pmdp_huge_get_and_clear(c, slot);
  yield step('pmdp_collapse_flush(): pmdp_huge_get_and_clear()');
  yield* flush_tlb_range(c, 'pmdp_collapse_flush(): flush_tlb_range()');
  return old;
}

/** pmdp_invalidate(): mark a huge pmd not present (the transient state a split goes through), flush. */
export function* pmdp_invalidate(c: Ctx, slot: number): Stepper<PmdEntry> {
  const old = pmdEntryAt(c.m, slot);
  const now: PmdEntry = old.t === 'huge' ? { t: 'invalid-huge', pfn: old.pfn } : old;
  storePmd(c.m, slot, now, 'pmdp_invalidate');
  yield step('pmdp_invalidate(): pmdp_mknotpresent');
  yield* flush_tlb_range(c, 'pmdp_invalidate(): flush_tlb_range()');
  return old;
}

/** pmd_clear_bad(): report and clear a pmd judged corrupt from the value `judged`. */
export function pmd_clear_bad(c: Ctx, slot: number, judged: PmdVal): void {
  pmd_use(c, judged);
  const old = pmdEntryAt(c.m, slot);
  c.m.events.push({ e: 'pmd-clear-bad', slot, old });
  storePmd(c.m, slot, { t: 'none' }, 'pmd_clear_bad');
}

/** pmd_page(pmdval) as a table pointer: frame 0 for a none pmd, as the kernel's arithmetic gives. */
export function pmd_table(c: Ctx, v: PmdVal): TablePtr {
  pmd_use(c, v);
  return { pfn: pmd_pfn(v.entry), gen: v.gen };
}

/** The current pointer to a table, for code that holds the lock that keeps it (no check needed). */
export function tableNow(m: Model, pfn: number): TablePtr {
  return { pfn, gen: frameOf(m, pfn).gen };
}

function touchTable(c: Ctx, p: TablePtr, idx: number, write: boolean, via: 'sw' | 'hw' | 'ptl') {
  const f = c.m.frames[p.pfn] ?? frameOf(c.m, 0);
  if (c.m.tracing || tableAccessSuspect(p.pfn, p.gen, f.kind, f.gen)) {
    c.m.events.push({ e: 'table-access', pfn: p.pfn, gen: p.gen, frameKind: f.kind, frameGen: f.gen, idx, write, via, cpu: c.cpu.id });
  }
  return f;
}

/** Read a pte through a table pointer: ptep_get() / *pte. */
export function pte_read(c: Ctx, p: TablePtr, idx: number, via: 'sw' | 'hw' = 'sw'): PteEntry {
  return touchTable(c, p, idx, false, via).ptes[idx] ?? { t: 'none' };
}

/** set_pte_at() / pte_clear() through a table pointer. Caller holds the table's ptl. */
export function pte_write(c: Ctx, p: TablePtr, idx: number, now: PteEntry): PteEntry {
  const f = touchTable(c, p, idx, true, 'sw');
  const old = f.ptes[idx] ?? { t: 'none' };
  f.ptes[idx] = now;
  if (c.m.tracing) c.m.events.push({ e: 'pte-store', pfn: p.pfn, idx, old, now });
  return old;
}

/** ptep_get_and_clear(). */
export function ptep_get_and_clear(c: Ctx, p: TablePtr, idx: number): PteEntry {
  return pte_write(c, p, idx, { t: 'none' });
}

/** pte_lockptr(): the split ptl lives in the table's struct page. */
export function pte_lockptr(m: Model, p: TablePtr): SpinLock {
  return (m.frames[p.pfn] ?? frameOf(m, 0)).ptl;
}

/** spin_lock(pte_lockptr(mm, pmd)): taking the ptl of a freed table is itself a use after free. */
export function* spin_lock_ptl(c: Ctx, p: TablePtr): ActorGen {
  const l = pte_lockptr(c.m, p);
  yield* blockUntil(`spin_lock(${l.name})`, () => l.owner === NOBODY);
  touchTable(c, p, -1, true, 'ptl');
  spin_take(c, l);
  yield step(`spin_lock(${l.name})`);
}

/** pmd_lock(): the pmd page's split ptl (USE_SPLIT_PMD_PTLOCKS). */
export function pmd_lockptr(m: Model): SpinLock {
  return frameOf(m, m.mm.pmdTable).ptl;
}
