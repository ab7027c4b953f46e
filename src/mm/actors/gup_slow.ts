// GUP-slow of one page: get_user_pages() → __get_user_pages() → follow_page_mask(), under
// mmap_lock read, then the caller uses the page and drops its reference. No faulting-in is modelled:
// a page that is not mapped is simply not returned.

import type { ActorDef } from '../actor.js';
import { NR_PAGES } from '../entries.js';
import { put_page } from '../frames.js';
import { down_read, up_read } from '../locks.js';
import { find_vma } from '../model.js';
import { call, step } from '../step.js';
import { follow_page_mask } from './follow_page.js';

export const gup_slow: ActorDef = {
  name: 'gup_slow',
  summary: 'get_user_pages() of one page under mmap_lock read: follow_page_mask() with pte_offset_map_lock()',
  follows: 'mm/gup.c __get_user_pages(), follow_pmd_mask(), follow_page_pte(), mm/huge_memory.c follow_trans_huge_pmd(); v5.8–v6.6 (protnone entries not followed: FOLL_NUMA, FOLL_HONOR_NUMA_FAULT at v6.6)',
  inMm: true,
  daemon: 'no',
  params: [{ name: 'addr', min: 0, max: NR_PAGES - 1, default: 0, doc: 'address (page index)' }],
  *run(c, args) {
    const m = c.m;
    const addr = args['addr'] ?? 0;
    const since = m.step;
    yield* down_read(c, c.mm.mmap_lock);
    // No FOLL_FORCE: FOLL_NUMA (≤ v6.2) / FOLL_HONOR_NUMA_FAULT (v6.6) is set.
    const page = find_vma(c.mm, addr) ? yield* call(follow_page_mask(c, addr, { honorNumaFault: true })) : null;
    if (page !== null) m.events.push({ e: 'pin', mm: c.mm.id, addr, pfn: page, since });
    up_read(c, c.mm.mmap_lock);
    yield step('get_user_pages(): mmap_read_unlock(mm)');
    if (page === null) return;
    m.events.push({ e: 'unpin', addr, pfn: page });
    put_page(m, page);
    yield step(`put_page(${page})`);
  },
};
