// munmap(2) of one VMA: __do_munmap() (v5.8–v6.2) / do_vmi_align_munmap() (v6.6).
//
// mmap_write_lock, detach the VMA, mmap_write_downgrade (dd2283f2605e), then unmap_region():
// tlb_gather_mmu, unmap_vmas, free_pgtables, tlb_finish_mmu; mmap_read_unlock.

import type { ActorDef } from '../actor.js';
import { down_write, up_read, up_write } from '../locks.js';
import { mmap_write_downgrade, vma_start_write_folded } from '../vma_lock.js';
import { call, step } from '../step.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../tlbflush.js';
import { free_pgtables, pgtablesBounds, unmap_vmas } from '../zap.js';

export const munmap: ActorDef = {
  name: 'munmap',
  summary: 'munmap() of one VMA: detach under mmap_lock write, downgrade, zap, free_pgtables through mmu_gather',
  follows: 'mm/mmap.c __do_munmap() + unmap_region() (v5.8–v6.2), do_vmi_align_munmap() (v6.6)',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'vma', min: 0, max: 1, default: 0, doc: 'which VMA of the mm, by index (default world: 0 anon [0,8), 1 file [8,16))' }],
  *run(c, args) {
    const mm = c.mm;
    yield* down_write(c, mm.mmap_lock);
    const vma = mm.vmas[args['vma'] ?? 0];
    if (!vma || vma.detached) {
      up_write(c, mm.mmap_lock);
      yield step('__do_munmap(): no VMA: mmap_write_unlock(mm)');
      return;
    }
    // v6.6: vma_start_write() in do_vmi_align_munmap()'s loop waits out faults under the VMA lock.
    yield* vma_start_write_folded(c, vma);
    vma.detached = true;
    mmap_write_downgrade(c, mm);
    yield step('__do_munmap(): detach_vmas_to_be_unmapped(); mmap_write_downgrade(mm)');
    const tlb = tlb_gather_mmu(mm, false);
    yield* call(unmap_vmas(c, tlb, [vma]));
    const { floor, ceiling } = pgtablesBounds(mm.vmas, [vma]);
    yield* call(free_pgtables(c, tlb, [vma], floor, ceiling));
    yield* tlb_finish_mmu(c, tlb);
    c.m.events.push({ e: 'zap-done', mm: mm.id, start: vma.start, end: vma.end });
    up_read(c, mm.mmap_lock);
    yield step('unmap_region() done: mmap_read_unlock(mm)');
  },
};
