// buildModel(): a model from a world; resetModel(): every mutable field back to the world, before each
// execution. These two are the only places that turn a layout into state.

import type { Arch, ArchId } from '../arch.js';
import { HPAGE_PMD_NR, PTE_NONE, PTRS_PER_PMD, PTRS_PER_PTE, pmdDecode, pmdHi, pmdLo, type PmdEntry, type PteEntry } from '../entries.js';
import type { Switches } from '../switches.js';
import { NOBODY, type Cpu, type Frame, type Mm, type MmSetup, type Model, type RwSem, type Vma } from '../types.js';
import type { World } from './types.js';
import { ptlName } from '../frames.js';
import { refill, resetRmapTrees } from '../rmap_tree.js';

export interface CpuSpec {
  readonly actor: number;
  /** The mm whose user thread runs on this CPU, or -1 for a kernel thread. */
  readonly mm: number;
  /** A kernel thread that borrows `mm` in lazy TLB mode. */
  readonly lazy?: boolean;
}

function frame(pfn: number): Frame {
  return {
    pfn, kind: 'free', refcount: 0, gen: 0,
    ptl: { name: `ptl(${pfn})`, owner: NOBODY },
    ptlFree: ptlName('pte-table', pfn),
    ptlPmd: ptlName('pmd-table', pfn),
    written: false,
    ptes: new Array<PteEntry>(PTRS_PER_PTE).fill(PTE_NONE),
    lo: new Array<number>(PTRS_PER_PMD).fill(0),
    hi: new Array<number>(PTRS_PER_PMD).fill(0),
    deposited: new Array<number>(PTRS_PER_PMD).fill(0),
    pg_locked: NOBODY,
    mapcount: 0,
    dirty: false,
    mapping: -1,
    copiedAt: -1,
    refStep: -1,
    mapStep: -1,
  };
}

const sem = (name: string): RwSem => ({ name, writer: NOBODY, readers: [] });

function mm(m: { world: World; cpus: readonly CpuSpec[] }, id: number): Mm {
  const sfx = id === 0 ? '' : `(mm${id})`;
  return {
    id, mm_users: 0,
    mmap_lock: sem(`mmap_lock${sfx}`),
    page_table_lock: { name: `page_table_lock${sfx}`, owner: NOBODY },
    anon_vma_lock: sem(`anon_vma${sfx}`),
    anon_vma_rb_root: [],
    vmas: [],
    pgd: m.world.mms[id]!.pgd,
    rss: 0, nr_ptes: 0, nr_pmds: 0, nr_puds: 0,
    changedAt: { rss: -1, nr_ptes: -1, nr_pmds: -1, nr_puds: -1 },
    exiting: false, core_state: false, khugepaged_scanning: false,
    cpumask: m.cpus.map((c) => c.mm === id), newTask: false, noTask: false,
    mm_lock_seq: 0, next_vma_id: 0, write_protect_seq: 0,
    notifier_subscriptions: [],
  };
}

function cpu(id: number, spec: CpuSpec): Cpu {
  const lazy = spec.lazy === true && spec.mm >= 0;
  return { id, actor: spec.actor, mm: spec.mm, inMm: spec.mm >= 0 && !lazy, lazy, lazyAtStart: lazy, irqsOff: false, rcuDepth: 0, tlb: [], pwc: [], pendingIpi: [] };
}

/** Allocate a model for `world` and put it in its initial state. `setup` is per mm of the world. */
export function buildModel(archId: ArchId, arch: Arch, sw: Switches, world: World, cpus: readonly CpuSpec[], setup: readonly MmSetup[]): Model {
  const m: Model = {
    archId, arch, sw, world, setup,
    frames: Array.from({ length: world.nrFrames }, (_, pfn) => frame(pfn)),
    mms: world.mms.map((_, i) => mm({ world, cpus }, i)),
    files: world.files.map((f, id) => ({ id, name: f.name, i_mmap_rwsem: sem(world.files.length === 1 ? 'i_mmap_rwsem' : `i_mmap_rwsem(${f.name})`), i_mmap: [], hpage: [...f.hpage], hugetlbfs: f.hugetlbfs === true })),
    cpus: cpus.map((s, i) => cpu(i, s)),
    rcu: [],
    events: [],
    choose: () => 0,
    step: 0,
    tracing: false,
    traceOnly: 0,
    actorState: new Map(),
    smmus: [],
  };
  resetModel(m);
  return m;
}

function resetSem(s: RwSem): void {
  s.writer = NOBODY;
  // (Setting an array's length is a runtime call: skip it when there is nothing to drop.)
  if (s.readers.length > 0) s.readers.length = 0;
}

/** Empty an array kept in the model, without the runtime call when it is empty already. */
function empty(a: unknown[]): void {
  if (a.length > 0) a.length = 0;
}

/** A world table's entries as halves, encoded once per table (a world is frozen). */
const encoded = new WeakMap<readonly PmdEntry[], { readonly lo: readonly number[]; readonly hi: readonly number[] }>();

function fillEntries(f: Frame, entries: readonly PmdEntry[]): void {
  let e = encoded.get(entries);
  if (!e) {
    e = { lo: entries.map((x) => pmdLo(x)), hi: entries.map((x) => pmdHi(x)) };
    encoded.set(entries, e);
  }
  for (let i = 0; i < e.lo.length; i++) {
    f.lo[i] = e.lo[i]!;
    f.hi[i] = e.hi[i]!;
  }
}

/** m.choose between executions (the reset, and the executor once one ends): one function, not a
 *  closure each time. */
export const NO_CHOICE = (): number => 0;

/** Each mm's own VMA objects, made from the world once and reset in place. */
const worldVmas = new WeakMap<Mm, Vma[]>();

/** Put every mutable field back to the world's initial state, so that an execution can reuse a
 *  model: nothing an earlier execution did (or an actor module stored) survives. */
export function resetModel(m: Model): void {
  const w = m.world;
  /** Some mm's VMA objects made afresh below: the rmap trees are then made again from them. */
  let remade = false;
  for (const f of m.frames) {
    f.ptl.owner = NOBODY;
    f.pg_locked = NOBODY;
    // A frame never allocated, never in the world and never written since the last reset is as
    // buildModel() made it: skip its contents (most frames of a world, most of the time).
    if (f.gen === 0 && f.kind === 'free' && !f.written) continue;
    f.kind = 'free';
    f.refcount = 0;
    f.gen = 0;
    f.mapcount = 0;
    f.dirty = false;
    f.mapping = -1;
    f.copiedAt = -1;
    f.refStep = -1;
    f.mapStep = -1;
    f.written = false;
    if (f.ptl.name !== f.ptlFree) f.ptl.name = f.ptlFree;
    for (let i = 0; i < f.ptes.length; i++) f.ptes[i] = PTE_NONE;
    for (let i = 0; i < f.lo.length; i++) {
      f.lo[i] = 0;
      f.hi[i] = 0;
      f.deposited[i] = 0;
    }
  }
  for (const init of w.frames) {
    const f = m.frames[init.pfn]!;
    f.kind = init.kind;
    f.refcount = init.refcount;
    f.gen = 1;
    f.ptl.name = init.kind === 'pmd-table' ? f.ptlPmd : f.ptlFree;
    if (init.ptes) for (let i = 0; i < init.ptes.length; i++) f.ptes[i] = init.ptes[i]!;
    if (init.entries) fillEntries(f, init.entries);
    if (init.deposited) for (let i = 0; i < init.deposited.length; i++) f.deposited[i] = init.deposited[i]!;
    f.mapping = init.mapping ?? -1;
  }
  // With every table in place, the mapcounts the tables imply.
  const mc = initialMapcount(m);
  for (const init of w.frames) m.frames[init.pfn]!.mapcount = mc[init.pfn] ?? 0;
  for (let i = 0; i < m.files.length; i++) {
    const file = m.files[i]!;
    resetSem(file.i_mmap_rwsem);
    refill(file.hpage, w.files[i]!.hpage);
  }
  const counts0 = initialCounts(m);
  for (let id = 0; id < m.mms.length; id++) {
    const mm = m.mms[id]!;
    const wm = w.mms[id]!;
    const setup = m.setup[id] ?? { mmUsers: 1, khugepagedScanning: false };
    mm.mm_users = setup.mmUsers;
    mm.khugepaged_scanning = setup.khugepagedScanning;
    // A fork's child: no thread of it has run yet (fork_child.ts), so no CPU is in its mm_cpumask.
    mm.newTask = (setup.forkedBy ?? -1) >= 0;
    mm.noTask = false;
    resetSem(mm.mmap_lock);
    resetSem(mm.anon_vma_lock);
    mm.page_table_lock.owner = NOBODY;
    // The world's VMAs, each reset in place (an execution may have split, moved or added some: those
    // new objects are dropped here). Made once per model, sorted by start.
    let own = worldVmas.get(mm);
    if (!own) {
      remade = true;
      own = wm.vmas.map((v, i): Vma => ({
        id: i, mm: id, start: v.start, end: v.end, kind: v.kind, file: v.file ?? -1, pgoff: v.pgoff ?? v.start,
        shared: v.shared ?? false, anon_vma: v.anon_vma, detached: false, inRmap: true,
        anon_vma_id: id, vm_lock_seq: -1, vm_lock: sem(id === 0 ? `vm_lock(vma${i})` : `vm_lock(mm${id} vma${i})`),
      })).sort((a, b) => a.start - b.start);
      worldVmas.set(mm, own);
    }
    refill(mm.vmas, own);
    for (const vma of own) {
      const v = wm.vmas[vma.id]!;
      vma.start = v.start;
      vma.end = v.end;
      vma.pgoff = v.pgoff ?? v.start;
      vma.anon_vma = v.anon_vma;
      vma.detached = false;
      vma.inRmap = true;
      // VMAs that change: the mm's own anon_vma; per-VMA lock unlocked (vma_lock_alloc()).
      vma.anon_vma_id = id;
      vma.vm_lock_seq = -1;
      resetSem(vma.vm_lock);
      vma.vm_prot = undefined;
    }
    // VMAs that change: mm_lock_seq as mm_init() sets it; new VMAs are numbered after the world's.
    mm.mm_lock_seq = 0;
    mm.write_protect_seq = 0;
    mm.next_vma_id = wm.vmas.length;
    const counts = counts0[id]!;
    mm.rss = counts.rss;
    mm.nr_ptes = counts.ptes;
    mm.nr_pmds = counts.pmds;
    mm.nr_puds = counts.puds;
    mm.changedAt.rss = mm.changedAt.nr_ptes = mm.changedAt.nr_pmds = mm.changedAt.nr_puds = -1;
    mm.exiting = false;
    mm.core_state = false;
    for (let i = 0; i < m.cpus.length; i++) mm.cpumask[i] = m.cpus[i]!.mm === id && !mm.newTask;
    empty(mm.notifier_subscriptions);
  }
  resetRmapTrees(m, remade);
  for (const c of m.cpus) {
    c.lazy = c.lazyAtStart;
    c.irqsOff = false;
    c.rcuDepth = 0;
    empty(c.tlb);
    empty(c.pwc);
    empty(c.pendingIpi);
  }
  empty(m.rcu);
  empty(m.events);
  m.choose = NO_CHOICE;
  m.step = 0;
  m.tracing = false;
  m.traceOnly = 0;
  if (m.actorState.size > 0) m.actorState.clear();
  empty(m.smmus);
}

/** Each frame's mapcount at the start: the entries of every mm's tables that map it. */
const mapcounts = new WeakMap<World, readonly number[]>();
function initialMapcount(m: Model): readonly number[] {
  let c = mapcounts.get(m.world);
  if (!c) {
    const n = m.frames.map(() => 0);
    // A shared pmd table's entries map their pages once, however many mms link it.
    const seen: boolean[] = [];
    for (const wm of m.world.mms) countTables(m, wm.pgd, (pfn, as) => { if (as === 'page') n[pfn]! += 1; }, seen);
    c = n;
    mapcounts.set(m.world, c);
  }
  return c;
}

/** The counters each mm of a world starts with: computed once per world, from its tables. */
const initial = new WeakMap<World, readonly TableCounts[]>();
function initialCounts(m: Model): readonly TableCounts[] {
  let c = initial.get(m.world);
  if (!c) {
    c = m.mms.map((mm) => countTables(m, mm.pgd));
    initial.set(m.world, c);
  }
  return c;
}

export interface TableCounts {
  /** Pages mapped (a huge pmd counts HPAGE_PMD_NR). */
  rss: number;
  /** pte tables linked or deposited; pmd and pud tables linked. */
  ptes: number;
  pmds: number;
  puds: number;
}

/** Walk an mm's tree from its pgd, calling `visit` on every frame it links (tables, deposited tables
 *  and mapped pages, once per link) and counting what rss and the nr_* counters should be.
 *  Hugetlb PMD sharing: hugetlb pages (of a hugetlbfs file) count in no rss, as the kernel keeps them
 *  in hugetlb_usage; a shared pmd table counts in nr_pmds of every mm that links it; with `seen`
 *  (shared by the calls for every mm), the pages and tables under a pmd table are visited for its
 *  first link only, since its entries exist once. */
export function countTables(m: Model, pgd: number, visit: (pfn: number, as: 'table' | 'page') => void = () => {}, seen?: boolean[]): TableCounts {
  const n: TableCounts = { rss: 0, ptes: 0, pmds: 0, puds: 0 };
  const g = m.frames[pgd];
  if (!g) return n;
  visit(pgd, 'table');
  for (let i = 0; i < PTRS_PER_PMD; i++) {
    const ge = pmdDecode(g.lo[i] ?? 0, g.hi[i] ?? 0);
    const pud = ge.t === 'table' ? m.frames[ge.pfn] : undefined;
    if (!pud) continue;
    visit(pud.pfn, 'table');
    n.puds++;
    for (let j = 0; j < PTRS_PER_PMD; j++) {
      const ue = pmdDecode(pud.lo[j] ?? 0, pud.hi[j] ?? 0);
      const pmd = ue.t === 'table' ? m.frames[ue.pfn] : undefined;
      if (!pmd) continue;
      visit(pmd.pfn, 'table');
      n.pmds++;
      // A shared pmd table seen before: its entries are counted, not visited again.
      const see = seen?.[pmd.pfn] !== true;
      if (seen) seen[pmd.pfn] = true;
      for (let k = 0; k < PTRS_PER_PMD; k++) {
        const dep = pmd.deposited[k] ?? 0;
        if (dep) { if (see) visit(dep, 'table'); n.ptes++; }
        const e = pmdDecode(pmd.lo[k] ?? 0, pmd.hi[k] ?? 0);
        if (e.t === 'huge' || e.t === 'invalid-huge') { if (see) visit(e.pfn, 'page'); if (!hugetlbPage(m, e.pfn)) n.rss += HPAGE_PMD_NR; continue; }
        const pte = e.t === 'table' ? m.frames[e.pfn] : undefined;
        if (!pte) continue;
        if (see) visit(pte.pfn, 'table');
        n.ptes++;
        for (let x = 0; x < pte.ptes.length; x++) {
          const p = pte.ptes[x]!;
          if (p.t !== 'present') continue;
          if (see) visit(p.pfn, 'page');
          if (!hugetlbPage(m, p.pfn)) n.rss++;
        }
      }
    }
  }
  return n;
}

/** A hugetlb page: a huge page in the page cache of a hugetlbfs file (PageHuge()). */
function hugetlbPage(m: Model, pfn: number): boolean {
  const f = m.frames[pfn];
  return f !== undefined && f.kind === 'huge' && f.mapping >= 0 && m.files[f.mapping]?.hugetlbfs === true;
}
