// Entry kinds, their two-half encoding, and how each architecture reads a pmd.

import test from 'ava';
import fc from 'fast-check';
import { ARCHES, ARM64_PMD_OPS, registerArch, archOf, x86PmdOps, type ArchDef } from '../src/mm/arch.js';
import {
  PMD_BITS, fmtPmd, fmtPte, is_swap_pmd, pmd_bad, pmd_mkinvalid, pmd_none, pmd_pfn, pmd_present, pmd_protnone, pmd_trans_huge,
  pmdDecode, pmdHi, pmdLo, pmdSame, pte_hw_valid, pte_present, pte_protnone, pteSame, type PmdEntry, type PmdOps, type PteEntry,
} from '../src/mm/entries.js';
import { ModelError } from '../src/mm/errors.js';

const pfn = fc.integer({ min: 1, max: 1 << 20 });
/** A flag as a decoded entry has it: absent, or true. */
const bit = <K extends string>(k: K) => fc.boolean().map((b) => (b ? ({ [k]: true } as Record<K, true>) : {}));
const mappingBits = fc.tuple(bit('writable'), bit('dirty'), bit('accessed'), bit('softDirty'), bit('uffdWp'), bit('devmap'))
  .map((bs) => Object.assign({}, ...bs) as Record<string, true>);

/** Every pmd value a store can produce, in canonical form. */
const validPmd: fc.Arbitrary<PmdEntry> = fc.oneof(
  fc.constant<PmdEntry>({ t: 'none' }),
  pfn.map((p): PmdEntry => ({ t: 'table', pfn: p })),
  fc.tuple(pfn, mappingBits, bit('protnone')).map(([p, b, pn]): PmdEntry => ({ t: 'huge', pfn: p, ...b, ...pn })),
  fc.tuple(pfn, mappingBits).map(([p, b]): PmdEntry => ({ t: 'invalid-huge', pfn: p, ...b })),
  fc.tuple(pfn, fc.boolean(), bit('softDirty'), bit('uffdWp')).map(([p, w, s, u]): PmdEntry => ({ t: 'migration', pfn: p, write: w, ...s, ...u })),
);
const half = fc.integer({ min: 0, max: 0xffff_ffff });

test('encode then decode is the identity on every value a store can produce', (t) => {
  fc.assert(fc.property(validPmd, (e) => {
    t.deepEqual(pmdDecode(pmdLo(e), pmdHi(e)), e);
  }), { numRuns: 2000 });
});

test('decode then encode is the identity on any two halves: a decoded value keeps every bit', (t) => {
  fc.assert(fc.property(half, half, (lo, hi) => {
    const d = pmdDecode(lo, hi);
    t.is(pmdLo(d), lo);
    t.is(pmdHi(d), hi);
  }), { numRuns: 2000 });
});

test('an absent flag is a clear one: an entry written with false flags stores what the canonical one does', (t) => {
  const loose: PmdEntry = { t: 'huge', pfn: 8, writable: false, dirty: false, accessed: false, protnone: false };
  t.deepEqual(pmdDecode(pmdLo(loose), pmdHi(loose)), { t: 'huge', pfn: 8 });
  t.true(pmdSame(loose, { t: 'huge', pfn: 8 }));
  t.false(pmdSame({ t: 'huge', pfn: 8, dirty: true }, { t: 'huge', pfn: 8 }));
});

// The kernel's x86 predicates, written against the raw halves a PAE walker holds, independently of
// the model's decoded entries: a torn value must be judged by the model as by these.
const X = PMD_BITS;
const kernelX86 = {
  none: (lo: number) => lo === 0,
  present: (lo: number) => (lo & (X.PRESENT | X.PROTNONE | X.PSE)) !== 0,
  trans_huge: (lo: number) => (lo & (X.PSE | X.DEVMAP)) === X.PSE,
  pfn: (lo: number, hi: number) => hi * 4 + ((lo >>> 12) & 3),
};

test('PAE: a torn combination of two stored values is judged as the kernel judges those halves', (t) => {
  const pae = ARCHES['x86-pae'];
  fc.assert(fc.property(validPmd, validPmd, (a, b) => {
    const lo = pmdLo(a);
    const hi = pmdHi(b);
    const d = pmdDecode(lo, hi);
    t.is(pmd_none(pae, d), kernelX86.none(lo));
    t.is(pmd_present(pae, d), kernelX86.present(lo));
    t.is(pmd_trans_huge(pae, d), kernelX86.trans_huge(lo));
    if (!pmd_none(pae, d)) t.is(pmd_pfn(d), kernelX86.pfn(lo, hi));
    // A torn value whose flags say "table" is taken for a table (V4's Frankenstein pointer).
    if (a.t === 'table') t.false(pmd_bad(pae, d));
  }), { numRuns: 2000 });
});

test('a torn table pointer reads as a table to the wrong frame; a lone high half is none on PAE only', (t) => {
  const frank = pmdDecode(pmdLo({ t: 'table', pfn: 13 }), pmdHi({ t: 'table', pfn: 6 }));
  t.deepEqual(frank, { t: 'table', pfn: 5 });
  const lone = pmdDecode(0, pmdHi({ t: 'huge', pfn: 13 }));
  t.is(lone.t, 'bad');
  t.true(pmd_none(ARCHES['x86-pae'], lone));
  t.false(pmd_none(ARCHES['x86-ipi'], lone));
  t.false(pmd_none(ARCHES['rcu-table-free'], lone));
});

const E = {
  none: { t: 'none' },
  table: { t: 'table', pfn: 5 },
  huge: { t: 'huge', pfn: 8, writable: true, dirty: true },
  protnone: { t: 'huge', pfn: 8, protnone: true },
  devmap: { t: 'huge', pfn: 8, devmap: true },
  invalid: { t: 'invalid-huge', pfn: 8 },
  migration: { t: 'migration', pfn: 40, write: true },
} as const satisfies Record<string, PmdEntry>;

type Row = readonly [none: boolean, present: boolean, transHuge: boolean, bad: boolean];
/** What each built-in architecture's predicates say of each kind. */
const TRUTH: Record<'x86-ipi' | 'rcu-table-free', Record<keyof typeof E, Row>> = {
  'x86-ipi': {
    none: [true, false, false, false], table: [false, true, false, false], huge: [false, true, true, true],
    protnone: [false, true, true, true], devmap: [false, true, false, true], invalid: [false, true, true, true],
    migration: [false, false, false, true],
  },
  'rcu-table-free': {
    none: [true, false, false, false], table: [false, true, false, false], huge: [false, true, true, true],
    protnone: [false, true, true, true], devmap: [false, true, true, true], invalid: [false, true, true, true],
    migration: [false, false, false, true],
  },
};

for (const arch of ['x86-ipi', 'x86-pae', 'rcu-table-free'] as const) {
  test(`${arch}: pmd_none, pmd_present, pmd_trans_huge and pmd_bad of each entry kind`, (t) => {
    const a = ARCHES[arch];
    const truth = TRUTH[arch === 'x86-pae' ? 'x86-ipi' : arch];
    for (const [k, e] of Object.entries(E) as [keyof typeof E, PmdEntry][]) {
      t.deepEqual([pmd_none(a, e), pmd_present(a, e), pmd_trans_huge(a, e), pmd_bad(a, e)], [...truth[k]], `${k}: ${fmtPmd(e)}`);
    }
    t.true(is_swap_pmd(a, E.migration));
    t.false(is_swap_pmd(a, E.huge));
  });
}

test('pmd_mkinvalid(): x86 keeps PSE and drops protnone; arm64 keeps protnone and, at v6.6, makes a migration entry present', (t) => {
  const x86 = ARCHES['x86-ipi'];
  const arm = ARCHES['rcu-table-free'];
  t.deepEqual(pmd_mkinvalid(x86, E.huge), { t: 'invalid-huge', pfn: 8, writable: true, dirty: true });
  t.deepEqual(pmd_mkinvalid(arm, E.huge), { t: 'invalid-huge', pfn: 8, writable: true, dirty: true });
  t.deepEqual(pmd_mkinvalid(x86, E.protnone), { t: 'invalid-huge', pfn: 8 });
  t.true(pmd_protnone(pmd_mkinvalid(arm, E.protnone)));
  t.deepEqual(pmd_mkinvalid(x86, E.migration), E.migration, 'x86: a swap pmd has no present or protnone bit to clear');
  const inv = pmd_mkinvalid(arm, E.migration);
  t.true(pmd_present(arm, inv) && pmd_trans_huge(arm, inv), 'arm64 v6.6: the swap bits now read as a present huge pmd (e783331c7720)');
  t.not(pmd_pfn(inv), 40, 'whose pfn is not the page under migration');
  for (const a of [x86, arm]) {
    t.true(pmd_present(a, pmd_mkinvalid(a, E.huge)), `${a.id}: an invalidated huge pmd is still present`);
    t.deepEqual(pmd_mkinvalid(a, E.table), E.table);
  }
});

test('the predicates take the architecture: called the old way, with the entry alone, they say so', (t) => {
  const call = pmd_none as unknown as (e: PmdEntry) => boolean;
  t.throws(() => call({ t: 'none' }), { instanceOf: TypeError, message: /pmd_none\(\) takes the architecture and the entry: pmd_none\(c\.m\.arch, pmdval\.entry\)/ });
});

const def = (id: string, ops: Partial<PmdOps> = {}): ArchDef => ({ id, flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: false, description: 'test', ...ops });

test('registerArch: a definition without pmd predicates gets x86\'s (PAE-aware); given ones are kept', (t) => {
  registerArch(def('old-module'), 'test');
  const old = archOf('old-module');
  if (!old) return t.fail('not registered');
  t.false(old.pmd_trans_huge(E.devmap), 'x86: devmap is not trans huge');
  t.false(old.pmd_none(pmdDecode(0, 3)), 'not PAE: the whole value');
  registerArch({ ...def('old-pae'), pae: true }, 'test');
  t.true(archOf('old-pae')?.pmd_none(pmdDecode(0, 3)), 'PAE: the low word');
  registerArch(def('devmap-huge', { pmd_trans_huge: ARM64_PMD_OPS.pmd_trans_huge }), 'test');
  const mixed = archOf('devmap-huge');
  t.true(mixed?.pmd_trans_huge(E.devmap));
  t.true(mixed?.pmd_present(E.invalid));
  t.deepEqual(mixed?.pmd_mkinvalid(E.migration), x86PmdOps(false).pmd_mkinvalid(E.migration), 'the one left out is x86\'s');
});

test('registerArch checks the pmd predicates it is given', (t) => {
  let n = 0;
  const bad = (ops: Partial<PmdOps>, msg: RegExp) =>
    t.throws(() => registerArch(def(`bad-${n++}`, ops), 'test'), { instanceOf: ModelError, message: msg });
  bad({ pmd_present: true as unknown as PmdOps['pmd_present'] }, /'pmd_present' must be a function \(or left out, for x86's\)/);
  bad({ pmd_present: (e) => e.t === 'huge' }, /pmd_present\(\) of a table entry must be true, not false/);
  bad({ pmd_none: () => { throw new Error('boom'); } }, /pmd_none\(\) of a none entry throws \(boom\)/);
  bad({ pmd_trans_huge: () => true }, /pmd_trans_huge\(\) of a table entry must be false/);
  bad({ pmd_mkinvalid: () => ({ t: 'none' }) }, /pmd_present\(\) of pmd_mkinvalid\(\) of a huge entry must be true/);
  bad({ pmd_mkinvalid: () => 7 as unknown as PmdEntry, pmd_present: () => true, pmd_none: (e) => e.t === 'none', pmd_trans_huge: (e) => e.t !== 'table' }, /pmd_present\(\) of a none entry must be false/);
  bad({ pmd_mkinvalid: () => ({ t: 'bad', lo: 0, hi: 3 }), pmd_present: (e) => e.t !== 'none' }, /pmd_mkinvalid\(\) must return an entry \(PmdEntry\), not \{"t":"bad","lo":0,"hi":3\}/);
  t.is(archOf('bad-0'), undefined, 'nothing half-registered');
});

test('pte kinds: present covers protnone, which the hardware does not use; swap and migration are neither', (t) => {
  const pn: PteEntry = { t: 'present', pfn: 3, sub: 0, writable: true, dirty: false, protnone: true };
  t.true(pte_present(pn));
  t.true(pte_protnone(pn));
  t.false(pte_hw_valid(pn));
  t.true(pte_hw_valid({ t: 'present', pfn: 3, sub: 0, writable: true, dirty: false }));
  for (const e of [{ t: 'swap', type: 1, offset: 7 }, { t: 'migration', pfn: 3, sub: 0, write: false }] as PteEntry[]) {
    t.false(pte_present(e));
    t.false(pte_hw_valid(e));
  }
});

test('pteSame compares kind, frame, permissions and every bit, an absent flag being a clear one', (t) => {
  const a: PteEntry = { t: 'present', pfn: 3, sub: 1, writable: true, dirty: true };
  t.true(pteSame(a, { ...a, uffdWp: false }));
  t.false(pteSame(a, { ...a, uffdWp: true }));
  t.false(pteSame(a, { ...a, sub: 2 }));
  t.false(pteSame(a, { t: 'migration', pfn: 3, sub: 1, write: true }));
  t.true(pteSame({ t: 'swap', type: 1, offset: 7 }, { t: 'swap', type: 1, offset: 7, exclusive: false }));
  t.false(pteSame({ t: 'swap', type: 1, offset: 7 }, { t: 'swap', type: 2, offset: 7 }));
  t.false(pteSame({ t: 'migration', pfn: 3, sub: 0, write: true }, { t: 'migration', pfn: 3, sub: 0, write: false }));
});

test('entries print with the bits that are set, and as before when none is', (t) => {
  t.is(fmtPmd({ t: 'huge', pfn: 8 }), 'huge(8)');
  t.is(fmtPmd({ t: 'huge', pfn: 8, writable: true, protnone: true, uffdWp: true }), 'huge(8, rw uffd-wp protnone)');
  t.is(fmtPmd({ t: 'migration', pfn: 8, write: false, softDirty: true }), 'migration(8 read soft-dirty)');
  t.is(fmtPte({ t: 'present', pfn: 3, sub: 1, writable: false, dirty: false }), '3+1 ro');
  t.is(fmtPte({ t: 'present', pfn: 3, sub: 0, writable: true, dirty: true, accessed: true, special: true }), '3 rw dirty young special');
  t.is(fmtPte({ t: 'swap', type: 1, offset: 7, exclusive: true }), 'swap(1:7 exclusive)');
  t.is(fmtPte({ t: 'migration', pfn: 3, sub: 2, write: true }), 'migration(3+2 write)');
});

test('the architecture docs/writing-actors.md registers: x86 but for arm64\'s pmd_trans_huge()', (t) => {
  registerArch({ id: 'x86-arm64-thp', flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: false,
    pmd_trans_huge: ARM64_PMD_OPS.pmd_trans_huge, description: 'x86 flushes, arm64 pmd_trans_huge()' }, 'docs');
  const a = archOf('x86-arm64-thp');
  if (!a) return t.fail('not registered');
  t.true(pmd_trans_huge(a, E.devmap));
  t.false(pmd_trans_huge(ARCHES['x86-ipi'], E.devmap));
  t.deepEqual(pmd_mkinvalid(a, E.migration), E.migration, 'x86\'s pmd_mkinvalid()');
});
