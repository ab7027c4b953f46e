// Page-table loads and stores, as include/linux/pgtable.h, mm/pgtable-generic.c and the x86 headers
// give them. Every access goes through here, so that the oracle sees it as an event.
//
// Locking (mm/memory.c): a pmd is changed under pmd_lock (the pmd page's ptl); a pte under the pte
// table's ptl. Which high-level lock (mmap_lock, i_mmap_rwsem, anon_vma) keeps a table alive is the
// protocol under test, so no primitive asserts it.

import { PMD_PAGES, fmtPmd, fmtPte, pgdIndex, pmdAddr, pmd_mkinvalid, pmd_pfn, pmdDecode, pmdHi, pmdIndex, pmdLo, pmdTableIndex, pudIndex, type Level, type PmdEntry, type PteEntry } from './entries.js';
import { installSuspect, installWant, tableAccessSuspect, traceOnly } from './events.js';
import { frameOf } from './frames.js';
import { spin_take, spinLockLabel } from './locks.js';
import { eraAtLeast } from './switches.js';
import { flush_tlb_range } from './tlbflush.js';
import type { FlushRange } from './cpu.js';
import { blockUntil, step, type ActorGen, type Ctx, type Yield } from './step.js';
import { NOBODY, TABLE_KIND, type FrameKind, type Mm, type Model, type SpinLock } from './types.js';

/** A generator that takes steps and returns a value. */
export type Stepper<T> = Generator<Yield, T, undefined>;

/** A pointer to a table, taken at some instant: (pfn, gen). pmd_page(none) is frame 0. */
export interface TablePtr {
  readonly pfn: number;
  readonly gen: number;
}

/** `pmd_t *pmd`: a pointer to one pmd, in the pmd table (`table`, `gen`) that a walk of `mm` found
 *  for `slot`. Every access through it is checked against that table as it was when the walk took
 *  the pointer, so a pmd read after its table was freed is a use-after-free. */
export interface PmdPtr {
  readonly mm: number;
  readonly slot: number;
  readonly table: number;
  readonly gen: number;
  /** pmd_index(): the entry within the table. */
  readonly idx: number;
}

/** A pmd value as an actor holds it: the entry, its halves, and the generation of the frame it pointed
 *  to when read, so that a later use of the pointer is checked against that frame as it was. */
export interface PmdVal {
  readonly pmd: PmdPtr;
  readonly entry: PmdEntry;
  readonly lo: number;
  readonly hi: number;
  readonly gen: number;
  /** The step at which the read began (its first half, on PAE). */
  readonly since: number;
}

/** TABLE_KIND[level], by a switch: a keyed load whose key varies is megamorphic, on every access. */
function tableKind(level: Level): FrameKind {
  switch (level) {
    case 'pte': return TABLE_KIND.pte;
    case 'pmd': return TABLE_KIND.pmd;
    case 'pud': return TABLE_KIND.pud;
    case 'pgd': return TABLE_KIND.pgd;
  }
}

function touchTable(c: Ctx, pfn: number, gen: number, idx: number, write: boolean, via: 'sw' | 'hw' | 'ptl', level: Level = 'pte') {
  const f = c.m.frames[pfn] ?? frameOf(c.m, 0);
  if (write) f.written = true;
  if (traceOnly(c.m) || tableAccessSuspect(pfn, gen, f.kind, f.gen, tableKind(level))) {
    c.m.events.push({ e: 'table-access', pfn, gen, frameKind: f.kind, frameGen: f.gen, idx, write, via, cpu: c.cpu.id, level });
  }
  return f;
}

/** Read an upper-level entry (pgd, pud) of table `p`: one atomic load. */
function upperLoad(c: Ctx, pfn: number, gen: number, idx: number, level: 'pgd' | 'pud', via: 'sw' | 'hw'): PmdEntry {
  const f = touchTable(c, pfn, gen, idx, false, via, level);
  return pmdDecode(f.lo[idx] ?? 0, f.hi[idx] ?? 0);
}

/** pgd_offset() → p4d → pud_offset() → pmd_offset() for `addr` in `mm`: the pmd pointer, or null
 *  where a pgd or pud entry is none (or huge), as walk_to_pmd() and mm_find_pmd() give up. The upper
 *  entries are read atomically and at once: code that walks this way holds what keeps the upper
 *  tables (mmap_lock, or the rmap lock and the VMA). Each table is checked against the generation its
 *  frame had when the entry above it was read. */
export function pmd_off(c: Ctx, addr: number, mm: Mm = c.mm, via: 'sw' | 'hw' = 'sw'): PmdPtr | null {
  const frames = c.m.frames;
  const pgd = upperLoad(c, mm.pgd, frameOf(c.m, mm.pgd).gen, pgdIndex(addr), 'pgd', via);
  if (pgd.t !== 'table') return null;
  const pud = upperLoad(c, pgd.pfn, frames[pgd.pfn]?.gen ?? -1, pudIndex(addr), 'pud', via);
  if (pud.t !== 'table') return null;
  const slot = pmdIndex(addr);
  return { mm: mm.id, slot, table: pud.pfn, gen: frames[pud.pfn]?.gen ?? -1, idx: pmdTableIndex(slot) };
}

/** pmd_offset(pud, addr): the pointer to `addr`'s pmd in the pmd table a walk of `mm` already holds
 *  (`table`, as the pud entry gave it): no pgd or pud is read again. */
export function pmd_offset(mm: Mm, table: TablePtr, addr: number): PmdPtr {
  const slot = pmdIndex(addr);
  return { mm: mm.id, slot, table: table.pfn, gen: table.gen, idx: pmdTableIndex(slot) };
}

/** Entry `idx` of an upper-level or pmd table, read straight from the frame (no event), or null for
 *  a frame the model lacks: for the oracle, and for kernel code that found a page by pfn, not by a walk. */
export function tableEntryAt(m: Model, table: number, idx: number): PmdEntry | null {
  const f = m.frames[table];
  return f ? pmdDecode(f.lo[idx] ?? 0, f.hi[idx] ?? 0) : null;
}

/** The pmd entry that maps `addr` in the tables under `pgd` now, read straight from the frames (no
 *  event), or null where a pgd or pud entry is not a table. */
export function pmdEntryForAddr(m: Model, pgd: number, addr: number): PmdEntry | null {
  const g = tableEntryAt(m, pgd, pgdIndex(addr));
  if (g?.t !== 'table') return null;
  const u = tableEntryAt(m, g.pfn, pudIndex(addr));
  if (u?.t !== 'table') return null;
  return tableEntryAt(m, u.pfn, pmdTableIndex(pmdIndex(addr)));
}

/** pmd_off() for code that knows the pmd table is there (it holds mmap_lock over a mapped VMA, or
 *  it just allocated it): a missing table is a model bug, not a race. */
export function pmd_off_present(c: Ctx, addr: number, mm: Mm = c.mm): PmdPtr {
  const p = pmd_off(c, addr, mm);
  if (!p) throw new Error(`model: no pmd table for address ${addr} in mm ${mm.id} (allocate it with pmd_alloc)`);
  return p;
}

/** A user module written for the one-table model passes a slot number: say what changed. */
function checkPtr(p: PmdPtr): void {
  if (typeof p !== 'object' || p === null) throw new TypeError(`expected a pmd pointer (pmd_off(c, addr)), got ${typeof p} ${String(p)}: pmd primitives take the pointer a walk returns, not a slot`);
}

function pmdFrame(m: Model, p: PmdPtr) {
  return m.frames[p.table] ?? frameOf(m, 0);
}

/** The pmd's current value, for code that holds pmd_lock (no event, no check). */
export function pmdEntryAt(m: Model, p: PmdPtr): PmdEntry {
  const f = pmdFrame(m, p);
  return pmdDecode(f.lo[p.idx] ?? 0, f.hi[p.idx] ?? 0);
}

function makeVal(c: Ctx, p: PmdPtr, lo: number, hi: number, since: number): PmdVal {
  const m = c.m;
  const entry = pmdDecode(lo, hi);
  const f = m.frames[pmd_pfn(entry)];
  if (traceOnly(m)) m.events.push({ e: 'pmd-load', slot: p.slot, mm: p.mm, value: entry });
  return { pmd: p, entry, lo, hi, gen: f ? f.gen : -1, since };
}

/** One half of the pmd, loaded through the pointer (checked against its table). */
function loadHalf(c: Ctx, p: PmdPtr, high: boolean): number {
  checkPtr(p);
  const f = touchTable(c, p.table, p.gen, p.idx, false, 'sw', 'pmd');
  return (high ? f.hi[p.idx] : f.lo[p.idx]) ?? 0;
}

/** The walker acts on a pmd value it read (takes a pointer from it, or clears the pmd because of it):
 *  the oracle checks that the value was really stored at some instant of the read. A value that is
 *  only tested for flags and then read again is not used, and is not checked. */
export function pmd_use(c: Ctx, v: PmdVal): void {
  c.m.events.push({ e: 'pmd-read', table: v.pmd.table, idx: v.pmd.idx, slot: v.pmd.slot, lo: v.lo, hi: v.hi, since: v.since });
}

/** One load of the whole pmd: READ_ONCE() on 64-bit, a read under pmd_lock, or the hardware walker. */
export function pmd_load(c: Ctx, p: PmdPtr, via: 'sw' | 'hw' = 'sw'): PmdVal {
  checkPtr(p);
  const f = touchTable(c, p.table, p.gen, p.idx, false, via, 'pmd');
  return makeVal(c, p, f.lo[p.idx] ?? 0, f.hi[p.idx] ?? 0, c.m.step);
}

function pmdLabel(p: PmdPtr): string {
  if (p.mm !== 0) return `mm${p.mm} pmd ${p.slot}`;
  // mm 0's, made once: a label is built on every pmd read.
  return (PMD_LABELS[p.slot] ??= `pmd ${p.slot}`);
}
const PMD_LABELS: string[] = [];

/** What a step of a pmd read adds after `${what} [pmd N]`: which half it loaded (PAE). */
const HALF = ['', ' [low half]', ' [high half]', ' [low half again: same]', ' [low half again: moved, retry]', ' [low half: none]'] as const;
type Half = 0 | 1 | 2 | 3 | 4 | 5;

/** The label of a step of a pmd read: `${what} [${pmdLabel(p)}]${HALF[half]}`. Every pmd read
 *  takes a step, and most run with no trace kept: mm 0's labels are made once per call site's
 *  `what` (a string constant), slot and half, not per read. */
function pmdReadLabel(what: string, p: PmdPtr, half: Half): string {
  if (p.mm !== 0) return `${what} [${pmdLabel(p)}]${HALF[half]}`;
  let bySlot = PMD_READ_LABELS.get(what);
  if (!bySlot) {
    // A bound, for callers that pass a `what` of their own making.
    if (PMD_READ_LABELS.size >= 4096) PMD_READ_LABELS.clear();
    PMD_READ_LABELS.set(what, (bySlot = []));
  }
  const i = p.slot * HALF.length + half;
  return (bySlot[i] ??= `${what} [${pmdLabel(p)}]${HALF[half]}`);
}
const PMD_READ_LABELS = new Map<string, string[]>();

/** The pmd slots a step's label names, by pmdReadLabel()'s "[pmd N]" ("[mm1 pmd N]" in another mm;
 *  the mm is not told apart). A pmd load that is only tested records no event in an untraced run:
 *  its label is all that says the step read the pmd (greybox's feedback, the focus's partners). */
export function pmdSlotsInLabel(label: string): readonly number[] {
  if (!label.includes('pmd ')) return NO_SLOTS;
  const out: number[] = [];
  for (const m of label.matchAll(PMD_IN_LABEL)) out.push(Number(m[1]));
  return out;
}
const NO_SLOTS: readonly number[] = [];
const PMD_IN_LABEL = /\[(?:mm\d+ )?pmd (\d+)\]/g;

/** A plain `*pmdp` read, one step. On PAE it is two 32-bit loads, each its own step, in an order the
 *  compiler chooses (a schedule choice here): a store between them tears the value (CVE-2012-2373).
 *  (pmd_read(), pmdp_get_lockless() and pmd_read_atomic() are functions that pick a generator: the
 *  64-bit read's is small, and what a generator costs to make and to resume at every step below it
 *  grows with its frame.) */
export function pmd_read(c: Ctx, p: PmdPtr, what: string, done?: () => void): Stepper<PmdVal> {
  return c.m.arch.pae ? pmd_read_halves(c, p, what, done) : pmd_read_once(c, p, what, done);
}

/** One load of the whole pmd, one step (64-bit: READ_ONCE(), pmdp_get_lockless(), pmd_read_atomic()). */
function* pmd_read_once(c: Ctx, p: PmdPtr, what: string, done?: () => void): Stepper<PmdVal> {
  const v = pmd_load(c, p);
  done?.();
  yield step(pmdReadLabel(what, p, 0));
  return v;
}

/** PAE's plain read: two 32-bit loads in the order the schedule chooses. */
function* pmd_read_halves(c: Ctx, p: PmdPtr, what: string, done?: () => void): Stepper<PmdVal> {
  const m = c.m;
  const since = m.step;
  const highFirst = m.choose(2, 'pae-load-order') === 1;
  const first = loadHalf(c, p, highFirst);
  yield step(pmdReadLabel(what, p, highFirst ? 2 : 1));
  const second = loadHalf(c, p, !highFirst);
  const v = highFirst ? makeVal(c, p, second, first, since) : makeVal(c, p, first, second, since);
  done?.();
  yield step(pmdReadLabel(what, p, highFirst ? 1 : 2));
  return v;
}

/** pmdp_get_lockless(): atomic on 64-bit; on PAE (CONFIG_GUP_GET_PXX_LOW_HIGH) low, high, then
 *  re-read low and retry if it moved. With V4 (pae-torn-pmd-read) it is the plain two-load read.
 *  `done` runs in the step of the last load (pmdp_get_lockless_end() restoring IRQs, say). */
export function pmdp_get_lockless(c: Ctx, p: PmdPtr, what: string, done?: () => void): Stepper<PmdVal> {
  if (!c.m.arch.pae) return pmd_read_once(c, p, what, done);
  if (c.m.sw.bugs.has('pae-torn-pmd-read')) return pmd_read_halves(c, p, what, done);
  return pmdp_get_lockless_pae(c, p, what, done);
}

function* pmdp_get_lockless_pae(c: Ctx, p: PmdPtr, what: string, done?: () => void): Stepper<PmdVal> {
  for (;;) {
    const since = c.m.step;
    const lo = loadHalf(c, p, false);
    yield step(pmdReadLabel(what, p, 1));
    const hi = loadHalf(c, p, true);
    yield step(pmdReadLabel(what, p, 2));
    if (loadHalf(c, p, false) === lo) {
      const v = makeVal(c, p, lo, hi, since);
      done?.();
      yield step(pmdReadLabel(what, p, 3));
      return v;
    }
    yield step(pmdReadLabel(what, p, 4));
  }
}

/** pmd_read_atomic() (26c191788f18, until v6.1): on PAE read the low half, and the high half only if
 *  the low half is not none, since under mmap_lock read a pmd only goes from none to populated. */
export function pmd_read_atomic(c: Ctx, p: PmdPtr, what: string): Stepper<PmdVal> {
  if (!c.m.arch.pae) return pmd_read_once(c, p, what);
  if (c.m.sw.bugs.has('pae-torn-pmd-read')) return pmd_read_halves(c, p, what);
  return pmd_read_atomic_pae(c, p, what);
}

function* pmd_read_atomic_pae(c: Ctx, p: PmdPtr, what: string): Stepper<PmdVal> {
  const since = c.m.step;
  const lo = loadHalf(c, p, false);
  if (lo === 0) {
    const v = makeVal(c, p, 0, 0, since);
    yield step(pmdReadLabel(what, p, 5));
    return v;
  }
  yield step(pmdReadLabel(what, p, 1));
  const v = makeVal(c, p, lo, loadHalf(c, p, true), since);
  yield step(pmdReadLabel(what, p, 2));
  return v;
}

/** Every store of an entry that points at a frame: the oracle is told (entry-install) when the frame
 *  is not one such an entry may point at. Cheap when it is: one lookup, no event. */
function checkInstall(c: Ctx, level: Level, table: number, idx: number, now: PmdEntry | PteEntry, how: string): void {
  const want = installWant(level, now);
  if (!want || now.t === 'none' || now.t === 'bad' || now.t === 'swap') return;
  const f = c.m.frames[now.pfn];
  const kind = f ? f.kind : 'reserved';
  if (!installSuspect(now.pfn, kind, want)) return;
  const entry = level === 'pte' ? fmtPte(now as PteEntry) : fmtPmd(now as PmdEntry);
  c.m.events.push({ e: 'entry-install', level, table, idx, entry, pfn: now.pfn, want, frameKind: kind, frameGen: f ? f.gen : -1, how });
}

function storePmd(c: Ctx, p: PmdPtr, now: PmdEntry, how: string): PmdEntry {
  checkPtr(p);
  const f = touchTable(c, p.table, p.gen, p.idx, true, 'sw', 'pmd');
  checkInstall(c, 'pmd', p.table, p.idx, now, how);
  // A pmd is installed under pmd_lock (__pte_alloc, set_pmd_at of a huge pmd), unless mmap_lock for
  // write keeps every other writer out.
  if (now.t !== 'none' && f.ptl.owner !== c.id && c.m.mms[p.mm]?.mmap_lock.writer !== c.id) {
    c.m.events.push({ e: 'unlocked-write', level: 'pmd', pfn: p.table, idx: p.idx, lock: f.ptl.name });
  }
  const old = pmdDecode(f.lo[p.idx] ?? 0, f.hi[p.idx] ?? 0);
  f.lo[p.idx] = pmdLo(now);
  f.hi[p.idx] = pmdHi(now);
  c.m.events.push({ e: 'pmd-store', table: p.table, idx: p.idx, slot: p.slot, mm: p.mm, old, now, how });
  return old;
}

/** set_pmd_at() / set_pmd(): one atomic store (set_64bit on PAE). Caller holds pmd_lock. */
export function set_pmd_at(c: Ctx, p: PmdPtr, e: PmdEntry): void {
  storePmd(c, p, e, 'set_pmd_at');
}

/** pmd_populate(): hook a pte table in. Caller holds pmd_lock. */
export function pmd_populate(c: Ctx, p: PmdPtr, table: number): void {
  storePmd(c, p, { t: 'table', pfn: table }, 'pmd_populate');
}

/** pmd_clear(): one store on 64-bit; on PAE native_pmd_clear() writes the low half, then the high. */
export function* pmd_clear(c: Ctx, p: PmdPtr, label: string): ActorGen {
  if (!c.m.arch.pae) {
    storePmd(c, p, { t: 'none' }, 'pmd_clear');
    yield step(label);
    return;
  }
  const f = touchTable(c, p.table, p.gen, p.idx, true, 'sw', 'pmd');
  const old = pmdDecode(f.lo[p.idx] ?? 0, f.hi[p.idx] ?? 0);
  f.lo[p.idx] = 0;
  c.m.events.push({ e: 'pmd-store', table: p.table, idx: p.idx, slot: p.slot, mm: p.mm, old, now: pmdDecode(0, f.hi[p.idx] ?? 0), how: 'pmd_clear [low half]' });
  yield step(`${label} [low half]`);
  storePmd(c, p, { t: 'none' }, 'pmd_clear [high half]');
  yield step(`${label} [high half]`);
}

/** pmdp_huge_get_and_clear() / pmdp_get_and_clear(): an atomic exchange with none. */
export function pmdp_huge_get_and_clear(c: Ctx, p: PmdPtr): PmdEntry {
  return storePmd(c, p, { t: 'none' }, 'pmdp_huge_get_and_clear');
}

/** Does pmdp_huge_get_and_clear() clear the pmd in two stores here? x86-32 PAE before v6.2:
 *  native_pmdp_get_and_clear() (arch/x86/include/asm/pgtable-3level.h, v5.8 and v5.10, CONFIG_SMP)
 *  did `res.pmd_low = xchg(&orig->pmd_low, 0); res.pmd_high = orig->pmd_high; orig->pmd_high = 0;`
 *  ("xchg acts as a barrier before setting of the high bits"). Peter Zijlstra's "x86/mm/pae: Be
 *  consistent with pXXp_get_and_clear()" (v6.2, with "mm/gup: Fix the lockless PMD access") made it
 *  pxx_xchg64(), a try_cmpxchg64() loop: one atomic exchange of both halves. */
export function pmdClearsInHalves(m: Model): boolean {
  return m.arch.pae && !eraAtLeast(m.sw, 'v6.2');
}

/** pmdp_huge_get_and_clear() as the era's x86 does it, for callers that hold pmd_lock. Where it is
 *  one atomic exchange it takes no step of its own: the caller's next step is the clear. On PAE
 *  before v6.2 (pmdClearsInHalves()) the xchg of the low half is a step of its own, `label` + " [low
 *  half: xchg]", after which the pmd holds (0, high): not present and pmd_none() to every reader
 *  (both test the low word only), and the hardware, which reads the 64-bit entry at once, finds it
 *  not present. The high half is read and cleared in the caller's next step; no one else writes it
 *  meanwhile (writers hold pmd_lock, and the hardware's A/D updates are in the low half). */
export function* pmdp_huge_get_and_clear_x86(c: Ctx, p: PmdPtr, label: string): Stepper<PmdEntry> {
  if (!pmdClearsInHalves(c.m)) return pmdp_huge_get_and_clear(c, p);
  const f = touchTable(c, p.table, p.gen, p.idx, true, 'sw', 'pmd');
  const old = pmdDecode(f.lo[p.idx] ?? 0, f.hi[p.idx] ?? 0);
  f.lo[p.idx] = 0;
  c.m.events.push({ e: 'pmd-store', table: p.table, idx: p.idx, slot: p.slot, mm: p.mm, old, now: pmdDecode(0, f.hi[p.idx] ?? 0), how: 'pmdp_huge_get_and_clear' });
  yield step(`${label} [low half: xchg]`);
  // res.pmd_high = orig->pmd_high; orig->pmd_high = 0: the pointer is the one the xchg went through.
  const hi = loadHalf(c, p, true);
  storePmd(c, p, { t: 'none' }, 'pmdp_huge_get_and_clear');
  return pmdDecode(pmdLo(old), hi);
}

/** xchg() on a pmd. */
export function pmdp_xchg(c: Ctx, p: PmdPtr, e: PmdEntry): PmdEntry {
  return storePmd(c, p, e, 'xchg');
}

/** cmpxchg() on a pmd: stores `e` only if the pmd still equals `expect` (both halves). */
export function pmdp_cmpxchg(c: Ctx, p: PmdPtr, expect: PmdVal, e: PmdEntry): boolean {
  const f = touchTable(c, p.table, p.gen, p.idx, false, 'sw', 'pmd');
  if ((f.lo[p.idx] ?? 0) !== expect.lo || (f.hi[p.idx] ?? 0) !== expect.hi) return false;
  storePmd(c, p, e, 'cmpxchg');
  return true;
}

/** [address, address + HPAGE_PMD_SIZE) of the pmd's mm: what pmdp_*_flush() hand flush_tlb_range(). */
export function pmdRange(p: PmdPtr): FlushRange {
  return { mm: p.mm, start: pmdAddr(p.slot), end: pmdAddr(p.slot) + PMD_PAGES };
}

/** pmdp_collapse_flush(): clear the pmd and flush the range (mm/pgtable-generic.c). Caller holds
 *  pmd_lock. Returns the old entry. The flush is an IPI, waited for, only on an IPI architecture. */
export function* pmdp_collapse_flush(c: Ctx, p: PmdPtr): Stepper<PmdEntry> {
  const old = yield* pmdp_huge_get_and_clear_x86(c, p, 'pmdp_collapse_flush(): pmdp_huge_get_and_clear()');
  yield step('pmdp_collapse_flush(): pmdp_huge_get_and_clear()');
  yield* flush_tlb_range(c, 'pmdp_collapse_flush(): flush_tlb_range()', pmdRange(p));
  return old;
}

/** pmdp_invalidate(): store pmd_mkinvalid(*pmdp), as the architecture defines it (the transient state
 *  a split goes through: on x86 and arm64 still pmd_present()), and flush. */
export function* pmdp_invalidate(c: Ctx, p: PmdPtr): Stepper<PmdEntry> {
  const old = pmdEntryAt(c.m, p);
  const now = pmd_mkinvalid(c.m.arch, old);
  storePmd(c, p, now, 'pmdp_invalidate');
  yield step('pmdp_invalidate(): pmdp_mknotpresent');
  yield* flush_tlb_range(c, 'pmdp_invalidate(): flush_tlb_range()', pmdRange(p));
  return old;
}

/** pmd_clear_bad(): report and clear a pmd judged corrupt from the value `judged`. */
export function pmd_clear_bad(c: Ctx, p: PmdPtr, judged: PmdVal): void {
  pmd_use(c, judged);
  const old = pmdEntryAt(c.m, p);
  c.m.events.push({ e: 'pmd-clear-bad', slot: p.slot, old });
  storePmd(c, p, { t: 'none' }, 'pmd_clear_bad');
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

/** Read a pte through a table pointer: ptep_get() / *pte. */
export function pte_read(c: Ctx, p: TablePtr, idx: number, via: 'sw' | 'hw' = 'sw'): PteEntry {
  return touchTable(c, p.pfn, p.gen, idx, false, via).ptes[idx] ?? { t: 'none' };
}

/** set_pte_at() / pte_clear() through a table pointer. Caller holds the table's ptl. */
export function pte_write(c: Ctx, p: TablePtr, idx: number, now: PteEntry): PteEntry {
  const f = touchTable(c, p.pfn, p.gen, idx, true, 'sw');
  checkInstall(c, 'pte', p.pfn, idx, now, 'set_pte_at');
  // set_pte_at() and ptep_get_and_clear() run under the table's ptl (pte_offset_map_lock()).
  if (f.ptl.owner !== c.id) c.m.events.push({ e: 'unlocked-write', level: 'pte', pfn: p.pfn, idx, lock: f.ptl.name });
  const old = f.ptes[idx] ?? { t: 'none' };
  f.ptes[idx] = now;
  // A dirty pte of a file page goes: its dirty bit must reach the page (set_page_dirty).
  if (old.t === 'present' && old.dirty && (now.t !== 'present' || now.pfn !== old.pfn) && (c.m.frames[old.pfn]?.mapping ?? -1) >= 0) {
    c.m.events.push({ e: 'dirty-pte-cleared', pfn: old.pfn, table: p.pfn, idx });
  }
  // Always recorded: the oracle keeps what each address mapped when, to judge what GUP returns.
  c.m.events.push({ e: 'pte-store', pfn: p.pfn, idx, old, now });
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
  // A pte table's ptl; pmd_lock() for a pmd table's.
  const l = pte_lockptr(c.m, p);
  if (l.owner !== NOBODY) yield* blockUntil(spinLockLabel(l.name), () => l.owner === NOBODY);
  touchTable(c, p.pfn, p.gen, -1, true, 'ptl');
  spin_take(c, l);
  yield step(spinLockLabel(l.name));
}

/** pmd_lockptr(): the pmd table page's split ptl (USE_SPLIT_PMD_PTLOCKS). Taking it after the table
 *  was freed is a use-after-free, as for a pte table's ptl. */
export function pmd_lockptr(m: Model, p: PmdPtr): SpinLock {
  return pmdFrame(m, p).ptl;
}

/** spin_lock(pmd_lockptr(mm, pmd)). */
export function* pmd_lock(c: Ctx, p: PmdPtr): ActorGen {
  const l = pmd_lockptr(c.m, p);
  if (l.owner !== NOBODY) yield* blockUntil(spinLockLabel(l.name), () => l.owner === NOBODY);
  touchTable(c, p.table, p.gen, -1, true, 'ptl', 'pmd');
  spin_take(c, l);
  yield step(spinLockLabel(l.name));
}

/** The table an upper-level walk reaches, for primitives one level up (pgalloc.ts, free_pgtables). */
export function upperEntry(c: Ctx, p: TablePtr, idx: number, level: 'pgd' | 'pud', via: 'sw' | 'hw' = 'sw'): PmdEntry {
  return upperLoad(c, p.pfn, p.gen, idx, level, via);
}

/** Store an upper-level entry (pgd_populate / pud_populate / pud_clear). Caller holds
 *  mm->page_table_lock (or, tearing down, mmap_lock for write). */
export function upperStore(c: Ctx, p: TablePtr, idx: number, level: 'pgd' | 'pud', now: PmdEntry, how: string): PmdEntry {
  const f = touchTable(c, p.pfn, p.gen, idx, true, 'sw', level);
  checkInstall(c, level, p.pfn, idx, now, how);
  const old = pmdDecode(f.lo[idx] ?? 0, f.hi[idx] ?? 0);
  f.lo[idx] = pmdLo(now);
  f.hi[idx] = pmdHi(now);
  if (traceOnly(c.m)) c.m.events.push({ e: 'upper-store', level, table: p.pfn, idx, old, now, how });
  return old;
}

/** pgtable_trans_huge_deposit(): keep a pte table with a huge pmd, for a later split or zap. Caller
 *  holds pmd_lock. */
export function pgtable_trans_huge_deposit(m: Model, p: PmdPtr, table: number): void {
  pmdFrame(m, p).deposited[p.idx] = table;
}

/** pgtable_trans_huge_withdraw(): take the deposited table back (0 if none). Caller holds pmd_lock. */
export function pgtable_trans_huge_withdraw(m: Model, p: PmdPtr): number {
  const f = pmdFrame(m, p);
  const t = f.deposited[p.idx] ?? 0;
  f.deposited[p.idx] = 0;
  return t;
}
