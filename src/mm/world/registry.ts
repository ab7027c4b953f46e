// The worlds a scenario can name: the shipped ones and those a user module registers (--load exports
// `worlds`). A world is checked when it is registered, so that a bad one is refused in one line
// rather than failing inside an execution.

import { ModelError, unknownName } from '../errors.js';
import { PTRS_PER_PMD, PTRS_PER_PTE, TASK_PAGES, type PmdEntry } from '../entries.js';
import type { World, WorldFrame } from './types.js';
import { WORLDS } from './worlds.js';
import { badSharedPmdTable, worldPmdLinks } from '../hugetlb.js';

const user: { readonly world: World; readonly origin: string }[] = [];

/** What each table level's entries may point at. */
const CHILD: Partial<Record<WorldFrame['kind'], readonly WorldFrame['kind'][]>> = {
  pgd: ['pud-table'],
  'pud-table': ['pmd-table'],
  'pmd-table': ['pte-table', 'huge'],
};

/** Why a world cannot be used, or null. */
export function checkWorld(x: unknown): string | null {
  const w = x as Partial<World> | null;
  if (!w || typeof w !== 'object') return 'a world is not an object';
  if (typeof w.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(w.name)) return "a world lacks 'name' (lower-case letters, digits and -)";
  const at = `world '${w.name}'`;
  if (typeof w.summary !== 'string') return `${at} lacks 'summary'`;
  if (!Number.isInteger(w.nrFrames) || w.nrFrames! < 2 || w.nrFrames! > 4096) return `${at}: nrFrames must be an integer 2..4096`;
  if (!Array.isArray(w.frames) || !Array.isArray(w.files) || !Array.isArray(w.mms) || w.mms.length === 0) return `${at} needs arrays 'frames', 'files' and 'mms' (at least one mm)`;
  // The oracle keys a TLB entry by (cpu, mm, address) with 4 bits for the mm (oracle.ts tlbKey).
  if (w.mms.length > 16) return `${at}: at most 16 mms, not ${w.mms.length}`;
  const frames = w.frames as readonly WorldFrame[];
  const byPfn = new Map<number, WorldFrame>();
  for (const f of frames) {
    if (!f || !Number.isInteger(f.pfn) || f.pfn < 0 || f.pfn >= w.nrFrames!) return `${at}: a frame has a pfn outside 0..${w.nrFrames! - 1}`;
    if (byPfn.has(f.pfn)) return `${at}: frame ${f.pfn} is listed twice`;
    if (!Number.isInteger(f.refcount) || f.refcount < 1) return `${at}: frame ${f.pfn} needs a refcount of at least 1`;
    byPfn.set(f.pfn, f);
  }
  if (byPfn.get(0)?.kind !== 'reserved') return `${at}: frame 0 must be 'reserved' (pmd_page(none) points at it)`;
  for (const f of frames) {
    if ((f.ptes?.length ?? 0) > PTRS_PER_PTE || (f.entries?.length ?? 0) > PTRS_PER_PMD) return `${at}: frame ${f.pfn} has more entries than a table holds (${PTRS_PER_PTE})`;
    if (f.ptes && f.kind !== 'pte-table') return `${at}: frame ${f.pfn} has ptes but is a ${f.kind}`;
    for (const p of f.ptes ?? []) {
      if (p.t !== 'present') continue;
      const k = byPfn.get(p.pfn)?.kind;
      if (k !== 'data' && k !== 'huge') return `${at}: a pte of table ${f.pfn} maps frame ${p.pfn}, which is not a data or huge page`;
    }
    const allowed = CHILD[f.kind];
    if (f.entries && !allowed) return `${at}: frame ${f.pfn} has entries but is a ${f.kind}`;
    for (const e of f.entries ?? []) {
      const bad = badEntry(e, allowed ?? [], byPfn);
      if (bad) return `${at}: an entry of ${f.kind} ${f.pfn} ${bad}`;
    }
  }
  for (const [i, file] of w.files.entries()) {
    if (!file || typeof file.name !== 'string' || !Array.isArray(file.hpage)) return `${at}: file ${i} needs 'name' and 'hpage'`;
    for (const h of file.hpage) if (h !== 0 && byPfn.get(h)?.kind !== 'huge') return `${at}: file '${file.name}' caches frame ${h}, which is not a huge page`;
  }
  for (const [i, mm] of w.mms.entries()) {
    if (!mm || byPfn.get(mm.pgd)?.kind !== 'pgd') return `${at}: mm ${i}'s pgd must be a frame of kind 'pgd'`;
    if (!Array.isArray(mm.vmas)) return `${at}: mm ${i} lacks 'vmas'`;
    const vmas = [...mm.vmas].sort((a, b) => a.start - b.start);
    for (const [j, v] of vmas.entries()) {
      if (!Number.isInteger(v.start) || !Number.isInteger(v.end) || v.start < 0 || v.end <= v.start || v.end > TASK_PAGES) return `${at}: mm ${i} has a VMA outside [0, ${TASK_PAGES})`;
      if (j > 0 && v.start < vmas[j - 1]!.end) return `${at}: mm ${i} has overlapping VMAs`;
      if (v.kind === 'file' && (!Number.isInteger(v.file) || !w.files[v.file!])) return `${at}: mm ${i} has a file VMA whose 'file' names no file`;
      if (v.kind !== 'file' && v.kind !== 'anon') return `${at}: mm ${i} has a VMA whose kind is not 'anon' or 'file'`;
    }
  }
  return badPmdSharing(w as World, at);
}

/** Hugetlb PMD sharing (hugetlb.ts): a pmd table linked from one pud entry has refcount 1; one linked
 *  from several (of one mm or of several) is what huge_pmd_share() builds, or the world is refused:
 *  each link a PUD range that a VM_SHARED VMA of a hugetlbfs file covers whole, all mapping the same
 *  file pages, the table holding none or huge entries only, its refcount the number of links. */
function badPmdSharing(w: World, at: string): string | null {
  for (const [i, file] of w.files.entries()) {
    if (file.hugetlbfs !== undefined && typeof file.hugetlbfs !== 'boolean') return `${at}: file ${i}'s 'hugetlbfs' must be a boolean`;
  }
  for (const [pfn, links] of worldPmdLinks(w)) {
    const refcount = w.frames.find((f) => f.pfn === pfn)?.refcount;
    if (links.length === 1 && refcount !== 1) return `${at}: pmd table ${pfn} is linked once but has refcount ${refcount}: a pmd table's refcount is its share count`;
    if (links.length < 2) continue;
    const bad = badSharedPmdTable(w, pfn, links);
    if (bad) return `${at}: ${bad}`;
  }
  return null;
}

function badEntry(e: PmdEntry, allowed: readonly WorldFrame['kind'][], byPfn: ReadonlyMap<number, WorldFrame>): string | null {
  if (!e || e.t === 'none') return null;
  if (e.t !== 'table' && e.t !== 'huge') return `is '${e.t}': a world holds none, table or huge entries`;
  const k = byPfn.get(e.pfn)?.kind;
  const want = e.t === 'huge' ? 'huge' : allowed.find((a) => a !== 'huge');
  if (!k || k !== want || !allowed.includes(k)) return `points at frame ${e.pfn} (${k ?? 'free'}), which is not a ${e.t === 'huge' ? 'huge page allowed here' : want ?? 'table'}`;
  return null;
}

/** Register a world from a user module. */
export function registerWorld(w: World, origin: string): void {
  const bad = checkWorld(w);
  if (bad) throw new ModelError('bad-argument', bad, []);
  if (user.some((u) => u.world === w)) return;
  if (worldOf(w.name)) throw new ModelError('bad-argument', `world '${w.name}' is already defined (${WORLDS.some((x) => x.name === w.name) ? 'by mmfuzz' : `before ${origin}`})`, []);
  user.push({ world: w, origin });
  user.sort((a, b) => (a.world.name < b.world.name ? -1 : 1));
}

export function worldOf(name: string): World | undefined {
  return WORLDS.find((w) => w.name === name) ?? user.find((u) => u.world.name === name)?.world;
}

/** Every world: the shipped ones, then the registered ones by name. */
export function allWorlds(): readonly World[] {
  return user.length === 0 ? WORLDS : [...WORLDS, ...user.map((u) => u.world)];
}

export function parseWorld(name: string): World {
  const w = worldOf(name);
  if (!w) throw unknownName('unknown-world', 'world', name, allWorlds().map((x) => x.name));
  return w;
}
