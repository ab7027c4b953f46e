// Departures from the kernel that changed a verdict, each fixed after reading the kernel at the
// release: every test here fails on the model as it was before the fix.

import test from 'ava';
import { knownRace } from '../src/explore/known.js';
import type { PteEntry } from '../src/mm/entries.js';
import { registerWorld } from '../src/mm/world/registry.js';
import type { World } from '../src/mm/world/types.js';
import { DEFAULT_WORLD } from '../src/mm/world/worlds.js';
import { describe, runScript, stepOf } from './helpers.js';

// gup_pmd_range(): `pmd_t pmd = READ_ONCE(*pmdp)` until v6.2 (5.10.13 mm/gup.c); on PAE two 32-bit
// loads. The fault populates the pmd between the high half and the low half.
const gupTorn = { actors: [{ actor: 'gup_fast', args: { addr: 5, write: 1 } }, { actor: 'fault', args: { addr: 4 } }] };
const gupTornSched = [{ actor: 'gup_fast', until: 'half]' }, { actor: 'fault' }, { actor: 'gup_fast' }];

test('gup_pmd_range() READ_ONCE(*pmdp) at v5.8 and v5.10 on PAE: a torn pmd read (known race until "mm/gup: Fix the lockless PMD access", v6.2)', (t) => {
  for (const era of ['v5.8', 'v5.10']) {
    const { exec, reached } = runScript({ arch: 'x86-pae', era, ...gupTorn }, gupTornSched, { 'pae-load-order': [1] });
    t.true(reached[0]);
    t.true(stepOf(exec, 'gup_fast', 'gup_pmd_range(): pmd = READ_ONCE(*pmdp) [pmd 1] [high half]') >= 0, era);
    t.is(exec.violation?.kind, 'torn-pmd-read', `${era}: ${describe(exec)}`);
    t.is(exec.violation?.usedBy.name, 'gup_fast');
    t.is(knownRace(era as 'v5.8', 'x86-pae', ['gup_fast', 'fault'], 'torn-pmd-read'), 'gup-fast-pmd-read-once');
  }
});

test('gup_pmd_range() pmdp_get_lockless() from v6.2 on PAE: the low half read again, and the read retried', (t) => {
  for (const era of ['v6.2', 'v6.6']) {
    const { exec } = runScript({ arch: 'x86-pae', era, ...gupTorn }, gupTornSched, { 'pae-load-order': [1] });
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.true(stepOf(exec, 'gup_fast', 'pmdp_get_lockless(pmdp) [pmd 1] [low half again') >= 0, era);
  }
});

// coredump_wait() → zap_threads(): the other threads of the mm are killed and parked before
// get_dump_page() runs (5.10.13 fs/coredump.c coredump_wait(), kernel/exit.c exit_mm()).
const dumpAndUnmap = { actors: [{ actor: 'coredump', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }] };

test('coredump at v5.8: a thread of the same mm that had not begun munmap() never begins it (it was the false frame-zero-walked)', (t) => {
  for (const era of ['v5.8', 'v5.10']) {
    const { exec, reached } = runScript({ arch: 'x86-ipi', era, ...dumpAndUnmap },
      [{ actor: 'coredump', until: 'follow_pmd_mask' }, { actor: 'munmap' }, { actor: 'coredump' }]);
    t.true(reached[0]);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    t.false(exec.trace.some((s) => exec.names[s.actor] === 'munmap' && s.label.includes('mmap_write_lock')), `${era}: munmap ran`);
    t.deepEqual(exec.finished.slice(0, 2), [true, true], `${era}: the zapped thread exits once the dump is done`);
  }
});

test('coredump_wait() waits for a thread already in its syscall (GUP-fast with IRQs off) to finish before the dump', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v5.8', actors: [{ actor: 'coredump', args: { addr: 0 } }, { actor: 'gup_fast', args: { addr: 1 } }] },
    [{ actor: 'gup_fast', until: 'local_irq_save' }, { actor: 'coredump' }, { actor: 'gup_fast' }]);
  t.is(exec.outcome, 'clean', describe(exec));
  const zapped = stepOf(exec, 'coredump', 'zap_threads()');
  const unpinned = stepOf(exec, 'gup_fast', 'unpin_user_page');
  const dumped = stepOf(exec, 'coredump', 'get_dump_page()');
  t.true(zapped >= 0 && unpinned > zapped && dumped > unpinned, `zap ${zapped}, unpin ${unpinned}, dump ${dumped}`);
});

test('a thread of another mm is not zapped by the dump', (t) => {
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v5.8', world: 'shared-file', actors: [{ actor: 'coredump', args: { addr: 0 } }, { actor: 'fault', args: { addr: 1 }, mm: 1 }] },
    [{ actor: 'coredump', until: 'zap_threads()' }, { actor: 'fault' }, { actor: 'coredump' }]);
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(stepOf(exec, 'fault', 'down_read(mmap_lock(mm1))') > stepOf(exec, 'coredump', 'zap_threads()'));
  t.true(stepOf(exec, 'fault', 'mmap_read_unlock') < stepOf(exec, 'coredump', 'get_dump_page()'), 'the other mm\'s fault runs while the dump waits for nobody');
});

// pte_offset_map_lock() before v6.5 is a macro that reads *pmd twice (5.10.13 include/linux/mm.h):
// `__ptl = pte_lockptr(mm, pmd)`, then `pte_offset_map(pmd, address)`, then spin_lock(__ptl).
test('pte_offset_map_lock() before v6.5: the ptl and the pte pointer come from two loads of *pmd', (t) => {
  for (const era of ['v5.8', 'v5.10', 'v6.2']) {
    const { exec } = runScript({ arch: 'x86-ipi', era, actors: [{ actor: 'madvise_dontneed', args: { slot: 0 } }] }, []);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const ptl = stepOf(exec, 'madvise_dontneed', 'pte_offset_map_lock(): __ptl = pte_lockptr(mm, pmd)');
    const map = stepOf(exec, 'madvise_dontneed', 'pte_offset_map_lock(): pte = pte_offset_map(pmd, address)');
    const lock = stepOf(exec, 'madvise_dontneed', 'spin_lock(ptl(2))');
    t.true(ptl >= 0 && map > ptl && lock > map, `${era}: ${ptl} ${map} ${lock}`);
  }
  // V1 (v5.10 with retract's exit test taken out): retract frees the table between the two loads, so
  // the zap maps frame 0 but locks the freed table's ptl (with one load it walked frame 0).
  const { exec, reached } = runScript({ arch: 'x86-ipi', era: 'v5.10', variants: ['retract-no-exit-test'], actors: [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }] },
    [{ actor: 'exit_mmap', until: '__ptl = pte_lockptr(mm, pmd) [pmd 2]' }, { actor: 'collapse_file' }, { actor: 'exit_mmap' }]);
  t.true(reached[0]);
  t.is(exec.violation?.kind, 'table-use-after-free', describe(exec));
  t.regex(exec.violation?.message ?? '', /took the ptl of table 5 after it was freed/);
});

// v6.6 __pte_offset_map(): pmdp_get_lockless_start() is local_irq_save() where the pmd is read in two
// halves (x86 PAE), so retract's flush IPI waits for the read to end.
test('v6.6 PAE: __pte_offset_map() reads the pmd with IRQs off; retract_page_tables()\'s flush waits for the read', (t) => {
  const { exec, reached } = runScript({ arch: 'x86-pae', era: 'v6.6', actors: [{ actor: 'mincore', args: { slot: 2 } }, { actor: 'collapse_file' }] },
    [{ actor: 'mincore', until: '__pte_offset_map' }, { actor: 'collapse_file' }, { actor: 'mincore' }]);
  t.true(reached[0]);
  t.is(exec.outcome, 'clean', describe(exec));
  t.true(stepOf(exec, 'mincore', 'local_irq_save(); pmdval = pmdp_get_lockless(pmd) [pmd 2] [low half]') >= 0);
  const readEnd = stepOf(exec, 'mincore', '[low half again: same]');
  t.true(readEnd >= 0 && exec.trace[readEnd]!.events.some((e) => e.e === 'ipi-take'), 'the IPI is taken as the read ends');
  t.true(stepOf(exec, 'collapse_file', 'spin_unlock(pml)') > readEnd, 'retract goes on only after it');
});

// v6.2: pmd_none_or_trans_huge_or_clear_bad() reads with pmdp_get_lockless() ("mm: Rename
// pmd_read_atomic()"); v5.8 and v5.10 with pmd_read_atomic().
test('pmd_trans_unstable(): pmd_read_atomic() until v6.2, pmdp_get_lockless() at v6.2 (on PAE: low, high, low again)', (t) => {
  for (const era of ['v5.10', 'v6.2']) {
    const { exec } = runScript({ arch: 'x86-pae', era, actors: [{ actor: 'madvise_dontneed', args: { slot: 0 } }] }, []);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const atomic = stepOf(exec, 'madvise_dontneed', 'pmd_trans_unstable(): pmdval = pmd_read_atomic(pmd)');
    const lockless = stepOf(exec, 'madvise_dontneed', 'pmd_trans_unstable(): pmdval = pmdp_get_lockless(pmd) [pmd 0] [low half again: same]');
    t.is(atomic >= 0, era === 'v5.10', era);
    t.is(lockless >= 0, era === 'v6.2', era);
  }
});

// zap_pte_range(): a dirty pte of a file page forces the TLB flush before the ptl is dropped (5.10.13
// and v6.6 mm/memory.c); from v6.2 the page's rmap goes only after that flush (5df397dec7c4).
const DIRTY_FILE: World = {
  ...DEFAULT_WORLD, name: 'dirty-file', summary: 'the default layout, the THP ptes of the file VMA writable and dirty',
  frames: DEFAULT_WORLD.frames.map((f) => (f.pfn === 7 ? { ...f, ptes: [0, 1, 2, 3].map((i): PteEntry => ({ t: 'present', pfn: 8, sub: i, writable: true, dirty: true })) } : f)),
};
registerWorld(DIRTY_FILE, 'departures.test');

test('zap_pte_range(): a dirty file pte forces tlb_flush_mmu_tlbonly() before pte_unmap_unlock(); the rmap after it from v6.2', (t) => {
  for (const era of ['v5.8', 'v5.10', 'v6.2', 'v6.6']) {
    const { exec } = runScript({ arch: 'x86-ipi', era, world: 'dirty-file', actors: [{ actor: 'unmap_mapping_range', args: { slot: 3 } }] }, []);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const at = (s: string) => stepOf(exec, 'unmap_mapping_range', s);
    const cleared = at('ptep_get_and_clear_full(addr 15) → page 8: set_page_dirty(); force_flush = 1');
    const flush = at('tlb_flush_mmu_tlbonly()');
    const unlock = at('zap_pte_range(): pte_unmap_unlock()');
    t.true(cleared >= 0 && flush > cleared && unlock > flush, `${era}: ${cleared} ${flush} ${unlock}`);
    const rmaps = at('tlb_flush_rmaps()');
    if (era === 'v6.2' || era === 'v6.6') t.true(rmaps > flush && rmaps < unlock, era);
    else t.is(rmaps, -1, era);
    // Only one flush: tlb_finish_mmu() finds nothing cleared since.
    t.is(exec.trace.filter((s) => s.label.startsWith('tlb_flush_mmu_tlbonly()')).length, 1, era);
  }
});
