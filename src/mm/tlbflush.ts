// TLB flushes and page-table freeing, per architecture (arch.ts).
//
// include/asm-generic/tlb.h, mm/mmu_gather.c: unmap code gathers pages and tables in an mmu_gather,
// flushes the TLB, then frees them; with CONFIG_MMU_GATHER_RCU_TABLE_FREE the tables go through
// call_rcu (tlb_remove_table_rcu), so a walker with IRQs off (an RCU reader) holds them off.

import { call_rcu, flushLocal, send_ipi_and_wait, type FlushRange } from './cpu.js';
import { freeFrame, put_page } from './frames.js';
import { step, type ActorGen, type Ctx } from './step.js';
import type { Mm, Model } from './types.js';
import { TASK_PAGES } from './entries.js';
import { traceOnly } from './events.js';

/** The whole of an mm: flush_tlb_mm(). */
export function wholeMm(mm: Mm): FlushRange {
  return { mm: mm.id, start: 0, end: TASK_PAGES };
}

/** flush_tlb_mm_range(): on an IPI architecture, IPI every other CPU in mm_cpumask and wait;
 *  otherwise invalidate every CPU at once and wait for nobody. `range` defaults to the actor's
 *  whole mm (flush_tlb_mm()); a range that misses an address leaves its TLB entries stale, as a
 *  wrong range does in the kernel (723a80dafed5).
 *  `freedTables`: x86's native_flush_tlb_multi() IPIs CPUs in lazy TLB mode only when page tables
 *  were freed (016c4d92cd16, v4.20): tlb_flush_mmu() says so (tlb->freed_tables), but the
 *  flush_tlb_range() macro passed false until 3ef938c35035 (v6.15), even from pmdp_collapse_flush(),
 *  which is followed by freeing the table. */
export function* flush_tlb_range(c: Ctx, label = 'flush_tlb_range()', asked: FlushRange = wholeMm(c.mm), freedTables = false): ActorGen {
  const m = c.m;
  const ceiling = m.arch.flushCeiling;
  const range = ceiling !== undefined && asked.end - asked.start > ceiling ? { mm: asked.mm, start: 0, end: TASK_PAGES } : asked;
  flushLocal(c.cpu, range);
  if (m.arch.flush === 'ipi') {
    const mask = m.mms[range.mm]?.cpumask ?? [];
    const targets = m.cpus.filter((cpu) => mask[cpu.id] === true && (freedTables || !cpu.lazy));
    if (traceOnly(m)) m.events.push({ e: 'flush', cpus: [c.cpu.id], how: 'local' });
    yield* send_ipi_and_wait(c, targets, range, `${label}: IPI`);
    return;
  }
  for (const cpu of m.cpus) flushLocal(cpu, range);
  if (traceOnly(m)) m.events.push({ e: 'flush', cpus: m.cpus.map((cpu) => cpu.id), how: m.arch.flush });
  yield step(`${label}: ${m.arch.flush === 'broadcast' ? 'broadcast invalidate' : 'flush hypercall'}, no IPI`);
}

/** tlb_remove_table_sync_one() (2ba99c5e0881): an IPI to every CPU, waited for, where tables are freed
 *  by RCU; a no-op elsewhere (no step). */
export function* tlb_remove_table_sync_one(c: Ctx): ActorGen {
  if (!c.m.arch.syncOneIpi) return;
  yield* send_ipi_and_wait(c, c.m.cpus, null, 'tlb_remove_table_sync_one()');
}

/** pmdp_get_lockless_sync() (v6.5+, include/linux/pgtable.h): tlb_remove_table_sync_one() where the pmd
 *  is read in two halves (CONFIG_GUP_GET_PXX_LOW_HIGH: x86 PAE), so that a pmdp_get_lockless() begun
 *  with IRQs off (pmdp_get_lockless_start() in __pte_offset_map()) has finished before the table can
 *  be reused; empty elsewhere. Like tlb_remove_table_sync_one(), an IPI only where tables are freed
 *  by RCU (x86 PAE with PARAVIRT), a no-op on the model's native x86-pae. */
export function* pmdp_get_lockless_sync(c: Ctx): ActorGen {
  if (c.m.arch.pae) yield* tlb_remove_table_sync_one(c);
}

/** pte_free(): free a page table now, whatever the architecture. */
export function pte_free(m: Model, pfn: number): void {
  freeFrame(m, pfn, 'now');
}

/** pte_free_defer() (v6.6, 1d65b771bc08's series): free after an RCU grace period on every arch. */
export function pte_free_defer(c: Ctx, pfn: number): void {
  call_rcu(c.m, c.id, `pte_free_now(${pfn})`, (m) => freeFrame(m, pfn, 'rcu'));
}

/** flush_tlb_page(): one address of the mm. */
export function* flush_tlb_page(c: Ctx, mm: Mm, addr: number, label = 'flush_tlb_page()'): ActorGen {
  yield* flush_tlb_range(c, label, { mm: mm.id, start: addr, end: addr + 1 });
}

/** flush_tlb_mm(): every address of the mm. */
export function* flush_tlb_mm(c: Ctx, mm: Mm, label = 'flush_tlb_mm()'): ActorGen {
  yield* flush_tlb_range(c, label, wholeMm(mm));
}

/** struct mmu_gather, per unmapping actor (include/asm-generic/tlb.h). */
export interface MmuGather {
  /** tlb->mm. */
  readonly mm: Mm;
  /** tlb->fullmm: exit_mmap's teardown, flushed as flush_tlb_mm(). */
  readonly fullmm: boolean;
  /** Data pages whose mapping was cleared: one reference each is dropped after the flush. */
  readonly pages: number[];
  /** Page tables unhooked by free_pgtables(). */
  readonly tables: number[];
  /** tlb->start, tlb->end: what __tlb_adjust_range() gathered (start > end: nothing). */
  start: number;
  end: number;
  /** tlb->freed_tables: a table was freed, so the flush must reach lazy CPUs and walk caches. */
  freed_tables: boolean;
  needFlush: boolean;
  /** tlb_flush_mmu_tlbonly() ran and reset the range; the gathered pages are not yet freed. */
  flushedOnly?: boolean;
}

export function tlb_gather_mmu(mm: Mm, fullmm: boolean): MmuGather {
  return { mm, fullmm, pages: [], tables: [], start: Infinity, end: -Infinity, freed_tables: false, needFlush: false };
}

/** __tlb_adjust_range(). */
export function tlb_adjust_range(tlb: MmuGather, addr: number, pages: number): void {
  tlb.start = Math.min(tlb.start, addr);
  tlb.end = Math.max(tlb.end, addr + pages);
}

/** tlb_remove_tlb_entry() + __tlb_remove_page(): `addr`'s translation is flushed, then the mapping's
 *  reference goes. `pages`: HPAGE_PMD_NR for tlb_remove_pmd_tlb_entry(). */
export function tlb_remove_page(tlb: MmuGather, pfn: number, addr: number, pages = 1): void {
  tlb_adjust_range(tlb, addr, pages);
  tlb.pages.push(pfn);
  tlb.needFlush = true;
}

/** pte_free_tlb() / pmd_free_tlb() / pud_free_tlb() → tlb_remove_table(): the table mapped
 *  [addr, addr + pages), which the flush covers; tlb->freed_tables is set. */
export function tlb_remove_table(tlb: MmuGather, pfn: number, addr: number, pages: number): void {
  tlb_adjust_range(tlb, addr, pages);
  tlb.freed_tables = true;
  tlb.tables.push(pfn);
  tlb.needFlush = true;
}

/** tlb_flush_mmu(): flush the TLB (tlb_flush(): the gathered range, or the whole mm for fullmm),
 *  then free the gathered pages and tables. */
export function* tlb_flush_mmu(c: Ctx, tlb: MmuGather): ActorGen {
  if (!tlb.needFlush) return;
  // tlb_flush_mmu_tlbonly() flushes only what was cleared since the last flush (nothing, when
  // zap_pte_range() has just forced one).
  if (tlb.start < tlb.end || tlb.freed_tables || !tlb.flushedOnly) {
    const range = tlb.fullmm || tlb.start >= tlb.end ? wholeMm(tlb.mm) : { mm: tlb.mm.id, start: tlb.start, end: tlb.end };
    yield* flush_tlb_range(c, 'tlb_flush_mmu_tlbonly()', range, tlb.freed_tables);
  }
  tlb.flushedOnly = false;
  tlb.needFlush = false;
  tlb.start = Infinity;
  tlb.end = -Infinity;
  tlb.freed_tables = false;
  const m = c.m;
  for (const pfn of tlb.pages.splice(0)) put_page(m, pfn, 'after-flush');
  const tables = tlb.tables.splice(0);
  if (tables.length === 0) {
    yield step('tlb_flush_mmu_free(): free_pages_and_swap_cache()');
    return;
  }
  if (m.arch.tableFree === 'rcu') {
    call_rcu(m, c.id, `tlb_remove_table_rcu(${tables.join(',')})`, (mm) => {
      for (const pfn of tables) freeFrame(mm, pfn, 'rcu');
    });
    yield step('tlb_flush_mmu_free(): tlb_table_flush() → call_rcu(tlb_remove_table_rcu)');
  } else {
    for (const pfn of tables) freeFrame(m, pfn, 'after-flush');
    yield step('tlb_flush_mmu_free(): free page tables');
  }
}

/** tlb_flush_mmu_tlbonly() on its own, as zap_pte_range() forces it before dropping the ptl: flush
 *  what was gathered (the whole mm for fullmm) and reset the range; the pages stay gathered for
 *  tlb_flush_mmu() to free. Nothing to do if nothing was cleared since the last flush. */
export function* tlb_flush_mmu_tlbonly(c: Ctx, tlb: MmuGather): ActorGen {
  if (!(tlb.start < tlb.end || tlb.freed_tables)) return;
  const range = tlb.fullmm ? wholeMm(tlb.mm) : { mm: tlb.mm.id, start: tlb.start, end: tlb.end };
  yield* flush_tlb_range(c, 'tlb_flush_mmu_tlbonly()', range, tlb.freed_tables);
  tlb.start = Infinity;
  tlb.end = -Infinity;
  tlb.freed_tables = false;
  tlb.flushedOnly = true;
}

/** tlb_finish_mmu(). */
export function* tlb_finish_mmu(c: Ctx, tlb: MmuGather): ActorGen {
  yield* tlb_flush_mmu(c, tlb);
}
