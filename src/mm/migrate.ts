// Page migration of an anonymous page or THP, as mm/migrate.c and mm/rmap.c do it: the old page's
// mappings become migration entries, its data is copied to a new page, and the entries become
// mappings of the new page; a fault that meets a migration entry waits for the old page's lock.
//
// follows (v5.8, v5.10, v6.2, v6.6; read from the stable patches and list mails of the search tool's
// corpora, the titles cited where each era differs):
//   mm/migrate.c  unmap_and_move() / __unmap_and_move() (≤ v6.2), migrate_pages_batch() →
//                 migrate_folio_unmap() / migrate_folio_move() (v6.3+): the same order, lock the old
//                 page, unmap, move (migrate_page_move_mapping(): an anon page without a mapping
//                 moves only if page_count() is the isolation reference alone, else -EAGAIN), then
//                 remove_migration_ptes(page, rc == SUCCESS ? newpage : page), unlock, put.
//                 remove_migration_pte() / remove_migration_pmd() (mm/huge_memory.c).
//                 migration_entry_wait() / pmd_migration_entry_wait(): ≤ v5.18 get_page_unless_zero()
//                 and put_and_wait_on_page_locked(); from ffa65753c431 (v5.19, "mm/migrate.c: rework
//                 migration_entry_wait() to not take a pageref") migration_entry_wait_on_locked(), no
//                 reference. v6.5+: pte_offset_map_lock() that may fail.
//   mm/rmap.c     try_to_unmap(page, TTU_MIGRATION) → try_to_unmap_one() (≤ v5.15) and
//                 try_to_migrate() → try_to_migrate_one() (v5.16+, a4ea18f6d "mm/rmap: split
//                 try_to_munlock from try_to_unmap"/"split migration into its own function"): the same
//                 protocol, page_vma_mapped_walk(), ptep_clear_flush(), set_pte_at(migration entry),
//                 page_remove_rmap(), put_page(); a PMD-mapped THP by set_pmd_migration_entry():
//                 pmdp_invalidate() (flushes), set_pmd_at(migration entry).
//   v6.1+         2e3468778dbe: migration ptes keep the pte's young and dirty bits, and the restored
//                 pte gets them back; before, the restored pte is old and clean (PG_dirty has it).
//
// Simplified: the page is isolated by the actor (compaction's isolate_migratepages_block() finds it by
// pfn: the model finds it at an address); MIGRATE_ASYNC: the old page is trylocked; the anon_vma
// reference (page_get_anon_vma) is not kept, since the VMAs that map the page are found under the
// anon_vma lock each time; MMU_NOTIFY_MIGRATE (v5.13+) is reported as MMU_NOTIFY_CLEAR; no
// PageAnonExclusive (v5.19: page_try_share_anon_rmap() refuses a maybe-pinned page before the copy;
// here the refcount check after the unmap refuses it, as ≤ v5.18 did); a pmd migration entry keeps no
// young/dirty bits (PG_dirty takes the dirty bit at every era).

import { HPAGE_PMD_NR, PMD_PAGES, pmd_mkinvalid, pmd_present, pmd_trans_huge, pteIndex, type PteEntry } from './entries.js';
import { alloc_page, copy_user_highpage, frameOf, get_page, get_page_unless_zero, put_page, trylock_page, unlock_page } from './frames.js';
import { down_read, spin_unlock, up_read } from './locks.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from './mmu_notifier.js';
import {
  pmd_lock, pmd_lockptr, pmd_off, pmdEntryAt, pmdp_get_lockless, pmdp_invalidate, pmdp_xchg, pte_read,
  pte_write, set_pmd_at, type PmdPtr, type Stepper, type TablePtr, pmdEntryForAddr,
} from './pgtable.js';
import { anon_vma_interval_tree_foreach } from './vma.js';
import { page_add_rmap, page_remove_rmap, set_page_dirty } from './rmap.js';
import { type ActorGen, blockUntil, call, type Ctx, step } from './step.js';
import { eraAtLeast } from './switches.js';
import { flush_tlb_page } from './tlbflush.js';
import { pte_offset_map_lock, pte_unmap_unlock } from './walk.js';
import { NOBODY, type Mm, type Model, type Vma } from './types.js';

/** How a migration may be weakened, for tests that show what a rule protects (never set by an actor). */
export interface MigrateOpts {
  /** ptep_clear_flush()'s and pmdp_invalidate()'s flush (true unless a test takes it out). */
  readonly flush?: boolean;
  /** migrate_page_move_mapping()'s page_count() check (true unless a test takes it out). */
  readonly refcheck?: boolean;
}

/** What an address maps, read straight from the tables (no walker's access: the migrating kernel
 *  thread found the page by pfn, not by a walk). */
export interface Target {
  readonly pfn: number;
  /** A compound page: migrated whole, PMD-mapped or PTE-mapped. */
  readonly huge: boolean;
}

export function pageAt(m: Model, mm: Mm, addr: number): Target | null {
  const p = pmdEntryForAddr(m, mm.pgd, addr);
  if (!p) return null;
  if (p.t === 'huge') return { pfn: p.pfn, huge: true };
  if (p.t !== 'table') return null;
  const e = m.frames[p.pfn]?.ptes[pteIndex(addr)];
  if (!e || e.t !== 'present' || e.special) return null;
  return { pfn: e.pfn, huge: m.frames[e.pfn]?.kind === 'huge' };
}

/** The VMAs an rmap walk of an anon page reaches (rmap_walk_anon(): the anon_vma's interval tree),
 *  found under the anon_vma lock: those still linked (free_pgtables() unlinks them first); each with
 *  the address the page has there, vma_address(): vm_start + (page->index - vm_pgoff), since an
 *  mremap()ed VMA maps the page at another address. `index` is the page's index (for an anon VMA
 *  the world made, its address). */
function anonVmas(m: Model, root: number, index: number): { readonly vma: Vma; readonly base: number }[] {
  return anon_vma_interval_tree_foreach(m.mms, root, index).filter((v) => v.kind === 'anon').map((vma) => ({ vma, base: vma.start + (index - vma.pgoff) }));
}

/** page_vma_mapped_walk() for `page` around `base` (a pmd's range for a THP, one page else): the pmd
 *  when the page is PMD-mapped (or, with `migration`, a pmd migration entry of it), else the locked pte
 *  table and the indexes that map it (or hold migration entries of it). Null: nothing there. */
type Found =
  | { readonly kind: 'pmd'; readonly pmd: PmdPtr }
  | { readonly kind: 'pte'; readonly ptr: TablePtr; readonly idx: readonly number[] };

function* page_vma_mapped_walk(c: Ctx, mm: Mm, page: number, base: number, nr: number, migration: boolean): Stepper<Found | null> {
  const m = c.m;
  const pmd = pmd_off(c, base, mm);
  if (!pmd) return null;
  const pmde = yield* pmdp_get_lockless(c, pmd, 'page_vma_mapped_walk(): pmde = pmdp_get_lockless(pvmw->pmd)');
  if (pmd_trans_huge(m.arch, pmde.entry) || pmde.entry.t === 'migration') {
    const pml = pmd_lockptr(m, pmd);
    yield* pmd_lock(c, pmd);
    const now = pmdEntryAt(m, pmd);
    if (pmd_trans_huge(m.arch, now)) {
      if (!migration && now.t === 'huge' && now.pfn === page) return { kind: 'pmd', pmd };
      spin_unlock(c, pml);
      yield step('page_vma_mapped_walk(): not_found(): spin_unlock(pvmw->ptl)');
      return null;
    }
    if (!pmd_present(m.arch, now)) {
      if (migration && now.t === 'migration' && now.pfn === page) return { kind: 'pmd', pmd };
      spin_unlock(c, pml);
      yield step('page_vma_mapped_walk(): not_found(): spin_unlock(pvmw->ptl)');
      return null;
    }
    // "THP pmd was split under us: handle on pte level"
    spin_unlock(c, pml);
    yield step('page_vma_mapped_walk(): THP pmd was split under us: spin_unlock(pvmw->ptl)');
  } else if (!pmd_present(m.arch, pmde.entry)) {
    return null;
  }
  // map_pte(): pte_offset_map() and pte_lockptr() (≤ v6.4); pte_offset_map_nolock() (v6.5+).
  const ptr = yield* pte_offset_map_lock(c, pmd);
  if (!ptr) return null;
  const idx: number[] = [];
  for (let a = base; a < base + nr; a++) {
    const e = pte_read(c, ptr, pteIndex(a));
    // check_pte(): a present pte of the page, or with PVMW_MIGRATION a migration entry of it.
    if (migration ? e.t === 'migration' && e.pfn === page : e.t === 'present' && e.pfn === page) idx.push(pteIndex(a));
  }
  if (idx.length === 0) {
    pte_unmap_unlock(c, ptr);
    yield step('page_vma_mapped_walk(): not_found(): pte_unmap_unlock()');
    return null;
  }
  return { kind: 'pte', ptr, idx };
}

/** set_pmd_migration_entry(): the PMD-mapped THP becomes a pmd migration entry. Caller holds pmd_lock. */
function* set_pmd_migration_entry(c: Ctx, pmd: PmdPtr, page: number, opts: MigrateOpts): ActorGen {
  const m = c.m;
  let pmdval;
  if (opts.flush === false) {
    pmdval = pmdp_xchg(c, pmd, pmd_mkinvalid(m.arch, pmdEntryAt(m, pmd)));
    yield step('set_pmd_migration_entry(): pmdp_invalidate() [no flush_tlb_range()]');
  } else {
    pmdval = yield* pmdp_invalidate(c, pmd);
  }
  const write = pmdval.t === 'huge' && pmdval.writable === true;
  if (pmdval.t === 'huge' && pmdval.dirty) set_page_dirty(c, page);
  const soft = pmdval.t === 'huge' && pmdval.softDirty === true;
  set_pmd_at(c, pmd, { t: 'migration', pfn: page, write, ...(soft ? { softDirty: true } : {}) });
  page_remove_rmap(c, page);
  put_page(m, page);
  spin_unlock(c, pmd_lockptr(m, pmd));
  yield step(`set_pmd_migration_entry(): set_pmd_at(migration ${page}); page_remove_rmap(compound); put_page(); spin_unlock(pvmw->ptl)`);
}

/** try_to_migrate() (v5.16+) / try_to_unmap(page, TTU_MIGRATION) (≤ v5.15): rmap_walk_anon() under
 *  the anon_vma lock, try_to_migrate_one() for each VMA. */
export function* try_to_migrate(c: Ctx, root: number, page: number, index: number, nr: number, opts: MigrateOpts = {}): ActorGen {
  const m = c.m;
  const fn = eraAtLeast(m.sw, 'v6.2') ? 'try_to_migrate_one()' : 'try_to_unmap_one()';
  const sem = m.mms[root]!.anon_vma_lock;
  yield* down_read(c, sem);
  for (const { vma, base } of anonVmas(m, root, index)) {
    const mm = m.mms[vma.mm]!;
    const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, base, Math.min(vma.end, base + nr));
    yield* mmu_notifier_invalidate_range_start(c, range);
    const f = yield* call(page_vma_mapped_walk(c, mm, page, base, nr, false));
    if (f?.kind === 'pmd') {
      yield* set_pmd_migration_entry(c, f.pmd, page, opts);
    } else if (f) {
      for (const i of f.idx) {
        const addr = base - (base % PMD_PAGES) + i;
        // ptep_clear_flush(vma, address, pvmw.pte)
        const pteval = pte_write(c, f.ptr, i, { t: 'none' });
        yield step(`${fn}: pteval = ptep_clear_flush(addr ${addr}): ptep_get_and_clear()`);
        if (opts.flush !== false) yield* flush_tlb_page(c, mm, addr, 'ptep_clear_flush(): flush_tlb_page()');
        if (pteval.t !== 'present') continue;
        if (pteval.dirty) set_page_dirty(c, page);
        const ad = eraAtLeast(m.sw, 'v6.2');
        const swp: PteEntry = {
          t: 'migration', pfn: page, sub: pteval.sub, write: pteval.writable,
          ...(ad && pteval.accessed ? { young: true } : {}), ...(ad && pteval.dirty ? { dirty: true } : {}),
          ...(pteval.softDirty ? { softDirty: true } : {}), ...(pteval.uffdWp ? { uffdWp: true } : {}),
        };
        pte_write(c, f.ptr, i, swp);
        page_remove_rmap(c, page);
        put_page(m, page);
        yield step(`${fn}: ${pteval.dirty ? 'set_page_dirty(); ' : ''}set_pte_at(addr ${addr}, migration entry); page_remove_rmap(); put_page()`);
      }
      pte_unmap_unlock(c, f.ptr);
      yield step('page_vma_mapped_walk_done(): pte_unmap_unlock()');
    }
    yield* mmu_notifier_invalidate_range_end(c, range);
  }
  up_read(c, sem);
  yield step(`rmap_walk_anon(): anon_vma_unlock_read()`);
}

/** remove_migration_ptes(old, new): rmap_walk() under the anon_vma lock; each migration entry of
 *  `old` becomes a mapping of `now` (remove_migration_pte(), remove_migration_pmd()). */
export function* remove_migration_ptes(c: Ctx, root: number, old: number, now: number, index: number, nr: number): ActorGen {
  const m = c.m;
  const sem = m.mms[root]!.anon_vma_lock;
  const ad = eraAtLeast(m.sw, 'v6.2');
  yield* down_read(c, sem);
  for (const { vma, base } of anonVmas(m, root, index)) {
    const mm = m.mms[vma.mm]!;
    const f = yield* call(page_vma_mapped_walk(c, mm, old, base, nr, true));
    if (f?.kind === 'pmd') {
      // remove_migration_pmd(): get_page(new); pmde = pmd_mkold(mk_huge_pmd(new, vma->vm_page_prot));
      // maybe_pmd_mkwrite() if a write entry; page_add_anon_rmap(new, compound); set_pmd_at().
      const e = pmdEntryAt(m, f.pmd);
      const write = e.t === 'migration' && e.write;
      get_page(c, now);
      page_add_rmap(c, now);
      set_pmd_at(c, f.pmd, { t: 'huge', pfn: now, ...(write ? { writable: true } : {}), ...(e.t === 'migration' && e.softDirty ? { softDirty: true } : {}) });
      spin_unlock(c, pmd_lockptr(m, f.pmd));
      yield step(`remove_migration_pmd(): get_page(${now}); page_add_anon_rmap(compound); set_pmd_at(huge ${now}); spin_unlock(pvmw->ptl)`);
    } else if (f) {
      for (const i of f.idx) {
        const e = pte_read(c, f.ptr, i);
        if (e.t !== 'migration') continue;
        const addr = base - (base % PMD_PAGES) + i;
        // remove_migration_pte(): get_page(new); pte = pte_mkold(mk_pte(new, vma->vm_page_prot));
        // maybe_mkwrite() if a write entry; v6.1+: young and dirty back from the entry.
        get_page(c, now);
        const sub = frameOf(m, now).kind === 'huge' ? e.sub : 0;
        pte_write(c, f.ptr, i, {
          t: 'present', pfn: now, sub, writable: e.write, dirty: ad && e.dirty === true,
          ...(ad && e.young ? { accessed: true } : {}), ...(e.softDirty ? { softDirty: true } : {}), ...(e.uffdWp ? { uffdWp: true } : {}),
        });
        page_add_rmap(c, now);
        yield step(`remove_migration_pte(addr ${addr}): get_page(${now}); set_pte_at(${now}${sub ? `+${sub}` : ''}); page_add_anon_rmap()`);
      }
      pte_unmap_unlock(c, f.ptr);
      yield step('page_vma_mapped_walk_done(): pte_unmap_unlock()');
    }
  }
  up_read(c, sem);
  yield step('rmap_walk_anon(): anon_vma_unlock_read()');
}

/** Where a fault waits for a migration entry's page: put_and_wait_on_page_locked() (≤ v5.18, holding a
 *  reference until it sleeps) or migration_entry_wait_on_locked() (no reference). `unlock` drops
 *  the lock the caller holds (ptl or pmd_lock). */
function* wait_on_locked(c: Ctx, page: number, unlock: () => void, what: string): ActorGen {
  const m = c.m;
  if (!eraAtLeast(m.sw, 'v6.2')) {
    const ok = get_page_unless_zero(c, page);
    yield step(`${what}: get_page_unless_zero(${page})${ok ? '' : ' failed'}`);
    unlock();
    if (!ok) {
      yield step(`${what}: spin_unlock(ptl)`);
      return;
    }
    put_page(m, page);
    yield step(`${what}: spin_unlock(ptl); put_and_wait_on_page_locked(${page})`);
  } else {
    unlock();
    yield step(`${what}: migration_entry_wait_on_locked(${page}): spin_unlock(ptl)`);
  }
  const f = frameOf(m, page);
  yield* blockUntil(`wait_on_page_locked(${page})`, () => f.pg_locked === NOBODY);
  yield step(`${what}: PG_locked(${page}) clear: return to retry the fault`);
}

/** migration_entry_wait(mm, pmd, address): called from do_swap_page() for a migration pte. */
export function* migration_entry_wait(c: Ctx, pmd: PmdPtr, addr: number): ActorGen {
  // ≤ v6.4: pte_offset_map(pmd, address) and pte_lockptr(mm, pmd), trusting the pmd the fault path
  // checked; v6.5+: pte_offset_map_lock(), which may fail.
  const table = yield* pte_offset_map_lock(c, pmd);
  if (!table) return;
  const pte = pte_read(c, table, pteIndex(addr));
  if (pte.t !== 'migration') {
    pte_unmap_unlock(c, table);
    yield step('migration_entry_wait(): !is_migration_entry(): pte_unmap_unlock()');
    return;
  }
  yield* wait_on_locked(c, pte.pfn, () => pte_unmap_unlock(c, table), 'migration_entry_wait()');
}

/** pmd_migration_entry_wait(mm, pmd): called from __handle_mm_fault() for a pmd migration entry. */
export function* pmd_migration_entry_wait(c: Ctx, pmd: PmdPtr): ActorGen {
  const m = c.m;
  const pml = pmd_lockptr(m, pmd);
  yield* pmd_lock(c, pmd);
  const e = pmdEntryAt(m, pmd);
  if (e.t !== 'migration') {
    spin_unlock(c, pml);
    yield step(`pmd_migration_entry_wait(): !is_pmd_migration_entry(*pmd): spin_unlock(${pml.name})`);
    return;
  }
  yield* wait_on_locked(c, e.pfn, () => spin_unlock(c, pml), 'pmd_migration_entry_wait()');
}


/** unmap_and_move() (≤ v6.2) / migrate_pages_batch() (v6.3+) for the page `addr` of `mm` maps, as
 *  compaction migrates it (MIGRATE_ASYNC): isolate it (a reference), allocate the new page, trylock
 *  the old one, try_to_migrate(), move_to_new_page() if nothing maps it any more, then
 *  remove_migration_ptes(), unlock, and drop the isolation reference (freeing the old page when the
 *  move succeeded) and the new page's allocation reference. */
export function* migrate_page(c: Ctx, mm: Mm, addr: number, opts: MigrateOpts = {}): ActorGen {
  const m = c.m;
  const vma = mm.vmas.find((v) => !v.detached && v.kind === 'anon' && v.start <= addr && addr < v.end);
  const t = pageAt(m, mm, addr);
  if (!vma || !t) {
    yield step(`isolate_migratepages_block(): nothing mapped at ${addr}: no page to isolate`);
    return;
  }
  const page = t.pfn;
  const nr = t.huge ? HPAGE_PMD_NR : 1;
  const base = t.huge ? addr - (addr % PMD_PAGES) : addr;
  const root = vma.anon_vma_id;
  // page->index: where the page sits in its anon_vma's space (linear_page_index()).
  const index = base - vma.start + vma.pgoff;
  // isolate_migratepages_block(): get_page_unless_zero(); isolate_lru_page().
  if (!get_page_unless_zero(c, page)) {
    yield step(`isolate_migratepages_block(): get_page_unless_zero(${page}) failed`);
    return;
  }
  yield step(`isolate_migratepages_block(): get_page_unless_zero(${page}); isolate_lru_page()`);
  const newpage = alloc_page(c, t.huge ? 'huge' : 'data');
  yield step(`unmap_and_move(): get_new_page() → ${newpage}`);
  if (!trylock_page(c, page)) {
    put_page(m, newpage);
    put_page(m, page);
    yield step(`__unmap_and_move(): !trylock_page(${page}) (MIGRATE_ASYNC): -EAGAIN; put_new_page(); putback_lru_page()`);
    return;
  }
  // "Block others from accessing the new page when we get around to establishing additional
  // references to it."
  trylock_page(c, newpage);
  yield step(`__unmap_and_move(): trylock_page(${page}); trylock_page(newpage ${newpage})`);
  const old = frameOf(m, page);
  const mapped = old.mapcount > 0;
  if (mapped) yield* call(try_to_migrate(c, root, page, index, nr, opts));
  let ok = false;
  if (old.mapcount === 0) {
    // move_to_new_page() → migrate_page() → migrate_page_move_mapping(): "Anonymous page without
    // mapping": if (page_count(page) != expected_count) return -EAGAIN; expected is the isolation
    // reference alone.
    ok = old.refcount === 1 || opts.refcheck === false;
    if (ok) {
      copy_user_highpage(c, page, newpage, base);
      // migrate_page_states(): if (PageDirty(page)) SetPageDirty(newpage).
      if (old.dirty) frameOf(m, newpage).dirty = true;
      yield step(`move_to_new_page(): page_count(${page}) == 1: migrate_page_copy(${page} → ${newpage})`);
    } else {
      yield step(`migrate_page_move_mapping(): page_count(${page}) = ${old.refcount} != 1: -EAGAIN`);
    }
  } else {
    yield step(`__unmap_and_move(): page_mapped(${page}): -EAGAIN`);
  }
  if (mapped) yield* call(remove_migration_ptes(c, root, page, ok ? newpage : page, index, nr));
  unlock_page(c, newpage);
  unlock_page(c, page);
  // On success the isolation reference is the last: "this page will be freed". newpage's
  // allocation reference goes with putback_lru_page(); on failure newpage is freed.
  put_page(m, page);
  put_page(m, newpage);
  yield step(ok
    ? `unmap_and_move(): unlock_page(${newpage}); unlock_page(${page}); put_page(${page}) (freed); putback_lru_page(${newpage})`
    : `unmap_and_move(): unlock_page(${page}); putback_lru_page(${page}); put_new_page(${newpage})`);
}
