// A focus group's partners (src/explore/partners.ts): the actors outside every group that touch what a
// reader of the switch touches where it consults it, under locks that let them run then.

import test from 'ava';
import fc from 'fast-check';
import { program } from '../src/arbitraries/program.js';
import { focusGroups } from '../src/explore/focus.js';
import { conflicts, emptyProfile, file, type RunLog } from '../src/explore/partners.js';
import { ACTORS } from '../src/mm/actors/index.js';
import type { EraId } from '../src/mm/switches.js';

const inEra = (era: EraId) => ACTORS.filter((a) => !a.eras || a.eras.includes(era));

// V5 (pmd-bad-clears-huge), worked out once for the tests below (the probe runs every actor).
const V5 = { era: 'v6.2' as const, variants: ['pmd-bad-clears-huge' as const], archs: ['x86-ipi'], pool: inEra('v6.2') };
const v5 = focusGroups(V5);

test('V5: the THP fault, which installs the huge pmd between a walker\'s two reads, is a partner of the walkers, not a reader', (t) => {
  t.is(v5.length, 2, JSON.stringify(v5));
  const [readers, partners] = [v5[0]!, v5[1]!];
  // The walkers the THP fault meets on the same pmd in the probe: fault among them (a page fault and a
  // THP fault on one pmd, both under mmap_lock for read, are the race).
  t.true(readers.includes('fault') && !readers.includes('thp_fault'), readers.join(','));
  t.true(partners.includes('thp_fault'), partners.join(','));
  t.true(partners.length <= 3, `a narrow group: ${partners.join(',')}`);
  t.false(partners.includes('collapse_huge_page'), 'it writes pmds under locks that let it race with two of the walkers only');
  for (const n of ['gup_fast', 'hw_walker', 'fork']) t.false(partners.includes(n), `${n} writes no pmd: ${partners.join(',')}`);
  const all = focusGroups({ ...V5, partners: false });
  t.is(all.length, 1, 'partners: false gives the readers alone');
  t.true(readers.every((r) => all[0]!.includes(r)));
  t.true(all[0]!.includes('mprotect') && !readers.includes('mprotect'), 'mprotect (mmap_lock for write) pairs with no one: left out of the group');
  t.true(readers.length < all[0]!.length / 2, `a wide group narrowed: ${readers.join(',')} of ${all[0]!.join(',')}`);
});

test('the partners are deterministic: the same query gives the same groups', (t) => {
  t.deepEqual(focusGroups(V5), v5);
});

test('V8: GUP-fast, whose IRQs-off walk the hypercall flush no longer waits for, is a partner of the flushers', (t) => {
  const g = focusGroups({ era: 'v6.6', variants: ['paravirt-flush-no-rcu'], archs: ['x86-ipi'], pool: inEra('v6.6') });
  t.is(g.length, 2);
  t.true(g[0]!.includes('munmap') && !g[0]!.includes('gup_fast'));
  // Of the 12 flushers with a partner, those that free what GUP-fast walks in the probe.
  t.true(g[0]!.length <= 4 && !g[0]!.includes('mprotect') && !g[0]!.includes('collapse_file'), g[0]!.join(','));
  t.true(g[1]!.includes('gup_fast'), g[1]!.join(','));
  t.false(g[1]!.includes('munmap'), 'a reader is not its own group\'s partner');
  // fault and mincore run under mmap_lock, which some flushers hold for write where they consult: they
  // partner 7 of the 12 flushers, GUP-fast 11, and are left out.
  for (const n of ['fault', 'mincore']) t.false(g[1]!.includes(n), `${n}: ${g[1]!.join(',')}`);
});

test('V2: a narrow group keeps every reader with a partner; GUP-fast is among the partners', (t) => {
  const g = focusGroups({ era: 'v6.2', variants: ['khugepaged-no-ipi-sync'], archs: ['rcu-table-free'], pool: inEra('v6.2') });
  t.is(g.length, 2);
  t.true(g[0]!.includes('collapse_file'), g[0]!.join(','));
  t.true(g[1]!.includes('gup_fast'), g[1]!.join(','));
});

test('V3: each switch\'s readers are the other\'s partners, so no group is added', (t) => {
  const q = { era: 'v6.2' as const, variants: ['gup-fast-no-pmd-recheck' as const, 'khugepaged-no-ipi-sync' as const], archs: ['rcu-table-free'], pool: inEra('v6.2') };
  t.deepEqual(focusGroups(q), focusGroups({ ...q, partners: false }));
});

test('the directed draw with the partners pairs the THP fault with a walker far more often', (t) => {
  const pool = inEra('v6.2');
  const paired = (groups: readonly (readonly string[])[]) => fc.sample(program({ pool, focus: groups }), { seed: 5, numRuns: 400 })
    .filter((p) => p.some((c) => c.actor === 'thp_fault') && p.some((c) => v5[0]!.includes(c.actor))).length;
  const [withP, without] = [paired(v5), paired([v5[0]!])];
  t.true(withP >= 120 && withP > 4 * without, `${withP} vs ${without} of 400`);
});

/** A one-step run: what it touched, the locks held, the variants asked. */
const run = (steps: RunLog['steps']): RunLog => ({ steps });

test('conflicts(): the same kind of object, one writing, under locks that do not exclude each other', (t) => {
  const reader = emptyProfile();
  // A walker under mmap_lock for read consults V5 in the step that reads a pmd.
  file(reader, 'w a', run([{ kinds: [['pmd', 'r']], locks: ['mm0.mmap_lock:r'], asked: ['pmd-bad-clears-huge'] }]));
  const writer = (locks: string[], kind: 'pmd' | 'page' = 'pmd', mode: 'r' | 'w' = 'w') => {
    const p = emptyProfile();
    file(p, 'w a', run([{ kinds: [[kind, mode]], locks, asked: [] }]));
    return p;
  };
  t.true(conflicts(reader, 'pmd-bad-clears-huge', writer(['mm0.mmap_lock:r'])), 'both for read: no exclusion');
  t.true(conflicts(reader, 'pmd-bad-clears-huge', writer([])));
  t.false(conflicts(reader, 'pmd-bad-clears-huge', writer(['mm0.mmap_lock:w'])), 'mmap_lock for write excludes the reader');
  t.true(conflicts(reader, 'pmd-bad-clears-huge', writer(['mm1.mmap_lock:w'])), 'another mm\'s lock does not');
  t.false(conflicts(reader, 'pmd-bad-clears-huge', writer([], 'pmd', 'r')), 'two reads do not conflict');
  t.false(conflicts(reader, 'pmd-bad-clears-huge', writer([], 'page')), 'another kind of object');
  t.false(conflicts(reader, 'gup-fast-no-irq-disable', writer([])), 'not where it consulted another variant');
  const elsewhere = emptyProfile();
  file(elsewhere, 'w b', run([{ kinds: [['pmd', 'w']], locks: [], asked: [] }]));
  t.false(conflicts(reader, 'pmd-bad-clears-huge', elsewhere), 'another world or architecture');
});

test('a window is the step that consulted and the next step that touched anything, not later steps', (t) => {
  const reader = emptyProfile();
  file(reader, 'w a', run([
    { kinds: [], locks: [], asked: ['pmd-bad-clears-huge'] },
    { kinds: [], locks: [], asked: [] },
    { kinds: [['pmd', 'r']], locks: [], asked: [] },
    { kinds: [['page', 'r']], locks: [], asked: [] },
  ]));
  const p = (kind: 'pmd' | 'page') => {
    const x = emptyProfile();
    file(x, 'w a', run([{ kinds: [[kind, 'w']], locks: [], asked: [] }]));
    return x;
  };
  t.true(conflicts(reader, 'pmd-bad-clears-huge', p('pmd')));
  t.false(conflicts(reader, 'pmd-bad-clears-huge', p('page')));
});

test('conflicts(exact): on the same object only; an access of unknown object matches none', (t) => {
  const reader = emptyProfile();
  file(reader, 'w a', run([{ kinds: [['pmd', 'r', 1]], locks: [], asked: ['pmd-bad-clears-huge'] }]));
  const at = (id?: number) => {
    const p = emptyProfile();
    file(p, 'w a', run([{ kinds: [id === undefined ? ['pmd', 'w'] : ['pmd', 'w', id]], locks: [], asked: [] }]));
    return p;
  };
  t.true(conflicts(reader, 'pmd-bad-clears-huge', at(1), true));
  t.false(conflicts(reader, 'pmd-bad-clears-huge', at(2), true));
  t.true(conflicts(reader, 'pmd-bad-clears-huge', at(2)), 'by kind, another pmd conflicts');
  t.false(conflicts(reader, 'pmd-bad-clears-huge', at(), true));
});
