// A core dump of one page: do_coredump() → coredump_wait() sets mm->core_state under mmap_lock write;
// then elf_core_dump() → dump_user_range() → get_dump_page() → __get_user_pages(FOLL_DUMP).
//
// v5.8: get_dump_page() runs without mmap_lock; every mmap_lock writer that changes page tables
// checks mmget_still_valid() (= !mm->core_state) after taking the lock (04f5866e41fb, 59ea6d06cfa9).
// v5.10: 7f3bfab52cab takes mmap_read_lock in get_dump_page() and the check is gone.
// V9 (coredump-unlocked): the dump without mmap_lock and no mmget_still_valid() in the writers.
//
// zap_threads() SIGKILLs every other thread of the mm, and coredump_wait() then waits
// (wait_for_completion(&core_state->startup)) until each has reached exit_mm() and parked there for
// the dump's end (5.10.13 fs/coredump.c coredump_wait(), zap_threads(); kernel/exit.c exit_mm()). So
// while get_dump_page() runs, no other thread of the mm is in the kernel: a thread that had not
// begun its syscall never begins it, and one in the middle of it finishes it first (the model lets it
// run to its end; the kernel may also cut it short at a killable point). Only mm users from outside
// (khugepaged, get_task_mm() users) change the mm under the dump; that is what mmget_still_valid()
// guarded against at v5.8. zap_threads_park() is the wrapper buildScenario() puts around the
// other user threads of an mm that dumps.

import type { ActorDef } from '../actor.js';
import { NR_PAGES } from '../entries.js';
import { put_page } from '../frames.js';
import { down_read, down_write, up_read, up_write } from '../locks.js';
import { find_vma } from '../model.js';
import { type ActorGen, blockUntil, call, type Ctx, step } from '../step.js';
import { actorState } from '../actor_state.js';
import type { Mm, Model } from '../types.js';
import { eraAtLeast, has } from '../switches.js';
import { follow_page_mask } from './follow_page.js';

export const coredump: ActorDef = {
  name: 'coredump',
  summary: 'core dump of one page: coredump_wait(), then get_dump_page() without (v5.8) or with (v5.10+) mmap_lock',
  follows: 'fs/coredump.c coredump_wait(), mm/gup.c get_dump_page(); v5.8 unlocked + mmget_still_valid(), v5.10+ 7f3bfab52cab',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'addr', min: 0, max: NR_PAGES - 1, default: 0, doc: 'the page to dump' }],
  *run(c, args) {
    const m = c.m;
    const mm = c.mm;
    yield* down_write(c, mm.mmap_lock);
    if (mm.core_state) {
      // zap_threads(): another thread already dumps (signal_group_exit()): -EAGAIN, and this one is
      // one of the threads it killed.
      up_write(c, mm.mmap_lock);
      yield step('coredump_wait(): zap_threads() = -EAGAIN (another dump): mmap_write_unlock(mm)');
      return;
    }
    mm.core_state = true;
    up_write(c, mm.mmap_lock);
    yield step('coredump_wait(): mm->core_state = &core_state; zap_threads(); mmap_write_unlock(mm)');
    const zt = zapThreads(c);
    yield* blockUntil('coredump_wait(): wait_for_completion(&core_state->startup)', () => zt.inSyscall.every((id) => id !== mm.id));
    const locked = eraAtLeast(m.sw, 'v5.10') && !has(m.sw, 'coredump-unlocked');
    if (locked) yield* down_read(c, mm.mmap_lock);
    // __get_user_pages(): find_extend_vma() first; a range munmap() has detached is not walked.
    const addr = args['addr'] ?? 0;
    // get_dump_page(): FOLL_FORCE | FOLL_DUMP | FOLL_GET, never honoring NUMA hinting faults.
    const page = find_vma(mm, addr) ? yield* call(follow_page_mask(c, addr, { honorNumaFault: false })) : null;
    if (locked) up_read(c, mm.mmap_lock);
    // coredump_finish() (no step of its own): the parked threads go on to exit.
    if (page === null) zt.dumped[mm.id] = true;
    yield step(`get_dump_page()${locked ? ': mmap_read_unlock(mm)' : ''}`);
    if (page === null) return;
    put_page(m, page);
    zt.dumped[mm.id] = true;
    yield step(`dump_emit_page(); put_page(${page})`);
  },
};

/** What coredump_wait() and the threads it zaps share, for one execution. */
interface ZapThreads {
  /** By actor id: the mm of a user thread that is in a syscall, or -1. */
  readonly inSyscall: number[];
  /** By mm id: coredump_finish() has run. */
  readonly dumped: boolean[];
}

function zapThreads(c: Ctx): ZapThreads {
  return actorState<ZapThreads>(c, 'coredump:zap_threads', () => ({ inSyscall: [], dumped: [] }));
}

/** A user thread of an mm that a core dump may zap: once coredump_wait() has sent SIGKILL
 *  (mm->core_state set), a thread that has not begun its syscall never does; it parks in exit_mm()
 *  until coredump_finish(), then exits. A thread already in its syscall runs it to the end, and
 *  coredump_wait() waits for that. */
export function* zap_threads_park(c: Ctx, body: ActorGen): ActorGen {
  const zt = zapThreads(c);
  if (c.mm.core_state) {
    yield* blockUntil('exit_mm(): core dump: wait for coredump_finish()', () => zt.dumped[c.mm.id] === true);
    return;
  }
  zt.inSyscall[c.id] = c.mm.id;
  yield* body;
  zt.inSyscall[c.id] = -1;
}

/** mmget_still_valid(), as an mmap_lock writer of v5.8 checks it after taking the lock: false means
 *  "the mm is being core-dumped, leave its page tables alone". v5.10 has no check (the dump takes
 *  mmap_lock instead); V9 takes the check out of v5.8. */
export function mmget_still_valid(m: Model, mm: Mm): boolean {
  if (eraAtLeast(m.sw, 'v5.10') || has(m.sw, 'coredump-unlocked')) return true;
  return !mm.core_state;
}
