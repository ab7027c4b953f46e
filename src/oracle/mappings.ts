// What each address of each mm mapped, and when: the history the oracle needs to judge what GUP
// returns ("was this page mapped at this address at some instant while GUP ran?"). Built from the
// pmd and pte stores (both always recorded) and the world's tables; a pte table's entries count for
// the address its pmd links it at, and stop counting when the pmd lets go of it.

import { PMD_PAGES, PTRS_PER_PMD, pmdDecode, type PmdEntry, type PteEntry } from '../mm/entries.js';
import type { Model } from '../mm/types.js';

interface Interval { readonly pfn: number; readonly from: number; to: number }

export interface Mappings {
  pmdStore(mm: number, slot: number, old: PmdEntry, now: PmdEntry, step: number): void;
  pteStore(table: number, idx: number, old: PteEntry, now: PteEntry, step: number): void;
  /** Did `addr` of `mm` map `pfn` (its head page, for a huge one) at some instant of [since, now]? */
  mapped(mm: number, addr: number, pfn: number, since: number): boolean;
}

export function mappings(m: Model): Mappings {
  const hist = new Map<string, Interval[]>();
  /** Where each linked pte table is: (mm, slot). */
  const linkedAt = new Map<number, { readonly mm: number; readonly slot: number }>();
  const key = (mm: number, addr: number) => `${mm}:${addr}`;

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
  const linkTable = (mm: number, slot: number, table: number, step: number) => {
    linkedAt.set(table, { mm, slot });
    m.frames[table]?.ptes.forEach((e, i) => { if (e.t === 'present') open(mm, slot * PMD_PAGES + i, e.pfn, step); });
  };
  const unlinkTable = (mm: number, slot: number, table: number, step: number) => {
    if (linkedAt.get(table)?.mm === mm && linkedAt.get(table)?.slot === slot) linkedAt.delete(table);
    for (let i = 0; i < PMD_PAGES; i++) close(mm, slot * PMD_PAGES + i, step);
  };

  // The world's tables, from each mm's pud tables down.
  m.mms.forEach((mm) => {
    const pgd = m.frames[mm.pgd];
    pgd?.lo.forEach((_, gi) => {
      const g = pmdDecode(pgd.lo[gi] ?? 0, pgd.hi[gi] ?? 0);
      const pud = g.t === 'table' ? m.frames[g.pfn] : undefined;
      pud?.lo.forEach((__, ui) => {
        const u = pmdDecode(pud.lo[ui] ?? 0, pud.hi[ui] ?? 0);
        const pmd = u.t === 'table' ? m.frames[u.pfn] : undefined;
        for (let i = 0; pmd && i < PTRS_PER_PMD; i++) {
          const slot = (gi * PTRS_PER_PMD + ui) * PTRS_PER_PMD + i;
          const e = pmdDecode(pmd.lo[i] ?? 0, pmd.hi[i] ?? 0);
          if (e.t === 'table') linkTable(mm.id, slot, e.pfn, -1);
          else if (e.t === 'huge') for (let a = 0; a < PMD_PAGES; a++) open(mm.id, slot * PMD_PAGES + a, e.pfn, -1);
        }
      });
    });
  });

  return {
    pmdStore(mm, slot, old, now, step) {
      if (old.t === 'table') unlinkTable(mm, slot, old.pfn, step);
      else if (old.t === 'huge' || old.t === 'invalid-huge') for (let a = 0; a < PMD_PAGES; a++) close(mm, slot * PMD_PAGES + a, step);
      if (now.t === 'table') linkTable(mm, slot, now.pfn, step);
      else if (now.t === 'huge') for (let a = 0; a < PMD_PAGES; a++) open(mm, slot * PMD_PAGES + a, now.pfn, step);
    },
    pteStore(table, idx, old, now, step) {
      const at = linkedAt.get(table);
      if (!at) return;
      const addr = at.slot * PMD_PAGES + idx;
      if (old.t === 'present') close(at.mm, addr, step);
      if (now.t === 'present') open(at.mm, addr, now.pfn, step);
    },
    mapped(mm, addr, pfn, since) {
      return (hist.get(key(mm, addr)) ?? []).some((iv) => iv.pfn === pfn && iv.to >= since);
    },
  };
}
