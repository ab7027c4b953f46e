// What each address of each mm mapped, and when: the history the oracle needs to judge what GUP
// returns ("was this page mapped at this address at some instant while GUP ran?"). Built from the
// world's tables and the pmd and pte stores (both always recorded); a pte table's entries count for
// the address its pmd links it at, and stop counting when the pmd lets go of it. Most executions
// pin nothing, so the stores are only kept, and the history is built at the first question.

import { PMD_PAGES, PTRS_PER_PMD, pteIndex, type PmdEntry, type PteEntry } from '../mm/entries.js';
import { pmdEntryForAddr } from '../mm/pgtable.js';
import type { Model } from '../mm/types.js';
import type { World } from '../mm/world/types.js';

interface Interval { readonly pfn: number; readonly from: number; to: number }

export interface Mappings {
  pmdStore(mm: number, slot: number, old: PmdEntry, now: PmdEntry, step: number): void;
  pteStore(table: number, idx: number, old: PteEntry, now: PteEntry, step: number): void;
  /** A pte table was allocated: its entries are none from here on. */
  zeroed(table: number, step: number): void;
  /** Did `addr` of `mm` map `pfn` (its head page, for a huge one) at some instant of [since, now]? */
  mapped(mm: number, addr: number, pfn: number, since: number): boolean;
  /** The stores as text, in order (the stateful DPOR search's key: src/explore/dpor.ts). */
  text(): string;
}

type Store =
  | { readonly level: 'pmd'; readonly mm: number; readonly slot: number; readonly old: PmdEntry; readonly now: PmdEntry; readonly step: number }
  | { readonly level: 'pte'; readonly table: number; readonly idx: number; readonly old: PteEntry; readonly now: PteEntry; readonly step: number }
  | { readonly level: 'zeroed'; readonly table: number; readonly step: number };

/** A world's links (pmd → pte table) and mappings at the start: computed once per world. */
interface Start {
  readonly links: readonly { readonly mm: number; readonly slot: number; readonly table: number }[];
  readonly huge: readonly { readonly mm: number; readonly slot: number; readonly pfn: number }[];
  /** The world's frames by pfn. */
  readonly byPfn: ReadonlyMap<number, World['frames'][number]>;
}
const starts = new WeakMap<World, Start>();

function worldStart(w: World): Start {
  const cached = starts.get(w);
  if (cached) return cached;
  const byPfn = new Map(w.frames.map((f) => [f.pfn, f]));
  const links: { mm: number; slot: number; table: number }[] = [];
  const huge: { mm: number; slot: number; pfn: number }[] = [];
  w.mms.forEach((mm, id) => {
    (byPfn.get(mm.pgd)?.entries ?? []).forEach((g, gi) => {
      if (g.t !== 'table') return;
      (byPfn.get(g.pfn)?.entries ?? []).forEach((u, ui) => {
        if (u.t !== 'table') return;
        (byPfn.get(u.pfn)?.entries ?? []).forEach((e, i) => {
          const slot = (gi * PTRS_PER_PMD + ui) * PTRS_PER_PMD + i;
          if (e.t === 'table') links.push({ mm: id, slot, table: e.pfn });
          else if (e.t === 'huge') huge.push({ mm: id, slot, pfn: e.pfn });
        });
      });
    });
  });
  const s = { links, huge, byPfn };
  starts.set(w, s);
  return s;
}

/** Does `addr` of `mm` map `pfn` now (the tables as the step left them)? Now is an instant of any
 *  [since, now], so a yes needs no history: the common case, a pin of a page still mapped. */
function mappedNow(m: Model, mm: number, addr: number, pfn: number): boolean {
  const pgd = m.mms[mm]?.pgd;
  const e = pgd === undefined ? null : pmdEntryForAddr(m, pgd, addr);
  if (e?.t === 'huge') return e.pfn === pfn;
  if (e?.t !== 'table') return false;
  const pte = m.frames[e.pfn]?.ptes[pteIndex(addr)];
  return pte?.t === 'present' && pte.pfn === pfn;
}

export function mappings(m: Model): Mappings {
  const stores: Store[] = [];
  let built: ((mm: number, addr: number, pfn: number, since: number) => boolean) | null = null;

  /** Replay the world's start, then (each time it is called) the stores not yet replayed, into
   *  per-address intervals: the stores only ever grow, so replaying them in order once each gives
   *  the same history as replaying all of them afresh. */
  function build(): () => (mm: number, addr: number, pfn: number, since: number) => boolean {
    const hist = new Map<number, Interval[]>();
    const linkedAt = new Map<number, { readonly mm: number; readonly slot: number }>();
    const key = (mm: number, addr: number) => mm * 1_000_000 + addr;
    const open = (mm: number, addr: number, pfn: number, step: number) => {
      let h = hist.get(key(mm, addr));
      if (!h) hist.set(key(mm, addr), (h = []));
      h.push({ pfn, from: step, to: Infinity });
    };
    const close = (mm: number, addr: number, step: number) => {
      const h = hist.get(key(mm, addr));
      const last = h?.[h.length - 1];
      if (last && last.to === Infinity) last.to = step;
    };
    // The pte table's entries when it is linked: the world's, or (linked later) what the replayed
    // stores left; a table linked during the run starts empty or was filled before linking.
    const start = worldStart(m.world);
    const ptes = new Map<number, PteEntry[]>();
    const tableNow = (t: number): PteEntry[] => {
      let p = ptes.get(t);
      if (!p) ptes.set(t, (p = [...(start.byPfn.get(t)?.ptes ?? [])]));
      return p;
    };
    const link = (mm: number, slot: number, table: number, step: number) => {
      linkedAt.set(table, { mm, slot });
      tableNow(table).forEach((e, i) => { if (e?.t === 'present') open(mm, slot * PMD_PAGES + i, e.pfn, step); });
    };
    const unlink = (mm: number, slot: number, table: number, step: number) => {
      const at = linkedAt.get(table);
      if (at?.mm === mm && at.slot === slot) linkedAt.delete(table);
      for (let i = 0; i < PMD_PAGES; i++) close(mm, slot * PMD_PAGES + i, step);
    };
    for (const l of start.links) link(l.mm, l.slot, l.table, -1);
    for (const h of start.huge) for (let a = 0; a < PMD_PAGES; a++) open(h.mm, h.slot * PMD_PAGES + a, h.pfn, -1);
    let replayed = 0;
    const query = (mm: number, addr: number, pfn: number, since: number): boolean => (hist.get(key(mm, addr)) ?? []).some((iv) => iv.pfn === pfn && iv.to >= since);
    return () => {
    for (; replayed < stores.length; replayed++) {
      const s = stores[replayed]!;
      if (s.level === 'pmd') {
        const { mm, slot, old, now, step } = s;
        if (old.t === 'table') unlink(mm, slot, old.pfn, step);
        else if (old.t === 'huge' || old.t === 'invalid-huge') for (let a = 0; a < PMD_PAGES; a++) close(mm, slot * PMD_PAGES + a, step);
        if (now.t === 'table') link(mm, slot, now.pfn, step);
        else if (now.t === 'huge') for (let a = 0; a < PMD_PAGES; a++) open(mm, slot * PMD_PAGES + a, now.pfn, step);
      } else if (s.level === 'zeroed') {
        ptes.set(s.table, []);
      } else {
        tableNow(s.table)[s.idx] = s.now;
        const at = linkedAt.get(s.table);
        if (!at) continue;
        const addr = at.slot * PMD_PAGES + s.idx;
        if (s.old.t === 'present') close(at.mm, addr, s.step);
        if (s.now.t === 'present') open(at.mm, addr, s.now.pfn, s.step);
      }
    }
    return query;
    };
  }
  let replay: (() => (mm: number, addr: number, pfn: number, since: number) => boolean) | null = null;

  return {
    pmdStore(mm, slot, old, now, step) {
      stores.push({ level: 'pmd', mm, slot, old, now, step });
      built = null;
    },
    pteStore(table, idx, old, now, step) {
      stores.push({ level: 'pte', table, idx, old, now, step });
      built = null;
    },
    zeroed(table, step) {
      stores.push({ level: 'zeroed', table, step });
      built = null;
    },
    mapped(mm, addr, pfn, since) {
      if (mappedNow(m, mm, addr, pfn)) return true;
      built ??= (replay ??= build())();
      return built(mm, addr, pfn, since);
    },
    text: () => JSON.stringify(stores),
  };
}
