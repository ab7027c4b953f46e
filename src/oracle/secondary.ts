// No secondary-MMU mapping outlives its frame. A secondary MMU (KVM's sptes) holds no page reference
// for its mappings and sees no host TLB flush: only mmu_notifier_invalidate_range_start() makes it drop
// them. So a mapping that is still there when
//   - its frame is freed (the page goes back to the allocator while the guest can reach it),
//   - the pmd above its address is changed (the ptes it mirrored are gone: the path that did it
//     invalidated nothing, as khugepaged's collapse_pte_mapped_thp() before f268f6cf875f), or
//   - the run ends and the primary tables no longer map its address to its frame,
// is a violation, as is an access through it to a freed or reused frame.

import { PMD_PAGES, pmdAddr, pteIndex } from '../mm/entries.js';
import { pmdEntryForAddr } from '../mm/pgtable.js';
import { smmuAccessSuspect, type MmEvent } from '../mm/events.js';
import type { Model, SecondaryMmu, Spte } from '../mm/types.js';
import type { StepRef, Violation } from './violations.js';

type Ev<K extends MmEvent['e']> = Extract<MmEvent, { e: K }>;

export interface SecondaryChecks {
  fill(ref: StepRef, ev: Ev<'smmu-fill'>): void;
  access(ref: StepRef, ev: Ev<'smmu-access'>, freedBy: StepRef | null): Violation | null;
  /** A frame is being freed (before the oracle records the free). */
  free(ref: StepRef, pfn: number): Violation | null;
  /** A pmd of `mm` changed from `old` to `now`. */
  pmdStore(ref: StepRef, ev: Ev<'pmd-store'>): Violation | null;
  end(at: StepRef): Violation | null;
}

/** The frame the primary tables of `mm` map at `addr` (a pte's page, or a huge pmd's), or null. Reads
 *  the frames directly: the oracle's own look, no event. */
export function primaryPfn(m: Model, mmId: number, addr: number): number | null {
  const mm = m.mms[mmId];
  if (!mm) return null;
  const p = pmdEntryForAddr(m, mm.pgd, addr);
  if (!p) return null;
  if (p.t === 'huge' || p.t === 'invalid-huge') return p.pfn;
  if (p.t !== 'table') return null;
  const pte = m.frames[p.pfn]?.ptes[pteIndex(addr)];
  return pte && pte.t === 'present' ? pte.pfn : null;
}

export function secondaryChecks(m: Model): SecondaryChecks {
  // Made at the first fill: most scenarios have no secondary MMU.
  let fills: Map<string, StepRef> | null = null;
  const key = (smmu: number, addr: number) => `${smmu}:${addr}`;
  const filledBy = (s: SecondaryMmu, e: Spte, fallback: StepRef) => fills?.get(key(s.id, e.addr)) ?? fallback;
  const where = (s: SecondaryMmu) => (m.mms.length > 1 ? ` of mm ${s.mm}` : '');

  return {
    fill(ref, ev) {
      (fills ??= new Map()).set(key(ev.smmu, ev.addr), ref);
    },
    access(ref, ev, freedBy) {
      if (!smmuAccessSuspect(ev.gen, ev.frameKind, ev.frameGen)) return null;
      const name = m.smmus[ev.smmu]?.name ?? `smmu ${ev.smmu}`;
      return { kind: 'stale-secondary-access', pfn: ev.pfn, smmu: ev.smmu, addr: ev.addr, usedBy: ref, changedBy: freedBy,
        message: `${name} accessed address ${ev.addr} through its mapping of frame ${ev.pfn}, ${ev.frameKind === 'free' ? 'freed' : `freed and reused as ${ev.frameKind}`} since` };
    },
    free(ref, pfn) {
      for (const s of m.smmus) {
        const e = s.spt.find((x) => x.pfn === pfn);
        if (!e) continue;
        return { kind: 'stale-secondary-mapping', pfn, smmu: s.id, addr: e.addr, usedBy: filledBy(s, e, ref), changedBy: ref,
          message: `frame ${pfn} freed while ${s.name} still maps address ${e.addr}${where(s)} to it: no mmu notifier invalidated it` };
      }
      return null;
    },
    pmdStore(ref, ev) {
      if (m.smmus.length === 0) return null;
      const old = ev.old;
      if (old.t !== 'table' && old.t !== 'huge' && old.t !== 'invalid-huge') return null;
      const now = ev.now;
      if (now.t === old.t && 'pfn' in now && now.pfn === old.pfn) return null;
      if (old.t === 'huge' && now.t === 'invalid-huge' && now.pfn === old.pfn) return null;
      const lo = pmdAddr(ev.slot);
      for (const s of m.smmus) {
        if (s.mm !== ev.mm) continue;
        const e = s.spt.find((x) => x.addr >= lo && x.addr < lo + PMD_PAGES);
        if (!e) continue;
        return { kind: 'stale-secondary-mapping', pfn: e.pfn, smmu: s.id, addr: e.addr, usedBy: filledBy(s, e, ref), changedBy: ref,
          message: `pmd ${ev.slot}${where(s)} changed (${old.t} → ${now.t}) while ${s.name} still maps address ${e.addr} to frame ${e.pfn}: no mmu_notifier_invalidate_range_start() reached it` };
      }
      return null;
    },
    end(at) {
      for (const s of m.smmus) {
        for (const e of s.spt) {
          const now = primaryPfn(m, s.mm, e.addr);
          if (now === e.pfn) continue;
          return { kind: 'stale-secondary-mapping', pfn: e.pfn, smmu: s.id, addr: e.addr, usedBy: filledBy(s, e, at), changedBy: null,
            message: `at the end ${s.name} still maps address ${e.addr}${where(s)} to frame ${e.pfn}, which the mm ${now === null ? 'no longer maps there' : `now maps to frame ${now}`}: an invalidation never reached it` };
        }
      }
      return null;
    },
  };
}
