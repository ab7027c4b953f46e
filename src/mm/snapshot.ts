// A read-only picture of the model at one instant, for the trace viewer (fuzz/html.ts): the page
// tables of every mm with their entries, the locks held and by whom, each CPU's IRQ and RCU state, its
// TLB and paging-structure caches and pending IPIs, the RCU callbacks queued, and the frames in use.
// Only taken when a trace is kept (the executor's onStep hook): a campaign never calls it.

import { fmtPmd, fmtPte, pmdDecode, PTRS_PER_PGD, PTRS_PER_PMD, PTRS_PER_PUD } from './entries.js';
import type { Model, RwSem, SpinLock } from './types.js';

export interface TableSnapshot {
  /** `pgd`, `pud`, `pmd` or `pte`: the level of its entries. */
  readonly level: 'pgd' | 'pud' | 'pmd' | 'pte';
  readonly pfn: number;
  readonly mm: number;
  /** The pmd slots (the index of a pmd in the whole address space) its entries are, for a pmd table;
   *  for a pte table, the pmd slot that points at it. */
  readonly slots: readonly number[];
  readonly entries: readonly string[];
}

export interface LockSnapshot {
  readonly name: string;
  readonly mode: 'spin' | 'write' | 'read' | 'page';
  /** Actor names, as the trace heads its columns. */
  readonly holders: readonly string[];
}

export interface CpuSnapshot {
  readonly cpu: number;
  readonly actor: string;
  readonly irqsOff: boolean;
  readonly rcuDepth: number;
  readonly lazy: boolean;
  readonly tlb: readonly string[];
  readonly pwc: readonly string[];
  readonly pendingIpis: readonly string[];
}

export interface ModelSnapshot {
  /** Page tables reachable from each mm's pgd, walked top down. */
  readonly tables: readonly TableSnapshot[];
  readonly locks: readonly LockSnapshot[];
  readonly cpus: readonly CpuSnapshot[];
  readonly rcu: readonly string[];
  /** Every frame not free nor reserved: `pfn kind refcount mapcount`. Freed ones are gone from it. */
  readonly frames: readonly string[];
  readonly mms: readonly string[];
  /** Secondary MMUs' mappings (KVM sptes). */
  readonly smmus: readonly string[];
}

const who = (names: readonly string[], id: number): string => names[id] ?? `actor ${id}`;

function semHeld(s: RwSem, names: readonly string[], out: LockSnapshot[]): void {
  if (s.writer >= 0) out.push({ name: s.name, mode: 'write', holders: [who(names, s.writer)] });
  if (s.readers.length > 0) out.push({ name: s.name, mode: 'read', holders: s.readers.map((r) => who(names, r)) });
}

function spinHeld(l: SpinLock, names: readonly string[], out: LockSnapshot[]): void {
  if (l.owner >= 0) out.push({ name: l.name, mode: 'spin', holders: [who(names, l.owner)] });
}

/** The model as it is now. `names`: the actors' names, by id. */
export function snapshotModel(m: Model, names: readonly string[]): ModelSnapshot {
  const tables: TableSnapshot[] = [];
  for (const mm of m.mms) {
    const pgd = m.frames[mm.pgd];
    if (!pgd) continue;
    const upper = (pfn: number) => {
      const f = m.frames[pfn];
      return Array.from({ length: PTRS_PER_PGD }, (_, i) => pmdDecode(f?.lo[i] ?? 0, f?.hi[i] ?? 0));
    };
    const pgdEntries = upper(mm.pgd);
    tables.push({ level: 'pgd', pfn: mm.pgd, mm: mm.id, slots: [], entries: pgdEntries.map(fmtPmd) });
    pgdEntries.forEach((g, gi) => {
      if (g.t !== 'table') return;
      const pudEntries = upper(g.pfn);
      tables.push({ level: 'pud', pfn: g.pfn, mm: mm.id, slots: [], entries: pudEntries.map(fmtPmd) });
      pudEntries.forEach((u, ui) => {
        if (u.t !== 'table') return;
        const pmdEntries = upper(u.pfn).slice(0, PTRS_PER_PMD);
        const base = (gi * PTRS_PER_PUD + ui) * PTRS_PER_PMD;
        tables.push({ level: 'pmd', pfn: u.pfn, mm: mm.id, slots: pmdEntries.map((_, i) => base + i), entries: pmdEntries.map(fmtPmd) });
        pmdEntries.forEach((p, pi) => {
          if (p.t !== 'table') return;
          const f = m.frames[p.pfn];
          tables.push({ level: 'pte', pfn: p.pfn, mm: mm.id, slots: [base + pi], entries: (f?.ptes ?? []).map(fmtPte) });
        });
      });
    });
  }
  const locks: LockSnapshot[] = [];
  for (const mm of m.mms) {
    semHeld(mm.mmap_lock, names, locks);
    spinHeld(mm.page_table_lock, names, locks);
    semHeld(mm.anon_vma_lock, names, locks);
    for (const v of mm.vmas) semHeld(v.vm_lock, names, locks);
  }
  for (const f of m.files) semHeld(f.i_mmap_rwsem, names, locks);
  for (const f of m.frames) {
    spinHeld(f.ptl, names, locks);
    if (f.pg_locked >= 0) locks.push({ name: `PG_locked(${f.pfn})`, mode: 'page', holders: [who(names, f.pg_locked)] });
  }
  const cpus: CpuSnapshot[] = m.cpus.map((c) => ({
    cpu: c.id,
    actor: who(names, c.actor),
    irqsOff: c.irqsOff,
    rcuDepth: c.rcuDepth,
    lazy: c.lazy,
    tlb: c.tlb.map((t) => `${m.mms.length > 1 ? `mm${t.mm} ` : ''}addr ${t.addr} → ${t.pfn}${t.writable ? ' rw' : ' ro'}${t.dirty ? ' dirty' : ''} (since step ${t.since})`),
    pwc: c.pwc.map((p) => `${m.mms.length > 1 ? `mm${p.mm} ` : ''}${p.level} ${p.index} → table ${p.pfn}`),
    pendingIpis: c.pendingIpi.map((i) => `from ${who(names, i.from)}${i.flush ? ' (flush)' : ''}`),
  }));
  const rcu = m.rcu.map((r) => {
    const wait = r.waitFor.flatMap((w, cpu) => (w ? [cpu] : []));
    return `${r.label} (queued by ${who(names, r.queuedBy)}${wait.length ? `; waits for CPU ${wait.join(', ')}` : '; ready'})`;
  });
  const frames = m.frames.filter((f) => f.kind !== 'free' && f.kind !== 'reserved')
    .map((f) => `${f.pfn} ${f.kind} ref ${f.refcount}${f.kind === 'data' || f.kind === 'huge' ? ` map ${f.mapcount}` : ''}`);
  const mms = m.mms.map((mm) => `mm${mm.id}: mm_users ${mm.mm_users}, rss ${mm.rss}, nr_ptes ${mm.nr_ptes}, nr_pmds ${mm.nr_pmds}${mm.exiting ? ', exiting' : ''}; vmas ${mm.vmas.map((v) => `${v.id}[${v.start},${v.end})${v.detached ? ' detached' : ''}`).join(' ') || 'none'}`);
  const smmus = m.smmus.flatMap((s) => s.spt.map((e) => `${s.name}: addr ${e.addr} → ${e.pfn}`));
  return { tables, locks, cpus, rcu, frames, mms, smmus };
}
