// A focus group's partners: the actors outside every group that touch, under locks that let them run
// at that moment, the kind of object a reader touches where it consults its switch. A reader of a
// switch is half a race; its other half need not read the switch at all (V5: the walkers that call
// pmd_none_or_clear_bad() read it, the THP fault that installs the huge pmd between their two reads
// does not; V8: the flushers read the architecture's flush, GUP-fast, whose IRQs-off walk the flush
// no longer waits for, does not). The focus probe (focus.ts) runs each actor alone; a profile is
// what those runs touched, step by step, with the rwsems the actor held:
// - the reader's window: the step in which it consulted the switch and the next step that touched
//   anything (the object the switch's code acts on: the pmd it reads twice, the tables it frees after
//   the flush, once it has dropped its locks);
// - a partner conflicts with it when it touches an object of the same kind (a pmd, a page table, a
//   data page, a TLB), one of the two writing or freeing it, while holding no rwsem that the reader
//   held at the consultation in a mode that excludes it (both for read is no exclusion).
// Objects are compared by kind, not by instance: a probe run draws its own arguments, and the reader
// and partner of a race act on the same pmd only when the draw gives them the same one, which the
// campaign's draw does. Locks are compared within a world and an architecture, by name and owner (an
// mm's mmap_lock, a file's i_mmap_rwsem). Deterministic: profiles are lists in the probe's order.

import type { MmEvent } from '../mm/events.js';
import { pmdDecode } from '../mm/entries.js';
import { pmdSlotsInLabel } from '../mm/pgtable.js';
import { isTableKind, type Model, type RwSem } from '../mm/types.js';

/** What a step touched, by kind: a pmd, a page table (any level below the pmd's own), a data page,
 *  a TLB; read, written or freed. */
type Kind = 'pmd' | 'table' | 'page' | 'tlb';
type Mode = 'r' | 'w';
/** A step's access: kind, mode, and which one (a pmd slot, a frame, a CPU's TLB; absent: unknown). */
export type Touch = readonly [Kind, Mode, number?];

/** One access: kind × mode, which one (-1: unknown), and the rwsems held (each `name:r` or `name:w`). */
interface Access {
  readonly kind: Kind;
  readonly mode: Mode;
  readonly id: number;
  readonly locks: readonly string[];
}

/** An actor's probe runs, per world and architecture ("world arch"): every access it made (each
 *  distinct one once), and for each variant it consulted, its windows' accesses, with the locks it held
 *  at the consultation. */
export interface Profile {
  readonly touched: Map<string, Access[]>;
  readonly windows: Map<string, Map<string, Access[]>>;
}

export function emptyProfile(): Profile {
  return { touched: new Map(), windows: new Map() };
}

/** The kinds of object a step's events say it touched (events an untraced run records), and a pmd
 *  named in its label (pmdSlotsInLabel()). */
export function kindsOf(label: string, events: readonly MmEvent[], out: Touch[]): void {
  for (const ev of events) {
    switch (ev.e) {
      case 'pmd-store': case 'pmd-clear-bad': out.push(['pmd', 'w', ev.slot]); break;
      case 'pmd-read': {
        out.push(['pmd', 'r', ev.slot]);
        const v = pmdDecode(ev.lo, ev.hi);
        if (v.t === 'table') out.push(['table', 'r', v.pfn]);
        else if (v.t === 'huge') out.push(['page', 'r', v.pfn]);
        break;
      }
      case 'upper-store': case 'entry-install': out.push(['table', 'w', ev.table]); break;
      case 'pte-store': case 'table-access': out.push(['table', ev.e === 'pte-store' || ev.write ? 'w' : 'r', ev.pfn]); break;
      // A frame allocated is no one else's yet: no conflict.
      case 'free': out.push([isTableKind(ev.kind) ? 'table' : 'page', 'w', ev.pfn]); break;
      case 'pin': case 'unpin': case 'ref-get': case 'ref-put': case 'file-rmap': case 'smmu-access': out.push(['page', 'r', ev.pfn]); break;
      case 'copy': out.push(['page', 'r', ev.from], ['page', 'w', ev.to]); break;
      case 'cow-share': case 'cache-remove': case 'page-dirty': out.push(['page', 'w', ev.pfn]); break;
      case 'tlb-fill': out.push(['tlb', 'w', ev.cpu], ['table', 'r']); break;
      case 'pwc-fill': out.push(['tlb', 'w', ev.cpu], ['table', 'r', ev.pfn]); break;
      case 'smmu-fill': out.push(['tlb', 'w'], ['table', 'r']); break;
      case 'hw-access': case 'user-access': out.push(['tlb', 'r', ev.cpu], ['page', ev.write ? 'w' : 'r', ev.pfn]); break;
      case 'flush': for (const c of ev.cpus) out.push(['tlb', 'w', c]); break;
      default: break;
    }
  }
  for (const n of pmdSlotsInLabel(label)) out.push(['pmd', 'r', n]);
}

/** The rwsems `actor` holds in `m`, each `name:r` or `name:w`, named by owner: an mm's mmap_lock and
 *  anon_vma lock, a VMA's per-VMA lock, a file's i_mmap_rwsem. */
export function rwsemsHeld(m: Model, actor: number): string[] {
  const out: string[] = [];
  const add = (owner: string, s: RwSem) => {
    if (s.writer === actor) out.push(`${owner}.${s.name}:w`);
    else if (s.readers.includes(actor)) out.push(`${owner}.${s.name}:r`);
  };
  for (const mm of m.mms) {
    add(`mm${mm.id}`, mm.mmap_lock);
    add(`mm${mm.id}`, mm.anon_vma_lock);
    for (const v of mm.vmas) add(`mm${mm.id}.vma${v.id}`, v.vm_lock);
  }
  for (const f of m.files) add(`file${f.id}`, f.i_mmap_rwsem);
  return out;
}

/** One probe run's steps, as the scheduler's observe() sees them (recorder()), to be filed into a
 *  profile (file()). `asked` is the variants consulted during each step. */
export interface RunLog {
  readonly steps: { readonly kinds: Touch[]; readonly locks: readonly string[]; readonly asked: readonly string[] }[];
}

/** Add a run's accesses and windows to `p`, under `where` ("world arch"). */
export function file(p: Profile, where: string, run: RunLog): void {
  let touched = p.touched.get(where);
  if (!touched) p.touched.set(where, (touched = []));
  const seen = new Set(touched.map(key));
  const put = (list: Access[], have: Set<string>, a: Access) => {
    const k = key(a);
    if (!have.has(k)) {
      have.add(k);
      list.push(a);
    }
  };
  run.steps.forEach((s, i) => {
    for (const [kind, mode, id] of s.kinds) put(touched, seen, { kind, mode, id: id ?? -1, locks: s.locks });
    for (const v of s.asked) {
      let byWhere = p.windows.get(v);
      if (!byWhere) p.windows.set(v, (byWhere = new Map()));
      let win = byWhere.get(where);
      if (!win) byWhere.set(where, (win = []));
      const have = new Set(win.map(key));
      for (const [kind, mode, id] of s.kinds) put(win, have, { kind, mode, id: id ?? -1, locks: s.locks });
      const after = run.steps.slice(i + 1).find((t) => t.kinds.length > 0);
      for (const [kind, mode, id] of after?.kinds ?? []) put(win, have, { kind, mode, id: id ?? -1, locks: s.locks });
    }
  });
}

const key = (a: Access) => `${a.kind}:${a.mode}:${a.id}:${a.locks.join(',')}`;

/** Does holding `a` exclude holding `b` at the same time (the same rwsem, one of them for write)? */
function excludes(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) {
    const [n, m] = [x.slice(0, -2), x.slice(-1)];
    for (const y of b) if (y.slice(0, -2) === n && (m === 'w' || y.slice(-1) === 'w')) return true;
  }
  return false;
}

/** Does `partner`'s profile conflict with `reader`'s windows on variant `v`? `exact`: on the same
 *  object (the same pmd, frame or TLB), not only the same kind. */
export function conflicts(reader: Profile, v: string, partner: Profile, exact = false): boolean {
  for (const [where, win] of reader.windows.get(v) ?? []) {
    const touched = partner.touched.get(where) ?? [];
    for (const w of win) {
      for (const t of touched) {
        if (t.kind === w.kind && (t.mode === 'w' || w.mode === 'w') && (!exact || (t.id >= 0 && t.id === w.id)) && !excludes(w.locks, t.locks)) return true;
      }
    }
  }
  return false;
}
