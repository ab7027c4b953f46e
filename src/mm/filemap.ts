// The page cache (mm/filemap.c): a file's pages looked up, added, locked and removed. The cache of a
// file is `AddressSpace.hpage` (one slot per PMD-sized range, by huge index), standing for the
// i_pages xarray; the cache holds one reference on each page in it, and page->mapping names the file.
//
// What is read (mm/filemap.c):
//   v6.6  filemap_get_entry() (mapping_get_entry() renamed, v6.2): rcu_read_lock(); repeat:
//         xas_load(); none or a value entry: return it; if (!folio_try_get_rcu(folio)) goto repeat;
//         if (folio != xas_reload(&xas)) { folio_put(folio); goto repeat; } rcu_read_unlock().
//         filemap_get_folio() = __filemap_get_folio(mapping, index, 0, 0): the entry, ERR_PTR(-ENOENT)
//         if none (v6.3+). filemap_lock_folio(): with FGP_LOCK, folio_lock(), then if
//         folio->mapping != mapping (truncated meanwhile) folio_unlock(), folio_put(), goto repeat.
//         filemap_add_folio(): __folio_set_locked(); __filemap_add_folio(): folio_ref_add(folio, nr),
//         folio->mapping = mapping, folio->index = index, then under xa_lock_irq the store, or
//         -EEXIST (mapping cleared, the references dropped, __folio_clear_locked()).
//         filemap_remove_folio(): BUG_ON(!folio_test_locked()); under xa_lock_irq
//         __filemap_remove_folio() → filemap_unaccount_folio() (VM_BUG_ON_FOLIO(folio_mapped()) with
//         CONFIG_DEBUG_VM) and page_cache_delete() (xas_store(NULL), folio->mapping = NULL); then
//         filemap_free_folio(): folio_put_refs(folio, nr), the cache's references.
//   v5.10 the same protocol under the page names: find_get_entry() with page_cache_get_speculative()
//         and xas_reload(); find_get_page() and find_lock_page() (pagecache_get_page()), which
//         return NULL when absent; add_to_page_cache_lru() → __add_to_page_cache_locked();
//         delete_from_page_cache() (BUG_ON(!PageLocked)) → __delete_from_page_cache(), then
//         page_cache_free_page(): put_page(), or for a THP page_ref_sub(page, HPAGE_PMD_NR).
// The model keeps one reference for the cache whatever the page's size (the end audit counts one),
// and the trace names the functions of the era (v6.2 and v6.6: folio names; v5.8, v5.10: page names).
// The xarray lock is not a lock here: each xa_lock_irq() section is one step.

import { frameOf, get_page_unless_zero, get_page, lock_page, put_page, trylock_page, unlock_page } from './frames.js';
import { rcu_read_lock, rcu_read_unlock } from './cpu.js';
import { step, type ActorGen, type Ctx } from './step.js';
import { eraAtLeast } from './switches.js';
import { NOBODY, type AddressSpace } from './types.js';
import type { Stepper } from './pgtable.js';

/** The era's name for a page-cache function: the folio one from v6.2 (as modelled), the page one
 *  before. */
function name(c: Ctx, folio: string, page: string): string {
  return eraAtLeast(c.m.sw, 'v6.2') ? folio : page;
}

/** filemap_get_entry() (v6.6) / find_get_entry() (v5.10): the page at `index` with a speculative
 *  reference (folio_try_get_rcu(), which fails on a zero refcount), re-checked against the slot
 *  (xas_reload()) and dropped and retried if the slot changed meanwhile; null if the slot is empty.
 *  Never a freed page, and never one that left the cache before the reference was taken. */
export function* filemap_get_entry(c: Ctx, mapping: AddressSpace, index: number): Stepper<number | null> {
  const fn = name(c, 'filemap_get_entry', 'find_get_entry');
  rcu_read_lock(c);
  for (;;) {
    const pfn = mapping.hpage[index] ?? 0;
    if (pfn === 0) {
      rcu_read_unlock(c);
      yield step(`${fn}(${mapping.name}, ${index}): xas_load() → none; rcu_read_unlock()`);
      return null;
    }
    yield step(`${fn}(${mapping.name}, ${index}): rcu_read_lock(); xas_load() → ${pfn}`);
    const ok = get_page_unless_zero(c, pfn);
    yield step(`${fn}(): ${name(c, 'folio_try_get_rcu', 'page_cache_get_speculative')}(${pfn})${ok ? '' : ' failed: goto repeat'}`);
    if (!ok) continue;
    if ((mapping.hpage[index] ?? 0) === pfn) {
      rcu_read_unlock(c);
      yield step(`${fn}(): xas_reload() → ${pfn}: same; rcu_read_unlock()`);
      return pfn;
    }
    put_page(c.m, pfn);
    yield step(`${fn}(): xas_reload() → ${mapping.hpage[index] ?? 0}: moved: ${name(c, 'folio_put', 'put_page')}(${pfn}); goto repeat`);
  }
}

/** filemap_get_folio() (v6.6: ERR_PTR(-ENOENT) when absent) / find_get_page() (v5.10: NULL): the
 *  page with a reference, or null. */
export function* filemap_get_folio(c: Ctx, mapping: AddressSpace, index: number): Stepper<number | null> {
  return yield* filemap_get_entry(c, mapping, index);
}

/** filemap_lock_folio() (v6.6) / find_lock_page() (v5.10): the page, referenced and locked, still in
 *  this file's cache; if it was removed while we waited for its lock, unlock, drop it, look again. */
export function* filemap_lock_folio(c: Ctx, mapping: AddressSpace, index: number): Stepper<number | null> {
  for (;;) {
    const pfn = yield* filemap_get_entry(c, mapping, index);
    if (pfn === null) return null;
    yield* folio_lock(c, pfn);
    if (frameOf(c.m, pfn).mapping === mapping.id) return pfn;
    unlock_page(c, pfn);
    put_page(c.m, pfn);
    yield step(`${name(c, 'filemap_lock_folio', 'find_lock_page')}(): ${pfn}->mapping != mapping (truncated): unlock, put, goto repeat`);
  }
}

/** folio_lock() (v6.6) / lock_page() (v5.10): PG_locked, waited for. */
export function* folio_lock(c: Ctx, pfn: number): ActorGen {
  yield* lock_page(c, pfn);
}

/** folio_trylock() / trylock_page(): the caller yields the step. */
export function folio_trylock(c: Ctx, pfn: number): boolean {
  return trylock_page(c, pfn);
}

/** folio_unlock() / unlock_page(). */
export function folio_unlock(c: Ctx, pfn: number): void {
  unlock_page(c, pfn);
}

/** folio_put() / put_page(): the last reference frees the page. */
export function folio_put(c: Ctx, pfn: number): void {
  put_page(c.m, pfn);
}

/** filemap_add_folio() (v6.6) / add_to_page_cache_lru() (v5.10): put the new page `pfn` (which the
 *  caller allocated and holds a reference on) in `mapping`'s cache at `index`, locked, with a
 *  reference for the cache and page->mapping set. False (-EEXIST) if the slot is taken: the page
 *  is then unlocked, unmapped from the file and holds only the caller's reference. On success it
 *  stays locked: the caller unlocks it once it is read in (folio_unlock() in the read path). */
export function* filemap_add_folio(c: Ctx, mapping: AddressSpace, pfn: number, index: number): Stepper<boolean> {
  const f = frameOf(c.m, pfn);
  const fn = name(c, 'filemap_add_folio', 'add_to_page_cache_lru');
  // __folio_set_locked(): non-atomic, on a page nobody else can see yet.
  f.pg_locked = c.id;
  get_page(c, pfn);
  f.mapping = mapping.id;
  yield step(`${fn}(${pfn}, ${mapping.name}, ${index}): __${name(c, 'folio_set_locked', 'SetPageLocked')}(); ${name(c, 'folio_ref_add', 'get_page')}(); ->mapping = ${mapping.name}`);
  if ((mapping.hpage[index] ?? 0) !== 0) {
    f.mapping = -1;
    put_page(c.m, pfn);
    f.pg_locked = NOBODY;
    yield step(`${fn}(): xa_lock_irq(); slot ${index} taken: -EEXIST; ->mapping = NULL; put; __${name(c, 'folio_clear_locked', 'ClearPageLocked')}()`);
    return false;
  }
  mapping.hpage[index] = pfn;
  yield step(`${fn}(): xa_lock_irq(); xas_store(${index}, ${pfn}); xa_unlock_irq()`);
  return true;
}

/** add_to_page_cache_lru(): the v5.10 name of filemap_add_folio(). */
export const add_to_page_cache_lru = filemap_add_folio;

/** filemap_remove_folio() (v6.6) / delete_from_page_cache() (v5.10): take the locked page `pfn` out
 *  of its file's cache (slot emptied, page->mapping cleared), then drop the cache's reference, which
 *  frees it if it was the last. A page that is still mapped is what truncation unmaps first
 *  (unmap_mapping_range()); here it is the CONFIG_DEBUG_VM report (VM_BUG_ON_FOLIO(folio_mapped()) at
 *  v6.6, "BUG: Bad page cache" at v5.10). */
export function* filemap_remove_folio(c: Ctx, pfn: number): ActorGen {
  const m = c.m;
  const f = frameOf(m, pfn);
  const fn = name(c, 'filemap_remove_folio', 'delete_from_page_cache');
  if (f.pg_locked === NOBODY) m.events.push({ e: 'bug', msg: `${fn}(${pfn}): BUG_ON(!${name(c, 'folio_test_locked', 'PageLocked')}(page))` });
  const mapping = m.files[f.mapping];
  const index = mapping ? mapping.hpage.indexOf(pfn) : -1;
  if (!mapping || index < 0) {
    m.events.push({ e: 'bug', msg: `${fn}(${pfn}): the page is in no page cache (->mapping ${f.mapping})` });
    yield step(`${fn}(${pfn}): not in the page cache`);
    return;
  }
  if (f.mapcount > 0) {
    m.events.push({ e: 'bug', msg: eraAtLeast(m.sw, 'v6.2')
      ? `filemap_unaccount_folio(): VM_BUG_ON_FOLIO(folio_mapped(folio)): page ${pfn} is still mapped ${f.mapcount} time(s)`
      : `BUG: Bad page cache: page ${pfn} is still mapped ${f.mapcount} time(s) as it leaves the cache` });
  }
  mapping.hpage[index] = 0;
  f.mapping = -1;
  m.events.push({ e: 'cache-remove', pfn, file: mapping.id });
  yield step(`${fn}(${pfn}): xa_lock_irq(); page_cache_delete(): xas_store(${index}, NULL); ->mapping = NULL; xa_unlock_irq()`);
  put_page(m, pfn);
  yield step(`${fn}(): ${name(c, 'filemap_free_folio(): folio_put_refs', 'page_cache_free_page(): put_page')}(${pfn})`);
}

/** delete_from_page_cache(): the v5.10 name of filemap_remove_folio(). */
export const delete_from_page_cache = filemap_remove_folio;
/** find_get_entry(), find_get_page(), find_lock_page(): the v5.10 names of the lookups. */
export const find_get_entry = filemap_get_entry;
export const find_get_page = filemap_get_folio;
export const find_lock_page = filemap_lock_folio;
