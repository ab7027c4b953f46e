// Hugetlb PMD sharing (mm/hugetlb.c, CONFIG_ARCH_WANT_HUGE_PMD_SHARE: x86-64, arm64, riscv). A pmd
// table that maps a PUD-sized, PUD-aligned range of a VM_MAYSHARE hugetlbfs mapping can be linked
// from the puds of every VMA that maps the same file range at the same offset within its PUD range:
// huge_pmd_share() links it, huge_pmd_unshare() unlinks it from one mm.
//
// What is read (the kernel source, as stored):
//
// v5.10 (mm/hugetlb.c as in kernel_common_5.10 / the v5.x tree):
//   huge_pmd_share(mm, addr, pud): i_mmap_assert_locked(mapping) -- the caller (hugetlb_fault(),
//     copy_hugetlb_page_range()) holds i_mmap_rwsem for read since c0d0381ade79 "hugetlbfs: use
//     i_mmap_rwsem for more pmd sharing synchronization" (v5.7);
//     vma_interval_tree_foreach(svma, idx): page_table_shareable(svma, vma, addr, idx) → saddr;
//     spte = huge_pte_offset(svma->vm_mm, saddr); get_page(virt_to_page(spte));
//     ptl = huge_pte_lock(h, mm, spte) -- the shared table's own split pmd lock;
//     if pud_none(*pud): pud_populate(), mm_inc_nr_pmds(); else put_page(); spin_unlock(ptl);
//     pte = pmd_alloc(mm, pud, addr).
//   huge_pmd_unshare(mm, vma, &addr, ptep): i_mmap_assert_write_locked(); BUG_ON(page_count == 0);
//     page_count == 1: not shared, return 0; pud_clear(pud); put_page(virt_to_page(ptep));
//     mm_dec_nr_pmds(mm); return 1. Called under huge_pte_lock(ptep).
//   The share count is the table page's refcount.
// v6.6 (mm/hugetlb.c as in a linux-6.6.y tree):
//   huge_pmd_share(mm, vma, addr, pud): i_mmap_lock_read(mapping) itself ("hugetlbfs: revert use
//     i_mmap_rwsem for more pmd sharing synchronization", Mike Kravetz's v6.1 series, read as the
//     posted patch; the caller holds the new hugetlb vma_lock for read instead);
//     spte = hugetlb_walk(svma, saddr);
//     get_page(virt_to_page(spte)); spin_lock(&mm->page_table_lock) (the pud lock), pud_populate()
//     or put_page(), spin_unlock; pmd_alloc(); i_mmap_unlock_read().
//   huge_pmd_unshare(mm, vma, addr, ptep): i_mmap_assert_write_locked(); hugetlb_vma_assert_locked();
//     BUG_ON(page_count == 0); page_count == 1 → 0; pud_clear(); put_page(); mm_dec_nr_pmds(); 1.
//   hugetlb_unshare_pmds(vma, start, end): mmu_notifier_invalidate_range_start();
//     hugetlb_vma_lock_write(); i_mmap_lock_write(); per PUD: hugetlb_walk(), huge_pte_lock(),
//     huge_pmd_unshare(), spin_unlock(); flush_hugetlb_tlb_range(vma, start, end);
//     i_mmap_unlock_write(); hugetlb_vma_unlock_write(); mmu_notifier_invalidate_range_end().
//   Still the page refcount: ptdesc->pt_share_count came with 59d9094df3d7 "mm: hugetlb: independent
//     PMD page table shared count" (v6.13; its 6.6.y backport failed to apply), because a speculative
//     reference on the table page (split_huge_pages, page_idle, ...) made an exclusive table look
//     shared and leaked it.
//
// Fixes after both eras, not modelled by default:
//   a4a118f2eead "hugetlbfs: flush TLBs correctly after huge_pmd_unshare" (v5.16): v5.10's
//     __unmap_hugepage_range() did not flush the unshared PUD range before dropping i_mmap_rwsem.
//   1013af4f585f "mm/hugetlb: fix huge_pmd_unshare() vs GUP-fast race" (v6.16, backported to stable):
//     tlb_remove_table_sync_one() after pud_clear(), before put_page(): "Once our caller drops the
//     rmap lock, some other process might be using this page table as a normal, non-hugetlb page
//     table. Wait for pending gup_fast() in other threads to finish before letting that happen."
//     `UnshareOpts.gupFastSync` puts it in.
//
// Not modelled: the hugetlb vma_lock (v6.1+; callers here say where the kernel takes it),
// uffd_disable_huge_pmd_share(), the hugetlb fault mutex, and the !vm_private_data test.

import { PGDIR_PAGES, PUD_PAGES, pgdIndex, pmdIndex, pudIndex, pmdTableIndex, type PmdEntry } from './entries.js';
import { frameOf, get_page, put_page } from './frames.js';
import { down_read, down_write, spin_lock, spin_unlock, up_read, up_write } from './locks.js';
import { mm_dec_nr_pmds, mm_inc_nr_pmds } from './counters.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from './mmu_notifier.js';
import { pmd_alloc } from './pgalloc.js';
import { pmd_lock, pmd_lockptr, pmd_off, tableNow, upperEntry, upperStore, type PmdPtr, type Stepper } from './pgtable.js';
import { step, type ActorGen, type Ctx } from './step.js';
import { eraAtLeast } from './switches.js';
import { flush_tlb_range, tlb_remove_table_sync_one } from './tlbflush.js';
import type { Mm, Model, Vma } from './types.js';
import type { World } from './world/types.js';
import { linear_page_index, vma_interval_tree_foreach } from './model.js';

/** is_vm_hugetlb_page(): VM_HUGETLB, which hugetlbfs_file_mmap() sets on every mapping of a
 *  hugetlbfs file. */
export function is_vm_hugetlb_page(m: Model, vma: Vma): boolean {
  return vma.kind === 'file' && m.files[vma.file]?.hugetlbfs === true;
}

/** range_in_vma(). */
export function range_in_vma(vma: Vma, start: number, end: number): boolean {
  return vma.start <= start && end <= vma.end;
}

/** vma_shareable() (v5.10) / want_pmd_share() (v6.6): a VM_MAYSHARE hugetlb VMA that covers the
 *  whole PUD range around `addr`. */
export function want_pmd_share(m: Model, vma: Vma, addr: number): boolean {
  const base = addr - (addr % PUD_PAGES);
  return is_vm_hugetlb_page(m, vma) && vma.shared && range_in_vma(vma, base, base + PUD_PAGES);
}

/** page_table_shareable(): the address at which `svma` maps file page `idx` (which `vma` maps at
 *  `addr`) if the two may share a pmd table there: same pmd index within the PUD range, same flags
 *  (VM_LOCKED aside; here: hugetlb and VM_MAYSHARE), and `svma` covering the PUD range. */
export function page_table_shareable(m: Model, svma: Vma, vma: Vma, addr: number, idx: number): number | null {
  const saddr = idx - svma.pgoff + svma.start;
  const sbase = saddr - (saddr % PUD_PAGES);
  const sameFlags = svma.shared === vma.shared && is_vm_hugetlb_page(m, svma) === is_vm_hugetlb_page(m, vma);
  if (pmdTableIndex(pmdIndex(addr)) !== pmdTableIndex(pmdIndex(saddr)) || !sameFlags || !range_in_vma(svma, sbase, sbase + PUD_PAGES)) return null;
  return saddr;
}

/** huge_pte_offset() (v5.10) / hugetlb_walk() (v6.6) for a PMD-sized hstate: the pmd pointer for
 *  `addr` in `mm`, or null where the pud is not present. */
export function hugetlb_walk(c: Ctx, mm: Mm, addr: number): PmdPtr | null {
  return pmd_off(c, addr, mm);
}

/** The share count of a pmd table as v5.10–v6.12 keep it: the table page's refcount (one per pud
 *  that links it). 59d9094df3d7 (v6.13) moved it to ptdesc->pt_share_count (links - 1). */
export function pmd_share_count(m: Model, table: number): number {
  return frameOf(m, table).refcount;
}

/** The pud entry that links `addr`'s pmd table in `mm`: (pud table, index). */
function pudSlot(c: Ctx, mm: Mm, addr: number): { pud: { pfn: number; gen: number }; idx: number } | null {
  const pgdE = upperEntry(c, tableNow(c.m, mm.pgd), pgdIndex(addr), 'pgd');
  if (pgdE.t !== 'table') return null;
  return { pud: tableNow(c.m, pgdE.pfn), idx: pudIndex(addr) };
}

/** huge_pmd_share(): for a fault at `addr` in `vma` (whose pud is none), look in i_mmap for another
 *  VMA mapping the same file range whose pmd table can be shared, take a reference on it and link it
 *  from our pud; then pmd_alloc() (which allocates a table of our own if nothing was shared).
 *  v5.10: the caller holds i_mmap_rwsem for read (lockdep's i_mmap_assert_locked() is reported if
 *  not); the pud is populated under the shared table's pmd lock (huge_pte_lock(spte)).
 *  v6.2 and v6.6: i_mmap_rwsem is taken here for read; the pud is populated under
 *  mm->page_table_lock (read at v6.6; v6.2 is modelled the same, not checked). */
export function* huge_pmd_share(c: Ctx, vma: Vma, addr: number): Stepper<PmdPtr> {
  const m = c.m;
  const mm = m.mms[vma.mm]!;
  const mapping = m.files[vma.file]!;
  const v6 = eraAtLeast(m.sw, 'v6.2');
  const idx = linear_page_index(vma, addr);
  if (v6) yield* down_read(c, mapping.i_mmap_rwsem);
  else if (!mapping.i_mmap_rwsem.readers.includes(c.id) && mapping.i_mmap_rwsem.writer !== c.id) {
    m.events.push({ e: 'bug', msg: `huge_pmd_share(): i_mmap_assert_locked(${mapping.i_mmap_rwsem.name}) fails: the caller must hold it` });
  }
  let spte: PmdPtr | null = null;
  for (const svma of vma_interval_tree_foreach(m.files, vma.file, idx)) {
    if (svma === vma) continue;
    const saddr = page_table_shareable(m, svma, vma, addr, idx);
    if (saddr === null) continue;
    spte = hugetlb_walk(c, m.mms[svma.mm]!, saddr);
    if (spte) break;
  }
  if (spte) get_page(c, spte.table);
  yield step(spte
    ? `huge_pmd_share(): vma_interval_tree_foreach(): page_table_shareable(); ${v6 ? 'hugetlb_walk' : 'huge_pte_offset'}(mm${spte.mm}) → pmd table ${spte.table}; get_page(${spte.table})`
    : 'huge_pmd_share(): vma_interval_tree_foreach(): no table to share');
  if (spte) {
    const ptl = v6 ? mm.page_table_lock : pmd_lockptr(m, spte);
    if (v6) yield* spin_lock(c, ptl);
    else yield* pmd_lock(c, spte);
    const slot = pudSlot(c, mm, addr);
    const linked = slot !== null && upperEntry(c, slot.pud, slot.idx, 'pud').t === 'none';
    if (linked) {
      upperStore(c, slot.pud, slot.idx, 'pud', { t: 'table', pfn: spte.table }, 'pud_populate');
      mm_inc_nr_pmds(c, mm);
    } else {
      put_page(m, spte.table);
    }
    spin_unlock(c, ptl);
    yield step(linked
      ? `huge_pmd_share(): pud_populate(${spte.table}); mm_inc_nr_pmds(); spin_unlock(${ptl.name})`
      : `huge_pmd_share(): pud populated meanwhile: put_page(${spte.table}); spin_unlock(${ptl.name})`);
  }
  const pte = yield* pmd_alloc(c, addr, mm);
  if (v6) {
    up_read(c, mapping.i_mmap_rwsem);
    yield step(`huge_pmd_share(): pmd_alloc(); i_mmap_unlock_read(${mapping.i_mmap_rwsem.name})`);
  }
  return pte;
}

export interface UnshareOpts {
  /** 1013af4f585f (after both eras): tlb_remove_table_sync_one() between pud_clear() and put_page(),
   *  so that no GUP-fast still walks the table when another mm may take it over. */
  readonly gupFastSync?: boolean;
}

/** huge_pmd_unshare(): if the pmd table `ptep` points into is shared (its refcount above 1), unlink
 *  it from `mm`'s pud and drop our reference. Returns whether it did. The caller holds
 *  huge_pte_lock(ptep) (the table's pmd lock) and i_mmap_rwsem for write (reported as lockdep's
 *  i_mmap_assert_write_locked() if not) and, from v6.1, the hugetlb vma_lock (not modelled); it
 *  flushes the PUD range before it drops i_mmap_rwsem. No flush here. */
export function* huge_pmd_unshare(c: Ctx, mm: Mm, vma: Vma, addr: number, ptep: PmdPtr, opts: UnshareOpts = {}): Stepper<boolean> {
  const m = c.m;
  const sem = m.files[vma.file]?.i_mmap_rwsem;
  if (sem && sem.writer !== c.id) m.events.push({ e: 'bug', msg: `huge_pmd_unshare(): i_mmap_assert_write_locked(${sem.name}) fails` });
  const count = pmd_share_count(m, ptep.table);
  if (count === 0) {
    m.events.push({ e: 'bug', msg: `huge_pmd_unshare(): BUG_ON(page_count(virt_to_page(ptep)) == 0): pmd table ${ptep.table}` });
  }
  if (count <= 1) {
    yield step(`huge_pmd_unshare(): page_count(${ptep.table}) == ${count}: not shared`);
    return false;
  }
  const slot = pudSlot(c, mm, addr);
  if (slot) upperStore(c, slot.pud, slot.idx, 'pud', { t: 'none' }, 'pud_clear');
  yield step(`huge_pmd_unshare(): page_count(${ptep.table}) == ${count}: pud_clear(pud)`);
  if (opts.gupFastSync) yield* tlb_remove_table_sync_one(c);
  put_page(m, ptep.table);
  mm_dec_nr_pmds(c, mm);
  yield step(`huge_pmd_unshare(): put_page(${ptep.table}); mm_dec_nr_pmds()`);
  return true;
}

/** hugetlb_unshare_pmds() (v6.6; v5.13+ as hugetlb_unshare_all_pmds(), absent at v5.10): unshare
 *  every shared pmd table of `vma` in the PUD-aligned [start, end), then flush_hugetlb_tlb_range()
 *  (flush_tlb_range() on x86 and arm64, freed_tables clear) before i_mmap_rwsem is dropped. The
 *  hugetlb vma_lock the kernel takes for write around it is not modelled. */
export function* hugetlb_unshare_pmds(c: Ctx, vma: Vma, start: number, end: number, opts: UnshareOpts = {}): ActorGen {
  const m = c.m;
  if (!vma.shared || start >= end) return;
  const mm = m.mms[vma.mm]!;
  const sem = m.files[vma.file]!.i_mmap_rwsem;
  const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, start, end);
  yield* mmu_notifier_invalidate_range_start(c, range);
  yield* down_write(c, sem);
  for (let a = start; a < end; a += PUD_PAGES) {
    const ptep = hugetlb_walk(c, mm, a);
    if (!ptep) continue;
    const ptl = pmd_lockptr(m, ptep);
    yield* pmd_lock(c, ptep);
    yield* huge_pmd_unshare(c, mm, vma, a, ptep, opts);
    spin_unlock(c, ptl);
    yield step(`hugetlb_unshare_pmds(): spin_unlock(${ptl.name})`);
  }
  yield* flush_tlb_range(c, 'hugetlb_unshare_pmds(): flush_hugetlb_tlb_range()', { mm: mm.id, start, end });
  up_write(c, sem);
  yield step(`hugetlb_unshare_pmds(): i_mmap_unlock_write(${sem.name})`);
  yield* mmu_notifier_invalidate_range_end(c, range);
}

/** The pmd-table links of a world: for each pmd table, the (mm, address) of every pud entry that
 *  links it. What checkWorld() and the tests judge sharing by. */
export function worldPmdLinks(w: World): Map<number, { mm: number; addr: number }[]> {
  const byPfn = new Map(w.frames.map((f) => [f.pfn, f]));
  const links = new Map<number, { mm: number; addr: number }[]>();
  w.mms.forEach((wm, mm) => {
    (byPfn.get(wm.pgd)?.entries ?? []).forEach((ge: PmdEntry, gi) => {
      if (ge.t !== 'table') return;
      (byPfn.get(ge.pfn)?.entries ?? []).forEach((pe: PmdEntry, pi) => {
        if (pe.t !== 'table' || byPfn.get(pe.pfn)?.kind !== 'pmd-table') return;
        const l = links.get(pe.pfn) ?? [];
        l.push({ mm, addr: gi * PGDIR_PAGES + pi * PUD_PAGES });
        links.set(pe.pfn, l);
      });
    });
  });
  return links;
}

/** Why a pmd table linked from more than one pud entry may not be shared so, or null. The rule
 *  (what huge_pmd_share() can have built): every link is at a PUD range that a VM_MAYSHARE VMA of a
 *  hugetlbfs file covers whole, all of them mapping the same file at the same offset; the table holds
 *  only none or huge entries and no deposited table; its refcount is its share count, the number of
 *  links. Two VMAs of one mm may share a table too (page_table_shareable() skips only svma == vma). */
export function badSharedPmdTable(w: World, pfn: number, links: readonly { mm: number; addr: number }[]): string | null {
  const f = w.frames.find((x) => x.pfn === pfn);
  if (!f) return `pmd table ${pfn} is not a frame`;
  if (f.refcount !== links.length) return `pmd table ${pfn} is linked from ${links.length} pud entries but has refcount ${f.refcount}: a shared table's refcount is its share count`;
  let offset: { file: number; pgoff: number } | null = null;
  for (const l of links) {
    const vma = w.mms[l.mm]?.vmas.find((v) => v.start <= l.addr && l.addr + PUD_PAGES <= v.end);
    const file = vma?.file;
    if (!vma || vma.kind !== 'file' || file === undefined || w.files[file]?.hugetlbfs !== true || vma.shared !== true) {
      return `pmd table ${pfn} is linked from mm ${l.mm} at ${l.addr}, where no VM_SHARED hugetlbfs VMA covers the PUD range: only hugetlb PMD sharing links a table twice`;
    }
    const pgoff = (vma.pgoff ?? vma.start) + (l.addr - vma.start);
    if (offset && (offset.file !== file || offset.pgoff !== pgoff)) return `pmd table ${pfn} is linked at ranges that map different file pages: huge_pmd_share() shares only the same file range`;
    offset = { file, pgoff };
  }
  if ((f.ptes?.length ?? 0) > 0 || (f.deposited ?? []).some((d) => d !== 0)) return `shared pmd table ${pfn} holds ptes or a deposited table`;
  if ((f.entries ?? []).some((e) => e.t !== 'none' && e.t !== 'huge')) return `shared pmd table ${pfn} holds an entry that is not none or huge: a hugetlb pmd table maps huge pages only`;
  return null;
}

const HP = (pfn: number): PmdEntry => ({ t: 'huge', pfn, writable: true });

/** Two mms mapping one hugetlbfs file with VM_SHARED at [16, 48) (file pages 0..31, huge indices
 *  0..7), two PUD ranges:
 *   [16, 32)  pmd table 5, shared by both (refcount 2): huge pages 7, 8 at 16 and 20 (indices 0, 1)
 *   [32, 48)  mm 0 only: pmd table 6 maps huge page 9 at 32 (index 4); mm 1's pud is none, so a
 *             fault there would share table 6 (huge_pmd_share)
 *  Huge page 10 is in the page cache at index 2 and mapped nowhere.
 *  hugetlb pages count in no rss (hugetlb_count_add(), not MM_FILEPAGES). */
export const HUGETLB_SHARED_WORLD: World = {
  name: 'hugetlb-shared',
  summary: 'two mms map a hugetlbfs file at [16,48): one pmd table shared by both, one only in mm 0',
  nrFrames: 24,
  frames: [
    { pfn: 0, kind: 'reserved', refcount: 1 },
    { pfn: 1, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 2 }] },
    { pfn: 2, kind: 'pud-table', refcount: 1, entries: [{ t: 'none' }, { t: 'table', pfn: 5 }, { t: 'table', pfn: 6 }] },
    { pfn: 3, kind: 'pgd', refcount: 1, entries: [{ t: 'table', pfn: 4 }] },
    { pfn: 4, kind: 'pud-table', refcount: 1, entries: [{ t: 'none' }, { t: 'table', pfn: 5 }] },
    { pfn: 5, kind: 'pmd-table', refcount: 2, entries: [HP(7), HP(8)] },
    { pfn: 6, kind: 'pmd-table', refcount: 1, entries: [HP(9)] },
    { pfn: 7, kind: 'huge', refcount: 2, mapping: 0 },
    { pfn: 8, kind: 'huge', refcount: 2, mapping: 0 },
    { pfn: 9, kind: 'huge', refcount: 2, mapping: 0 },
    { pfn: 10, kind: 'huge', refcount: 1, mapping: 0 },
  ],
  files: [{ name: 'hugetlbfs', hpage: [7, 8, 10, 0, 9, 0, 0, 0], hugetlbfs: true }],
  mms: [
    { pgd: 1, vmas: [{ start: 16, end: 48, kind: 'file', file: 0, pgoff: 0, shared: true, anon_vma: false }] },
    { pgd: 3, vmas: [{ start: 16, end: 48, kind: 'file', file: 0, pgoff: 0, shared: true, anon_vma: false }] },
  ],
};
