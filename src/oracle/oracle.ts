// The shadow oracle. It reads each step's events in order, keeps what it needs of the past (who freed a
// frame, what each pmd held and when, the pins outstanding), and returns the first violation. At the
// end it audits the final state. It knows nothing of schedules: only steps and their events.

import { HPAGE_PMD_NR, NR_PAGES, PTRS_PER_PMD, pmdDecode, pmdHi, pmdIndex, pmdLo, pteIndex, fmtPmd } from '../mm/entries.js';
import { refGetSuspect, tableAccessSuspect, tlbAccessSuspect, type MmEvent } from '../mm/events.js';
import type { Model } from '../mm/types.js';
import type { StepRef, Violation } from './violations.js';

interface Stored { readonly step: number; readonly lo: number; readonly hi: number }
interface Pin { readonly addr: number; readonly pfn: number; readonly by: StepRef }
interface Copy { readonly addr: number; readonly from: number; readonly by: StepRef }

export interface EndState {
  /** Actors that are blocked at the end, with what they wait for: a deadlock if any. */
  readonly blocked: readonly string[];
  /** Per actor: has it run to its end. */
  readonly finished: readonly boolean[];
  readonly names: readonly string[];
  readonly last: StepRef;
}

export interface Oracle {
  /** Check one step's events; the first violation, or null. */
  step(ref: StepRef, events: readonly MmEvent[]): Violation | null;
  /** Audit the state when no actor is left to run. */
  end(s: EndState): Violation | null;
}

export function createOracle(m: Model): Oracle {
  const lastFree: (StepRef | null)[] = m.frames.map(() => null);
  const hist: Stored[][] = [];
  for (let s = 0; s < PTRS_PER_PMD; s++) hist.push([{ step: -1, lo: m.mm.pmd_lo[s] ?? 0, hi: m.mm.pmd_hi[s] ?? 0 }]);
  const fills = new Map<string, StepRef>();
  const pins: Pin[] = [];
  const copies: Copy[] = [];

  /** Was (lo, hi) the pmd's value at some instant from the start of step `since` to now? */
  function wasStored(slot: number, since: number, lo: number, hi: number): boolean {
    const h = hist[slot] ?? [];
    let i = h.length - 1;
    while (i > 0 && (h[i]?.step ?? -1) >= since) i--;
    for (; i < h.length; i++) if (h[i]?.lo === lo && h[i]?.hi === hi) return true;
    return false;
  }

  function check(ref: StepRef, ev: MmEvent): Violation | null {
    switch (ev.e) {
      case 'pmd-store': {
        hist[ev.slot]?.push({ step: ref.step, lo: pmdLo(ev.now), hi: pmdHi(ev.now) });
        return null;
      }
      case 'pmd-read': {
        if (wasStored(ev.slot, ev.since, ev.lo, ev.hi)) return null;
        const v = pmdDecode(ev.lo, ev.hi);
        return { kind: 'torn-pmd-read', pfn: null, slot: ev.slot, lo: ev.lo, hi: ev.hi, usedBy: ref, changedBy: null,
          message: `pmd[${ev.slot}] read as ${fmtPmd(v)} (lo=${ev.lo.toString(16)} hi=${ev.hi.toString(16)}), a value never stored there while the read ran` };
      }
      case 'table-access': {
        if (!tableAccessSuspect(ev.pfn, ev.gen, ev.frameKind, ev.frameGen)) return null;
        const what = ev.via === 'ptl' ? 'took the ptl of' : ev.via === 'hw' ? 'hardware walk read' : ev.write ? 'wrote a pte of' : 'read a pte of';
        if (ev.pfn === 0) {
          return { kind: 'frame-zero-walked', pfn: 0, via: ev.via, usedBy: ref, changedBy: null,
            message: `${what} physical frame 0 as a page table (pmd_page() of a none pmd)` };
        }
        if (ev.frameKind === 'free') {
          return { kind: 'table-use-after-free', pfn: ev.pfn, via: ev.via, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
            message: `${what} table ${ev.pfn} after it was freed` };
        }
        if (ev.frameGen !== ev.gen) {
          return { kind: 'table-reused', pfn: ev.pfn, via: ev.via, nowKind: ev.frameKind, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
            message: `${what} table ${ev.pfn}, freed and reused as ${ev.frameKind} since the pointer was taken` };
        }
        return { kind: 'bogus-table-walked', pfn: ev.pfn, via: ev.via, nowKind: ev.frameKind, usedBy: ref, changedBy: null,
          message: `${what} frame ${ev.pfn}, a ${ev.frameKind} page, as if it were a pte table` };
      }
      case 'tlb-fill':
        fills.set(`tlb:${ev.cpu}:${ev.addr}`, ref);
        return null;
      case 'pwc-fill':
        fills.set(`pwc:${ev.cpu}:${ev.slot}`, ref);
        return null;
      case 'hw-access': {
        if (!tlbAccessSuspect(ev.gen, ev.frameKind, ev.frameGen)) return null;
        return { kind: 'stale-tlb-access', pfn: ev.pfn, cpu: ev.cpu, addr: ev.addr, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
          message: `CPU ${ev.cpu} accessed address ${ev.addr} through a TLB entry for frame ${ev.pfn}, freed since` };
      }
      case 'free': {
        for (const cpu of m.cpus) {
          for (let a = 0; a < NR_PAGES; a++) {
            if (cpu.tlb[a]?.pfn === ev.pfn) {
              return { kind: 'stale-tlb', pfn: ev.pfn, cpu: cpu.id, cache: 'tlb', usedBy: fills.get(`tlb:${cpu.id}:${a}`) ?? ref, changedBy: ref,
                message: `frame ${ev.pfn} freed while CPU ${cpu.id}'s TLB still maps address ${a} to it` };
            }
          }
          for (let s = 0; s < PTRS_PER_PMD; s++) {
            if (cpu.pwc[s]?.pfn === ev.pfn) {
              return { kind: 'stale-tlb', pfn: ev.pfn, cpu: cpu.id, cache: 'pwc', usedBy: fills.get(`pwc:${cpu.id}:${s}`) ?? ref, changedBy: ref,
                message: `table ${ev.pfn} freed while CPU ${cpu.id}'s paging-structure cache still points pmd[${s}] at it` };
            }
          }
        }
        const pin = pins.find((p) => p.pfn === ev.pfn);
        if (pin) {
          return { kind: 'freed-while-pinned', pfn: ev.pfn, addr: pin.addr, usedBy: pin.by, changedBy: ref,
            message: `page ${ev.pfn} freed while a GUP pin on it (address ${pin.addr}) is outstanding` };
        }
        lastFree[ev.pfn] = ref;
        return null;
      }
      case 'ref-get': {
        if (!refGetSuspect(ev.speculative, ev.frameKind)) return null;
        return { kind: 'ref-on-freed-frame', pfn: ev.pfn, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
          message: `get_page() on page ${ev.pfn}, which is free` };
      }
      case 'pin': {
        const c = copies.find((x) => x.from === ev.pfn && x.addr === ev.addr && x.by.step >= ev.since);
        if (c) {
          return { kind: 'stale-pin', pfn: ev.pfn, addr: ev.addr, copy: c.by.step, usedBy: ref, changedBy: c.by,
            message: `GUP returned page ${ev.pfn} for address ${ev.addr}, but khugepaged copied it and replaced the mapping while GUP ran: writes through the pin are lost` };
        }
        pins.push({ addr: ev.addr, pfn: ev.pfn, by: ref });
        return null;
      }
      case 'unpin': {
        const i = pins.findIndex((p) => p.pfn === ev.pfn && p.addr === ev.addr);
        if (i >= 0) pins.splice(i, 1);
        return null;
      }
      case 'copy': {
        const pin = pins.find((p) => p.pfn === ev.from);
        if (pin) {
          return { kind: 'stale-pin', pfn: ev.from, addr: pin.addr, copy: ref.step, usedBy: pin.by, changedBy: ref,
            message: `khugepaged copied page ${ev.from} (address ${ev.addr}) while a GUP pin on it is held: writes through the pin are lost` };
        }
        copies.push({ addr: ev.addr, from: ev.from, by: ref });
        return null;
      }
      case 'pmd-clear-bad': {
        if (ev.old.t === 'none' || ev.old.t === 'bad') return null;
        return { kind: 'valid-mapping-cleared', pfn: ev.old.pfn, slot: ev.slot, old: ev.old, usedBy: ref, changedBy: null,
          message: `pmd_clear_bad() cleared pmd[${ev.slot}] = ${fmtPmd(ev.old)}, a valid mapping` };
      }
      case 'zap-done': {
        for (let a = ev.start; a < ev.end; a++) {
          const s = pmdIndex(a);
          const e = pmdDecode(m.mm.pmd_lo[s] ?? 0, m.mm.pmd_hi[s] ?? 0);
          const mapped = e.t === 'huge' || (e.t === 'table' && m.frames[e.pfn]?.ptes[pteIndex(a)]?.t === 'present');
          if (mapped) {
            return { kind: 'mapping-survives-zap', pfn: null, addr: a, usedBy: ref, changedBy: null,
              message: `address ${a} is still mapped after the zap of [${ev.start}, ${ev.end}) that had to remove it` };
          }
        }
        return null;
      }
      case 'bug':
        return { kind: 'kernel-bug', pfn: null, usedBy: ref, changedBy: null, message: ev.msg };
      default:
        return null;
    }
  }

  return {
    step(ref, events) {
      for (const ev of events) {
        const v = check(ref, ev);
        if (v) return v;
      }
      return null;
    },
    end(s) {
      return endAudit(m, s, pins, lastFree);
    },
  };
}

function endAudit(m: Model, s: EndState, pins: readonly Pin[], lastFree: readonly (StepRef | null)[]): Violation | null {
  const at = s.last;
  if (s.blocked.length > 0) {
    return { kind: 'deadlock', pfn: null, blocked: s.blocked, usedBy: at, changedBy: null,
      message: `deadlock: every actor left is blocked (${s.blocked.join('; ')})` };
  }
  const held = heldByFinished(m, s);
  if (held) return { kind: 'lock-held-at-exit', pfn: null, what: held, usedBy: at, changedBy: null, message: held };

  // Count the references the structures hold, and compare with refcounts.
  const refs = m.frames.map(() => 0);
  const tableLinked = m.frames.map(() => false);
  let rss = 0;
  let nrPtes = 0;
  for (let slot = 0; slot < PTRS_PER_PMD; slot++) {
    const e = pmdDecode(m.mm.pmd_lo[slot] ?? 0, m.mm.pmd_hi[slot] ?? 0);
    const dep = m.mm.deposited[slot] ?? 0;
    if (dep) { tableLinked[dep] = true; nrPtes++; }
    if (e.t === 'huge' || e.t === 'invalid-huge') { refs[e.pfn]! += 1; rss += HPAGE_PMD_NR; }
    if (e.t !== 'table') continue;
    tableLinked[e.pfn] = true;
    nrPtes++;
    for (const pte of m.frames[e.pfn]?.ptes ?? []) {
      if (pte.t !== 'present') continue;
      refs[pte.pfn]! += 1;
      rss++;
    }
  }
  for (const h of m.file.hpage) if (h) refs[h]! += 1;
  for (const p of pins) refs[p.pfn]! += 1;
  for (const f of m.frames) {
    if (f.kind === 'reserved' || f.kind === 'pmd-table') continue;
    const r = refs[f.pfn] ?? 0;
    if (f.kind === 'pte-table') {
      if (!tableLinked[f.pfn]) {
        return { kind: 'leak', pfn: f.pfn, refcount: f.refcount, refs: 0, usedBy: at, changedBy: null,
          message: `page table ${f.pfn} is allocated but neither linked from a pmd nor deposited: leaked` };
      }
      continue;
    }
    if (f.kind === 'free') {
      if (r > 0 || tableLinked[f.pfn]) {
        return { kind: 'bad-refcount', pfn: f.pfn, refcount: 0, refs: r, usedBy: at, changedBy: lastFree[f.pfn] ?? null,
          message: `frame ${f.pfn} is free but ${tableLinked[f.pfn] ? 'still linked as a page table' : `still has ${r} reference(s)`}` };
      }
      continue;
    }
    if (f.refcount > r) {
      return { kind: 'leak', pfn: f.pfn, refcount: f.refcount, refs: r, usedBy: at, changedBy: null,
        message: `page ${f.pfn} has refcount ${f.refcount} but only ${r} reference(s) exist: leaked` };
    }
    if (f.refcount < r) {
      return { kind: 'bad-refcount', pfn: f.pfn, refcount: f.refcount, refs: r, usedBy: at, changedBy: null,
        message: `page ${f.pfn} has refcount ${f.refcount} but ${r} reference(s) exist` };
    }
  }
  if (m.mm.rss !== rss) {
    return { kind: 'counter-mismatch', pfn: null, counter: 'rss', value: m.mm.rss, expected: rss, usedBy: at, changedBy: null,
      message: `rss is ${m.mm.rss}, but the tables map ${rss} page(s)` };
  }
  if (m.mm.nr_ptes !== nrPtes) {
    return { kind: 'counter-mismatch', pfn: null, counter: 'nr_ptes', value: m.mm.nr_ptes, expected: nrPtes, usedBy: at, changedBy: null,
      message: `nr_ptes is ${m.mm.nr_ptes}, but ${nrPtes} pte table(s) are linked or deposited` };
  }
  return null;
}

function heldByFinished(m: Model, s: EndState): string | null {
  const done = (id: number) => id >= 0 && s.finished[id] === true;
  const who = (id: number) => s.names[id] ?? `actor ${id}`;
  for (const f of m.frames) {
    if (done(f.ptl.owner)) return `${who(f.ptl.owner)} ended holding ${f.ptl.name}`;
    if (done(f.pg_locked)) return `${who(f.pg_locked)} ended holding the page lock of ${f.pfn}`;
  }
  for (const sem of [m.mm.mmap_lock, m.mm.anon_vma_lock, m.file.i_mmap_rwsem]) {
    if (done(sem.writer)) return `${who(sem.writer)} ended holding ${sem.name} for write`;
    const r = sem.readers.find(done);
    if (r !== undefined) return `${who(r)} ended holding ${sem.name} for read`;
  }
  for (const cpu of m.cpus) {
    if (!done(cpu.actor)) continue;
    if (cpu.irqsOff) return `${who(cpu.actor)} ended with IRQs disabled on CPU ${cpu.id}`;
    if (cpu.rcuDepth !== 0) return `${who(cpu.actor)} ended inside rcu_read_lock() on CPU ${cpu.id}`;
  }
  return null;
}
