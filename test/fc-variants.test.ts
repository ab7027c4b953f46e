// fc.assert on each catalog variant, through mmfuzz/arbitraries: the property fails with the
// catalog's kind of violation, and the shrunk counterexample has the catalog's depth (preemptions + 1),
// as the command line's campaign finds it (test/fuzz-variants.test.ts).

import test from 'ava';
import fc from 'fast-check';
import { assertSafe, execution, type ExecutionValue } from '../src/arbitraries/index.js';
import { depth } from '../src/explore/schedule.js';
import { parseVariant } from '../src/mm/switches.js';
import type { ViolationKind } from '../src/oracle/violations.js';

interface Case { readonly variants: readonly string[]; readonly arch: string; readonly actors: readonly string[]; readonly kind: ViolationKind; readonly depth: number }

const CASES: readonly Case[] = [
  { variants: ['V1'], arch: 'x86-ipi', actors: ['exit_mmap', 'collapse_file'], kind: 'frame-zero-walked', depth: 2 },
  { variants: ['V2'], arch: 'rcu-table-free', actors: ['gup_fast', 'collapse_file'], kind: 'table-use-after-free', depth: 2 },
  { variants: ['V3', 'V2'], arch: 'rcu-table-free', actors: ['gup_fast', 'collapse_huge_page'], kind: 'stale-pin', depth: 3 },
  { variants: ['V4'], arch: 'x86-pae', actors: ['gup_fast', 'fault'], kind: 'torn-pmd-read', depth: 2 },
  { variants: ['V5'], arch: 'x86-ipi', actors: ['madvise_dontneed', 'thp_fault'], kind: 'valid-mapping-cleared', depth: 2 },
  { variants: ['V6'], arch: 'x86-ipi', actors: ['unmap_mapping_range', 'collapse_pte_mapped_thp'], kind: 'table-use-after-free', depth: 2 },
  { variants: ['V7'], arch: 'x86-ipi', actors: ['gup_fast', 'munmap'], kind: 'table-use-after-free', depth: 2 },
  { variants: ['V8'], arch: 'x86-ipi', actors: ['gup_fast', 'munmap'], kind: 'table-use-after-free', depth: 2 },
  { variants: ['V9'], arch: 'x86-ipi', actors: ['coredump', 'collapse_huge_page'], kind: 'bogus-table-walked', depth: 2 },
];

for (const c of CASES) {
  const v = parseVariant(c.variants[0]!);
  test(`fc.assert finds ${v.tag} ${v.id}: ${c.kind} at depth ${c.depth}`, (t) => {
    const arb = execution({ variants: c.variants, arch: [c.arch], actors: c.actors, strategy: 'pct' });
    // The property is the catalog's: an execution may show the variant as another kind first (V1
    // also frees a table under the zap), which this property lets pass.
    const r = fc.check(fc.property(arb, (e) => { if (e.violation?.kind === c.kind) assertSafe(e); }), { seed: 7, numRuns: 50_000 });
    if (!r.failed) return t.fail(`no failure in ${r.numRuns} runs`);
    const e = r.counterexample![0] as ExecutionValue;
    t.is(e.violation?.kind, c.kind);
    t.is(depth(e.canonical), c.depth, e.trace);
    t.regex(String(r.errorInstance), new RegExp(`depth ${c.depth} \\(`));
  });
}
