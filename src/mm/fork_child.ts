// A fork's child mm, and when its threads may run (kernel/fork.c, v5.8–v6.6).
//
// _do_fork() (v5.8; kernel_clone() from v5.10) → copy_process() → copy_mm() → dup_mm(): mm_init()
// makes the child's mm (mm_users = 1, held by the new task; an empty mm_cpumask), and dup_mmap()
// copies the VMAs and page tables into it. The new task is TASK_NEW until copy_process() has
// returned and its caller calls wake_up_new_task(p); only then can it be scheduled, switch_mm() onto
// the child mm (which puts its CPU in mm_cpumask), and clone() further threads of it. Nor can
// another task reach the child mm before then: attach_pid() at the end of copy_process() is what
// makes the child findable (get_task_mm() through /proc, ptrace, process_vm_*). So no user thread
// of the child (and no CPU running or lazily borrowing it) takes a step while fork runs.
//
// What does reach the child while dup_mmap() runs, and stays unrestricted here: the rmap, since
// dup_mmap() links each child VMA into the parent's anon_vma (anon_vma_fork()) and the file's
// i_mmap (vma_interval_tree_insert_after(tmp, mpnt)) before copy_page_range() copies its tables
// (v5.8: then __vma_link_rb(), mm->map_count++, copy_page_range(mm, oldmm, mpnt); v6.6: then
// vma_iter_bulk_store(), mm->map_count++, copy_page_range(tmp, mpnt)); and khugepaged, which
// khugepaged_fork() at the head of dup_mmap() lets scan the child, under its mmap_lock (held for
// write by dup_mmap() until it ends). Those are kernel threads in the model (inMm false).
//
// The rule. An actor that forks (ActorDef.forks) is given, when the scenario is built, its child:
// the first mm of the world, other than its own, that has no VMA and an empty pgd (the world's
// stand-in for mm_alloc()) and that no earlier forking actor of the scenario took. Every other
// actor whose CPU is in that mm (inMm, or lazyTlb) waits in wake_up_new_task() until the fork has
// returned, and enters mm_cpumask at its first step after; the wait comes before anything else the
// thread does (a core dump's zap, its mmput() at exit). A forking actor that gets no child fails as
// dup_mm() does (-ENOMEM), and nothing waits for it; one that ends without forking (a core dump of
// its own mm zapped it before its syscall) leaves a child that never existed: its threads end
// without a step.

import type { ActorDef } from './actor.js';
import { blockUntil, type ActorGen, type Ctx } from './step.js';
import type { World } from './world/types.js';

/** The world's mm `id` has nothing in it: no VMA, and a pgd with no entry. */
function emptyMm(world: World, id: number): boolean {
  const wm = world.mms[id];
  if (!wm || wm.vmas.length > 0) return false;
  const pgd = world.frames.find((f) => f.pfn === wm.pgd);
  return (pgd?.entries ?? []).every((e) => e.t === 'none');
}

/** An actor whose CPU runs in its mm: a user thread, the hardware walker, a vCPU, or a kernel
 *  thread that borrowed the mm lazily (it ran a thread of the mm just before). */
export function runsInMm(def: ActorDef): boolean {
  return def.inMm || def.lazyTlb === true;
}

/** Per mm of the world, the index of the actor whose fork makes it (-1: none): forking actors in
 *  scenario order, each taking the first empty mm other than its own that is not taken yet. */
export function forkChildren(world: World, actors: readonly { readonly def: ActorDef; readonly mm: number }[]): number[] {
  const by = world.mms.map(() => -1);
  actors.forEach((a, i) => {
    if (a.def.forks !== true) return;
    const child = world.mms.findIndex((_, id) => id !== a.mm && by[id] === -1 && emptyMm(world, id));
    if (child >= 0) by[child] = i;
  });
  return by;
}

/** The child mm the scenario gave the forking actor `c`, if any. */
export function forkChildOf(c: Ctx): Ctx['mm'] | undefined {
  return c.m.mms.find((mm) => c.m.setup[mm.id]?.forkedBy === c.id);
}

/** The forking actor's body (dup_mmap() and all), then, as copy_process() returns,
 *  wake_up_new_task() for the child's thread. No step of its own: the body's last is fork's. */
export function* forkThenWake(c: Ctx, body: ActorGen): ActorGen {
  yield* body;
  const child = forkChildOf(c);
  if (child) child.newTask = false;
}

/** Around everything the forking actor's thread does: if it ends without having forked (zapped by
 *  a core dump before its syscall began, or never woken itself), its child never existed. */
export function* forkerExits(c: Ctx, run: ActorGen): ActorGen {
  yield* run;
  const child = forkChildOf(c);
  if (child?.newTask) {
    child.newTask = false;
    child.noTask = true;
  }
}

/** Around everything a thread of a fork's child does: TASK_NEW until the fork returns, then
 *  scheduled for the first time, which switch_mm()s its CPU into the child's mm_cpumask. If the
 *  fork never happened, the thread never existed. */
export function* wakeThenRun(c: Ctx, run: ActorGen): ActorGen {
  const mm = c.mm;
  if (mm.newTask) yield* blockUntil('wake_up_new_task(): a thread of the child runs only once fork has returned', () => !mm.newTask);
  if (mm.noTask) return;
  mm.cpumask[c.cpu.id] = true;
  yield* run;
}
