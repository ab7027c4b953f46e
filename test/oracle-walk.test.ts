// The oracle's reads of the tables (firstMapped for "the zap left nothing mapped", pmdEntryOf for
// "GUP's page is still mapped"), checked against a plain recursive walk of every entry, in every
// shipped world, at the start and after random executions that map, unmap and free tables.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { ARCHES } from '../src/mm/arch.js';
import { PGDIR_PAGES, PMD_PAGES, PUD_PAGES, TASK_PAGES, pmdDecode } from '../src/mm/entries.js';
import { registerActor } from '../src/mm/registry.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import { makeSwitches } from '../src/mm/switches.js';
import type { Model } from '../src/mm/types.js';
import { buildModel } from '../src/mm/world/build.js';
import type { World } from '../src/mm/world/types.js';
import { WORLDS } from '../src/mm/world/worlds.js';
import { firstMapped } from '../src/oracle/audit.js';

/** Every mapped address under `pgd`, by a walk of every entry of every table. */
function allMapped(m: Model, pgd: number): number[] {
  const out: number[] = [];
  const walk = (pfn: number, depth: number, base: number, span: number): void => {
    const f = m.frames[pfn]!;
    if (depth === 3) {
      f.ptes.forEach((e, i) => { if (e.t === 'present') out.push(base + i); });
      return;
    }
    const sub = span / f.lo.length;
    for (let i = 0; i < f.lo.length; i++) {
      const e = pmdDecode(f.lo[i]!, f.hi[i]!);
      if (e.t === 'table') walk(e.pfn, depth + 1, base + i * sub, sub);
      else if (depth === 2 && (e.t === 'huge' || e.t === 'invalid-huge')) for (let a = 0; a < sub; a++) out.push(base + i * sub + a);
    }
  };
  walk(pgd, 0, 0, TASK_PAGES);
  return out;
}

const RANGES: readonly (readonly [number, number])[] = [
  [0, TASK_PAGES], [0, 1], [1, PMD_PAGES + 1], [PMD_PAGES - 1, 3 * PMD_PAGES], [2, PUD_PAGES], [PUD_PAGES, PGDIR_PAGES + 3], [5, 6], [TASK_PAGES - 1, TASK_PAGES],
];

function checkAll(t: import('ava').ExecutionContext, m: Model, what: string): void {
  for (const mm of m.mms) {
    const mapped = allMapped(m, mm.pgd);
    for (const [s, e] of RANGES) {
      t.is(firstMapped(m, mm.pgd, s, e), mapped.find((a) => a >= s && a < e) ?? null, `${what}, mm ${mm.id}, [${s}, ${e})`);
    }
  }
}

test('firstMapped agrees with a walk of every entry, at the start of every world', (t) => {
  for (const w of WORLDS) {
    const m = buildModel('x86-ipi', ARCHES['x86-ipi'], makeSwitches('v6.6', []), w, [], w.mms.map(() => ({ mmUsers: 1, khugepagedScanning: false })));
    t.true(m.mms.some((mm) => allMapped(m, mm.pgd).length > 0), `${w.name} maps something`);
    checkAll(t, m, w.name);
  }
});

/** A sparse tree: a none pgd entry before a table, none pud entries between tables, a huge and a
 *  being-split (invalid) huge pmd, and a pte table whose first entries are none. */
const SPARSE: World = {
  name: 'sparse-test',
  summary: 'test: none entries at every level between mapped ones',
  nrFrames: 16,
  frames: [
    { pfn: 0, kind: 'reserved', refcount: 1 },
    { pfn: 1, kind: 'pgd', refcount: 1, entries: [{ t: 'none' }, { t: 'table', pfn: 2 }, { t: 'none' }, { t: 'table', pfn: 3 }] },
    { pfn: 2, kind: 'pud-table', refcount: 1, entries: [{ t: 'none' }, { t: 'table', pfn: 4 }, { t: 'none' }, { t: 'table', pfn: 5 }] },
    { pfn: 3, kind: 'pud-table', refcount: 1, entries: [{ t: 'none' }, { t: 'none' }, { t: 'table', pfn: 6 }, { t: 'none' }] },
    { pfn: 4, kind: 'pmd-table', refcount: 1, entries: [{ t: 'none' }, { t: 'none' }, { t: 'table', pfn: 7 }, { t: 'none' }] },
    { pfn: 5, kind: 'pmd-table', refcount: 1, entries: [{ t: 'none' }, { t: 'invalid-huge', pfn: 12 }, { t: 'none' }, { t: 'none' }] },
    { pfn: 6, kind: 'pmd-table', refcount: 1, entries: [{ t: 'none' }, { t: 'none' }, { t: 'none' }, { t: 'huge', pfn: 8 }] },
    { pfn: 7, kind: 'pte-table', refcount: 1, ptes: [{ t: 'none' }, { t: 'none' }, { t: 'present', pfn: 13, sub: 0, writable: true, dirty: false }] },
    { pfn: 8, kind: 'huge', refcount: 1 },
    { pfn: 12, kind: 'huge', refcount: 1 },
    { pfn: 13, kind: 'data', refcount: 1 },
  ],
  files: [],
  mms: [{ pgd: 1, vmas: [] }],
};

test('firstMapped skips none entries at every level, and counts a huge pmd being split as mapped', (t) => {
  const m = buildModel('x86-ipi', ARCHES['x86-ipi'], makeSwitches('v6.6', []), SPARSE, [], [{ mmUsers: 1, khugepagedScanning: false }]);
  const mapped = allMapped(m, 1);
  const base = PGDIR_PAGES;
  // pgd 1 → pud 1 → pmd 2 → pte 2; pgd 1 → pud 3 → pmd 1 (invalid huge); pgd 3 → pud 2 → pmd 3 (huge).
  t.deepEqual(mapped.slice(0, 1), [base + PUD_PAGES + 2 * PMD_PAGES + 2]);
  t.is(mapped.length, 1 + 2 * PMD_PAGES);
  for (let s = 0; s < TASK_PAGES; s += 7) {
    for (const len of [1, 5, PMD_PAGES * 3, PUD_PAGES + 1, TASK_PAGES]) {
      const e = Math.min(TASK_PAGES, s + len);
      t.is(firstMapped(m, 1, s, e), mapped.find((a) => a >= s && a < e) ?? null, `[${s}, ${e})`);
    }
  }
});

// A background actor that compares the two at each of its steps, between the others' steps.
const seen: string[] = [];
let comparisons = 0;
registerActor({
  name: 'first_mapped_checker', summary: 'test: firstMapped against a full walk', follows: '(test)', inMm: false, daemon: 'background', params: [],
  *run(c) {
    for (;;) {
      for (const mm of c.m.mms) {
        const mapped = allMapped(c.m, mm.pgd);
        for (const [s, e] of RANGES) {
          comparisons++;
          const want = mapped.find((a) => a >= s && a < e) ?? null;
          const got = firstMapped(c.m, mm.pgd, s, e);
          if (got !== want) seen.push(`step ${c.m.step}, mm ${mm.id}, [${s}, ${e}): ${got} != ${want}`);
        }
      }
      yield step('compare');
    }
  },
}, 'test/oracle-walk.test.ts');

test('firstMapped agrees with a walk of every entry between the steps of executions that unmap, fault and collapse', (t) => {
  for (const actors of [['munmap', 'thp_fault'], ['madvise_dontneed', 'fault'], ['collapse_huge_page', 'exit_mmap']]) {
    const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [...actors, 'first_mapped_checker'].map((a) => ({ actor: a })) });
    for (let seed = 0; seed < 30; seed++) execute(scn, uniformRandom(seed));
  }
  t.true(comparisons > 1000, `${comparisons} comparisons`);
  t.deepEqual(seen, []);
});
