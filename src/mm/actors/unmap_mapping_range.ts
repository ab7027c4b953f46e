// Hole punch / truncate of a file range: unmap_mapping_pages() → unmap_mapping_range_tree() walks the
// VMAs in i_mmap with no mmap_lock and no page lock, and zaps each range (zap_page_range_single →
// zap_pmd_range). The page-cache side of truncation is not modelled. This is the walk that starts
// under i_mmap_rwsem alone, which 8d3c106e19e8 makes retraction exclude.
// i_mmap_rwsem is taken for write up to v5.16 (read in the 5.10.13 source), shared after
// 2c8659951654 "mm: unmap_mapping_range_tree() with i_mmap_rwsem shared" (it touches
// unmap_mapping_folio(), so after 5.16): write in eras v5.8 and v5.10, read from v6.2.

import type { ActorDef } from '../actor.js';
import { HPAGE_PMD_NR } from '../entries.js';
import { down_read, down_write, up_read, up_write } from '../locks.js';
import { eraAtLeast } from '../switches.js';
import { call, step } from '../step.js';
import { unmap_mapping_range_tree } from '../zap.js';

export const unmap_mapping_range: ActorDef = {
  name: 'unmap_mapping_range',
  summary: 'hole punch of a file pmd range: zap every VMA mapping it, under i_mmap_rwsem only (write to v5.16, read after)',
  follows: 'mm/memory.c unmap_mapping_pages(), unmap_mapping_range_tree(), zap_page_range_single(); v5.8–v6.6 (shared lock after 2c8659951654)',
  inMm: false,
  daemon: 'no',
  params: [{ name: 'slot', min: 2, max: 3, default: 3, doc: 'the file range to punch (file page / HPAGE_PMD_NR); in the default world the same number as its pmd slot' }],
  *run(c, args) {
    const m = c.m;
    const slot = args['slot'] ?? 3;
    const file = m.files[0]!;
    const shared = eraAtLeast(m.sw, 'v6.2');
    if (shared) yield* down_read(c, file.i_mmap_rwsem);
    else yield* down_write(c, file.i_mmap_rwsem);
    const pgoff = slot * HPAGE_PMD_NR;
    yield* call(unmap_mapping_range_tree(c, file, pgoff, pgoff + HPAGE_PMD_NR - 1));
    if (shared) up_read(c, file.i_mmap_rwsem);
    else up_write(c, file.i_mmap_rwsem);
    yield step(`unmap_mapping_pages(): i_mmap_unlock_${shared ? 'read' : 'write'}(mapping)`);
  },
};
