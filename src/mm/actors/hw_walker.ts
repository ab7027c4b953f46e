// The hardware page-table walker of a CPU running user code in the mm. At each step it accesses one
// address (a schedule choice): through the TLB if it has the translation, else through the
// paging-structure caches (every level), else by walking the live tables, filling the caches. A walk is one atomic
// step: a flush IPI is taken at an instruction boundary, and a broadcast invalidate waits for walks in
// flight. Stale entries are what turn a missing flush into a use-after-free.

import type { ActorDef } from '../actor.js';
import { NR_PAGES, PGDIR_PAGES, PTRS_PER_PMD, PUD_PAGES, pgdIndex, pmd_hw_huge, pmd_pfn, pmdIndex, pte_hw_valid, pteIndex, pudIndex } from '../entries.js';
import { tlbAccessSuspect, traceOnly } from '../events.js';
import { frameOf } from '../frames.js';
import { pmd_load, pmd_off, pte_read, tableNow, upperEntry, type TablePtr } from '../pgtable.js';
import { step, type Ctx } from '../step.js';
import type { Frame, PwcEntry, TlbEntry } from '../types.js';
import type { PteEntry } from '../entries.js';

function cached(c: Ctx, level: PwcEntry['level'], index: number): TablePtr | null {
  const mm = c.mm.id;
  // A loop, not find() with a closure: a walk asks up to three times per access.
  const pwc = c.cpu.pwc;
  for (let i = 0; i < pwc.length; i++) {
    const p = pwc[i]!;
    if (p.mm === mm && p.level === level && p.index === index) return p;
  }
  return null;
}

/** The CPU's TLB entry for `addr` in the mm, if any. */
function tlbHit(c: Ctx, addr: number): TlbEntry | undefined {
  const mm = c.mm.id;
  const tlb = c.cpu.tlb;
  for (let i = 0; i < tlb.length; i++) {
    const t = tlb[i]!;
    if (t.mm === mm && t.addr === addr) return t;
  }
  return undefined;
}

/** The walk found `level`'s entry `index` pointing at table `pfn`: cache it. */
function fillPwc(c: Ctx, level: PwcEntry['level'], index: number, pfn: number): TablePtr {
  const e: PwcEntry = { mm: c.mm.id, level, index, pfn, gen: frameOf(c.m, pfn).gen };
  c.cpu.pwc.push(e);
  c.m.events.push({ e: 'pwc-fill', cpu: c.cpu.id, level, index, pfn });
  return e;
}

function fillTlb(c: Ctx, t: TlbEntry): TlbEntry {
  c.cpu.tlb.push(t);
  c.m.events.push({ e: 'tlb-fill', cpu: c.cpu.id, mm: c.mm.id, addr: t.addr, pfn: t.pfn });
  return t;
}

/** The first write through a clean TLB entry: the CPU sets the dirty bit in the pte (a locked
 *  update of the live entry, x86 and arm64 with hardware DBM alike), if the pte still maps the page. */
function livePte(c: Ctx, addr: number): { readonly f: Frame; readonly e: PteEntry } | null {
  const pmd = pmd_off(c, addr, c.mm, 'hw');
  const v = pmd ? pmd_load(c, pmd, 'hw') : null;
  const f = v && v.entry.t === 'table' ? c.m.frames[v.entry.pfn] : undefined;
  const e = f?.ptes[pteIndex(addr)];
  return f && e ? { f, e } : null;
}

/** The first write through a clean TLB entry: the CPU sets the dirty bit in the live pte (x86 walks
 *  the tables again to do it, and so does arm64's hardware DBM). If the pte no longer maps the page
 *  writably, that walk faults and the write does not happen: false. */
export function setDirtyBit(c: Ctx, t: TlbEntry): boolean {
  const live = livePte(c, t.addr);
  if (!live || live.e.t !== 'present' || live.e.pfn !== t.pfn || !live.e.writable) return false;
  if (!live.e.dirty) {
    live.f.ptes[pteIndex(t.addr)] = { ...live.e, dirty: true };
    live.f.written = true;
  }
  t.dirty = true;
  return true;
}

/** A write through a dirty TLB entry needs no walk, so it lands even if the pte was cleared or
 *  cleaned since. Of a file page whose PG_dirty is clear, that write is lost: nothing will write the
 *  page back (page_mkclean() without a flush, or a clear that dropped the dirty bit). */
export function writeUnseen(c: Ctx, t: TlbEntry): boolean {
  const page = c.m.frames[t.pfn];
  if (!page || page.mapping < 0 || page.dirty) return false;
  const live = livePte(c, t.addr);
  return !live || live.e.t !== 'present' || live.e.pfn !== t.pfn || !live.e.dirty;
}

/** Translate `addr` as the MMU would: the TLB, else the deepest paging-structure cache entry, else a
 *  walk from the pgd, filling the caches on the way; null when nothing is mapped (a fault). With
 *  `leaf` false (a speculative walk of a CPU that runs no user code) the TLB is neither used nor
 *  filled: only the paging-structure caches, which such walks do fill. */
export function translate(c: Ctx, addr: number, leaf = true): TlbEntry | null {
  const { m } = c;
  const hit = leaf ? tlbHit(c, addr) : undefined;
  if (hit) return hit;
  const slot = pmdIndex(addr);
  let pte = cached(c, 'pmd', slot);
  if (!pte) {
    let pmdTable = cached(c, 'pud', Math.floor(addr / PUD_PAGES));
    if (!pmdTable) {
      let pudTable = cached(c, 'pgd', Math.floor(addr / PGDIR_PAGES));
      if (!pudTable) {
        const g = upperEntry(c, tableNow(m, c.mm.pgd), pgdIndex(addr), 'pgd', 'hw');
        if (g.t !== 'table') return null;
        pudTable = fillPwc(c, 'pgd', Math.floor(addr / PGDIR_PAGES), g.pfn);
      }
      const u = upperEntry(c, pudTable, pudIndex(addr), 'pud', 'hw');
      if (u.t !== 'table') return null;
      pmdTable = fillPwc(c, 'pud', Math.floor(addr / PUD_PAGES), u.pfn);
    }
    const v = pmd_load(c, { mm: c.mm.id, slot, table: pmdTable.pfn, gen: pmdTable.gen, idx: slot % PTRS_PER_PMD }, 'hw');
    if (pmd_hw_huge(v.entry)) return fill(c, addr, leaf, pmd_pfn(v.entry), v.gen, v.entry.writable === true, true);
    if (v.entry.t !== 'table') return null;
    pte = fillPwc(c, 'pmd', slot, v.entry.pfn);
  }
  const e = pte_read(c, pte, pteIndex(addr), 'hw');
  if (!pte_hw_valid(e)) return null;
  return fill(c, addr, leaf, e.pfn, frameOf(m, e.pfn).gen, e.writable, e.dirty);
}

/** The translation a walk found: filled into the TLB when `leaf`. */
function fill(c: Ctx, addr: number, leaf: boolean, pfn: number, gen: number, writable: boolean, dirty: boolean): TlbEntry {
  const t: TlbEntry = { mm: c.mm.id, addr, pfn, gen, writable, dirty, since: c.m.step };
  return leaf ? fillTlb(c, t) : t;
}

export const hw_walker: ActorDef = {
  name: 'hw_walker',
  summary: 'a CPU running user code in the mm: each step accesses one address through TLB, paging-structure cache or a walk',
  follows: 'the MMU (x86 and arm64 page walks, TLB and paging-structure caches)',
  inMm: true,
  daemon: 'background',
  params: [
    { name: 'accesses', min: 1, max: 8, default: 3, doc: 'how many accesses the CPU makes' },
    { name: 'write', min: 0, max: 1, default: 0, doc: '1: the accesses are writes (through writable entries; a read-only one faults)' },
  ],
  *run(c, args) {
    const n = args['accesses'] ?? 3;
    const write = args['write'] === 1;
    for (let i = 0; i < n; i++) {
      // Which address the user code touches: a data choice over the world's user range.
      const addr = c.m.choose(userSpan(c), 'hw-address');
      const t = translate(c, addr);
      if (t && write && !t.writable) {
        yield step(`user write to ${addr}: read-only → page fault (not modelled here)`);
        continue;
      }
      if (t && write && !t.dirty && !setDirtyBit(c, t)) {
        yield step(`user write to ${addr}: the walk to set the dirty bit finds no writable pte → page fault (not modelled here)`);
        continue;
      }
      if (t) {
        const f = frameOf(c.m, t.pfn);
        const unseen = write && writeUnseen(c, t);
        if (traceOnly(c.m) || unseen || tlbAccessSuspect(t.gen, f.kind, f.gen, write, t.since, f.copiedAt)) {
          c.m.events.push({ e: 'hw-access', cpu: c.cpu.id, addr, pfn: t.pfn, gen: t.gen, frameKind: f.kind, frameGen: f.gen, write, since: t.since, copiedAt: f.copiedAt, unseen });
        }
      }
      const what = write ? 'write' : 'access';
      yield step(t ? `user ${what} to ${addr} → frame ${t.pfn}` : `user ${what} to ${addr}: not mapped`);
    }
  },
};

/** The addresses user code of this mm may touch: up to the end of its highest VMA in the world (the
 *  default world: NR_PAGES). */
export function userSpan(c: Ctx): number {
  const vmas = c.m.world.mms[c.mm.id]?.vmas ?? [];
  let n = 0;
  for (let i = 0; i < vmas.length; i++) n = Math.max(n, vmas[i]!.end);
  return n || NR_PAGES;
}
