// Eras (a kernel release's protocol) and bug variants (one fix taken back out), from CATALOG.md.
//
// An era is a set of protocol features plus the bugs that were real and unfixed at that release. A
// variant switch adds one bug on top of an era. Actors ask `has(sw, bug)` and `sw.era`.

import { ModelError, unknownName } from './errors.js';
import { deepFreeze } from './freeze.js';
import type { ArchId } from './arch.js';

export type EraId = 'v5.8' | 'v5.10' | 'v6.2' | 'v6.6';
export const ERA_IDS: readonly EraId[] = Object.freeze(['v5.8', 'v5.10', 'v6.2', 'v6.6']);

/** The catalog's variants. A user module may register more (registerVariant), so a variant id in
 *  general is any string; the built-in ones are still offered by name. */
export type BuiltinVariantId =
  | 'retract-no-exit-test'
  | 'khugepaged-no-ipi-sync'
  | 'gup-fast-no-pmd-recheck'
  | 'pae-torn-pmd-read'
  | 'pmd-bad-clears-huge'
  | 'retract-wrong-locks'
  | 'gup-fast-no-irq-disable'
  | 'paravirt-flush-no-rcu'
  | 'coredump-unlocked';

export type VariantId = BuiltinVariantId | (string & {});

export interface Variant {
  readonly id: VariantId;
  /** V1..V9 in CATALOG.md (a user switch: its id). */
  readonly tag: string;
  readonly fix: string;
  readonly home: EraId;
  /** Eras whose code the variant applies to. */
  readonly eras: readonly EraId[];
  /** The architectures the catalog says it shows on; the first is where tests run it. */
  readonly arches: readonly ArchId[];
  readonly summary: string;
}

const ALL_ERAS = ERA_IDS;

export const VARIANTS: readonly Variant[] = deepFreeze([
  { id: 'retract-no-exit-test', tag: 'V1', fix: '18e77600f7a1 khugepaged: retract_page_tables() remember to test exit',
    home: 'v5.10', eras: ['v5.8', 'v5.10', 'v6.2'], arches: ['x86-ipi', 'rcu-table-free', 'x86-pae'],
    summary: 'retract_page_tables() takes mmap_write_trylock on an mm whose exit_mmap is zapping unlocked' },
  { id: 'khugepaged-no-ipi-sync', tag: 'V2', fix: '2ba99c5e0881 mm/khugepaged: fix GUP-fast interaction by sending IPI',
    home: 'v6.2', eras: ALL_ERAS, arches: ['rcu-table-free'],
    summary: 'khugepaged frees a pte table right after a flush that sends no IPI (no tlb_remove_table_sync_one)' },
  { id: 'gup-fast-no-pmd-recheck', tag: 'V3', fix: '70cbc3cc78a9 mm: gup: fix the fast GUP race against THP collapse',
    home: 'v6.2', eras: ALL_ERAS, arches: ['rcu-table-free'],
    summary: 'GUP-fast re-checks the pte but not the pmd after taking its reference' },
  { id: 'pae-torn-pmd-read', tag: 'V4', fix: '26c191788f18 mm: pmd_read_atomic: fix 32bit PAE pmd walk vs pmd_populate SMP race condition',
    home: 'v6.6', eras: ALL_ERAS, arches: ['x86-pae'],
    summary: 'a 64-bit pmd read as two plain 32-bit loads under mmap_lock read' },
  { id: 'pmd-bad-clears-huge', tag: 'V5', fix: '1a5a9906d4e8 mm: thp: fix pmd_bad() triggering in code paths holding mmap_sem read mode',
    home: 'v6.2', eras: ['v5.8', 'v5.10', 'v6.2'], arches: ['x86-ipi', 'rcu-table-free', 'x86-pae'],
    summary: 'pmd_none_or_clear_bad() under mmap_lock read clears a freshly installed huge pmd' },
  { id: 'retract-wrong-locks', tag: 'V6', fix: '8d3c106e19e8 mm/khugepaged: take the right locks for page table retraction',
    home: 'v6.2', eras: ['v5.8', 'v5.10', 'v6.2'], arches: ['x86-ipi', 'rcu-table-free', 'x86-pae'],
    summary: 'collapse_pte_mapped_thp() clears a pmd and frees the table without i_mmap_rwsem' },
  { id: 'gup-fast-no-irq-disable', tag: 'V7', fix: '(mutation) GUP-fast without local_irq_save',
    home: 'v6.6', eras: ALL_ERAS, arches: ['x86-ipi', 'rcu-table-free'],
    summary: 'GUP-fast walks with IRQs on: neither the flush IPI nor the grace period waits for it' },
  { id: 'paravirt-flush-no-rcu', tag: 'V8', fix: '9e52fc2b50de x86/mm: Enable RCU based page table freeing (CONFIG_HAVE_RCU_TABLE_FREE=y)',
    home: 'v6.6', eras: ALL_ERAS, arches: ['x86-ipi', 'x86-pae'],
    summary: 'a paravirt guest flushes by hypercall (no IPI) yet frees page tables at once' },
  { id: 'coredump-unlocked', tag: 'V9', fix: '7f3bfab52cab mm/gup: take mmap_lock in get_dump_page() (and 59ea6d06cfa9)',
    home: 'v5.10', eras: ['v5.8', 'v5.10'], arches: ['x86-ipi', 'rcu-table-free', 'x86-pae'],
    summary: 'the core dump walks without mmap_lock and collapse_huge_page does not test mmget_still_valid()' },
]);

export const VARIANT_IDS: readonly VariantId[] = Object.freeze(VARIANTS.map((v) => v.id));

/** Variant switches registered by user modules (--load), by id: a switch that the module's own actors
 *  test with has(). It applies to every era unless it says otherwise. */
const userVariants: Variant[] = [];

export interface UserVariantDef {
  readonly id: string;
  readonly summary: string;
  readonly eras?: readonly EraId[];
}

export function registerVariant(def: UserVariantDef, origin: string): void {
  if (typeof def?.id !== 'string' || !/^[a-z][a-z0-9-]*$/.test(def.id)) throw new ModelError('bad-argument', "a variant lacks 'id' (lower-case letters, digits and -)", []);
  if (typeof def.summary !== 'string') throw new ModelError('bad-argument', `variant '${def.id}' lacks 'summary'`, []);
  const eras = def.eras ?? ERA_IDS;
  if (!Array.isArray(eras) || eras.length === 0 || !eras.every((e) => ERA_IDS.includes(e))) {
    throw new ModelError('bad-argument', `variant '${def.id}' has bad 'eras': accepted are ${ERA_IDS.join(', ')}`, ERA_IDS);
  }
  const caseOnly = allVariants().find((v) => v.id !== def.id && (v.id.toLowerCase() === def.id || v.tag.toLowerCase() === def.id));
  if (caseOnly) throw new ModelError('bad-argument', `variant '${def.id}' differs from ${caseOnly.tag === caseOnly.id ? '' : `${caseOnly.tag} `}'${caseOnly.id}' only by case: choose another id`, []);
  const old = allVariants().find((v) => v.id === def.id);
  if (old) {
    if (old.summary === def.summary && old.fix === `(user switch from ${origin})`) return;
    throw new ModelError('bad-argument', `variant '${def.id}' is already defined (by ${old.fix.startsWith('(user') ? old.fix.slice(18, -1) : 'mmfuzz'})`, []);
  }
  userVariants.push(deepFreeze({ id: def.id, tag: def.id, fix: `(user switch from ${origin})`, home: eras[eras.length - 1] ?? 'v6.6', eras: [...eras], arches: [], summary: def.summary }));
  userVariants.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** The catalog's variants and the registered ones. */
export function allVariants(): readonly Variant[] {
  return userVariants.length === 0 ? VARIANTS : [...VARIANTS, ...userVariants];
}

export interface Era {
  readonly id: EraId;
  readonly summary: string;
  /** Bugs that were real and unfixed at that release (docs/known-races.md). */
  readonly bugs: readonly VariantId[];
}

export const ERAS: Readonly<Record<EraId, Era>> = deepFreeze({
  'v5.8': { id: 'v5.8', bugs: ['retract-no-exit-test', 'khugepaged-no-ipi-sync', 'gup-fast-no-pmd-recheck', 'retract-wrong-locks'],
    summary: 'core dump without mmap_lock, guarded by mmget_still_valid(); retract by mmap_write_trylock without exit test' },
  'v5.10': { id: 'v5.10', bugs: ['khugepaged-no-ipi-sync', 'gup-fast-no-pmd-recheck', 'retract-wrong-locks'],
    summary: "Jann Horn's series: get_dump_page() takes mmap_lock; retract tests exit" },
  'v6.2': { id: 'v6.2', bugs: [],
    summary: 'the 2022 fixes (V2, V3, V6); exit_mmap takes mmap_lock' },
  'v6.6': { id: 'v6.6', bugs: [],
    summary: "Hugh Dickins' 2023 regime: pte_offset_map() may fail; retract without mmap_lock, pte_free_defer()" },
});

/** What the actors consult: the era and the bugs in force (the era's own plus the switched-on ones). */
export interface Switches {
  readonly era: EraId;
  /** Indexed by VARIANT_IDS position, for a cheap test in actors. */
  readonly bugs: ReadonlySet<VariantId>;
  /** Only the switched-on variants (not the era's own bugs). */
  readonly variants: readonly VariantId[];
}

/** An era's place in ERA_IDS. eraAtLeast() is asked at most steps: two indexOf() calls were 1% of
 *  the time, and a keyed load whose key varies is megamorphic. */
function eraRank(era: EraId): number {
  switch (era) {
    case 'v5.8': return 0;
    case 'v5.10': return 1;
    case 'v6.2': return 2;
    case 'v6.6': return 3;
  }
}

export function eraAtLeast(sw: Switches, era: EraId): boolean {
  return eraRank(sw.era) >= eraRank(era);
}

export function has(sw: Switches, bug: VariantId): boolean {
  return sw.bugs.has(bug);
}

export function parseEra(name: string): EraId {
  const e = ERA_IDS.find((x) => x === name);
  if (!e) throw unknownName('unknown-era', 'era', name, ERA_IDS);
  return e;
}

/** A variant by catalog id ("retract-no-exit-test") or tag ("V1"). */
export function parseVariant(name: string): Variant {
  const all = allVariants();
  const v = all.find((x) => x.id === name) ?? all.find((x) => x.tag.toLowerCase() === name.toLowerCase());
  if (!v) throw unknownName('unknown-variant', 'variant', name, all.map((x) => x.id));
  return v;
}

/** The switches for an era plus variants. Without an era, the home era of the (first) variant, or the
 *  newest era. A variant whose code the era lacks is an error naming the eras it applies to. */
export function makeSwitches(era: EraId | undefined, variants: readonly string[] = []): Switches {
  const vs = variants.map(parseVariant);
  const eraId = era ?? vs[0]?.home ?? 'v6.6';
  for (const v of vs) {
    if (!v.eras.includes(eraId)) {
      throw new ModelError('variant-not-in-era',
        `variant '${v.id}' (${v.tag}) has no code in era ${eraId}: it applies to ${v.eras.join(', ')}`, v.eras);
    }
  }
  const order = allVariants().map((v) => v.id);
  const ids = [...new Set(vs.map((v) => v.id))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return { era: eraId, bugs: new Set([...ERAS[eraId].bugs, ...ids]), variants: ids };
}
