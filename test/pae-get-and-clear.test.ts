// x86-32 PAE before v6.2: native_pmdp_get_and_clear() cleared the pmd in two stores, the low half by
// xchg, then the high half (arch/x86/include/asm/pgtable-3level.h, v5.8 and v5.10); "x86/mm/pae: Be
// consistent with pXXp_get_and_clear()" (v6.2) made it one cmpxchg64 loop (pxx_xchg64()). Every
// test here fails on the model as it was, where the clear was one atomic store at every era.

import test from 'ava';
import { knownRace } from '../src/explore/known.js';
import { pmdHi, type PmdEntry } from '../src/mm/entries.js';
import { describe, runScript, stepOf } from './helpers.js';

const XCHG = 'pmdp_collapse_flush(): pmdp_huge_get_and_clear() [low half: xchg]';
/** Table 5's pmd (slot 2 of the default world), as retract_page_tables() finds it. */
const TABLE5_HI = pmdHi({ t: 'table', pfn: 5 });

function storesIn(exec: ReturnType<typeof runScript>['exec'], step: number): PmdEntry[] {
  return (exec.trace.find((s) => s.step === step)?.events ?? []).flatMap((e) => (e.e === 'pmd-store' ? [e.now] : []));
}

test('pmdp_collapse_flush() on PAE before v6.2: the low half goes by xchg in a step of its own, the pmd holding (0, high) until the next', (t) => {
  for (const era of ['v5.8', 'v5.10']) {
    const { exec } = runScript({ arch: 'x86-pae', era, actors: [{ actor: 'collapse_file', args: { slot: 2 } }] }, []);
    t.is(exec.outcome, 'clean', `${era}: ${describe(exec)}`);
    const xchg = stepOf(exec, 'collapse_file', XCHG);
    t.true(xchg >= 0, era);
    t.deepEqual(storesIn(exec, xchg), [{ t: 'bad', lo: 0, hi: TABLE5_HI }], `${era}: the high half still points at table 5`);
    t.deepEqual(storesIn(exec, xchg + 1), [{ t: 'none' }], `${era}: the high half is cleared in the next step`);
  }
  // One atomic exchange: from v6.2 on PAE, and on 64-bit at every era.
  for (const [arch, era] of [['x86-pae', 'v6.2'], ['x86-pae', 'v6.6'], ['x86-ipi', 'v5.8'], ['rcu-table-free', 'v5.10']] as const) {
    const { exec } = runScript({ arch, era, actors: [{ actor: 'collapse_file', args: { slot: 2 } }] }, []);
    t.is(exec.outcome, 'clean', `${arch} ${era}: ${describe(exec)}`);
    t.is(stepOf(exec, 'collapse_file', '[low half: xchg]'), -1, `${arch} ${era}`);
    t.true(stepOf(exec, 'collapse_file', 'pmdp_collapse_flush(): pmdp_huge_get_and_clear()') >= 0, `${arch} ${era}`);
  }
});

test('zap_huge_pmd() on PAE at v5.10: pmdp_huge_get_and_clear_full() clears a huge pmd in two steps too', (t) => {
  const { exec } = runScript({ arch: 'x86-pae', era: 'v5.10', actors: [{ actor: 'thp_fault', args: { slot: 1 } }, { actor: 'madvise_dontneed', args: { slot: 1 } }] },
    [{ actor: 'thp_fault' }, { actor: 'madvise_dontneed' }]);
  t.is(exec.outcome, 'clean', describe(exec));
  const xchg = stepOf(exec, 'madvise_dontneed', 'zap_huge_pmd(): pmdp_huge_get_and_clear_full() [low half: xchg]');
  t.true(xchg >= 0);
  const [half] = storesIn(exec, xchg);
  t.true(half?.t === 'bad' && half.lo === 0 && half.hi !== 0, JSON.stringify(half));
  t.deepEqual(storesIn(exec, xchg + 1), [{ t: 'none' }]);
});

// The readers tolerate the half-cleared pmd: pmd_present() and pmd_none() test the low word only
// (x86 pgtable.h: pmd_flags(), and `(unsigned long)native_pmd_val(pmd)` on 32-bit), and the MMU reads
// the 64-bit entry at once and finds it not present. GUP-fast's READ_ONCE() of both halves inside the
// window gets (0, high), a value really stored, judges it !pmd_present and falls back to the slow path.
test('PAE before v6.2: GUP-fast and the hardware walker that read the pmd between the halves see it not present', (t) => {
  for (const era of ['v5.8', 'v5.10']) {
    for (const order of [0, 1]) {
      const { exec, reached } = runScript({ arch: 'x86-pae', era, actors: [{ actor: 'collapse_file', args: { slot: 2 } }, { actor: 'gup_fast', args: { addr: 9, write: 1 } }, { actor: 'hw_walker', args: { accesses: 1 } }] },
        [{ actor: 'collapse_file', until: XCHG }, { actor: 'gup_fast' }, { actor: 'hw_walker' }, { actor: 'collapse_file' }],
        { 'pae-load-order': [order], 'hw-address': [9] });
      t.true(reached[0], era);
      t.is(exec.outcome, 'clean', `${era} order ${order}: ${describe(exec)}`);
      const xchg = stepOf(exec, 'collapse_file', XCHG);
      const gaveUp = stepOf(exec, 'gup_fast', '[no page: fall back to the slow path]');
      const walked = stepOf(exec, 'hw_walker', 'user access to 9: not mapped');
      t.true(gaveUp > xchg && walked > gaveUp && stepOf(exec, 'collapse_file', 'flush_tlb_range()') > walked, `${era}: ${xchg} ${gaveUp} ${walked}`);
    }
  }
});

// A reader whose two loads straddle the whole clear (the low half before the xchg, the high half after
// the high store) gets (low, 0): the torn read of gup_pmd_range()'s READ_ONCE(), real until v6.2
// whichever way the pmd is cleared, and known as such.
test('PAE before v6.2: GUP-fast reading the low half before the xchg and the high half after the clear: the known torn read', (t) => {
  const { exec, reached } = runScript({ arch: 'x86-pae', era: 'v5.10', actors: [{ actor: 'collapse_file', args: { slot: 2 } }, { actor: 'gup_fast', args: { addr: 9, write: 1 } }] },
    // collapse_file runs until its flush IPI waits for GUP-fast's IRQs-off section.
    [{ actor: 'gup_fast', until: 'READ_ONCE(*pmdp) [pmd 2] [low half]' }, { actor: 'collapse_file' }, { actor: 'gup_fast' }],
    { 'pae-load-order': [0] });
  t.true(reached[0]);
  t.is(exec.violation?.kind, 'torn-pmd-read', describe(exec));
  t.true(stepOf(exec, 'collapse_file', XCHG) >= 0);
  t.is(knownRace('v5.10', 'x86-pae', ['gup_fast', 'collapse_file'], 'torn-pmd-read'), 'gup-fast-pmd-read-once');
});
