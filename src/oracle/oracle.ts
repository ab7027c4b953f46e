// The shadow oracle. It reads each step's events in order, keeps what it needs of the past (who freed a
// frame, what each pmd held and when, the pins outstanding), and returns the first violation. At the
// end it audits the final state. It knows nothing of schedules: only steps and their events.

import { pmdDecode, pmdHi, pmdLo, fmtPmd, type Level } from '../mm/entries.js';
import { TABLE_KIND } from '../mm/types.js';
import { endAudit, firstMapped, type EndState } from './audit.js';
import { checkInstall } from './install.js';
import { pmdHistory } from './pmd-history.js';
import { mappings } from './mappings.js';
import { secondaryChecks } from './secondary.js';
import { protectionChecks } from './protection.js';
import { refGetSuspect, tableAccessSuspect, tlbAccessSuspect, type MmEvent } from '../mm/events.js';
import type { Model } from '../mm/types.js';
import type { StepRef, Violation } from './violations.js';

interface Pin { readonly addr: number; readonly pfn: number; readonly by: StepRef }
interface Copy { readonly addr: number; readonly from: number; readonly by: StepRef }

export type { EndState };

export interface Oracle {
  /** Check one step's events; the first violation, or null. */
  step(ref: StepRef, events: readonly MmEvent[]): Violation | null;
  /** Audit the state when no actor is left to run. */
  end(s: EndState): Violation | null;
  /** What the oracle keeps that decides a later verdict, as text: two executions with the same
   *  model, actors and this text get the same verdicts from here on (the stateful DPOR search's key,
   *  src/explore/dpor.ts). Left out: the steps kept only to name one in a violation's message
   *  (lastFree, the TLB, paging-structure-cache and secondary-MMU fills, a pin's taker, the last
   *  page-cache removal), which decide no verdict. */
  stateText(): string;
}

/** How a violation message names a table of a level, and what pointing at frame 0 came from. */
const TABLE_NAME: Record<Level, string> = { pgd: 'a pgd', pud: 'a pud table', pmd: 'a pmd table', pte: 'a pte table' };
const ZERO_FROM: Record<Level, string> = { pgd: 'a none mm->pgd', pud: 'p4d_pgtable() of a none p4d', pmd: 'pud_pgtable() of a none pud', pte: 'pmd_page() of a none pmd' };

/** The TLB and paging-structure-cache fills, keyed by number (no string built per fill): a TLB entry
 *  by (cpu, mm, addr), a cached table entry by (cpu, level, index). Addresses are page numbers of a
 *  48-bit space (< 2^36), indices below 2^40, mms below 16 (checkWorld() refuses more).
 *  A key is a small integer (a Smi: no heap number allocated, an integer hash) when its parts fit, as
 *  in every shipped world, else the wide form, offset by 2^30 so that the two ranges are disjoint. */
const tlbKey = (cpu: number, mm: number, addr: number) => (cpu < 64 && addr < 2 ** 20
  ? (cpu * 16 + mm) * 2 ** 20 + addr : 2 ** 30 + (cpu * 16 + mm) * 2 ** 36 + addr);
const pwcKey = (cpu: number, level: 'pgd' | 'pud' | 'pmd', index: number) => {
  const l = cpu * 4 + (level === 'pgd' ? 0 : level === 'pud' ? 1 : 2);
  return cpu < 16 && index < 2 ** 24 ? l * 2 ** 24 + index : 2 ** 30 + l * 2 ** 40 + index;
};

export function createOracle(m: Model): Oracle {
  // Fresh each execution: it holds the execution's young StepRefs, and an array kept from one
  // execution to the next would make the collector copy them (write barrier, promotion).
  const lastFree: (StepRef | null)[] = m.frames.map(() => null);
  const hist = pmdHistory(m);
  const maps = mappings(m);
  // The maps below are made at their first entry: most executions fill no TLB, clear no dirty pte and
  // truncate no page, and a Map is a few hundred bytes to allocate and collect.
  let tlbFills: Map<number, StepRef> | null = null;
  let pwcFills: Map<number, StepRef> | null = null;
  const pins: Pin[] = [];
  const copies: Copy[] = [];
  /** File pages whose dirty pte was cleared, by the step, until set_page_dirty() takes the bit. */
  let dirtyClears: Map<number, StepRef> | null = null;
  const smmu = secondaryChecks(m);
  const prot = protectionChecks();
  /** The step that last took each page out of a page cache, to name it in truncated-page-mapped. */
  let lastCacheRemoval: Map<number, StepRef> | null = null;

  function check(ref: StepRef, ev: MmEvent): Violation | null {
    switch (ev.e) {
      case 'pmd-store': {
        hist.store(ev.table, ev.idx, ref.step, pmdLo(ev.now), pmdHi(ev.now));
        maps.pmdStore(ev.mm, ev.slot, ev.old, ev.now, ref.step);
        return smmu.pmdStore(ref, ev);
      }
      case 'pte-store':
        maps.pteStore(ev.pfn, ev.idx, ev.old, ev.now, ref.step);
        return null;
      case 'entry-install':
        return checkInstall(ev, ref, lastFree);
      case 'table-zeroed': {
        if (ev.kind === 'pmd-table') hist.zeroed(ev.pfn, ref.step);
        else maps.zeroed(ev.pfn, ref.step);
        return null;
      }
      case 'pmd-read': {
        if (hist.wasStored(ev.table, ev.idx, ev.since, ev.lo, ev.hi)) return null;
        const v = pmdDecode(ev.lo, ev.hi);
        return { kind: 'torn-pmd-read', pfn: null, slot: ev.slot, lo: ev.lo, hi: ev.hi, usedBy: ref, changedBy: null,
          message: `pmd[${ev.slot}] read as ${fmtPmd(v)} (lo=${ev.lo.toString(16)} hi=${ev.hi.toString(16)}), a value never stored there while the read ran` };
      }
      case 'table-access': {
        if (!tableAccessSuspect(ev.pfn, ev.gen, ev.frameKind, ev.frameGen, TABLE_KIND[ev.level])) return null;
        const entry = ev.level === 'pte' ? 'pte' : ev.level;
        const what = ev.via === 'ptl' ? 'took the ptl of' : ev.via === 'hw' ? 'hardware walk read' : ev.write ? `wrote a ${entry} of` : `read a ${entry} of`;
        if (ev.pfn === 0) {
          return { kind: 'frame-zero-walked', pfn: 0, via: ev.via, level: ev.level, usedBy: ref, changedBy: null,
            message: `${what} physical frame 0 as a page table (${ZERO_FROM[ev.level]})` };
        }
        if (ev.frameKind === 'free') {
          return { kind: 'table-use-after-free', pfn: ev.pfn, via: ev.via, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
            message: `${what} table ${ev.pfn} after it was freed` };
        }
        if (ev.frameGen !== ev.gen) {
          return { kind: 'table-reused', pfn: ev.pfn, via: ev.via, nowKind: ev.frameKind, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
            message: `${what} table ${ev.pfn}, freed and reused as ${ev.frameKind} since the pointer was taken` };
        }
        return { kind: 'bogus-table-walked', pfn: ev.pfn, via: ev.via, nowKind: ev.frameKind, level: ev.level, usedBy: ref, changedBy: null,
          message: `${what} frame ${ev.pfn}, a ${ev.frameKind} page, as if it were ${TABLE_NAME[ev.level]}` };
      }
      case 'tlb-fill':
        (tlbFills ??= new Map()).set(tlbKey(ev.cpu, ev.mm, ev.addr), ref);
        return null;
      case 'pwc-fill':
        (pwcFills ??= new Map()).set(pwcKey(ev.cpu, ev.level, ev.index), ref);
        return null;
      case 'hw-access': {
        if (ev.unseen && ev.frameKind !== 'free' && ev.frameGen === ev.gen) {
          return { kind: 'lost-write', how: 'write-after-clear', pfn: ev.pfn, usedBy: ref, changedBy: null,
            message: `CPU ${ev.cpu} wrote to address ${ev.addr} through a dirty TLB entry for file page ${ev.pfn} after its pte was cleared or cleaned, and the page is not dirty: nothing will write the data back` };
        }
        if (!tlbAccessSuspect(ev.gen, ev.frameKind, ev.frameGen, ev.write, ev.since, ev.copiedAt)) return null;
        if (ev.frameKind !== 'free' && ev.frameGen === ev.gen) {
          const copy = copies.find((x) => x.from === ev.pfn && x.by.step >= ev.since);
          return { kind: 'lost-write', how: 'write-after-copy', pfn: ev.pfn, usedBy: ref, changedBy: copy?.by ?? null,
            message: `CPU ${ev.cpu} wrote to address ${ev.addr} through a TLB entry for page ${ev.pfn}, which was copied after the entry was filled: the copy does not have the write` };
        }
        return { kind: 'stale-tlb-access', pfn: ev.pfn, cpu: ev.cpu, addr: ev.addr, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
          message: `CPU ${ev.cpu} accessed address ${ev.addr} through a TLB entry for frame ${ev.pfn}, freed since` };
      }
      case 'free': {
        for (const cpu of m.cpus) {
          for (const t of cpu.tlb) {
            if (t.pfn !== ev.pfn) continue;
            return { kind: 'stale-tlb', pfn: ev.pfn, cpu: cpu.id, cache: 'tlb', usedBy: tlbFills?.get(tlbKey(cpu.id, t.mm, t.addr)) ?? ref, changedBy: ref,
              message: `frame ${ev.pfn} freed while CPU ${cpu.id}'s TLB still maps address ${t.addr}${m.mms.length > 1 ? ` of mm ${t.mm}` : ''} to it` };
          }
          for (const p of cpu.pwc) {
            if (p.pfn !== ev.pfn) continue;
            return { kind: 'stale-tlb', pfn: ev.pfn, cpu: cpu.id, cache: 'pwc', usedBy: pwcFills?.get(pwcKey(cpu.id, p.level, p.index)) ?? ref, changedBy: ref,
              message: `table ${ev.pfn} freed while CPU ${cpu.id}'s paging-structure cache still points ${p.level}[${p.index}] at it` };
          }
        }
        const stale = smmu.free(ref, ev.pfn);
        if (stale) return stale;
        const pin = pins.length === 0 ? undefined : pins.find((p) => p.pfn === ev.pfn);
        if (pin) {
          return { kind: 'freed-while-pinned', pfn: ev.pfn, addr: pin.addr, usedBy: pin.by, changedBy: ref,
            message: `page ${ev.pfn} freed while a GUP pin on it (address ${pin.addr}) is outstanding` };
        }
        lastFree[ev.pfn] = ref;
        return null;
      }
      case 'smmu-fill':
        smmu.fill(ref, ev);
        return null;
      case 'smmu-access':
        return smmu.access(ref, ev, lastFree[ev.pfn] ?? null);
      case 'ref-get': {
        if (!refGetSuspect(ev.speculative, ev.frameKind)) return null;
        return { kind: 'ref-on-freed-frame', pfn: ev.pfn, usedBy: ref, changedBy: lastFree[ev.pfn] ?? null,
          message: `get_page() on page ${ev.pfn}, which is free` };
      }
      case 'pin': {
        if (!maps.mapped(ev.mm, ev.addr, ev.pfn, ev.since)) {
          return { kind: 'gup-wrong-page', pfn: ev.pfn, addr: ev.addr, usedBy: ref, changedBy: null,
            message: `GUP returned page ${ev.pfn} for address ${ev.addr}, which never mapped it while GUP ran` };
        }
        const c = copies.find((x) => x.from === ev.pfn && x.addr === ev.addr && x.by.step >= ev.since);
        if (c) {
          return { kind: 'stale-pin', pfn: ev.pfn, addr: ev.addr, copy: c.by.step, usedBy: ref, changedBy: c.by,
            message: `GUP returned page ${ev.pfn} for address ${ev.addr}, but khugepaged copied it and replaced the mapping while GUP ran: writes through the pin are lost` };
        }
        pins.push({ addr: ev.addr, pfn: ev.pfn, by: ref });
        return null;
      }
      case 'cow-share': {
        const pin = pins.find((p) => p.pfn === ev.pfn);
        if (!pin || (m.frames[ev.pfn]?.mapping ?? -1) >= 0) return null;
        return { kind: 'pinned-page-cow-shared', pfn: ev.pfn, addr: ev.addr, usedBy: pin.by, changedBy: ref,
          message: `fork write-protected anon page ${ev.pfn} (address ${ev.addr}) and shared it with mm ${ev.child} while a GUP pin on it is held: the parent's next write copies it away from the pin, and writes through the pin are lost to the parent` };
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
        const mm = m.mms[ev.mm];
        const a = mm ? firstMapped(m, mm.pgd, ev.start, ev.end) : null;
        if (a === null) return null;
        return { kind: 'mapping-survives-zap', pfn: null, addr: a, usedBy: ref, changedBy: null,
          message: `address ${a} is still mapped after the zap of [${ev.start}, ${ev.end}) that had to remove it` };
      }
      case 'dirty-pte-cleared':
        (dirtyClears ??= new Map()).set(ev.pfn, ref);
        return null;
      case 'page-dirty':
        dirtyClears?.delete(ev.pfn);
        return null;
      case 'vma-unlocked':
        return { kind: 'vma-change-without-mmap-lock', pfn: null, where: ev.where, usedBy: ref, changedBy: null, message: ev.msg };
      case 'unlocked-write':
        return ev.level === 'pte'
          ? { kind: 'pte-write-without-ptl', pfn: ev.pfn, idx: ev.idx, usedBy: ref, changedBy: null,
            message: `pte ${ev.idx} of table ${ev.pfn} written without ${ev.lock} held` }
          : { kind: 'pmd-install-without-pmd-lock', pfn: ev.pfn, idx: ev.idx, usedBy: ref, changedBy: null,
            message: `pmd ${ev.idx} of table ${ev.pfn} installed without ${ev.lock} (or mmap_lock for write) held` };
      case 'prot-done':
        prot.done(ref, ev);
        return null;
      case 'user-access':
        return prot.access(ref, ev);
      case 'file-rmap':
        if (ev.inCache) return null;
        return { kind: 'truncated-page-mapped', pfn: ev.pfn, file: ev.file, usedBy: ref, changedBy: lastCacheRemoval?.get(ev.pfn) ?? null,
          message: `page ${ev.pfn} mapped into a mapping of file ${m.files[ev.file]?.name ?? ev.file} after it left that file's page cache (truncated or punched out)` };
      case 'cache-remove':
        (lastCacheRemoval ??= new Map()).set(ev.pfn, ref);
        return null;
      case 'bug':
        return { kind: 'kernel-bug', pfn: null, usedBy: ref, changedBy: null, message: ev.msg };
      default:
        return null;
    }
  }

  return {
    step(ref, events) {
      for (let i = 0; i < events.length; i++) {
        const v = check(ref, events[i]!);
        if (v) return v;
      }
      return null;
    },
    end(s) {
      if (dirtyClears && dirtyClears.size > 0) for (const [pfn, by] of [...dirtyClears].sort((a, b) => a[0] - b[0])) {
        return { kind: 'lost-write', how: 'dirty-bit-dropped', pfn, usedBy: by, changedBy: null,
          message: `a dirty pte of file page ${pfn} was cleared and the dirty bit never reached the page (no set_page_dirty()): the write is lost` };
      }
      return endAudit(m, s, pins, lastFree) ?? (s.blocked.length === 0 ? smmu.end(s.last) : null);
    },
    stateText() {
      const pinText = pins.map((p) => `${p.pfn}@${p.addr}`).sort().join(',');
      const copyText = copies.map((c) => `${c.from}@${c.addr}:${c.by.step}`).sort().join(',');
      return `pmd=${hist.text()}|maps=${maps.text()}|pins=${pinText}|copies=${copyText}|dirty=${[...(dirtyClears?.keys() ?? [])].sort((a, b) => a - b).join(',')}|prot=${prot.text()}`;
    },
  };
}

