// Reclaim that frees a clean file page: shrink_page_list() (v5.8, v5.10) / shrink_folio_list()
// (v6.0+, as modelled from v6.2) isolates the page (a reference), locks it, try_to_unmap()s it with
// TTU_BATCH_FLUSH, and if it is clean and nobody else holds a reference, __remove_mapping() freezes
// its refcount, deletes it from the page cache, and frees it. The batched TLB flush
// (try_to_unmap_flush()) comes at the end of the list.
//
// Sources read:
//   v5.10 (Rtoax/linux-5.10.13): mm/vmscan.c shrink_page_list(): `if (page_mapped(page)) { flags =
//     TTU_BATCH_FLUSH; if (PageTransHuge(page)) flags |= TTU_SPLIT_HUGE_PMD; try_to_unmap() }`;
//     PageDirty() file page in direct reclaim → activate_locked (only kswapd writes back, after
//     try_to_unmap_flush_dirty()); __remove_mapping(): xa_lock_irq(); refcount = 1 + compound_nr();
//     page_ref_freeze() or cannot_free; PageDirty() after the freeze → unfreeze, cannot_free;
//     __delete_from_page_cache(); unlock_page(); free_it: `if (unlikely(PageTransHuge(page)))
//     destroy_compound_page(page); else list_add(&page->lru, &free_pages);` and, after the loop,
//     try_to_unmap_flush(); free_unref_page_list(&free_pages).
//     mm/rmap.c try_to_unmap_one(): should_defer_flush() (TTU_BATCH_FLUSH and another CPU in
//     mm_cpumask) → ptep_get_and_clear() + set_tlb_ubc_flush_pending(mm, pte_dirty()) (which sets
//     mm->tlb_flush_batched), else ptep_clear_flush(); set_page_dirty() if the pte was dirty.
//   v6.6 (linux-6.6/mm/vmscan.c shrink_folio_list()): the same with folios; a large folio is
//     freed at once by destroy_large_folio() and small ones go to free_folios, freed after
//     try_to_unmap_flush().
//   ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH: x86 (every era). arm64 has it from v6.5, but there the TLBI is
//     issued when the pte is cleared and only the DSB waits for the batch; the model's broadcast
//     flush is one atomic step, so on the rcu-table-free architecture the pte is cleared and flushed
//     at once (ptep_clear_flush()).
// So a large folio (every file page of the model is a THP) is freed before the deferred flush: a
// CPU whose TLB still maps it reads freed memory. See docs/known-races.md
// (reclaim-large-folio-before-batched-flush); `flushBeforeFree` frees it after the flush, as
// shrink_folio_list() does once large folios join the batch freed after try_to_unmap_flush().
// Simplified: the LRU is not modelled (isolation is the reference it takes); a PMD-mapped THP
// (TTU_SPLIT_HUGE_PMD) is kept (the split is not modelled here); pageout() is not modelled (a dirty
// page is kept); flush_tlb_batched_pending() in mprotect/munmap/MADV_DONTNEED is not modelled.

import type { ActorDef } from '../actor.js';
import { HPAGE_PMD_NR, PTRS_PER_PMD, pmd_trans_huge } from '../entries.js';
import { folio_trylock, folio_unlock } from '../filemap.js';
import { freeFrame, frameOf, get_page_unless_zero, put_page } from '../frames.js';
import { down_read, up_read } from '../locks.js';
import { vma_address, vma_interval_tree_foreach } from '../model.js';
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from '../mmu_notifier.js';
import { pmd_off, pmdEntryAt } from '../pgtable.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import { eraAtLeast } from '../switches.js';
import { flush_tlb_mm } from '../tlbflush.js';
import type { Mm } from '../types.js';
import { actorState } from '../actor_state.js';
import { try_to_unmap_one } from './try_to_unmap.js';

/** Protocol rules a test may take out, or the later ordering put in. */
export interface ReclaimMutations {
  /** __remove_mapping() without page_ref_freeze(): the page goes whatever references others hold. */
  readonly noRefFreeze?: boolean;
  /** try_to_unmap_one() never defers: ptep_clear_flush() always. */
  readonly noBatch?: boolean;
  /** The large folio is freed after try_to_unmap_flush(), with the rest of the list. */
  readonly flushBeforeFree?: boolean;
}

/** current->tlb_ubc (struct tlbflush_unmap_batch) and mm->tlb_flush_batched. */
interface TlbUbc {
  /** arch_tlbbatch_add_mm(): the mms whose CPUs the batch must flush. */
  readonly mms: Mm[];
  flush_required: boolean;
  writable: boolean;
}

function tlbUbc(c: Ctx): TlbUbc {
  return actorState(c, `shrink_folio_list.tlb_ubc.${c.id}`, (): TlbUbc => ({ mms: [], flush_required: false, writable: false }));
}

/** mm->tlb_flush_batched, by mm (flush_tlb_batched_pending() would read it). */
export function tlb_flush_batched(c: Ctx): boolean[] {
  return actorState(c, 'mm.tlb_flush_batched', () => c.m.mms.map(() => false));
}

/** should_defer_flush(): TTU_BATCH_FLUSH on an architecture that batches, and another CPU in
 *  mm_cpumask() than ours. */
function should_defer_flush(c: Ctx, mm: Mm, mut: ReclaimMutations): boolean {
  if (mut.noBatch || c.m.arch.flush === 'broadcast') return false;
  return mm.cpumask.some((on, cpu) => on && cpu !== c.cpu.id);
}

/** set_tlb_ubc_flush_pending(). */
function set_tlb_ubc_flush_pending(c: Ctx, mm: Mm, writable: boolean): void {
  const ubc = tlbUbc(c);
  if (!ubc.mms.includes(mm)) ubc.mms.push(mm);
  ubc.flush_required = true;
  tlb_flush_batched(c)[mm.id] = true;
  if (writable) ubc.writable = true;
}

/** try_to_unmap_flush(): arch_tlbbatch_flush() of every mm batched, waited for. */
export function* try_to_unmap_flush(c: Ctx): ActorGen {
  const ubc = tlbUbc(c);
  if (!ubc.flush_required) return;
  for (const mm of ubc.mms.splice(0)) yield* flush_tlb_mm(c, mm, 'try_to_unmap_flush(): arch_tlbbatch_flush()');
  ubc.flush_required = false;
  ubc.writable = false;
}

/** try_to_unmap(TTU_BATCH_FLUSH): rmap_walk_file() under i_mmap_rwsem read. False if a huge pmd maps
 *  the page (TTU_SPLIT_HUGE_PMD is not modelled: the page stays mapped). */
function* try_to_unmap(c: Ctx, slot: number, hpage: number, mut: ReclaimMutations): ActorGen {
  const m = c.m;
  const file = m.files[0]!;
  yield* down_read(c, file.i_mmap_rwsem);
  const pgoff = slot * HPAGE_PMD_NR;
  for (const vma of vma_interval_tree_foreach(m.files, file.id, pgoff)) {
    const mm = m.mms[vma.mm]!;
    const base = vma_address(vma, pgoff);
    const pmd = pmd_off(c, base, mm);
    if (pmd && pmd_trans_huge(m.arch, pmdEntryAt(m, pmd))) continue;
    const range = mmu_notifier_range_init('MMU_NOTIFY_CLEAR', mm, base, base + HPAGE_PMD_NR);
    yield* mmu_notifier_invalidate_range_start(c, range);
    yield* call(try_to_unmap_one(c, mm, base, hpage, { defer: (on) => should_defer_flush(c, on, mut), pending: (on, w) => set_tlb_ubc_flush_pending(c, on, w) }));
    yield* mmu_notifier_invalidate_range_end(c, range);
  }
  up_read(c, file.i_mmap_rwsem);
  yield step('rmap_walk_file(): i_mmap_unlock_read()');
}

/** The reclaim actor, with protocol rules changed for tests (none when registered), and the lowest
 *  file range it may be given (3 when registered: see makeTruncate()). */
export function makeShrinkFolioList(mut: ReclaimMutations = {}, name = 'shrink_folio_list', minSlot = 3): ActorDef {
  return {
    name,
    summary: 'reclaim of a file THP: isolate, lock, try_to_unmap(TTU_BATCH_FLUSH), __remove_mapping() (refcount freeze), free; try_to_unmap_flush() at the end',
    follows: 'mm/vmscan.c shrink_page_list() (≤ v5.x) / shrink_folio_list() (v6.x), __remove_mapping(); mm/rmap.c try_to_unmap_one(), should_defer_flush(), set_tlb_ubc_flush_pending(), try_to_unmap_flush(); v5.8–v6.6',
    inMm: false,
    daemon: 'no',
    params: [{ name: 'slot', min: minSlot, max: PTRS_PER_PMD - 1, default: 3, doc: 'the file range (file page / HPAGE_PMD_NR) whose page is reclaimed' }],
    *run(c, args) {
      const m = c.m;
      const slot = args['slot'] ?? 3;
      const file = m.files[0]!;
      const folio = eraAtLeast(m.sw, 'v6.2');
      const fn = folio ? 'shrink_folio_list' : 'shrink_page_list';
      const hpage = file.hpage[slot] ?? 0;
      if (hpage === 0) return;
      if (!get_page_unless_zero(c, hpage)) {
        yield step(`isolate_lru_${folio ? 'folios' : 'pages'}(): ${folio ? 'folio_try_get' : 'get_page_unless_zero'}(${hpage}) failed`);
        return;
      }
      yield step(`isolate_lru_${folio ? 'folios' : 'pages'}(): ${folio ? 'folio_try_get' : 'get_page_unless_zero'}(${hpage})`);
      const f = frameOf(m, hpage);
      const keep = function* (label: string, locked: boolean): ActorGen {
        if (locked) folio_unlock(c, hpage);
        put_page(m, hpage);
        yield step(`${fn}(): ${label}: ${locked ? `${folio ? 'folio_unlock' : 'unlock_page'}(); ` : ''}putback (put the isolation reference)`);
        yield* try_to_unmap_flush(c);
      };
      if (!folio_trylock(c, hpage)) return yield* keep(`${folio ? 'folio_trylock' : 'trylock_page'}(${hpage}) failed`, false);
      yield step(`${fn}(): ${folio ? 'folio_trylock' : 'trylock_page'}(${hpage})`);
      if (f.mapping !== file.id) return yield* keep('->mapping changed (truncated)', true);
      if (f.mapcount > 0) {
        yield* call(try_to_unmap(c, slot, hpage, mut));
        if (f.mapcount > 0) return yield* keep(`${folio ? 'folio_mapped' : 'page_mapped'}() after try_to_unmap(): activate_locked`, true);
      }
      if (f.dirty) return yield* keep('PageDirty(): not kswapd, pageout() not modelled: activate_locked', true);
      // __remove_mapping(): xa_lock_irq(); refcount = 1 + compound_nr(page): the isolation reference
      // and the page cache's (one in the model).
      if (!mut.noRefFreeze) {
        if (f.refcount !== 2) {
          return yield* keep(`__remove_mapping(): ${folio ? 'folio_ref_freeze' : 'page_ref_freeze'}(${hpage}, 2) failed (refcount ${f.refcount}): cannot_free`, true);
        }
        f.refcount = 0;
      }
      const idx = file.hpage.indexOf(hpage);
      if (idx >= 0) file.hpage[idx] = 0;
      f.mapping = -1;
      m.events.push({ e: 'cache-remove', pfn: hpage, file: file.id });
      folio_unlock(c, hpage);
      yield step(`__remove_mapping(): ${mut.noRefFreeze ? '(mutation: no freeze) ' : `${folio ? 'folio_ref_freeze' : 'page_ref_freeze'}(${hpage}, 2); `}__${folio ? 'filemap_remove_folio' : 'delete_from_page_cache'}(); xa_unlock_irq(); ${folio ? 'folio_unlock' : 'unlock_page'}()`);
      const free = (): void => {
        f.refcount = 0;
        freeFrame(m, hpage, 'now');
      };
      if (!mut.flushBeforeFree) {
        free();
        yield step(`${fn}(): free_it: ${folio ? 'destroy_large_folio' : 'destroy_compound_page'}(${hpage})`);
        yield* try_to_unmap_flush(c);
        return;
      }
      yield* try_to_unmap_flush(c);
      free();
      yield step(`${fn}(): try_to_unmap_flush(); free the list (${hpage})`);
    },
  };
}

export const shrink_folio_list: ActorDef = makeShrinkFolioList();
