// The steps that make a race, read off a trace: which entries and frames the violation is about, which
// step changed them under the walker, and which of the other steps read, changed or ordered them. The
// diagram (diagram.ts) draws these steps; the race's identity (affected.ts) is its racing pair.
//
// Everything here is a pure function of the trace's events, so it works for any actor: an actor
// says what it did only through the primitives' events (src/mm/events.ts).

import type { MmEvent } from '../mm/events.js';
import type { Violation } from '../oracle/violations.js';
import type { TraceStep } from './executor.js';

/** What one step touched: entries (`e:TABLE:IDX`), frames' contents (`f:PFN`) and frames' lives
 *  (`l:PFN`: allocated, freed, or pointed at by a value read), read or written; the frames its
 *  loaded or stored entry values point at, and the entries those values were in; the locks it took
 *  or dropped, with the tables whose split lock it took; and whether it did anything that orders
 *  CPUs (IRQs, RCU, IPIs, flushes). */
export interface StepAccess {
  readonly reads: ReadonlySet<string>;
  readonly writes: ReadonlySet<string>;
  readonly values: ReadonlySet<number>;
  readonly pointers: ReadonlySet<string>;
  readonly locks: ReadonlySet<string>;
  readonly ptlOf: ReadonlySet<number>;
  readonly sync: boolean;
}

const pfnOf = (e: { readonly t: string; readonly pfn?: number }): number | null => (typeof e.pfn === 'number' ? e.pfn : null);

export function accessOf(events: readonly MmEvent[]): StepAccess {
  const reads = new Set<string>();
  const writes = new Set<string>();
  const values = new Set<number>();
  const pointers = new Set<string>();
  const locks = new Set<string>();
  const ptlOf = new Set<number>();
  const pmdEntries: string[] = [];
  let loaded = false;
  let sync = false;
  const value = (e: { readonly t: string; readonly pfn?: number }) => { const p = pfnOf(e); if (p !== null) values.add(p); };
  const store = (entry: string, ...vs: { readonly t: string; readonly pfn?: number }[]) => { writes.add(entry); pointers.add(entry); vs.forEach(value); };
  for (const ev of events) {
    switch (ev.e) {
      case 'table-access':
        if (ev.idx >= 0) {
          (ev.write ? writes : reads).add(`e:${ev.pfn}:${ev.idx}`);
          reads.add(`f:${ev.pfn}`);
          if (ev.level === 'pmd') pmdEntries.push(`e:${ev.pfn}:${ev.idx}`);
        } else {
          // The split lock lives in the table's struct page: its life matters, not its entries.
          reads.add(`l:${ev.pfn}`);
        }
        if (ev.via === 'ptl') ptlOf.add(ev.pfn);
        break;
      case 'pmd-read': reads.add(`e:${ev.table}:${ev.idx}`); break;
      case 'pmd-load': { loaded = true; value(ev.value); const p = pfnOf(ev.value); if (p !== null) reads.add(`l:${p}`); break; }
      case 'pmd-store': store(`e:${ev.table}:${ev.idx}`, ev.old, ev.now); break;
      case 'upper-store': store(`e:${ev.table}:${ev.idx}`, ev.old, ev.now); break;
      case 'pte-store': store(`e:${ev.pfn}:${ev.idx}`, ev.old, ev.now); break;
      case 'entry-install': writes.add(`e:${ev.table}:${ev.idx}`); pointers.add(`e:${ev.table}:${ev.idx}`); values.add(ev.pfn); break;
      case 'alloc': case 'free': case 'table-zeroed': writes.add(`f:${ev.pfn}`); writes.add(`l:${ev.pfn}`); break;
      case 'ref-get': case 'ref-put': case 'pin': case 'unpin': case 'page-dirty': case 'dirty-pte-cleared': writes.add(`f:${ev.pfn}`); break;
      case 'copy': reads.add(`f:${ev.from}`); writes.add(`f:${ev.to}`); break;
      case 'tlb-fill': case 'pwc-fill': case 'smmu-fill': case 'smmu-access': reads.add(`f:${ev.pfn}`); reads.add(`l:${ev.pfn}`); break;
      case 'hw-access': (ev.write ? writes : reads).add(`f:${ev.pfn}`); reads.add(`l:${ev.pfn}`); break;
      case 'lock': case 'unlock': case 'trylock-failed': locks.add(ev.lock); break;
      case 'irq': case 'rcu': case 'ipi-send': case 'ipi-take': case 'flush': case 'call-rcu': sync = true; break;
      default: break;
    }
  }
  // A pmd value read: the entries it was read from hold it.
  if (loaded) for (const e of pmdEntries) pointers.add(e);
  return { reads, writes, values, pointers, locks, ptlOf, sync };
}

export interface Slice {
  /** Trace positions (indices into the trace) kept, ascending; the violation's is the last. */
  readonly kept: readonly number[];
  /** The trace position of the step that changed what the walker used (the oracle's changedBy, or
   *  else the last step of another actor that wrote an entry or frame the violating step used). */
  readonly changer: number | null;
  /** The actors whose steps make the race. */
  readonly actors: readonly number[];
  /** The entries and frames involved. */
  readonly objects: ReadonlySet<string>;
}

/** The trace position of `step`, or -1. */
function posOf(trace: readonly TraceStep[], step: number): number {
  for (let i = trace.length - 1; i >= 0; i--) if (trace[i]!.step === step) return i;
  return -1;
}

/** The steps that make the race, from the trace of an execution that ended in `v` (run with the
 *  trace on). See the header of diagram.ts for what is kept. */
export function sliceRace(trace: readonly TraceStep[], v: Violation): Slice {
  const acc = trace.map((s) => accessOf(s.events));
  const vPos = Math.min(trace.length - 1, Math.max(0, posOf(trace, v.usedBy.step)));
  const user = trace[vPos]?.actor ?? v.usedBy.actor;
  const at = acc[vPos];
  const used = new Set<string>([...(at?.reads ?? []), ...(at?.writes ?? [])]);
  if (v.pfn !== null) used.add(`l:${v.pfn}`);
  // The changer: the oracle's, else the last foreign write to what the violating step used.
  let changer = v.changedBy ? posOf(trace, v.changedBy.step) : -1;
  if (changer < 0) {
    for (let i = vPos - 1; i >= 0; i--) {
      if (trace[i]!.actor !== user && [...acc[i]!.writes].some((o) => used.has(o))) { changer = i; break; }
    }
  }
  // The objects: what the violating and changing steps touched; the lives of the frames that the
  // values of those entries point at; and the entries whose values pointed at the frames involved.
  const objects = new Set(used);
  if (changer >= 0) for (const o of acc[changer]!.writes) objects.add(o);
  // And the data races of the walker with the changing CPU: an entry or a frame's life the walker
  // read that the changer wrote afterwards (the pmd GUP-fast read before khugepaged cleared it).
  if (changer >= 0) {
    const other = trace[changer]!.actor;
    const readByUser = new Set<string>();
    for (let i = 0; i < vPos; i++) {
      const a = acc[i]!;
      if (trace[i]!.actor === user) for (const o of a.reads) if (!o.startsWith('f:')) readByUser.add(o);
      if (trace[i]!.actor === other) for (const o of a.writes) if (readByUser.has(o)) objects.add(o);
    }
  }
  const entries = [...objects].filter((o) => o.startsWith('e:'));
  for (let i = 0; i <= vPos; i++) {
    const a = acc[i]!;
    if ([...a.pointers].some((o) => entries.includes(o))) for (const p of a.values) if (p !== 0) objects.add(`l:${p}`);
  }
  const frames = new Set([...objects].filter((o) => o.startsWith('f:') || o.startsWith('l:')).map((o) => Number(o.slice(2))));
  for (let i = 0; i <= vPos; i++) {
    const a = acc[i]!;
    if ([...a.values].some((p) => p !== 0 && frames.has(p))) for (const o of a.pointers) objects.add(o);
  }
  const touches = (i: number, which: 'reads' | 'writes') => [...acc[i]![which]].some((o) => objects.has(o));
  const kept = new Set<number>([vPos]);
  if (changer >= 0) kept.add(changer);
  // Writes of the involved objects, by anyone; their writers are involved.
  const actors = new Set<number>([user]);
  if (changer >= 0) actors.add(trace[changer]!.actor);
  for (let i = 0; i < vPos; i++) if (touches(i, 'writes')) { kept.add(i); actors.add(trace[i]!.actor); }
  // Reads of them by the involved actors, but for a read that the same actor repeats before anyone
  // else writes what it read (the later read shows the same value).
  for (let i = 0; i < vPos; i++) {
    const s = trace[i]!;
    if (!actors.has(s.actor) || !touches(i, 'reads') || kept.has(i)) continue;
    const mine = [...acc[i]!.reads].filter((o) => objects.has(o));
    let superseded = false;
    // (The violating step does not count: the read before it shows the value it went wrong on.)
    for (let j = i + 1; j < vPos && !superseded; j++) {
      const b = acc[j]!;
      if (trace[j]!.actor !== s.actor && mine.some((o) => b.writes.has(o))) break;
      if (trace[j]!.actor === s.actor && mine.every((o) => b.reads.has(o) || b.writes.has(o))) superseded = true;
    }
    if (!superseded) kept.add(i);
  }
  // The locks that order them: those two involved actors both take, those the walker holds when it
  // goes wrong, and the split locks of the tables involved.
  const tables = new Set<number>([...used].filter((o) => o.startsWith('l:')).map((o) => Number(o.slice(2))));
  for (const o of objects) if (o.startsWith('e:')) tables.add(Number(o.split(':')[1]));
  const takers = new Map<string, Set<number>>();
  const held = new Set<string>();
  for (let i = 0; i <= vPos; i++) {
    const s = trace[i]!;
    for (const ev of s.events) {
      if (ev.e !== 'lock' && ev.e !== 'unlock' && ev.e !== 'trylock-failed') continue;
      if (actors.has(s.actor)) takers.set(ev.lock, (takers.get(ev.lock) ?? new Set()).add(s.actor));
      if (s.actor === user && i < vPos) { if (ev.e === 'lock') held.add(ev.lock); else if (ev.e === 'unlock') held.delete(ev.lock); }
    }
  }
  const lockKept = new Set<string>([...held]);
  for (const [l, who] of takers) if (who.size >= 2) lockKept.add(l);
  for (let i = 0; i < vPos; i++) if (actors.has(trace[i]!.actor) && [...acc[i]!.ptlOf].some((p) => tables.has(p))) for (const l of acc[i]!.locks) lockKept.add(l);
  // Lock, IRQ, RCU, IPI and flush steps of the involved actors, up to each one's last kept step.
  const lastKept = new Map<number, number>();
  for (const i of kept) lastKept.set(trace[i]!.actor, Math.max(lastKept.get(trace[i]!.actor) ?? -1, i));
  for (let i = 0; i < vPos; i++) {
    const s = trace[i]!;
    if (!actors.has(s.actor) || i > (lastKept.get(s.actor) ?? -1)) continue;
    if (acc[i]!.sync || [...acc[i]!.locks].some((l) => lockKept.has(l))) kept.add(i);
  }
  return { kept: [...kept].sort((a, b) => a - b), changer: changer >= 0 ? changer : null, actors: [...actors].sort((a, b) => a - b), objects };
}
