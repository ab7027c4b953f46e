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
import { NOBODY, type Cpu, type Frame, type FrameKind, type Model } from './types.js';

export const NR_FRAMES = 32;

export interface CpuSpec {
  readonly actor: number;
  readonly inMm: boolean;
}

function frame(pfn: number, kind: FrameKind, refcount: number): Frame {
  return {
    pfn, kind, refcount, gen: kind === 'free' ? 0 : 1,
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

/** The facts about the mm that the scenario sets: mm_users at the start (one per user thread that
 *  will mmput()), and whether khugepaged's scan cursor is on this mm. */
export interface MmSetup {
  readonly mmUsers: number;
  readonly khugepagedScanning: boolean;
}

export function buildModel(archId: ArchId, arch: Arch, sw: Switches, cpus: readonly CpuSpec[], setup: MmSetup = { mmUsers: 1, khugepagedScanning: false }): Model {
  const frames: Frame[] = [];
  for (let pfn = 0; pfn < NR_FRAMES; pfn++) frames.push(frame(pfn, 'free', 0));
  const set = (pfn: number, kind: FrameKind, refcount: number) => {
    const f = frames[pfn]!;
    f.kind = kind;
    f.refcount = refcount;
    f.gen = 1;
  };
  set(0, 'reserved', 1);
  set(1, 'pmd-table', 1);
  // slot 0: anon pages 3 and 4
  set(2, 'pte-table', 1);
  set(3, 'data', 1);
  set(4, 'data', 1);
  frames[2]!.ptes[0] = { t: 'present', pfn: 3, sub: 0, writable: true, dirty: true };
  frames[2]!.ptes[1] = { t: 'present', pfn: 4, sub: 0, writable: true, dirty: true };
  // slot 2: an empty table; the file's huge page 6 is in the page cache
  set(5, 'pte-table', 1);
  set(6, 'huge', 1);
  // slot 3: the file huge page 8, mapped by 4 ptes (page cache + 4 mappings)
  set(7, 'pte-table', 1);
  set(8, 'huge', 1 + PTRS_PER_PTE);
  for (let i = 0; i < PTRS_PER_PTE; i++) frames[7]!.ptes[i] = { t: 'present', pfn: 8, sub: i, writable: false, dirty: false };

  const pmd: PmdEntry[] = [{ t: 'table', pfn: 2 }, { t: 'none' }, { t: 'table', pfn: 5 }, { t: 'table', pfn: 7 }];
  const m: Model = {
    archId, arch, sw, frames,
    mm: {
      mm_users: setup.mmUsers,
      mmap_lock: { name: 'mmap_lock', writer: NOBODY, readers: [] },
      anon_vma_lock: { name: 'anon_vma', writer: NOBODY, readers: [] },
      vmas: [
        { id: 0, start: 0, end: 2 * PTRS_PER_PTE, kind: 'anon', anon_vma: true, detached: false, inRmap: true },
        { id: 1, start: 2 * PTRS_PER_PTE, end: 4 * PTRS_PER_PTE, kind: 'file', anon_vma: false, detached: false, inRmap: true },
      ],
      pmdTable: 1,
      pmd_lo: pmd.map(pmdLo),
      pmd_hi: pmd.map(pmdHi),
      deposited: new Array(PTRS_PER_PMD).fill(0),
      rss: 2 + PTRS_PER_PTE,
      nr_ptes: 3,
      exiting: false,
      core_state: false,
      khugepaged_scanning: setup.khugepagedScanning,
    },
    file: { i_mmap_rwsem: { name: 'i_mmap_rwsem', writer: NOBODY, readers: [] }, hpage: [0, 0, 6, 8] },
    cpus: cpus.map((s, i) => cpu(i, s)),
    rcu: [],
    events: [],
    choose: () => 0,
    step: 0,
    tracing: false,
  };
  return m;
}

/** The VMA that covers `addr`, if it is still linked. */
export function find_vma(m: Model, addr: number) {
  return m.mm.vmas.find((v) => !v.detached && v.start <= addr && addr < v.end);
}
