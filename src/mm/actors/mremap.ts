// mremap(2) of the start of one VMA to a fixed address (MREMAP_MAYMOVE | MREMAP_FIXED, same length):
// mremap() → mremap_to() → move_vma() → copy_vma(), move_page_tables() (mm/mremap.ts), then
// do_munmap() of the old range, all under mmap_lock for write.
//
//   v5.10 mm/mremap.c (Rtoax/linux-5.10.13) mremap(): mmap_write_lock_killable(); mremap_to():
//         do_munmap() of the target, vma_to_resize(), move_vma(): copy_vma(&vma, new_addr, new_len,
//         new_pgoff, &need_rmap_locks), move_page_tables(), do_munmap(mm, old_addr, old_len)
//         (→ __do_munmap(..., downgrade = false): split, detach_vmas_to_be_unmapped(),
//         unmap_region()); mmap_write_unlock(). v5.8 and v6.2 alike.
//   v6.6 mm/mremap.c move_vma(): vma_start_write(vma) before copy_vma() (per-VMA locks, v6.4);
//         do_vmi_munmap(&vmi, mm, old_addr, old_len, uf_unmap, false): no downgrade either.
//
// Departures: the destination must be free (MREMAP_FIXED's do_munmap() of an occupied target is not
// modelled: the call fails instead, before any change); only the start of a VMA moves (the old
// range needs at most the split at its end); a move that would split a huge pmd
// (split_huge_pmd()) fails before any change; no accounting (VM_ACCOUNT, locked_vm, hiwater),
// KSM, userfaultfd or vm_ops->mremap. copy_vma() never merges, so need_rmap_locks is false.

import type { ActorDef } from '../actor.js';
import { PMD_PAGES, pmd_trans_huge } from '../entries.js';
import { move_page_tables, get_extent } from '../mremap.js';
import { down_write } from '../locks.js';
import { pmd_off, pmdEntryAt } from '../pgtable.js';
import { call, type Ctx, step } from '../step.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../tlbflush.js';
import type { Mm, Vma } from '../types.js';
import { __split_vma, copy_vma, detach_vmas_to_be_unmapped } from '../vma.js';
import { mmap_write_unlock, vma_start_write } from '../vma_lock.js';
import { free_pgtables, pgtablesBounds, unmap_vmas } from '../zap.js';
import { assert_unmapped } from '../bug.js';

/** The address space mremap destinations may use (pgd entry 0: its pud table is always there). */
const MAX_TO = 47;

/** Would moving [old, old + len) to `to` meet a huge pmd in a chunk shorter than a pmd (the
 *  split_huge_pmd() the model leaves out)? Read under mmap_lock for write: huge pmds are made and
 *  split only under mmap_lock, so this is what move_page_tables() will find. */
function needsSplit(c: Ctx, mm: Mm, old: number, len: number, to: number): boolean {
  for (let o = old, n = to, ext = 0; o < old + len; o += ext, n += ext) {
    ext = get_extent(PMD_PAGES, o, old + len, n);
    const pmd = pmd_off(c, o, mm);
    if (ext !== PMD_PAGES && pmd && pmd_trans_huge(c.m.arch, pmdEntryAt(c.m, pmd))) return true;
  }
  return false;
}

/** do_munmap(mm, old_addr, old_len) as move_vma() calls it, for the range at the start of `vma`:
 *  split it at the end of the range if need be, detach, unmap_region() (unmap_vmas(),
 *  free_pgtables(), tlb_finish_mmu()), under mmap_lock for write throughout. */
function* do_munmap(c: Ctx, mm: Mm, vma: Vma, len: number) {
  const start = vma.start;
  let gone = vma;
  if (start + len < vma.end) {
    const lower = yield* __split_vma(c, vma, start + len, true);
    if (!lower) return;
    gone = lower;
  }
  yield* detach_vmas_to_be_unmapped(c, mm, [gone]);
  const tlb = tlb_gather_mmu(mm, false);
  yield* call(unmap_vmas(c, tlb, [gone]));
  const { floor, ceiling } = pgtablesBounds(mm.vmas, [gone]);
  yield* call(free_pgtables(c, tlb, [gone], floor, ceiling));
  yield* tlb_finish_mmu(c, tlb);
  assert_unmapped(c, start, start + len, mm);
}

export const mremap: ActorDef = {
  name: 'mremap',
  summary: 'mremap() of a VMA\'s start to a free address: copy_vma(), move_page_tables() (move_normal_pud/pmd, move_ptes), do_munmap() of the old range',
  follows: 'mm/mremap.c mremap() → mremap_to() → move_vma() → move_page_tables(), move_normal_pmd() (2c91bd4a4e2e), move_normal_pud() (c49dd3401802, v6.2+), move_ptes(); v5.10 and v6.6 (v5.8 as v5.10; v6.2 as v6.6 without a5be621ee292)',
  inMm: true,
  daemon: 'no',
  params: [
    { name: 'vma', min: 0, max: 2, default: 1, doc: 'which VMA of the mm, by index (default world: 0 anon [0,8), 1 file [8,16); world mremap: 0 anon [0,4), 1 file [8,16), 2 anon [32,48))' },
    { name: 'to', min: 0, max: MAX_TO, default: 16, doc: 'the new address (page index); it must be free: a pmd-aligned one with whole pmds to move reaches move_normal_pmd(), a pud-aligned one move_normal_pud() (v6.2+)' },
    { name: 'pages', min: 0, max: 16, default: 0, doc: 'how many pages from the VMA\'s start to move (0: all of it)' },
  ],
  *run(c, args) {
    const mm = c.mm;
    yield* down_write(c, mm.mmap_lock);                        // mmap_write_lock_killable(current->mm)
    const vma = mm.vmas.filter((v) => !v.detached)[args['vma'] ?? 1];
    const to = args['to'] ?? 16;
    const len = vma ? Math.min(vma.end - vma.start, (args['pages'] ?? 0) || vma.end - vma.start) : 0;
    const old = vma ? vma.start : 0;
    const fail = function* (why: string) {
      mmap_write_unlock(c, mm);
      yield step(`mremap(): ${why}: mmap_write_unlock(mm)`);
    };
    if (!vma) return yield* fail('vma_lookup(): no VMA: -EFAULT');
    // mremap_to(): "Ensure the old/new locations do not overlap".
    if (to + len > old && old + len > to) return yield* fail('old and new ranges overlap: -EINVAL');
    if (mm.vmas.some((v) => !v.detached && v.start < to + len && to < v.end)) return yield* fail('the target is mapped (MREMAP_FIXED\'s do_munmap() of it is not modelled)');
    if (needsSplit(c, mm, old, len, to)) return yield* fail('the move would split a huge pmd (split_huge_pmd() is not modelled)');
    // move_vma()
    yield* vma_start_write(c, vma);                             // v6.6 (no-op before v6.4)
    const newVma = yield* call(copy_vma(c, vma, to, len, vma.pgoff));
    if (!newVma) return yield* fail('copy_vma() failed: -ENOMEM');
    yield* call(move_page_tables(c, vma, old, newVma, to, len, false));
    yield* call(do_munmap(c, mm, vma, len));
    mmap_write_unlock(c, mm);
    yield step(`mremap(${old}, ${len}, ${to}) done: mmap_write_unlock(mm)`);
  },
};
