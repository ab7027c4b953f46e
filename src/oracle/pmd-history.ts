// What each pmd held, and from which step, so that a value a walker acted on can be checked against
// what was really stored during its read (a torn read on PAE is the value that never was). Keyed by
// (pmd table frame, entry): a pmd is a place in a table, whichever mm walks to it.

import { PTRS_PER_PMD, pmdHi, pmdLo } from '../mm/entries.js';
import type { World } from '../mm/world/types.js';
import type { Model } from '../mm/types.js';

interface Stored { readonly step: number; readonly lo: number; readonly hi: number }

export interface PmdHistory {
  store(table: number, idx: number, step: number, lo: number, hi: number): void;
  /** A pmd table was allocated: every entry is zero from `step` on. */
  zeroed(table: number, step: number): void;
  /** Was (lo, hi) the pmd's value at some instant from the start of step `since` to now? */
  wasStored(table: number, idx: number, since: number, lo: number, hi: number): boolean;
  /** The history as text, by pmd (the stateful DPOR search's key: src/explore/dpor.ts). */
  text(): string;
}

/** What each pmd of a world's pmd tables holds at the start, by key: computed once per world. */
const initial = new WeakMap<World, ReadonlyMap<number, Stored>>();
function worldPmds(w: World): ReadonlyMap<number, Stored> {
  let init = initial.get(w);
  if (!init) {
    const map = new Map<number, Stored>();
    for (const f of w.frames) {
      if (f.kind !== 'pmd-table') continue;
      (f.entries ?? []).forEach((e, i) => map.set(key(f.pfn, i), { step: -1, lo: pmdLo(e), hi: pmdHi(e) }));
    }
    initial.set(w, (init = map));
  }
  return init;
}

const key = (table: number, idx: number) => table * PTRS_PER_PMD + idx;

export function pmdHistory(m: Model): PmdHistory {
  // Built as pmds are touched, from what the world held: an execution pays for the pmds it uses.
  const start = worldPmds(m.world);
  const hist = new Map<number, Stored[]>();
  const at = (table: number, idx: number): Stored[] => {
    let h = hist.get(key(table, idx));
    if (!h) {
      h = [start.get(key(table, idx)) ?? { step: -1, lo: 0, hi: 0 }];
      hist.set(key(table, idx), h);
    }
    return h;
  };
  return {
    store(table, idx, step, lo, hi) {
      at(table, idx).push({ step, lo, hi });
    },
    zeroed(table, step) {
      for (let i = 0; i < PTRS_PER_PMD; i++) at(table, i).push({ step, lo: 0, hi: 0 });
    },
    wasStored(table, idx, since, lo, hi) {
      const h = at(table, idx);
      let i = h.length - 1;
      while (i > 0 && (h[i]?.step ?? -1) >= since) i--;
      for (; i < h.length; i++) if (h[i]?.lo === lo && h[i]?.hi === hi) return true;
      return false;
    },
    text() {
      // A pmd with nothing but its start value reads as one never touched.
      let out = '';
      for (const k of [...hist.keys()].sort((a, b) => a - b)) {
        const h = hist.get(k)!;
        if (h.length < 2) continue;
        out += `${k}:`;
        for (const x of h) out += `${x.step}/${x.lo}/${x.hi},`;
        out += ';';
      }
      return out;
    },
  };
}
