// The mmap_lock rules a VMA change obeys, and per-VMA locks: include/linux/mmap_lock.h and
// include/linux/mm.h at v6.6 (per-VMA locks came in v6.4, CONFIG_PER_VMA_LOCK), and
// lock_vma_under_rcu() of mm/memory.c at v6.6.
//
// The scheme: each VMA has a sequence number vm_lock_seq and an rwsem vm_lock; the mm has
// mm_lock_seq. A writer holding mmap_lock for write marks a VMA write-locked with vma_start_write():
// it takes vm_lock for write (waiting out readers) and sets vm_lock_seq = mm_lock_seq. Every such
// mark ends at once when mmap_write_unlock() (or mmap_write_downgrade()) bumps mm_lock_seq
// (vma_end_write_all()). A page fault reads a VMA without mmap_lock: vma_start_read() fails if
// the VMA is write-locked (vm_lock_seq == mm_lock_seq), or its down_read_trylock(vm_lock) fails,
// or the VMA was write-locked between the two (the check again under vm_lock).
//
// Eras: the model's eras before v6.6 have no per-VMA locks. There vma_start_write() does nothing,
// vma_start_read() and lock_vma_under_rcu() fail at once (so a caller falls back to mmap_lock, as
// every fault did then), and mmap_write_unlock() leaves mm_lock_seq alone.
//
// The built-in actors drop mmap_lock with locks.ts's up_write()/downgrade_write(), which do not
// bump mm_lock_seq; they do not use these helpers yet (another issue converts them). An actor that
// write-locks VMAs must drop mmap_lock with mmap_write_unlock() / mmap_write_downgrade() from here.
//
// Departures: rwsem waiters are not modelled (locks.ts), so a reader's trylock of vm_lock succeeds
// even while a vma_start_write() waits for it, where the kernel's fails; that can starve a writer
// but never lets a reader in that the kernel would keep out. The model's `detached` is both the
// kernel's vma->detached and "no longer in the VMA tree"; the kernel sets the two apart, under the
// VMA write lock, which no reader can see between.

import { rcu_read_lock, rcu_read_unlock } from './cpu.js';
import { down_read_trylock, down_write, downgrade_write, up_read, up_write } from './locks.js';
import type { Stepper } from './pgtable.js';
import { blockUntil, step, type ActorGen, type Ctx } from './step.js';
import { eraAtLeast, type Switches } from './switches.js';
import { NOBODY, type Mm, type Vma } from './types.js';

/** Does the era have per-VMA locks (CONFIG_PER_VMA_LOCK, v6.4+)? In the model: v6.6. */
export function hasPerVmaLocks(sw: Switches): boolean {
  return eraAtLeast(sw, 'v6.6');
}

/** mmap_assert_write_locked() (include/linux/mmap_lock.h, v5.8+): lockdep's "held for write by
 *  this task" and VM_BUG_ON_MM(). Reported as a kernel bug when `c` does not hold `mm`'s mmap_lock
 *  for write. Every primitive that changes a VMA calls it first: at v6.6 the kernel does so through
 *  vma_start_write(); before, "the entire update must be protected by exclusive mmap_sem" was a
 *  rule (mm/mmap.c) that lockdep did not check at each change, and the model checks it for you. */
export function mmap_assert_write_locked(c: Ctx, mm: Mm, where: string): void {
  if (mm.mmap_lock.writer !== c.id) {
    c.m.events.push({ e: 'vma-unlocked', mm: mm.id, where, msg: `mmap_assert_write_locked(${mm.mmap_lock.name}) in ${where}: ${c.name} does not hold it for write` });
  }
}

/** mmap_write_lock(). */
export function* mmap_write_lock(c: Ctx, mm: Mm): ActorGen {
  yield* down_write(c, mm.mmap_lock);
}

/** vma_end_write_all() (include/linux/mmap_lock.h, v6.4+): mm_lock_seq++, which ends the write
 *  lock of every VMA write-locked under this mmap_lock. */
export function vma_end_write_all(c: Ctx, mm: Mm): void {
  mmap_assert_write_locked(c, mm, 'vma_end_write_all()');
  mm.mm_lock_seq++;
}

/** mmap_write_unlock(): vma_end_write_all() where the era has per-VMA locks, then up_write(). Like
 *  up_write(), not a step of its own: the caller's next step includes it. */
export function mmap_write_unlock(c: Ctx, mm: Mm): void {
  if (hasPerVmaLocks(c.m.sw)) vma_end_write_all(c, mm);
  up_write(c, mm.mmap_lock);
}

/** mmap_write_downgrade(): vma_end_write_all() where the era has per-VMA locks, then
 *  downgrade_write(). */
export function mmap_write_downgrade(c: Ctx, mm: Mm): void {
  if (hasPerVmaLocks(c.m.sw)) vma_end_write_all(c, mm);
  downgrade_write(c, mm.mmap_lock);
}

function mmOf(c: Ctx, vma: Vma): Mm {
  const mm = c.m.mms[vma.mm];
  if (!mm) throw new Error(`vma ${vma.id} names mm ${vma.mm}, which the world lacks`);
  return mm;
}

/** vma_start_read() (include/linux/mm.h, v6.6): read-lock a VMA without mmap_lock. Two steps: the
 *  lockless check of vm_lock_seq against mm_lock_seq, then down_read_trylock(vm_lock) and the same
 *  check again under it (a writer may have come and gone between the two). False if it failed; the
 *  caller falls back to mmap_lock. Fails at once at an era without per-VMA locks. */
export function* vma_start_read(c: Ctx, vma: Vma): Stepper<boolean> {
  if (!hasPerVmaLocks(c.m.sw)) return false;
  const mm = mmOf(c, vma);
  const at = `vma_start_read(vma ${vma.id})`;
  if (vma.vm_lock_seq === mm.mm_lock_seq) {
    yield step(`${at}: vm_lock_seq == mm_lock_seq (${mm.mm_lock_seq}): write-locked, fail`);
    return false;
  }
  yield step(`${at}: READ_ONCE(vm_lock_seq) != mm_lock_seq`);
  if (!down_read_trylock(c, vma.vm_lock)) {
    yield step(`${at}: down_read_trylock(${vma.vm_lock.name}) failed`);
    return false;
  }
  if (vma.vm_lock_seq === mm.mm_lock_seq) {
    up_read(c, vma.vm_lock);
    yield step(`${at}: down_read_trylock(${vma.vm_lock.name}); vm_lock_seq == mm_lock_seq now: up_read(), fail`);
    return false;
  }
  yield step(`${at}: down_read_trylock(${vma.vm_lock.name}); vm_lock_seq still != mm_lock_seq`);
  return true;
}

/** vma_end_read(): up_read(vm_lock). Not a step of its own. */
export function vma_end_read(c: Ctx, vma: Vma): void {
  up_read(c, vma.vm_lock);
}

/** vma_start_write() (include/linux/mm.h, v6.6): under mmap_lock for write, mark the VMA
 *  write-locked until mmap_write_unlock(): nothing if it already is (__is_vma_write_locked(), which
 *  asserts mmap_lock), else down_write(vm_lock) to wait out its readers (one step), then
 *  vm_lock_seq = mm_lock_seq and up_write (another). Nothing at an era without per-VMA locks. */
export function* vma_start_write(c: Ctx, vma: Vma): ActorGen {
  if (!hasPerVmaLocks(c.m.sw)) return;
  const mm = mmOf(c, vma);
  mmap_assert_write_locked(c, mm, `vma_start_write(vma ${vma.id})`);
  const seq = mm.mm_lock_seq;
  if (vma.vm_lock_seq === seq) return;
  yield* down_write(c, vma.vm_lock);
  vma.vm_lock_seq = seq;
  up_write(c, vma.vm_lock);
  yield step(`vma_start_write(vma ${vma.id}): vm_lock_seq = mm_lock_seq (${seq}); up_write(${vma.vm_lock.name})`);
}

/** vma_start_write() folded into the caller's next step, for actors written before faults under
 *  the per-VMA lock were modelled (munmap, collapse_huge_page): it waits (no step) while a fault
 *  holds vm_lock for read, then marks the VMA write-locked. With no such reader it adds no step, so
 *  their step sequences, and old tokens, stay as they were. Nothing at an era without per-VMA locks. */
export function* vma_start_write_folded(c: Ctx, vma: Vma): ActorGen {
  if (!hasPerVmaLocks(c.m.sw)) return;
  const mm = mmOf(c, vma);
  mmap_assert_write_locked(c, mm, `vma_start_write(vma ${vma.id})`);
  if (vma.vm_lock_seq === mm.mm_lock_seq) return;
  // Tested first, as the locks do: with no fault inside, no closure, label or generator is made.
  const l = vma.vm_lock;
  if (l.writer !== NOBODY || l.readers.length > 0) yield* blockUntil(`vma_start_write(vma ${vma.id}): down_write(${l.name})`, () => l.writer === NOBODY && l.readers.length === 0);
  vma.vm_lock_seq = mm.mm_lock_seq;
}

/** Is `vma` write-locked now (vm_lock_seq == mm_lock_seq)? False at an era without per-VMA locks. */
export function vma_write_locked(c: Ctx, vma: Vma): boolean {
  return hasPerVmaLocks(c.m.sw) && vma.vm_lock_seq === mmOf(c, vma).mm_lock_seq;
}

/** vma_assert_write_locked() (v6.6): VM_BUG_ON_VMA() unless `vma` is write-locked by this mmap_lock
 *  holder. Quiet at an era without per-VMA locks. */
export function vma_assert_write_locked(c: Ctx, vma: Vma, where: string): void {
  if (!hasPerVmaLocks(c.m.sw)) return;
  const mm = mmOf(c, vma);
  mmap_assert_write_locked(c, mm, where);
  if (vma.vm_lock_seq !== mm.mm_lock_seq) {
    c.m.events.push({ e: 'bug', msg: `vma_assert_write_locked(vma ${vma.id}) in ${where}: the VMA is not write-locked (vma_start_write())` });
  }
}

/** vma_mark_detached() (v6.6): the VMA leaves the mm's VMA tree (find_vma() skips it from now on).
 *  Detaching asserts the VMA write lock where the era has one. Not a step of its own. */
export function vma_mark_detached(c: Ctx, vma: Vma, detached: boolean): void {
  if (detached) vma_assert_write_locked(c, vma, 'vma_mark_detached()');
  vma.detached = detached;
}

/** mas_walk() under RCU: the VMA of the tree that covers `addr`. */
function mas_walk(mm: Mm, addr: number): Vma | undefined {
  return mm.vmas.find((v) => !v.detached && v.start <= addr && addr < v.end);
}

/** lock_vma_under_rcu() (mm/memory.c, v6.6): find the VMA that covers `addr` under RCU and
 *  read-lock it, without mmap_lock. Null when there is none, when vma_start_read() fails, when it
 *  is anonymous without an anon_vma (the check v6.6.y and v6.7 make under the VMA lock, for
 *  find_mergeable_anon_vma()), or when it no longer covers `addr`: the caller then takes mmap_lock.
 *  A VMA detached after it was found is let go and the walk retried ("The area was replaced with
 *  another one"). The VMA it returns is read-locked: vma_end_read() it. Null at once at an era
 *  without per-VMA locks. */
export function* lock_vma_under_rcu(c: Ctx, mm: Mm, addr: number): Stepper<Vma | null> {
  if (!hasPerVmaLocks(c.m.sw)) return null;
  const at = `lock_vma_under_rcu(addr ${addr})`;
  rcu_read_lock(c);
  let walk = `${at}: rcu_read_lock(); mas_walk()`;
  for (;;) {
    const vma = mas_walk(mm, addr);
    if (!vma) {
      rcu_read_unlock(c);
      yield step(`${walk} found none: rcu_read_unlock(); fall back to mmap_lock`);
      return null;
    }
    yield step(`${walk} → vma ${vma.id}`);
    if (!(yield* vma_start_read(c, vma))) {
      rcu_read_unlock(c);
      yield step(`${at}: vma_start_read() failed: rcu_read_unlock(); fall back to mmap_lock`);
      return null;
    }
    if ((vma.kind === 'anon' && !vma.anon_vma) || addr < vma.start || addr >= vma.end) {
      vma_end_read(c, vma);
      rcu_read_unlock(c);
      yield step(`${at}: ${addr < vma.start || addr >= vma.end ? 'addr outside vm_start..vm_end' : 'anonymous without anon_vma'}: vma_end_read(); rcu_read_unlock(); fall back to mmap_lock`);
      return null;
    }
    if (vma.detached) {
      vma_end_read(c, vma);
      walk = `${at}: vma ${vma.id} detached: vma_end_read(); retry: mas_walk()`;
      continue;
    }
    rcu_read_unlock(c);
    yield step(`${at}: vma ${vma.id} read-locked: rcu_read_unlock()`);
    return vma;
  }
}
