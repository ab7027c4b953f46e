// The last thread of a process exits: do_exit() → exit_mm() → mmput() → __mmput() → exit_mmap().
//
// Follows kernel/exit.c exit_mm(), kernel/fork.c mmput()/__mmput(), mm/khugepaged.c
// __khugepaged_exit() and mm/mmap.c exit_mmap():
//   v5.8–v5.16  exit_mmap() takes no mmap_lock at all (unmap_vmas and free_pgtables unlocked);
//   v5.17       64591e8605d6 takes mmap_write_lock over the whole teardown;
//   v6.0+       bf3980c85212: mmap_read_lock for unmap_vmas, mmap_write_lock for free_pgtables.
// The model's eras v5.8/v5.10 are the unlocked form, v6.2/v6.6 the read-then-write form.

import type { ActorDef } from '../actor.js';
import { TASK_PAGES } from '../entries.js';

const FIRST_USER_ADDRESS = 0;
/** 0: the top of the address space (free_pgd_range()'s ceiling). */
const USER_PGTABLES_CEILING = 0;
import { down_read, down_write, up_read, up_write } from '../locks.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { eraAtLeast } from '../switches.js';
import { tlb_finish_mmu, tlb_gather_mmu } from '../tlbflush.js';
import { free_pgtables, unmap_vmas } from '../zap.js';
import { mmu_notifier_release } from '../mmu_notifier.js';
import { traceOnly } from '../events.js';

/** mmput(): drop this thread's mm_users reference; the one that drops the last tears the mm down
 *  (__mmput). If khugepaged's scan cursor is on this mm, __khugepaged_exit() waits for khugepaged by
 *  taking and dropping mmap_lock for write. */
export function* mmput(c: Ctx): ActorGen {
  const mm = c.mm;
  const last = --mm.mm_users === 0;
  if (traceOnly(c.m)) c.m.events.push({ e: 'mm-users', mm: mm.id, now: mm.mm_users });
  yield step('mmput(): atomic_dec_and_test(&mm->mm_users)');
  if (!last) return;
  mm.exiting = true;
  if (mm.khugepaged_scanning) {
    yield* down_write(c, mm.mmap_lock);
    up_write(c, mm.mmap_lock);
    yield step('__mmput(): __khugepaged_exit(): mmap_write_unlock(mm)');
  }
  yield* call(exit_mmap(c));
}

/** exit_mmap(): unmap every VMA, free the page tables, free the VMAs. */
export function* exit_mmap(c: Ctx): ActorGen {
  const m = c.m;
  const mm = c.mm;
  const locked = eraAtLeast(m.sw, 'v6.2');
  const vmas = mm.vmas.filter((v) => !v.detached);
  // "mm's last user has gone, and its about to be pulled down": mmu_notifier_release(mm), the first
  // thing exit_mmap() does (v5.8–v6.6), before any lock: ->release() of each subscriber.
  yield* mmu_notifier_release(c, mm);
  if (locked) yield* down_read(c, mm.mmap_lock);
  const tlb = tlb_gather_mmu(mm, true);
  // unmap_vmas(&tlb, vma, 0, -1) (v6.6: 0, ULONG_MAX): its notifier range is the whole address space.
  yield* call(unmap_vmas(c, tlb, vmas, 0, TASK_PAGES));
  if (locked) {
    up_read(c, mm.mmap_lock);
    yield step('exit_mmap(): mmap_read_unlock(mm); set_bit(MMF_OOM_SKIP)');
    yield* down_write(c, mm.mmap_lock);
  }
  yield* call(free_pgtables(c, tlb, vmas, FIRST_USER_ADDRESS, USER_PGTABLES_CEILING));
  yield* tlb_finish_mmu(c, tlb);
  for (const v of vmas) v.detached = true;
  m.events.push({ e: 'zap-done', mm: mm.id, start: 0, end: TASK_PAGES });
  if (locked) up_write(c, mm.mmap_lock);
  yield step(`exit_mmap(): remove_vma()${locked ? '; mmap_write_unlock(mm)' : ''}`);
}

export const exit_mmap_actor: ActorDef = {
  name: 'exit_mmap',
  summary: 'the last thread exits: exit_mm(), mmput(), and exit_mmap() if it held the last mm_users reference',
  follows: 'kernel/exit.c exit_mm(), kernel/fork.c mmput(), mm/khugepaged.c __khugepaged_exit(), mm/mmap.c exit_mmap(); v5.8–v5.16 unlocked, v6.0+ read then write mmap_lock',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'scanned', min: 0, max: 1, default: 0, doc: "1 if khugepaged's scan cursor is on this mm (__khugepaged_exit() then waits for mmap_lock); implied by collapse_huge_page and collapse_pte_mapped_thp" }],
  // `scanned` is a fact of the mm, which buildScenario() reads (Mm.khugepaged_scanning).
  *run(c) {
    const mm = c.mm;
    // exit_mm(): mmap_read_lock(mm); ... current->mm = NULL; mmap_read_unlock(mm);
    yield* down_read(c, mm.mmap_lock);
    up_read(c, mm.mmap_lock);
    yield step('exit_mm(): current->mm = NULL; mmap_read_unlock(mm)');
    yield* call(mmput(c));
  },
};
