// GUP-fast: lockless_pages_from_mm() / internal_get_user_pages_fast() → gup_pgd_range() →
// gup_pmd_range() → gup_huge_pmd() / gup_pte_range(), for one page, FOLL_PIN.
//
// IRQs off across the walk (local_irq_save): on an IPI architecture the flush that precedes a table
// free waits for local_irq_restore; where tables are freed by RCU, IRQs off hold off the grace period.
// The pmd is read once: READ_ONCE(*pmdp) before v6.2 (two loads on PAE), pmdp_get_lockless() from
// v6.2; !pmd_present gives up at once. After the
// speculative reference (try_grab_folio, which fails on a zero refcount), the pmd (70cbc3cc78a9, v6.0)
// and the pte are read again and the reference dropped if either moved.
// v6.6: gup_pte_range()'s pte_offset_map() takes rcu_read_lock() and may fail.
// v5.11+ (57efa1fe5957 "mm/gup: prevent gup_fast from racing with COW during fork"; v6.2, v6.6
// here): FOLL_PIN reads mm->write_protect_seq before the walk and gives up if it is odd, and drops
// what it pinned if it moved by the end (read_seqcount_retry()): fork (fork.ts) may have
// write-protected the page and shared it with the child meanwhile. Both are folded into the steps
// that disable and restore IRQs, which stay as they were when no fork runs.
// Switches: V3 gup-fast-no-pmd-recheck, V7 gup-fast-no-irq-disable, V4 (PAE: a plain pmd read).

import type { ActorDef } from '../actor.js';
import { NR_PAGES, pmd_present, pmd_pfn, pmd_protnone, pmd_trans_huge, pteIndex, pteSame } from '../entries.js';
import { get_page_unless_zero, put_page } from '../frames.js';
import { local_irq_restore, local_irq_save, rcu_read_lock } from '../cpu.js';
import { pmd_load, pmd_off, pmd_read, pmd_table, pmd_use, pmdp_get_lockless, pte_read, type PmdPtr, type PmdVal, type Stepper } from '../pgtable.js';
import { step, type Ctx } from '../step.js';
import { eraAtLeast, has } from '../switches.js';
import { mayFailPteMap, pte_unmap } from '../walk.js';

/** gup_huge_pmd(): reference the huge page, then check the pmd did not move. (KVM's hva_to_pfn_fast()
 *  walks with it too.) */
function* gup_huge_pmd(c: Ctx, pmd: PmdVal, write: boolean): Stepper<number | null> {
  // if (!pmd_access_permitted(orig, flags & FOLL_WRITE)) return 0: present to the hardware (x86
  // _PAGE_PRESENT, arm64 PTE_VALID: not an invalidated or protnone pmd), and writable for a write.
  const e = pmd.entry;
  if (e.t !== 'huge' || e.protnone || (write && !e.writable)) return null;
  pmd_use(c, pmd);
  const page = pmd_pfn(pmd.entry);
  const ok = get_page_unless_zero(c, page);
  yield step(`gup_huge_pmd(): try_grab_folio(${page})${ok ? '' : ' failed'}`);
  if (!ok) return null;
  const now = pmd_load(c, pmd.pmd);
  if (now.lo !== pmd.lo || now.hi !== pmd.hi) {
    put_page(c.m, page);
    yield step('gup_huge_pmd(): pmd_val(orig) != pmd_val(*pmdp): gup_put_folio()');
    return null;
  }
  return page;
}

/** gup_pte_range() for one pte. */
function* gup_pte_range(c: Ctx, pmd: PmdVal, addr: number, write: boolean): Stepper<number | null> {
  const m = c.m;
  // v6.6: ptem = ptep = pte_offset_map(&pmd, addr): __pte_offset_map() on the local value, under RCU.
  if (mayFailPteMap(c)) rcu_read_lock(c);
  const ptr = pmd_table(c, pmd);
  const pte = pte_read(c, ptr, pteIndex(addr));
  yield step(`gup_pte_range(): pte = ptep_get_lockless(ptep) [table ${ptr.pfn}]`);
  let got: number | null = null;
  if (pte.t === 'present' && !pte.protnone && (!write || pte.writable)) {   // pte_protnone(): leave NUMA hinting to the slow path
    const ok = get_page_unless_zero(c, pte.pfn);
    yield step(`gup_pte_range(): folio = try_grab_folio(${pte.pfn})${ok ? '' : ' failed'}`);
    if (ok) {
      let moved = false;
      if (!has(m.sw, 'gup-fast-no-pmd-recheck')) {
        const now = pmd_load(c, pmd.pmd);
        moved = now.lo !== pmd.lo || now.hi !== pmd.hi;
        yield step(`gup_pte_range(): pmd_val(pmd) != pmd_val(*pmdp)${moved ? ': moved' : ''}`);
      }
      if (!moved) {
        moved = !pteSame(pte, pte_read(c, ptr, pteIndex(addr)));
        yield step(`gup_pte_range(): pte_val(pte) != pte_val(ptep_get(ptep))${moved ? ': moved' : ''}`);
      }
      if (moved) {
        put_page(m, pte.pfn);
        yield step('gup_pte_range(): gup_put_folio()');
      } else {
        got = pte.pfn;
      }
    }
  }
  pte_unmap(c);
  return got;
}

/** gup_pmd_range()'s load of the pmd. Before v6.2 it was `pmd_t pmd = READ_ONCE(*pmdp)` (5.10.13
 *  mm/gup.c gup_pmd_range()): on x86 PAE a 64-bit READ_ONCE() is two 32-bit loads, and nothing
 *  re-reads the low half, so a store between them tears the value. Peter Zijlstra's "mm/gup: Fix the
 *  lockless PMD access" (v6.2) made it pmdp_get_lockless(), which re-reads the low half and retries. */
function gup_pmd_read(c: Ctx, pmdp: PmdPtr): Stepper<PmdVal> {
  // (It picks the read and does not delegate to it: one generator level less under the pmd read.)
  if (!eraAtLeast(c.m.sw, 'v6.2')) return pmd_read(c, pmdp, 'gup_pmd_range(): pmd = READ_ONCE(*pmdp)');
  return pmdp_get_lockless(c, pmdp, 'gup_pmd_range(): pmd = pmdp_get_lockless(pmdp)');
}

/** gup_pgd_range() → gup_p4d_range() → gup_pud_range() → gup_pmd_range(): READ_ONCE() each upper
 *  entry, giving up on none (pmd_offset_lockless() takes the pmd pointer from the pud value read),
 *  then the pmd with pmdp_get_lockless(), and the huge page or the pte under it. The page referenced,
 *  or null. The caller has IRQs off (lockless_pages_from_mm(), get_user_page_fast_only()). */
export function* gup_pgd_range(c: Ctx, addr: number, write: boolean): Stepper<number | null> {
  const pmdp = pmd_off(c, addr);
  const pmd = pmdp ? yield* gup_pmd_read(c, pmdp) : null;
  if (!pmd || !pmd_present(c.m.arch, pmd.entry)) return null;
  // "NUMA hinting faults need to be handled in the GUP slowpath": if (pmd_protnone(pmd)) return 0.
  if (pmd_trans_huge(c.m.arch, pmd.entry) && pmd_protnone(pmd.entry)) return null;
  return pmd_trans_huge(c.m.arch, pmd.entry) ? yield* gup_huge_pmd(c, pmd, write) : yield* gup_pte_range(c, pmd, addr, write);
}

export const gup_fast: ActorDef = {
  name: 'gup_fast',
  summary: 'get_user_pages_fast() of one page with FOLL_PIN: lockless walk with IRQs off, then write through the pin and unpin',
  follows: 'mm/gup.c lockless_pages_from_mm(), gup_pmd_range(), gup_huge_pmd(), gup_pte_range(); v5.8–v6.6 (pmd re-check from 70cbc3cc78a9, v6.0; pmdp_get_lockless() from v6.2, READ_ONCE() before)',
  inMm: true,
  daemon: 'no',
  params: [
    { name: 'addr', min: 0, max: NR_PAGES - 1, default: 0, doc: 'address (page index)' },
    { name: 'write', min: 0, max: 1, default: 1, doc: 'FOLL_WRITE (e.g. an O_DIRECT read into the buffer)' },
  ],
  *run(c, args) {
    const m = c.m;
    const addr = args['addr'] ?? 0;
    const since = m.step;
    const irqs = !has(m.sw, 'gup-fast-no-irq-disable');
    // v5.11+ (57efa1fe5957), FOLL_PIN: seq = raw_read_seqcount(&mm->write_protect_seq), read in the
    // step that disables IRQs; odd means fork is write-protecting the parent's ptes: give up.
    const wpSeq = eraAtLeast(m.sw, 'v6.2');
    const seq = c.mm.write_protect_seq;
    if (wpSeq && (seq & 1) === 1) {
      yield step('lockless_pages_from_mm(): raw_read_seqcount(&mm->write_protect_seq) is odd (fork is copying): fall back to the slow path');
      return;
    }
    let flags = false;
    if (irqs) {
      flags = local_irq_save(c);
      yield step('lockless_pages_from_mm(): local_irq_save(flags)');
    }
    let page = yield* gup_pgd_range(c, addr, args['write'] === 1);
    // read_seqcount_retry() after local_irq_restore(), in the same step: a fork began meanwhile.
    const retry = wpSeq && page !== null && c.mm.write_protect_seq !== seq;
    if (page !== null && retry) {
      put_page(m, page);
      page = null;
    }
    if (page !== null) m.events.push({ e: 'pin', mm: c.mm.id, addr, pfn: page, since });
    const retried = retry ? '; read_seqcount_retry(&mm->write_protect_seq): unpin_user_pages_lockless(); fall back to the slow path' : '';
    if (irqs) {
      local_irq_restore(c, flags);
      yield step(`lockless_pages_from_mm(): local_irq_restore(flags)${retried || (page === null ? ' [no page: fall back to the slow path]' : '')}`);
    } else if (page === null) {
      yield step(retried ? `lockless_pages_from_mm()${retried}` : 'gup_pmd_range(): gave up: fall back to the slow path');
    }
    if (page === null) return;
    yield step(`caller: DMA into pinned page ${page}`);
    m.events.push({ e: 'unpin', addr, pfn: page });
    put_page(m, page);
    yield step(`unpin_user_page(${page})`);
  },
};
