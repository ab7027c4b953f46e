// Each catalog race (CATALOG.md, V1–V9) written down as a schedule: with the variant on, the oracle
// reports the catalog's kind of violation; with the fix in and the same preemption points, nothing.

import test from 'ava';
import type { Segment } from '../src/explore/schedulers.js';
import type { ViolationKind } from '../src/oracle/violations.js';
import { parseVariant, type VariantId } from '../src/mm/switches.js';
import type { ActorCall } from '../src/mm/scenario.js';
import { describe, runScript } from './helpers.js';
import { CATALOG_RACES } from '../src/explore/catalog.js';

/** How the catalog's race (src/explore/catalog.ts) is driven: the schedule, the data choices, and who
 *  the oracle blames for the use. */
interface Script {
  readonly variant: VariantId;
  readonly schedule: readonly Segment[];
  readonly choices?: Readonly<Record<string, readonly number[]>>;
  readonly usedBy: string;
}

interface Race extends Script {
  /** The variants the race needs on top of its own (V3 needs V2's fix out too; see below). */
  readonly with: readonly VariantId[];
  readonly era: string;
  readonly arch: string;
  readonly actors: readonly ActorCall[];
  readonly kind: ViolationKind;
}

const SCRIPTS: readonly Script[] = [
  { // Z reads *pmd and gets T → K clears *pmd, frees T → Z recomputes the pte pointer from pmd 0.
    variant: 'retract-no-exit-test',
    schedule: [{ actor: 'exit_mmap', until: 'pmd_trans_unstable(): pmdval = pmd_read_atomic(pmd) [pmd 2]' }, { actor: 'collapse_file' }, { actor: 'exit_mmap' }],
    usedBy: 'exit_mmap' },
  { // G reads pmd → T; K: pmdp_collapse_flush (no IPI), pte_free(T); G reads a pte from T.
    variant: 'khugepaged-no-ipi-sync',
    schedule: [{ actor: 'gup_fast', until: 'gup_pmd_range(): pmd = pmdp_get_lockless(pmdp)' }, { actor: 'collapse_file' }, { actor: 'gup_fast' }],
    usedBy: 'gup_fast' },
  { // G reads pmd and pte → K flushes and finds no extra pin → G pins, pte still matches, returns the
    // page (its DMA still to come) → K copies it into the huge page and installs the huge pmd.
    // In v6.1+ collapse_huge_page() also calls tlb_remove_table_sync_one() (2ba99c5e0881), which on
    // an RCU architecture waits for G's IRQs-on and so masks V3: the race needs V2's fix out too.
    variant: 'gup-fast-no-pmd-recheck',
    schedule: [{ actor: 'gup_fast', until: 'ptep_get_lockless' }, { actor: 'collapse_huge_page', until: '__collapse_huge_page_isolate' },
      { actor: 'gup_fast', until: 'local_irq_restore' }, { actor: 'collapse_huge_page' }],
    usedBy: 'gup_fast' },
  { // PAE: G loads the high half (none) → F pmd_populate()s → G loads the low half: a table pointer
    // that was never stored, walked as a table. (The compiler chooses the load order of `*pmdp`.)
    variant: 'pae-torn-pmd-read',
    schedule: [{ actor: 'gup_fast', until: '[high half]' }, { actor: 'fault' }, { actor: 'gup_fast' }],
    choices: { 'pae-load-order': [1] },
    usedBy: 'gup_fast' },
  { // W finds the pmd not huge → F installs a huge pmd → W: pmd_bad(huge) is true, W clears it.
    variant: 'pmd-bad-clears-huge',
    schedule: [{ actor: 'madvise_dontneed', until: 'is_swap_pmd(*pmd) || pmd_trans_huge(*pmd)' }, { actor: 'thp_fault' }, { actor: 'madvise_dontneed' }],
    usedBy: 'madvise_dontneed' },
  { // R (i_mmap_rwsem read) takes the table pointer → K clears the pmd and frees the table → R locks
    // its ptl.
    variant: 'retract-wrong-locks',
    schedule: [{ actor: 'unmap_mapping_range', until: 'pte_offset_map_lock(): pte = pte_offset_map(pmd' }, { actor: 'collapse_pte_mapped_thp' }, { actor: 'unmap_mapping_range' }],
    usedBy: 'unmap_mapping_range' },
  { // G reads pmd → T (IRQs on) → M frees T, its flush IPI taken at once → G reads T.
    variant: 'gup-fast-no-irq-disable',
    schedule: [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'munmap' }, { actor: 'gup_fast' }],
    usedBy: 'gup_fast' },
  { // G (IRQs off) reads pmd → T → M flushes by hypercall, which waits for nobody, frees T → G reads T.
    variant: 'paravirt-flush-no-rcu',
    schedule: [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'munmap' }, { actor: 'gup_fast' }],
    usedBy: 'gup_fast' },
  { // D (no mmap_lock) reads pmd → T → K collapses: huge pmd → D takes pmd_page(huge) for a table.
    variant: 'coredump-unlocked',
    schedule: [{ actor: 'coredump', until: 'follow_pmd_mask' }, { actor: 'collapse_huge_page' }, { actor: 'coredump' }],
    usedBy: 'coredump' },
];

const RACES: readonly Race[] = SCRIPTS.map((x) => {
  const c = CATALOG_RACES.find((y) => y.variant === x.variant)!;
  return { ...x, with: c.spec.variants.slice(1), era: c.spec.era, arch: c.spec.arch, actors: c.spec.actors, kind: c.kind };
});

test('every catalog race has its script here', (t) => {
  t.deepEqual(SCRIPTS.map((x) => x.variant), CATALOG_RACES.map((x) => x.variant));
});

for (const r of RACES) {
  const v = parseVariant(r.variant);
  const era = r.era;
  const spec = (variants: readonly VariantId[]) => ({ arch: r.arch, era, variants, actors: r.actors });

  test(`${v.tag} ${v.id}: the catalog interleaving gives ${r.kind} (${era}, ${r.arch})`, (t) => {
    const { exec, reached } = runScript(spec([r.variant, ...r.with]), r.schedule, r.choices);
    t.is(exec.violation?.kind, r.kind, describe(exec));
    t.is(exec.violation?.usedBy.name, r.usedBy, describe(exec));
    t.true(reached[0], 'the first preemption point was reached');
    t.not(exec.violation?.usedBy.step, exec.violation?.changedBy?.step, 'use and change are different steps');
  });

  test(`${v.tag} ${v.id}: with the fix, the same preemption points give no violation`, (t) => {
    const { exec } = runScript(spec(r.with), r.schedule, r.choices);
    t.is(exec.violation, null, describe(exec));
    t.is(exec.outcome, 'clean');
  });
}

test('V3 alone is masked at v6.2: tlb_remove_table_sync_one() holds collapse off until GUP-fast has its pin', (t) => {
  const r = RACES.find((x) => x.variant === 'gup-fast-no-pmd-recheck')!;
  const { exec } = runScript({ arch: r.arch, era: 'v6.2', variants: ['gup-fast-no-pmd-recheck'], actors: r.actors }, r.schedule);
  t.is(exec.violation, null, describe(exec));
});

test('V2 needs an architecture whose flush sends no IPI: on x86-ipi the same schedule is clean', (t) => {
  const r = RACES.find((x) => x.variant === 'khugepaged-no-ipi-sync')!;
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.2', variants: [r.variant], actors: r.actors }, r.schedule);
  t.is(exec.violation, null, describe(exec));
});

test('V4 needs PAE: on x86-ipi a pmd is one load', (t) => {
  const r = RACES.find((x) => x.variant === 'pae-torn-pmd-read')!;
  const { exec } = runScript({ arch: 'x86-ipi', era: 'v6.6', variants: [r.variant], actors: r.actors }, r.schedule, r.choices);
  t.is(exec.violation, null, describe(exec));
});

test('V7 on rcu-table-free: IRQs on no longer hold off the grace period', (t) => {
  const { exec } = runScript(
    { arch: 'rcu-table-free', era: 'v6.6', variants: ['gup-fast-no-irq-disable'], actors: [{ actor: 'gup_fast', args: { addr: 0 } }, { actor: 'munmap', args: { vma: 0 } }] },
    [{ actor: 'gup_fast', until: 'pmdp_get_lockless' }, { actor: 'munmap' }, { actor: 'rcu' }, { actor: 'gup_fast' }],
  );
  t.is(exec.violation?.kind, 'table-use-after-free', describe(exec));
});
