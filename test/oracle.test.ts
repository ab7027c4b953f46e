// Every oracle check, with a case where it fires and a case where it must not. Checks that the
// catalog races already fire (variants.test.ts) are named there; the rest are fired here by small
// deliberately wrong actors, written against the same primitives as the real ones.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { nonPreemptive } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { alloc_page, copy_user_highpage, get_page, put_page } from '../src/mm/frames.js';
import { page_add_rmap, page_remove_rmap, set_page_dirty } from '../src/mm/rmap.js';
import { down_write, spin_lock, spin_unlock, up_write } from '../src/mm/locks.js';
import { pmd_load, pmd_lockptr, pmd_populate, pmd_table, pmdRange, pmdp_huge_get_and_clear, pte_lockptr, pte_read, pte_write, ptep_get_and_clear, tableNow, spin_lock_ptl, upperEntry, upperStore } from '../src/mm/pgtable.js';
import { flush_tlb_range } from '../src/mm/tlbflush.js';
import { guest_access, kvm_create_vm } from '../src/mm/actors/kvm.js';
import { smmu_install } from '../src/mm/mmu_notifier.js';
import { buildScenario, type ActorCall, type ScenarioSpec } from '../src/mm/scenario.js';
import { step, type ActorGen, type Ctx } from '../src/mm/step.js';
import { pte_free } from '../src/mm/tlbflush.js';
import { pmd_off_present } from '../src/mm/pgtable.js';
import { pmdAddr } from '../src/mm/entries.js';
import { VIOLATION_KINDS, type ViolationKind } from '../src/oracle/violations.js';
import { describe, runScript } from './helpers.js';
import type { Segment } from '../src/explore/schedulers.js';
import { __split_vma } from '../src/mm/vma.js';
import { makeMprotect } from '../src/mm/actors/mprotect.js';
import { makeFileFault } from '../src/mm/actors/file_fault.js';
import { makeTruncate } from '../src/mm/actors/truncate.js';

function wrong(name: string, run: (c: Ctx) => ActorGen, inMm = false): ActorDef {
  return { name, summary: 'a deliberately wrong actor, for the oracle tests', follows: '(none: a test mutation)', inMm, daemon: 'no', params: [], run };
}

const BAD: readonly ActorDef[] = [
  // Clears pmd 2 and frees its table without any TLB flush.
  wrong('retract_without_flush', function* (c) {
    const pmd = pmd_off_present(c, pmdAddr(2));
    const pml = pmd_lockptr(c.m, pmd);
    yield* spin_lock(c, pml);
    const old = pmdp_huge_get_and_clear(c, pmd);
    spin_unlock(c, pml);
    c.mm.nr_ptes--;
    if (old.t === 'table') pte_free(c.m, old.pfn);
    yield step('pmdp_huge_get_and_clear(pmd 2); pte_free() with no flush');
  }),
  // Drops the mapping's reference on page 3 while pte 0 still maps it.
  wrong('put_mapped_page', function* (c) {
    put_page(c.m, 3);
    yield step('put_page(3) while still mapped');
    yield step('carry on');
  }),
  wrong('get_free_page', function* (c) {
    get_page(c, 20);
    yield step('get_page(20) on a free page');
  }),
  wrong('put_twice', function* (c) {
    put_page(c.m, 3);
    put_page(c.m, 3);
    yield step('put_page(3); put_page(3)');
  }),
  wrong('zap_nothing', function* (c) {
    c.m.events.push({ e: 'zap-done', mm: 0, start: 0, end: 4 });
    yield step('claims to have zapped [0, 4)');
  }),
  // Zaps the pte of address 0 and frees its page with the flush, as zap_pte_range() does, but with
  // no mmu_notifier_invalidate_range_start(): a secondary MMU keeps its mapping of the page.
  wrong('zap_without_notifier', function* (c) {
    const pmd = pmd_off_present(c, 0);
    const ptr = tableNow(c.m, 2);
    yield* spin_lock_ptl(c, ptr);
    ptep_get_and_clear(c, ptr, 0);
    spin_unlock(c, pte_lockptr(c.m, ptr));
    c.mm.rss--;
    yield step('ptep_get_and_clear(addr 0), no mmu notifier');
    yield* flush_tlb_range(c, 'flush_tlb_range()', pmdRange(pmd));
    put_page(c.m, 3);
    yield step('put_page(3) after the flush');
  }, true),
  // A KVM fault without gfn_to_pfn()'s reference and without the mmu_notifier_retry() check: it reads
  // the pte locklessly, and installs what it read whatever happened meanwhile.
  wrong('kvm_unsynchronized', function* (c) {
    const vm = yield* kvm_create_vm(c);
    const v = pmd_load(c, pmd_off_present(c, 0));
    const pte = pte_read(c, pmd_table(c, v), 0);
    yield step('kvm fault: pte = *ptep (no reference, no mmu_seq)');
    if (pte.t === 'present') smmu_install(c, vm.smmu, 0, pte.pfn);
    yield step('mmu_set_spte() without mmu_notifier_retry()');
    guest_access(c, vm, 0);
    yield step('guest access to 0');
  }, true),
  wrong('unlock_unheld', function* (c) {
    spin_unlock(c, pmd_lockptr(c.m, pmd_off_present(c, 0)));
    yield step('spin_unlock(pmd_lock) without holding it');
  }),
  wrong('leak_page', function* (c) {
    alloc_page(c, 'data');
    yield step('alloc_page() and forget it');
  }),
  wrong('count_phantom_page', function* (c) {
    c.mm.rss++;
    yield step('inc_mm_counter() with nothing mapped');
  }),
  wrong('lock_ab', function* (c) {
    yield* spin_lock(c, pmd_lockptr(c.m, pmd_off_present(c, 0)));
    yield* spin_lock_ptl(c, tableNow(c.m, 2));
    spin_unlock(c, pte_lockptr(c.m, tableNow(c.m, 2)));
    spin_unlock(c, pmd_lockptr(c.m, pmd_off_present(c, 0)));
    yield step('unlock both');
  }),
  wrong('lock_ba', function* (c) {
    yield* spin_lock_ptl(c, tableNow(c.m, 2));
    yield* spin_lock(c, pmd_lockptr(c.m, pmd_off_present(c, 0)));
    spin_unlock(c, pmd_lockptr(c.m, pmd_off_present(c, 0)));
    spin_unlock(c, pte_lockptr(c.m, tableNow(c.m, 2)));
    yield step('unlock both');
  }),
  wrong('return_holding_lock', function* (c) {
    yield* spin_lock(c, pmd_lockptr(c.m, pmd_off_present(c, 0)));
  }),
  // Clears pte 1 of table 2 (page 4) without taking ptl(2).
  wrong('pte_write_unlocked', function* (c) {
    ptep_get_and_clear(c, tableNow(c.m, 2), 1);
    put_page(c.m, 4);
    c.mm.rss--;
    yield step('ptep_get_and_clear(pte 1) without the ptl; put_page(4)');
  }),
  // Copies page 3 for a collapse without clearing or flushing its mapping first.
  wrong('copy_without_flush', function* (c) {
    copy_user_highpage(c, 3, 6, 0);
    yield step('copy_user_highpage(3) with its pte and TLB entries still live');
    yield step('carry on');
  }),
  // Makes the file pte 7[0] dirty, then clears it with (or without) set_page_dirty().
  ...[true, false].map((transfer) => wrong(transfer ? 'dirty_file_zap' : 'dirty_file_drop', function* (c) {
    const t = tableNow(c.m, 7);
    yield* spin_lock_ptl(c, t);
    pte_write(c, t, 0, { t: 'present', pfn: 8, sub: 0, writable: true, dirty: true });
    ptep_get_and_clear(c, t, 0);
    if (transfer) set_page_dirty(c, 8);
    page_remove_rmap(c, 8);
    put_page(c.m, 8);
    c.mm.rss--;
    spin_unlock(c, pte_lockptr(c.m, t));
    yield step(`ptep_get_and_clear(file pte, dirty)${transfer ? '; set_page_dirty()' : ''}; page_remove_rmap(); put_page()`);
  })),
  // A GUP that computes the wrong pte index: returns page 4 (address 1) for address 0.
  wrong('gup_off_by_one', function* (c) {
    get_page(c, 4);
    c.m.events.push({ e: 'pin', mm: 0, addr: 0, pfn: 4, since: c.m.step });
    yield step('follow_page_pte(): returns page 4 for address 0');
    c.m.events.push({ e: 'unpin', addr: 0, pfn: 4 });
    put_page(c.m, 4);
    yield step('put_page(4)');
  }, true),
  // Splits the file VMA at 12 without (or with) mmap_lock for write.
  ...[false, true].map((locked) => wrong(locked ? 'split_locked' : 'split_unlocked', function* (c) {
    if (locked) yield* down_write(c, c.mm.mmap_lock);
    yield* __split_vma(c, c.mm.vmas[1]!, 12, false);
    if (locked) up_write(c, c.mm.mmap_lock);
    yield step(`__split_vma(vma 1 at 12)${locked ? ' under mmap_write_lock' : ''}`);
  }, true)),
  // Maps file page 8's subpage 0 writable at address 12, then (after a CPU wrote) cleans it for
  // writeback as page_mkclean() does: the pte's dirty bit and PG_dirty cleared, with or without the
  // TLB flush that must follow.
  ...[true, false].map((flush) => wrong(flush ? 'mkclean_flush' : 'mkclean_no_flush', function* (c) {
    const t = tableNow(c.m, 7);
    yield* spin_lock_ptl(c, t);
    pte_write(c, t, 0, { t: 'present', pfn: 8, sub: 0, writable: true, dirty: false });
    spin_unlock(c, pte_lockptr(c.m, t));
    yield step('make pte 7[0] writable');
    yield* spin_lock_ptl(c, t);
    pte_write(c, t, 0, { t: 'present', pfn: 8, sub: 0, writable: true, dirty: false });
    c.m.frames[8]!.dirty = false;
    spin_unlock(c, pte_lockptr(c.m, t));
    yield step('page_mkclean_one(): pte_mkclean(); folio_clear_dirty_for_io()');
    if (flush) yield* flush_tlb_range(c, 'flush_tlb_page(12)', { mm: 0, start: 12, end: 13 });
    yield step('writeback done');
  })),
  // Counts a mapping of page 3 that no entry holds.
  wrong('phantom_rmap', function* (c) {
    page_add_rmap(c, 3);
    yield step('page_add_anon_rmap(3) with no pte');
  }),
  // Hooks a new pte table into pmd 1 without pmd_lock (a racing fault may populate it too).
  wrong('populate_unlocked', function* (c) {
    const t = alloc_page(c, 'pte-table');
    pmd_populate(c, pmd_off_present(c, 4), t);
    c.mm.nr_ptes++;
    yield step('pmd_populate(pmd 1) without pmd_lock');
  }),
  // Takes pmd 2's table out and frees it, then puts the freed table back.
  wrong('reinstall_freed_table', function* (c) {
    const pmd = pmd_off_present(c, pmdAddr(2));
    const pml = pmd_lockptr(c.m, pmd);
    yield* spin_lock(c, pml);
    const old = pmdp_huge_get_and_clear(c, pmd);
    if (old.t === 'table') pte_free(c.m, old.pfn);
    yield step('pmdp_huge_get_and_clear(pmd 2); pte_free()');
    if (old.t === 'table') pmd_populate(c, pmd, old.pfn);
    spin_unlock(c, pml);
    yield step('pmd_populate(pmd 2, the freed table)');
  }),
  // Maps a free page at address 1.
  wrong('map_free_page', function* (c) {
    pte_write(c, tableNow(c.m, 2), 1, { t: 'present', pfn: 20, sub: 0, writable: true, dirty: false });
    yield step('set_pte_at(pte 1, page 20, which is free)');
  }),
  // Hooks a data page in as a pmd table.
  wrong('pud_populate_data_page', function* (c) {
    const g = upperEntry(c, tableNow(c.m, c.mm.pgd), 0, 'pgd');
    if (g.t === 'table') upperStore(c, tableNow(c.m, g.pfn), 1, 'pud', { t: 'table', pfn: 3 }, 'pud_populate');
    yield step('pud_populate(pud 1, page 3)');
  }),
];
// A file fault with neither of filemap_fault()'s re-checks under the page lock (page->mapping, i_size).
// Both fault page 6, which the registered file_fault leaves to collapse_file() in this world.
const NO_RECHECK = makeFileFault({ noMappingRecheck: true, noSizeRecheck: true }, 'file_fault_no_recheck', [8, 15]);
const WIDE_FAULT = makeFileFault({}, 'file_fault_page6', [8, 15]);
const POOL = [...ACTORS, ...BAD, NO_RECHECK, WIDE_FAULT, makeTruncate({}, 'truncate_page6', 0),
  // mprotect() that returns without flushing the TLB.
  makeMprotect('mprotect_no_flush', { noFlush: true })];

interface Case {
  readonly actors: readonly ActorCall[];
  readonly schedule?: readonly Segment[];
  readonly choices?: Readonly<Record<string, readonly number[]>>;
  readonly era?: string;
  readonly arch?: string;
  readonly variants?: readonly string[];
  readonly world?: string;
}

function run(c: Case) {
  const spec: ScenarioSpec = { arch: c.arch ?? 'x86-ipi', era: c.era ?? 'v6.6', variants: c.variants ?? [], actors: c.actors, ...(c.world ? { world: c.world } : {}) };
  return runScript(spec, c.schedule ?? [], c.choices ?? {}, POOL).exec;
}

const hwAt8: Case['choices'] = { 'hw-address': [8, 8, 8] };

/** A race that fires with `variants` on and must not fire with the fix in (`fixed.variants`). */
function withAndWithout(fixed: Case, variants: readonly string[]): { fires: Case; quiet: Case } {
  return { fires: { ...fixed, variants: [...variants, ...(fixed.variants ?? [])] }, quiet: fixed };
}

/** For each check: a case where it fires, and a close case where it must not. */
const CHECKS: Readonly<Record<ViolationKind, { fires: Case; quiet: Case }>> = {
  'table-use-after-free': withAndWithout({ arch: 'rcu-table-free', era: 'v6.2', actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }],
    schedule: [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'collapse_file' }, { actor: 'gup_fast' }] }, ['khugepaged-no-ipi-sync']),
  'table-reused': withAndWithout({ arch: 'rcu-table-free', era: 'v6.2',
    actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 4 } }],
    schedule: [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'collapse_file' }, { actor: 'fault' }, { actor: 'gup_fast' }] }, ['khugepaged-no-ipi-sync']),
  'frame-zero-walked': withAndWithout({ era: 'v5.10', actors: [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }],
    schedule: [{ actor: 'exit_mmap', until: 'pmd_read_atomic(pmd) [pmd 2]' }, { actor: 'collapse_file' }, { actor: 'exit_mmap' }] }, ['retract-no-exit-test']),
  'bogus-table-walked': withAndWithout({ era: 'v5.10', actors: [{ actor: 'coredump', args: { addr: 0 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }],
    schedule: [{ actor: 'coredump', until: 'follow_pmd_mask' }, { actor: 'collapse_huge_page' }, { actor: 'coredump' }] }, ['coredump-unlocked']),
  'stale-tlb': {
    fires: { actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'retract_without_flush' }], schedule: [{ actor: 'hw_walker' }], choices: hwAt8 },
    quiet: { actors: [{ actor: 'hw_walker', args: { accesses: 1 } }, { actor: 'collapse_file' }], schedule: [{ actor: 'hw_walker' }], choices: hwAt8 },
  },
  'stale-tlb-access': {
    // The page is freed while still mapped; a later hardware walk finds it through the live pte.
    fires: { actors: [{ actor: 'put_mapped_page' }, { actor: 'hw_walker', args: { accesses: 1 } }],
      schedule: [{ actor: 'put_mapped_page', until: 'put_page(3)' }, { actor: 'hw_walker' }], choices: { 'hw-address': [0] } },
    quiet: { actors: [{ actor: 'hw_walker', args: { accesses: 3 } }], choices: { 'hw-address': [0, 1, 8] } },
  },
  'stale-tlb-protection': {
    // The thread writes address 0 (a writable TLB entry) → mprotect(PROT_READ) returns without a
    // flush → the thread writes through the old entry; with the flush it faults (SIGSEGV).
    fires: { actors: [{ actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }, { actor: 'mprotect_no_flush', args: { vma: 0, prot: 1 } }],
      schedule: [{ actor: 'touch', until: 'user write to 0 → frame 3' }, { actor: 'mprotect_no_flush' }, { actor: 'touch' }] },
    quiet: { actors: [{ actor: 'touch', args: { addr: 0, write: 1, accesses: 2 } }, { actor: 'mprotect', args: { vma: 0, prot: 1 } }],
      schedule: [{ actor: 'touch', until: 'user write to 0 → frame 3' }, { actor: 'mprotect' }, { actor: 'touch' }] },
  },
  'stale-secondary-mapping': {
    // KVM maps address 0 (page 3); a zap without notifier frees the page under its spte.
    fires: { actors: [{ actor: 'kvm', args: { addr: 0, accesses: 1 } }, { actor: 'zap_without_notifier' }], schedule: [{ actor: 'kvm' }, { actor: 'zap_without_notifier' }] },
    // MADV_DONTNEED calls mmu_notifier_invalidate_range_start(): KVM drops the spte first.
    quiet: { actors: [{ actor: 'kvm', args: { addr: 0, accesses: 1 } }, { actor: 'madvise_dontneed', args: { slot: 0 } }], schedule: [{ actor: 'kvm' }, { actor: 'madvise_dontneed' }] },
  },
  'stale-secondary-access': {
    // The zap frees page 3 between the unsynchronized fault's read and its install.
    fires: { actors: [{ actor: 'kvm_unsynchronized' }, { actor: 'madvise_dontneed', args: { slot: 0 } }],
      schedule: [{ actor: 'kvm_unsynchronized', until: 'no reference' }, { actor: 'madvise_dontneed' }, { actor: 'kvm_unsynchronized' }] },
    // KVM's fault holds its reference across the zap, and mmu_notifier_retry() sees the invalidation.
    quiet: { actors: [{ actor: 'kvm', args: { addr: 0, accesses: 2 } }, { actor: 'madvise_dontneed', args: { slot: 0 } }],
      schedule: [{ actor: 'kvm', until: 'local_irq_restore' }, { actor: 'madvise_dontneed' }, { actor: 'kvm' }] },
  },
  'ref-on-freed-frame': {
    fires: { actors: [{ actor: 'get_free_page' }] },
    quiet: { actors: [{ actor: 'gup_slow', args: { addr: 0 } }] },
  },
  'freed-while-pinned': {
    fires: { actors: [{ actor: 'gup_slow', args: { addr: 0 } }, { actor: 'put_twice' }], schedule: [{ actor: 'gup_slow', until: 'mmap_read_unlock' }, { actor: 'put_twice' }] },
    quiet: { actors: [{ actor: 'gup_slow', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }], schedule: [{ actor: 'gup_slow', until: 'mmap_read_unlock' }, { actor: 'munmap' }, { actor: 'gup_slow' }] },
  },
  'stale-pin': withAndWithout({ arch: 'rcu-table-free', era: 'v6.2', variants: ['khugepaged-no-ipi-sync'],
    actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }],
    schedule: [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'collapse_huge_page', until: 'isolate' }, { actor: 'gup_fast', until: 'local_irq_restore' }, { actor: 'collapse_huge_page' }] }, ['gup-fast-no-pmd-recheck']),
  'torn-pmd-read': {
    fires: { arch: 'x86-pae', variants: ['pae-torn-pmd-read'], actors: [{ actor: 'gup_fast', args: { addr: 4 } }, { actor: 'fault', args: { addr: 4 } }],
      schedule: [{ actor: 'gup_fast', until: '[high half]' }, { actor: 'fault' }, { actor: 'gup_fast' }], choices: { 'pae-load-order': [1] } },
    // A torn value that is only tested for flags and read again is no use of it (zap's pmd_none).
    quiet: { arch: 'x86-pae', actors: [{ actor: 'madvise_dontneed', args: { slot: 1 } }, { actor: 'fault', args: { addr: 4 } }],
      schedule: [{ actor: 'madvise_dontneed', until: '[low half]' }, { actor: 'fault' }, { actor: 'madvise_dontneed' }] },
  },
  'valid-mapping-cleared': withAndWithout({ era: 'v6.2', actors: [{ actor: 'madvise_dontneed', args: { slot: 1 } }, { actor: 'thp_fault', args: { slot: 1 } }],
    schedule: [{ actor: 'madvise_dontneed', until: 'pmd_trans_huge(*pmd)' }, { actor: 'thp_fault' }, { actor: 'madvise_dontneed' }] }, ['pmd-bad-clears-huge']),
  'bad-entry-installed': {
    fires: { actors: [{ actor: 'reinstall_freed_table' }] },
    // fault populates the none pmd 1 with a table it has just allocated.
    quiet: { actors: [{ actor: 'fault', args: { addr: 4 } }] },
  },
  'mapping-survives-zap': {
    fires: { actors: [{ actor: 'zap_nothing' }] },
    quiet: { actors: [{ actor: 'munmap', args: { vma: 0 } }] },
  },
  'lost-write': {
    fires: { actors: [{ actor: 'hw_walker', args: { accesses: 2, write: 1 } }, { actor: 'copy_without_flush' }],
      schedule: [{ actor: 'hw_walker', until: 'user write to 0' }, { actor: 'copy_without_flush', until: 'copy_user_highpage' }, { actor: 'hw_walker' }], choices: { 'hw-address': [0, 0] } },
    quiet: { arch: 'rcu-table-free', actors: [{ actor: 'hw_walker', args: { accesses: 2, write: 1 } }, { actor: 'collapse_huge_page', args: { slot: 0 } }],
      schedule: [{ actor: 'hw_walker', until: 'user write to 0' }, { actor: 'collapse_huge_page', until: 'copy_user_highpage(3' }, { actor: 'hw_walker' }], choices: { 'hw-address': [0, 0] } },
  },
  'gup-wrong-page': {
    fires: { actors: [{ actor: 'gup_off_by_one' }] },
    // gup_slow of address 0 while munmap takes it away: what it returns was mapped while it ran.
    quiet: { actors: [{ actor: 'gup_slow', args: { addr: 0 } }, { actor: 'madvise_dontneed', args: { slot: 0 } }],
      schedule: [{ actor: 'gup_slow', until: 'follow_page_pte' }, { actor: 'madvise_dontneed' }, { actor: 'gup_slow' }] },
  },
  // GUP-fast pins page 3 between fork's page_maybe_dma_pinned() check and its write-protect: v5.10
  // shares the pinned page; v6.2's write_protect_seq makes GUP-fast drop the pin (57efa1fe5957).
  'pinned-page-cow-shared': {
    fires: { era: 'v5.10', world: 'fork', actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'fork' }],
      schedule: [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'fork', until: 'not pinned' }, { actor: 'gup_fast', until: 'local_irq_restore' }, { actor: 'fork' }] },
    quiet: { era: 'v6.2', world: 'fork', actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'fork' }],
      schedule: [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'fork', until: 'not pinned' }, { actor: 'gup_fast', until: 'local_irq_restore' }, { actor: 'fork' }] },
  },
  'bad-mapcount': {
    fires: { actors: [{ actor: 'phantom_rmap' }] },
    quiet: { actors: [{ actor: 'fault', args: { addr: 6 } }] },
  },
  'vma-change-without-mmap-lock': {
    fires: { actors: [{ actor: 'split_unlocked' }] },
    quiet: { actors: [{ actor: 'split_locked' }] },
  },
  'pte-write-without-ptl': {
    fires: { actors: [{ actor: 'pte_write_unlocked' }] },
    quiet: { actors: [{ actor: 'madvise_dontneed', args: { slot: 0 } }] },
  },
  'pmd-install-without-pmd-lock': {
    fires: { actors: [{ actor: 'populate_unlocked' }] },
    quiet: { actors: [{ actor: 'fault', args: { addr: 4 } }] },
  },
  'kernel-bug': {
    fires: { actors: [{ actor: 'unlock_unheld' }] },
    quiet: { actors: [{ actor: 'fault', args: { addr: 5 } }, { actor: 'madvise_dontneed', args: { slot: 1 } }] },
  },
  'leak': {
    fires: { actors: [{ actor: 'leak_page' }] },
    quiet: { actors: [{ actor: 'fault', args: { addr: 6 } }] },
  },
  'bad-refcount': {
    fires: { actors: [{ actor: 'put_mapped_page' }] },
    quiet: { actors: [{ actor: 'madvise_dontneed', args: { slot: 0 } }] },
  },
  'counter-mismatch': {
    fires: { actors: [{ actor: 'count_phantom_page' }] },
    quiet: { actors: [{ actor: 'thp_fault', args: { slot: 1 } }] },
  },
  'deadlock': {
    fires: { actors: [{ actor: 'lock_ab' }, { actor: 'lock_ba' }], schedule: [{ actor: 'lock_ab', until: 'pmd_lock' }, { actor: 'lock_ba', until: 'ptl(2)' }] },
    quiet: { actors: [{ actor: 'lock_ab' }, { actor: 'lock_ba' }] },
  },
  'lock-held-at-exit': {
    fires: { actors: [{ actor: 'return_holding_lock' }] },
    quiet: { actors: [{ actor: 'lock_ab' }] },
  },
  // The fault has its reference on page 6 when truncate takes it out of the cache; without the
  // re-checks it maps it anyway, after truncation is done. With them, it finds it truncated.
  'truncated-page-mapped': {
    fires: { actors: [{ actor: 'file_fault_no_recheck', args: { addr: 8 } }, { actor: 'truncate_page6', args: { slot: 2 } }],
      schedule: [{ actor: 'file_fault_no_recheck', until: 'xas_reload() → 6' }, { actor: 'truncate_page6' }, { actor: 'file_fault_no_recheck' }] },
    quiet: { actors: [{ actor: 'file_fault_page6', args: { addr: 8 } }, { actor: 'truncate_page6', args: { slot: 2 } }],
      schedule: [{ actor: 'file_fault_page6', until: 'xas_reload() → 6' }, { actor: 'truncate_page6' }, { actor: 'file_fault_page6' }] },
  },
};

test('a write through a dirty TLB entry after page_mkclean() without a flush is a lost write; with the flush, clean', (t) => {
  const lost = run({ actors: [{ actor: 'hw_walker', args: { accesses: 2, write: 1 } }, { actor: 'mkclean_no_flush' }],
    schedule: [{ actor: 'mkclean_no_flush', until: 'make pte 7[0] writable' }, { actor: 'hw_walker', until: 'user write to 12' }, { actor: 'mkclean_no_flush', until: 'page_mkclean_one' }, { actor: 'hw_walker' }],
    choices: { 'hw-address': [12, 12] } });
  t.is(lost.violation?.kind, 'lost-write', describe(lost));
  t.regex(lost.violation?.message ?? '', /after its pte was cleared or cleaned/);
  const kept = run({ actors: [{ actor: 'hw_walker', args: { accesses: 2, write: 1 } }, { actor: 'mkclean_flush' }],
    schedule: [{ actor: 'mkclean_flush', until: 'make pte 7[0] writable' }, { actor: 'hw_walker', until: 'user write to 12' }, { actor: 'mkclean_flush', until: 'flush_tlb_page' }, { actor: 'hw_walker' }],
    choices: { 'hw-address': [12, 12] } });
  t.is(kept.violation, null, describe(kept));
  t.true(kept.trace.some((s) => s.actor === 0 && s.label.startsWith('user write to 12') && s.step > 3), 'the second write happened, through a fresh entry');
});

test('a dirty file pte cleared without set_page_dirty() is a lost write; with it, clean', (t) => {
  const lost = run({ actors: [{ actor: 'dirty_file_drop' }] });
  t.is(lost.violation?.kind, 'lost-write', describe(lost));
  t.regex(lost.violation?.message ?? '', /dirty bit never reached the page/);
  t.is(lost.violation?.usedBy.name, 'dirty_file_drop', 'the audit names the step that dropped the bit');
  const kept = run({ actors: [{ actor: 'dirty_file_zap' }] });
  t.is(kept.violation, null, describe(kept));
});

for (const kind of VIOLATION_KINDS) {
  const c = CHECKS[kind];
  test(`oracle check ${kind} fires`, (t) => {
    const e = run(c.fires);
    t.is(e.violation?.kind, kind, describe(e));
  });
  test(`oracle check ${kind} stays quiet on the near miss`, (t) => {
    const e = run(c.quiet);
    t.is(e.violation, null, describe(e));
    t.is(e.outcome, 'clean');
  });
}

test('a violation names the frame, the step that changed it and the step that used it', (t) => {
  const e = run(CHECKS['table-use-after-free'].fires);
  const v = e.violation;
  if (!v) return t.fail('no violation');
  t.is(v.pfn, 5);
  t.is(v.changedBy?.name, 'collapse_file');
  t.regex(v.changedBy?.label ?? '', /pte_free/);
  t.is(v.usedBy.name, 'gup_fast');
  t.regex(v.usedBy.label, /ptep_get_lockless/);
  t.true((v.changedBy?.step ?? 99) < v.usedBy.step);
});

test('a bad install names the frame, the level, what the frame is, the store and the step that freed it', (t) => {
  const e = run(CHECKS['bad-entry-installed'].fires);
  const v = e.violation;
  if (v?.kind !== 'bad-entry-installed') return t.fail(describe(e));
  t.is(v.pfn, 5);
  t.is(v.level, 'pmd');
  t.is(v.nowKind, 'free');
  t.is(v.how, 'pmd_populate');
  t.is(v.usedBy.name, 'reinstall_freed_table');
  t.regex(v.usedBy.label, /pmd_populate/);
  t.regex(v.changedBy?.label ?? '', /pte_free/);
  t.is(v.message, 'pmd_populate installed pmd table(5) in table 1, pointing at frame 5, which is free: it must point at a pte table');
});

test('a bad install is caught at every level, in campaigns too (no trace)', (t) => {
  const pte = execute(buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'map_free_page' }] }, POOL), nonPreemptive());
  t.like(pte.violation, { kind: 'bad-entry-installed', level: 'pte', pfn: 20, nowKind: 'free' }, describe(pte));
  const pud = execute(buildScenario({ arch: 'x86-pae', actors: [{ actor: 'pud_populate_data_page' }] }, POOL), nonPreemptive());
  t.like(pud.violation, { kind: 'bad-entry-installed', level: 'pud', pfn: 3, nowKind: 'data' }, describe(pud));
  t.regex(pud.violation?.message ?? '', /it must point at a pmd table$/);
});

test('the deadlock names who waits for what', (t) => {
  const e = run(CHECKS.deadlock.fires);
  if (e.violation?.kind !== 'deadlock') return t.fail(describe(e));
  t.deepEqual([...e.violation.blocked].sort(), ['lock_ab waits in spin_lock(ptl(2))', 'lock_ba waits in spin_lock(pmd_lock(1))']);
});

test('no false alarm without any race: each actor alone, non-preemptive, every era and architecture', (t) => {
  for (const era of ['v5.8', 'v5.10', 'v6.2', 'v6.6']) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      for (const def of ACTORS) {
        if (def.eras && !def.eras.includes(era as 'v6.6')) continue;
        const e = execute(buildScenario({ arch, era, actors: [{ actor: def.name }] }), nonPreemptive());
        t.is(e.outcome, 'clean', `${def.name} alone at ${era} on ${arch}: ${describe(e)}`);
      }
    }
  }
});
