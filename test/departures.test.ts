// Departures from the kernel that changed a verdict, each fixed after reading the kernel at the
// release: every test here fails on the model as it was before the fix.

import test from 'ava';
import { knownRace } from '../src/explore/known.js';
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
