// A core dump of one page: do_coredump() → coredump_wait() sets mm->core_state under mmap_lock write;
// then elf_core_dump() → dump_user_range() → get_dump_page() → __get_user_pages(FOLL_DUMP).
//
// v5.8: get_dump_page() runs without mmap_lock; every mmap_lock writer that changes page tables
// checks mmget_still_valid() (= !mm->core_state) after taking the lock (04f5866e41fb, 59ea6d06cfa9).
// v5.10: 7f3bfab52cab takes mmap_read_lock in get_dump_page() and the check is gone.
// V9 (coredump-unlocked): the dump without mmap_lock and no mmget_still_valid() in the writers.

import type { ActorDef } from '../actor.js';
import { NR_PAGES } from '../entries.js';
import { put_page } from '../frames.js';
import { down_read, down_write, up_read, up_write } from '../locks.js';
import { find_vma } from '../model.js';
import { step } from '../step.js';
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
    mm.core_state = true;
    up_write(c, mm.mmap_lock);
    yield step('coredump_wait(): mm->core_state = &core_state; zap_threads(); mmap_write_unlock(mm)');
    const locked = eraAtLeast(m.sw, 'v5.10') && !has(m.sw, 'coredump-unlocked');
    if (locked) yield* down_read(c, mm.mmap_lock);
    // __get_user_pages(): find_extend_vma() first; a range munmap() has detached is not walked.
    const addr = args['addr'] ?? 0;
    const page = find_vma(mm, addr) ? yield* follow_page_mask(c, addr) : null;
    if (locked) up_read(c, mm.mmap_lock);
    yield step(`get_dump_page()${locked ? ': mmap_read_unlock(mm)' : ''}`);
    if (page === null) return;
    put_page(m, page);
    yield step(`dump_emit_page(); put_page(${page})`);
  },
};

/** mmget_still_valid(), as an mmap_lock writer of v5.8 checks it after taking the lock: false means
 *  "the mm is being core-dumped, leave its page tables alone". v5.10 has no check (the dump takes
 *  mmap_lock instead); V9 takes the check out of v5.8. */
export function mmget_still_valid(m: Model, mm: Mm): boolean {
  if (eraAtLeast(m.sw, 'v5.10') || has(m.sw, 'coredump-unlocked')) return true;
  return !mm.core_state;
}
