// Truncation and hole punch that free page-cache pages: truncate_setsize() (i_size_write(), then
// truncate_pagecache()) and truncate_pagecache_range() (fallocate(FALLOC_FL_PUNCH_HOLE)), each over
// whole file THPs (the model's page cache holds one THP per PMD-sized range).
//
// Sources read (mm/truncate.c, mm/memory.c):
//   truncate_pagecache() (v5.10, v6.6 alike): unmap_mapping_range(mapping, holebegin, 0, 1);
//     truncate_inode_pages(); unmap_mapping_range(mapping, holebegin, 0, 1) again, "for
//     correctness": private COWs made after the first call would otherwise survive.
//   truncate_pagecache_range(): unmap_mapping_range(..., 0) once, without even_cows ("hole-punching
//     should not remove private COWed pages from the hole"), then truncate_inode_pages_range().
//   truncate_inode_pages_range():
//     v5.10 (Rtoax/linux-5.10.13 mm/truncate.c): pagevec_lookup_entries(); trylock_page() (a locked
//       page is left for later); page->mapping != mapping → skip; truncate_cleanup_page(): if
//       page_mapped(page) unmap_mapping_pages(mapping, page->index, nr, false);
//       delete_from_page_cache_batch(); unlock_page(); pagevec_release(). Then a second loop with
//       lock_page() (waited for) and truncate_inode_page(): page->mapping != mapping → -EIO;
//       truncate_cleanup_page(); delete_from_page_cache().
//     v6.6 (linux-6.6/mm/truncate.c): the same with folios: find_lock_entries() (folio_trylock),
//       truncate_cleanup_folio() → unmap_mapping_folio() when folio_mapped();
//       delete_from_page_cache_batch(); folio_unlock(); then find_get_entries(), folio_lock(),
//       truncate_inode_folio(). Between the two loops v6.6 locks the folio at lstart and at lend
//       (__filemap_get_folio(FGP_LOCK)) for truncate_inode_partial_folio(), which for a folio wholly
//       inside the range is truncate_inode_folio(): the same lock and removal as the second loop,
//       which the model takes for both.
//   unmap_mapping_pages(): i_mmap_lock_write() up to v5.16, i_mmap_lock_read() after (2c8659951654),
//     as the unmap_mapping_range actor has it; zap_page_range_single() of each VMA in i_mmap
//     (unmap_mapping_range_tree()) with zap_details (even_cows).
// The caller's locks (inode_lock, and from v5.15 mapping->invalidate_lock, which filemap_fault()
// takes only on a page-cache miss) are not modelled: the model has no page-cache miss.
// Once truncation is done, nothing maps the truncated range in any mm (the oracle checks it: a fault
// that maps a truncated page must have lost the race to the page lock or the i_size re-check).

import type { ActorDef } from '../actor.js';
import { HPAGE_PMD_NR, PTRS_PER_PMD } from '../entries.js';
import { filemap_get_entry, filemap_remove_folio, folio_lock, folio_trylock, folio_unlock, folio_put } from '../filemap.js';
import { frameOf } from '../frames.js';
import { down_read, down_write, up_read, up_write } from '../locks.js';
import { vma_address } from '../model.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { eraAtLeast } from '../switches.js';
import type { AddressSpace } from '../types.js';
import { unmap_mapping_range_tree } from '../zap.js';
import { i_size } from './file_fault.js';

/** Protocol rules a test may take out. */
export interface TruncateMutations {
  /** truncate_cleanup_page(): no unmap of a page found mapped under its lock. */
  readonly noUnmapUnderLock?: boolean;
  /** truncate_pagecache() without its second unmap_mapping_range(even_cows). */
  readonly noFinalUnmap?: boolean;
}

/** unmap_mapping_pages(mapping, first, nr, even_cows): zap every VMA in i_mmap that maps a file page
 *  of [first, first + nr), each over what it maps of the range (unmap_mapping_range_tree()), under
 *  i_mmap_rwsem. */
export function* unmap_mapping_pages(c: Ctx, mapping: AddressSpace, first: number, nr: number, even_cows: boolean): ActorGen {
  const m = c.m;
  const shared = eraAtLeast(m.sw, 'v6.2');
  if (shared) yield* down_read(c, mapping.i_mmap_rwsem);
  else yield* down_write(c, mapping.i_mmap_rwsem);
  yield* call(unmap_mapping_range_tree(c, mapping, first, first + nr - 1, { even_cows }));
  if (shared) up_read(c, mapping.i_mmap_rwsem);
  else up_write(c, mapping.i_mmap_rwsem);
  yield step(`unmap_mapping_pages(${first}, ${nr}${even_cows ? ', even_cows' : ''}): i_mmap_unlock_${shared ? 'read' : 'write'}(mapping)`);
}

/** truncate_cleanup_page() / truncate_cleanup_folio(), then delete_from_page_cache() /
 *  filemap_remove_folio(), then unlock and drop the lookup's reference. The page is locked. */
function* truncate_locked(c: Ctx, mapping: AddressSpace, pfn: number, index: number, mut: TruncateMutations): ActorGen {
  const v66 = eraAtLeast(c.m.sw, 'v6.2');
  const f = frameOf(c.m, pfn);
  const mapped = f.mapcount > 0;
  yield step(`${v66 ? 'truncate_cleanup_folio' : 'truncate_cleanup_page'}(${pfn}): ${v66 ? 'folio_mapped' : 'page_mapped'}() = ${mapped}`);
  if (mapped && !mut.noUnmapUnderLock) {
    yield* call(unmap_mapping_pages(c, mapping, index * HPAGE_PMD_NR, HPAGE_PMD_NR, false));
  }
  yield* filemap_remove_folio(c, pfn);
  folio_unlock(c, pfn);
  folio_put(c, pfn);
  yield step(`${v66 ? 'folio_unlock(); folio_batch_release()' : 'unlock_page(); pagevec_release()'}: put_page(${pfn})`);
}

/** truncate_inode_pages_range() over huge indexes [start, end). */
export function* truncate_inode_pages_range(c: Ctx, mapping: AddressSpace, start: number, end: number, mut: TruncateMutations = {}): ActorGen {
  const v66 = eraAtLeast(c.m.sw, 'v6.2');
  const later: number[] = [];
  // First pass: pages that can be locked at once.
  for (let index = start; index < end; index++) {
    const pfn = yield* filemap_get_entry(c, mapping, index);
    if (pfn === null) continue;
    if (!folio_trylock(c, pfn)) {
      folio_put(c, pfn);
      later.push(index);
      yield step(`${v66 ? 'find_lock_entries(): folio_trylock' : 'truncate_inode_pages_range(): trylock_page'}(${pfn}) failed: later`);
      continue;
    }
    if (frameOf(c.m, pfn).mapping !== mapping.id) {
      folio_unlock(c, pfn);
      folio_put(c, pfn);
      yield step(`truncate_inode_pages_range(): ${pfn}->mapping != mapping: skip`);
      continue;
    }
    yield step(`${v66 ? 'find_lock_entries(): folio_trylock' : 'truncate_inode_pages_range(): trylock_page'}(${pfn})`);
    yield* truncate_locked(c, mapping, pfn, index, mut);
  }
  // Second pass: wait for the locks the first pass could not take.
  for (const index of later) {
    const pfn = yield* filemap_get_entry(c, mapping, index);
    if (pfn === null) continue;
    yield* folio_lock(c, pfn);
    if (frameOf(c.m, pfn).mapping !== mapping.id) {
      folio_unlock(c, pfn);
      folio_put(c, pfn);
      yield step(`${v66 ? 'truncate_inode_folio' : 'truncate_inode_page'}(${pfn}): ->mapping != mapping: -EIO`);
      continue;
    }
    yield* truncate_locked(c, mapping, pfn, index, mut);
  }
}

/** The truncate / hole-punch actor, with protocol rules taken out for tests (none when registered),
 *  and the lowest file range it may be given: 3 when registered, the pte-mapped THP, since the
 *  default world's page 6 (range 2) is the one collapse_file() holds locked (see FILE_FAULT_ADDRS). */
export function makeTruncate(mut: TruncateMutations = {}, name = 'truncate', minSlot = 3): ActorDef {
  return {
    name,
    summary: 'truncate (or punch a hole in) the file from a PMD-sized range on: unmap, delete each page from the page cache under its lock, unmap again; the cache\'s reference goes',
    follows: 'mm/truncate.c truncate_setsize(), truncate_pagecache(), truncate_pagecache_range(), truncate_inode_pages_range(), truncate_cleanup_page() / truncate_cleanup_folio(); mm/memory.c unmap_mapping_pages(); v5.8–v6.6',
    inMm: false,
    daemon: 'no',
    params: [
      { name: 'slot', min: minSlot, max: PTRS_PER_PMD - 1, default: 3, doc: 'the first file range (file page / HPAGE_PMD_NR) to remove' },
      { name: 'punch', min: 0, max: 1, default: 0, doc: '1: punch a hole of that one range (no i_size change, one unmap without even_cows); 0: truncate i_size to it' },
    ],
    *run(c, args) {
      const m = c.m;
      const mapping = m.files[0]!;
      const slot = args['slot'] ?? 3;
      const punch = args['punch'] === 1;
      const end = punch ? slot + 1 : mapping.hpage.length;
      if (end <= slot) return;
      const first = slot * HPAGE_PMD_NR;
      const nr = (end - slot) * HPAGE_PMD_NR;
      if (punch) {
        yield* call(unmap_mapping_pages(c, mapping, first, nr, false));
        yield* call(truncate_inode_pages_range(c, mapping, slot, end, mut));
        return;
      }
      const size = i_size(c);
      if ((size[mapping.id] ?? 0) > first) size[mapping.id] = first;
      yield step(`truncate_setsize(): i_size_write(${first})`);
      yield* call(unmap_mapping_pages(c, mapping, first, nr, true));
      yield* call(truncate_inode_pages_range(c, mapping, slot, end, mut));
      if (!mut.noFinalUnmap) yield* call(unmap_mapping_pages(c, mapping, first, nr, true));
      // Truncation's promise: nothing maps a page beyond the new size, in any mm.
      for (const mm of m.mms) {
        for (const vma of mm.vmas) {
          if (vma.detached || vma.file !== mapping.id) continue;
          const lo = Math.max(vma.start, vma_address(vma, first));
          const hi = Math.min(vma.end, vma_address(vma, end * HPAGE_PMD_NR));
          if (lo < hi) m.events.push({ e: 'zap-done', mm: mm.id, start: lo, end: hi });
        }
      }
      yield step(`truncate_pagecache(): done: nothing maps file pages >= ${first}`);
    },
  };
}

export const truncate: ActorDef = makeTruncate();

