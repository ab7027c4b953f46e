// Compaction (kcompactd) migrating the anonymous page or THP that `addr` maps: isolate it, unmap it
// into migration entries (try_to_migrate(); try_to_unmap(TTU_MIGRATION) before v5.16), copy it to a
// new page, map the new page in their place (remove_migration_ptes()), free the old page. No
// mmap_lock: the rmap walk holds the anon_vma lock, the page lock keeps faults waiting.

import type { ActorDef } from '../actor.js';
import { NR_PAGES } from '../entries.js';
import { migrate_page } from '../migrate.js';

export const migrate_pages: ActorDef = {
  name: 'migrate_pages',
  summary: 'migrate the anon page or THP at addr: trylock it, migration entries under the anon_vma lock, copy if only isolation holds it, remove_migration_ptes(), free the old page',
  follows: 'mm/migrate.c migrate_pages() → unmap_and_move() (≤ v6.2) / migrate_pages_batch() (v6.6), remove_migration_ptes(); mm/rmap.c try_to_unmap_one(TTU_MIGRATION) (≤ v5.15) / try_to_migrate_one(); mm/huge_memory.c set_pmd_migration_entry(), remove_migration_pmd(); v5.8–v6.6',
  inMm: false,
  daemon: 'no',
  params: [{ name: 'addr', min: 0, max: NR_PAGES - 1, default: 0, doc: 'the address whose page to migrate (anon VMA 0: pages 3 and 4 at 0 and 1, a THP at 4..7 after thp_fault)' }],
  // The body's generator itself, not one delegating to it: a level less under every step.
  run(c, args) {
    return migrate_page(c, c.mm, args['addr'] ?? 0);
  },
};
