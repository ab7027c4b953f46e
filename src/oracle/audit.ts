// The end-of-run audit: when no actor is left to run, every frame must be accounted for (each
// reference and each table link explained by the tables, the page cache and the pins), every mm's
// counters must match its tables, no actor may be stuck or have ended holding something.

import { PGDIR_PAGES, PMD_PAGES, PUD_PAGES, pgdIndex, pmdIndex, pmdTableIndex, pteIndex, pudIndex } from '../mm/entries.js';
import { countTables } from '../mm/world/build.js';
import { tableEntryAt } from '../mm/pgtable.js';
import { isTableKind, type Model, type RwSem } from '../mm/types.js';
import type { StepRef, Violation } from './violations.js';

export interface EndState {
  /** Actors that are blocked at the end, with what they wait for: a deadlock if any. */
  readonly blocked: readonly string[];
  /** Per actor: has it run to its end. */
  readonly finished: readonly boolean[];
  readonly names: readonly string[];
  readonly last: StepRef;
  /** The step `s` as a StepRef, or null (-1: none). */
  readonly refAt: (s: number) => StepRef | null;
}

/** The audit's counting arrays, one set per model, zeroed at each use: an execution's end audit
 *  allocates nothing. */
interface Scratch { refs: number[]; maps: number[]; tableLinked: number[]; pmdLinks: number[]; seen: boolean[] }
const scratch = new WeakMap<Model, Scratch>();
function scratchOf(m: Model): Scratch {
  const n = m.frames.length;
  let s = scratch.get(m);
  if (!s) {
    s = { refs: new Array<number>(n), maps: new Array<number>(n), tableLinked: new Array<number>(n), pmdLinks: new Array<number>(n), seen: new Array<boolean>(n) };
    scratch.set(m, s);
  }
  // A loop, not fill(): Array.prototype.fill is a call into the runtime, five per execution.
  for (let i = 0; i < n; i++) {
    s.refs[i] = 0;
    s.maps[i] = 0;
    s.tableLinked[i] = 0;
    s.pmdLinks[i] = 0;
    s.seen[i] = false;
  }
  return s;
}

export function endAudit(m: Model, s: EndState, pins: readonly { readonly pfn: number }[], lastFree: readonly (StepRef | null)[]): Violation | null {
  const at = s.last;
  if (s.blocked.length > 0) {
    return { kind: 'deadlock', pfn: null, blocked: s.blocked, usedBy: at, changedBy: null,
      message: `deadlock: every actor left is blocked (${s.blocked.join('; ')})` };
  }
  const held = heldByFinished(m, s);
  if (held) return { kind: 'lock-held-at-exit', pfn: null, what: held, usedBy: at, changedBy: null, message: held };

  // Count the references the structures hold, and compare with refcounts.
  const { refs, maps, tableLinked, pmdLinks, seen } = scratchOf(m);
  // Hugetlb PMD sharing: pmdLinks counts the pud entries that link each pmd table, over every mm; a
  // shared table's entries are counted once (countTables' `seen`).
  const visit = (pfn: number, as: 'table' | 'page') => {
    if (as === 'table') {
      tableLinked[pfn] = 1;
      if (m.frames[pfn]?.kind === 'pmd-table') pmdLinks[pfn]! += 1;
    } else {
      refs[pfn]! += 1;
      maps[pfn]! += 1;
    }
  };
  for (const mm of m.mms) {
    const n = countTables(m, mm.pgd, visit, seen);
    // (Every counter matches in nearly every execution: the list of them is made only when one does not.)
    if (mm.rss === n.rss && mm.nr_ptes === n.ptes && mm.nr_pmds === n.pmds && mm.nr_puds === n.puds) continue;
    const counters = [['rss', mm.rss, n.rss], ['nr_ptes', mm.nr_ptes, n.ptes], ['nr_pmds', mm.nr_pmds, n.pmds], ['nr_puds', mm.nr_puds, n.puds]] as const;
    for (const [counter, value, expected] of counters) {
      if (value === expected) continue;
      const sfx = m.mms.length > 1 ? ` (mm ${mm.id})` : '';
      return { kind: 'counter-mismatch', pfn: null, counter, value, expected, usedBy: s.refAt(mm.changedAt[counter]) ?? at, changedBy: null,
        message: counter === 'rss' ? `rss is ${value}, but the tables map ${expected} page(s)${sfx}`
          : `${counter} is ${value}, but ${expected} ${counter === 'nr_ptes' ? 'pte' : counter === 'nr_pmds' ? 'pmd' : 'pud'} table(s) are linked${counter === 'nr_ptes' ? ' or deposited' : ''}${sfx}` };
    }
  }
  for (const file of m.files) for (const h of file.hpage) if (h) refs[h]! += 1;
  for (const p of pins) refs[p.pfn]! += 1;
  for (const f of m.frames) {
    if (f.kind === 'reserved') continue;
    const r = refs[f.pfn] ?? 0;
    if (isTableKind(f.kind)) {
      if (!tableLinked[f.pfn]) {
        return { kind: 'leak', pfn: f.pfn, refcount: f.refcount, refs: 0, usedBy: s.refAt(f.refStep) ?? at, changedBy: null,
          message: `page table ${f.pfn} (${f.kind}) is allocated but neither linked from its mm's tables nor deposited: leaked` };
      }
      // Hugetlb PMD sharing (v5.10–v6.12): a pmd table's refcount is its share count, one per pud
      // entry that links it (huge_pmd_share() takes one, huge_pmd_unshare() drops one).
      const links = pmdLinks[f.pfn] ?? 0;
      if (f.kind === 'pmd-table' && f.refcount !== links) {
        const shared = `${links} pud entr${links === 1 ? 'y links' : 'ies link'} it`;
        return f.refcount > links
          ? { kind: 'leak', pfn: f.pfn, refcount: f.refcount, refs: links, usedBy: s.refAt(f.refStep) ?? at, changedBy: null,
            message: `pmd table ${f.pfn} has refcount ${f.refcount} but ${shared}: its share count is wrong, and huge_pmd_unshare() would take it for shared and never free it` }
          : { kind: 'bad-refcount', pfn: f.pfn, refcount: f.refcount, refs: links, usedBy: s.refAt(f.refStep) ?? at, changedBy: null,
            message: `pmd table ${f.pfn} has refcount ${f.refcount} but ${shared}: its share count is too low, so an unshare can free it under another mm` };
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
    if (f.mapcount !== (maps[f.pfn] ?? 0)) {
      return { kind: 'bad-mapcount', pfn: f.pfn, mapcount: f.mapcount, maps: maps[f.pfn] ?? 0, usedBy: s.refAt(f.mapStep) ?? at, changedBy: null,
        message: `page ${f.pfn} has mapcount ${f.mapcount} but ${maps[f.pfn] ?? 0} entr${maps[f.pfn] === 1 ? 'y maps' : 'ies map'} it` };
    }
    if (f.refcount > r) {
      return { kind: 'leak', pfn: f.pfn, refcount: f.refcount, refs: r, usedBy: s.refAt(f.refStep) ?? at, changedBy: null,
        message: `page ${f.pfn} has refcount ${f.refcount} but only ${r} reference(s) exist: leaked` };
    }
    if (f.refcount < r) {
      return { kind: 'bad-refcount', pfn: f.pfn, refcount: f.refcount, refs: r, usedBy: s.refAt(f.refStep) ?? at, changedBy: null,
        message: `page ${f.pfn} has refcount ${f.refcount} but ${r} reference(s) exist` };
    }
  }
  return null;
}

function heldByFinished(m: Model, s: EndState): string | null {
  const done = (id: number) => id >= 0 && s.finished[id] === true;
  const who = (id: number) => s.names[id] ?? `actor ${id}`;
  for (const f of m.frames) {
    if (f.ptl.owner >= 0 && done(f.ptl.owner)) return `${who(f.ptl.owner)} ended holding ${f.ptl.name}`;
    if (f.pg_locked >= 0 && done(f.pg_locked)) return `${who(f.pg_locked)} ended holding the page lock of ${f.pfn}`;
  }
  const sem = (x: RwSem): string | null => {
    if (done(x.writer)) return `${who(x.writer)} ended holding ${x.name} for write`;
    for (const r of x.readers) if (done(r)) return `${who(r)} ended holding ${x.name} for read`;
    return null;
  };
  for (const mm of m.mms) {
    if (done(mm.page_table_lock.owner)) return `${who(mm.page_table_lock.owner)} ended holding ${mm.page_table_lock.name}`;
    const held = sem(mm.mmap_lock) ?? sem(mm.anon_vma_lock);
    if (held) return held;
  }
  for (const f of m.files) {
    const held = sem(f.i_mmap_rwsem);
    if (held) return held;
  }
  for (const cpu of m.cpus) {
    if (!done(cpu.actor)) continue;
    if (cpu.irqsOff) return `${who(cpu.actor)} ended with IRQs disabled on CPU ${cpu.id}`;
    if (cpu.rcuDepth !== 0) return `${who(cpu.actor)} ended inside rcu_read_lock() on CPU ${cpu.id}`;
  }
  return null;
}

/** The first address of [start, end) that the tables under `pgd` map (a present pte, or a huge pmd
 *  whether or not it is being split), or null. Skips what a none pgd, pud or pmd entry covers. */
export function firstMapped(m: Model, pgd: number, start: number, end: number): number | null {
  const up = (a: number, span: number) => (Math.floor(a / span) + 1) * span;
  for (let a = start; a < end;) {
    const g = tableEntryAt(m, pgd, pgdIndex(a));
    if (g?.t !== 'table') { a = up(a, PGDIR_PAGES); continue; }
    const u = tableEntryAt(m, g.pfn, pudIndex(a));
    if (u?.t !== 'table') { a = up(a, PUD_PAGES); continue; }
    const e = tableEntryAt(m, u.pfn, pmdTableIndex(pmdIndex(a)));
    if (e?.t === 'huge' || e?.t === 'invalid-huge') return a;
    const next = Math.min(end, up(a, PMD_PAGES));
    if (e?.t === 'table') {
      const ptes = m.frames[e.pfn]?.ptes;
      for (; a < next; a++) if (ptes?.[pteIndex(a)]?.t === 'present') return a;
    }
    a = next;
  }
  return null;
}

