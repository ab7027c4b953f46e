// buildModel(): the initial state every execution starts from.
//
// Layout (pages 0..15, one pmd slot per 4 pages):
//   slot 0  anon VMA 0   pte table 2: pages 3, 4 mapped at addresses 0, 1 (writable)
//   slot 1  anon VMA 0   none (room for a fault or a THP fault)
//   slot 2  file VMA 1   pte table 5, empty: collapse_file() has unmapped the small pages and put
//                        the huge page 6 in the page cache; retract_page_tables() may take the table
//   slot 3  file VMA 1   pte table 7 maps the 4 subpages of the file huge page 8 (a pte-mapped THP,
//                        as collapse_pte_mapped_thp() finds it)
// Frame 0 is reserved (what pmd_page(none) points at), frame 1 is the pmd table, 9.. are free.

import type { Arch, ArchId } from './arch.js';
import { NR_PAGES, PTE_NONE, PTRS_PER_PMD, PTRS_PER_PTE, pmdHi, pmdLo, type PmdEntry, type PteEntry } from './entries.js';
import type { Switches } from './switches.js';
import { NOBODY, type Cpu, type Frame, type FrameKind, type MmSetup, type Model } from './types.js';

export type { MmSetup };

export const NR_FRAMES = 32;

export interface CpuSpec {
  readonly actor: number;
  readonly inMm: boolean;
}

function frame(pfn: number): Frame {
  return {
    pfn, kind: 'free', refcount: 0, gen: 0,
    ptl: { name: pfn === 1 ? 'pmd_lock' : `ptl(${pfn})`, owner: NOBODY },
    ptes: new Array<PteEntry>(PTRS_PER_PTE).fill(PTE_NONE),
    pg_locked: NOBODY,
  };
}

function cpu(id: number, spec: CpuSpec): Cpu {
  return {
    id, actor: spec.actor, inMm: spec.inMm, irqsOff: false, rcuDepth: 0,
    tlb: new Array(NR_PAGES).fill(null), pwc: new Array(PTRS_PER_PMD).fill(null), pendingIpi: [],
  };
}

const present = (pfn: number, sub: number, writable: boolean): PteEntry => ({ t: 'present', pfn, sub, writable, dirty: writable });

/** The frames that are not free at the start (see the layout above). */
const INITIAL_FRAMES: readonly { readonly pfn: number; readonly kind: FrameKind; readonly refcount: number; readonly ptes?: readonly PteEntry[] }[] = [
  { pfn: 0, kind: 'reserved', refcount: 1 },
  { pfn: 1, kind: 'pmd-table', refcount: 1 },
  { pfn: 2, kind: 'pte-table', refcount: 1, ptes: [present(3, 0, true), present(4, 0, true)] },
  { pfn: 3, kind: 'data', refcount: 1 },
  { pfn: 4, kind: 'data', refcount: 1 },
  { pfn: 5, kind: 'pte-table', refcount: 1 },
  { pfn: 6, kind: 'huge', refcount: 1 },
  { pfn: 7, kind: 'pte-table', refcount: 1, ptes: Array.from({ length: PTRS_PER_PTE }, (_, i) => present(8, i, false)) },
  { pfn: 8, kind: 'huge', refcount: 1 + PTRS_PER_PTE },
];
const INITIAL_PMD: readonly PmdEntry[] = [{ t: 'table', pfn: 2 }, { t: 'none' }, { t: 'table', pfn: 5 }, { t: 'table', pfn: 7 }];
const INITIAL_VMAS = [
  { id: 0, start: 0, end: 2 * PTRS_PER_PTE, kind: 'anon', anon_vma: true },
  { id: 1, start: 2 * PTRS_PER_PTE, end: 4 * PTRS_PER_PTE, kind: 'file', anon_vma: false },
] as const;

const sem = (name: string) => ({ name, writer: NOBODY, readers: [] as number[] });

/** Allocate a model and put it in its initial state. */
export function buildModel(archId: ArchId, arch: Arch, sw: Switches, cpus: readonly CpuSpec[], setup: MmSetup = { mmUsers: 1, khugepagedScanning: false }): Model {
  const m: Model = {
    archId, arch, sw, setup,
    frames: Array.from({ length: NR_FRAMES }, (_, pfn) => frame(pfn)),
    mm: {
      mm_users: 0,
      mmap_lock: sem('mmap_lock'),
      anon_vma_lock: sem('anon_vma'),
      vmas: INITIAL_VMAS.map((v) => ({ ...v, detached: false, inRmap: true })),
      pmdTable: 1,
      pmd_lo: new Array(PTRS_PER_PMD).fill(0),
      pmd_hi: new Array(PTRS_PER_PMD).fill(0),
      deposited: new Array(PTRS_PER_PMD).fill(0),
      rss: 0,
      nr_ptes: 0,
      exiting: false,
      core_state: false,
      khugepaged_scanning: setup.khugepagedScanning,
    },
    file: { i_mmap_rwsem: sem('i_mmap_rwsem'), hpage: [0, 0, 6, 8] },
    cpus: cpus.map((s, i) => cpu(i, s)),
    rcu: [],
    events: [],
    choose: () => 0,
    step: 0,
    tracing: false,
  };
  resetModel(m);
  return m;
}

/** Put every mutable field back to the initial state: an execution can reuse a model instead of
 *  allocating one (what the layout above draws is set here, and only here). */
export function resetModel(m: Model): void {
  for (const f of m.frames) {
    f.kind = 'free';
    f.refcount = 0;
    f.gen = 0;
    f.ptl.owner = NOBODY;
    f.ptes.fill(PTE_NONE);
    f.pg_locked = NOBODY;
  }
  for (const init of INITIAL_FRAMES) {
    const f = m.frames[init.pfn]!;
    f.kind = init.kind;
    f.refcount = init.refcount;
    f.gen = 1;
    init.ptes?.forEach((pte, i) => { f.ptes[i] = pte; });
  }
  const mm = m.mm;
  mm.mm_users = m.setup.mmUsers;
  for (const s of [mm.mmap_lock, mm.anon_vma_lock, m.file.i_mmap_rwsem]) {
    s.writer = NOBODY;
    s.readers.length = 0;
  }
  mm.vmas.forEach((v, i) => {
    v.anon_vma = INITIAL_VMAS[i]?.anon_vma ?? false;
    v.detached = false;
    v.inRmap = true;
  });
  INITIAL_PMD.forEach((e, i) => {
    mm.pmd_lo[i] = pmdLo(e);
    mm.pmd_hi[i] = pmdHi(e);
  });
  mm.deposited.fill(0);
  mm.rss = 2 + PTRS_PER_PTE;
  mm.nr_ptes = 3;
  mm.exiting = false;
  mm.core_state = false;
  for (const c of m.cpus) {
    c.irqsOff = false;
    c.rcuDepth = 0;
    c.tlb.fill(null);
    c.pwc.fill(null);
    c.pendingIpi.length = 0;
  }
  m.rcu.length = 0;
  m.events.length = 0;
  m.choose = () => 0;
  m.step = 0;
  m.tracing = false;
}

/** The VMA that covers `addr`, if it is still linked. */
export function find_vma(m: Model, addr: number) {
  return m.mm.vmas.find((v) => !v.detached && v.start <= addr && addr < v.end);
}
