// The verdicts of session 4's 20-minute hunts (every actor, every architecture, four worlds, each
// era): failures that were new then, replayed from their tokens, with the known race each is. If
// the model changes so that one no longer reproduces or matches, this says which.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { knownRace } from '../src/explore/known.js';
import { follow } from '../src/explore/schedule.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
import type { ViolationKind } from '../src/oracle/violations.js';

const VERDICTS: readonly { readonly what: string; readonly token: string; readonly kind: ViolationKind; readonly known: string }[] = [
  { what: 'v5.8 x86-pae: truncate vs mremap', kind: 'bogus-table-walked', known: 'mremap-pmd-no-rmap-lock',
    token: 'mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2NS44IiwidiI6W10sInciOiJzaGFyZWQtZmlsZSIsInMiOltbInRydW5jYXRlIix7InB1bmNoIjowLCJzbG90IjozfV0sWyJtcmVtYXAiLHsicGFnZXMiOjAsInRvIjoxNiwidm1hIjoxfV1dLCJwIjpbWy0xLDAsMl0sWzAsMSwxXSxbMSwxLDBdLFswLDQsMV0sWzAsMzYsMV0sWzEsMywwXSxbMCwzOCwxXSxbMSwxOSwwXSxbMCw0NSwxXSxbMSwyMSwwXSxbMCw0NiwxXSxbMSwyMywwXSxbMCw0OCwxXSxbMSwyNCwwXSxbMCw0OSwxXSxbMSwyOSwwXSxbMCw1MSwxXSxbMSwzMiwwXSxbMCw1MiwxXSxbMSwzMywwXV0sImMiOlsxLDAsMSwwLDEsMCwxLDIwLDEsMSwxLDAsMCwxLDEsMV19.fe29842c' },
  { what: 'v5.8 x86-pae: migrate_pages vs mremap', kind: 'torn-pmd-read', known: 'mremap-pmd-no-rmap-lock',
    token: 'mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2NS44IiwidiI6W10sInciOiJzaGFyZWQtZmlsZSIsInMiOltbIm1pZ3JhdGVfcGFnZXMiLHsiYWRkciI6MH0sMV0sWyJtcmVtYXAiLHsicGFnZXMiOjAsInRvIjoxNiwidm1hIjowfSwxXV0sInAiOltbMCwyLDFdLFsxLDExLDBdLFswLDQsMV0sWzEsMTMsMF0sWzAsNSwxXSxbMSwxNCwwXSxbMCw2LDFdLFsxLDE1LDBdLFswLDgsMV1dLCJjIjpbMCwwLDE0XX0.b67163b5' },
  { what: 'v5.10 x86-ipi: migrate_pages vs mremap, the migration entry left behind', kind: 'counter-mismatch', known: 'mremap-pmd-no-rmap-lock',
    token: 'mmfz1:eyJhIjoieDg2LWlwaSIsImUiOiJ2NS4xMCIsInYiOltdLCJzIjpbWyJtaWdyYXRlX3BhZ2VzIix7ImFkZHIiOjB9XSxbIm1yZW1hcCIseyJwYWdlcyI6MCwidG8iOjE2LCJ2bWEiOjB9XV0sInAiOltbMCwxMywxXSxbMSwxMywwXV0sImMiOltdfQ.a86462c1' },
  { what: 'v5.10 x86-ipi: a fault handed the table collapse_pte_mapped_thp freed', kind: 'table-reused', known: 'retract-wrong-locks',
    token: 'mmfz1:eyJhIjoieDg2LWlwaSIsImUiOiJ2NS4xMCIsInYiOltdLCJ3Ijoic2hhcmVkLWZpbGUiLCJzIjpbWyJ1bm1hcF9tYXBwaW5nX3JhbmdlIix7InNsb3QiOjN9XSxbImZhdWx0Iix7ImFkZHIiOjR9XSxbImNvbGxhcHNlX3B0ZV9tYXBwZWRfdGhwIix7InNsb3QiOjN9XV0sInAiOltbMCw1LDJdLFsyLDE0LDFdXSwiYyI6W119.a48e3c75' },
  { what: 'v5.8 rcu-table-free, world fork: exit_mmap vs collapse_file, with a munmap that exits first', kind: 'frame-zero-walked', known: 'retract-no-exit-test',
    token: 'mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJ3IjoiZm9yayIsInMiOltbImV4aXRfbW1hcCIseyJzY2FubmVkIjoxfV0sWyJjb2xsYXBzZV9maWxlIix7InNsb3QiOjJ9XSxbIm11bm1hcCIseyJ2bWEiOjB9XV0sInAiOltbLTEsMCwyXSxbMCw3LDFdXSwiYyI6W119.03e75702' },
];

for (const v of VERDICTS) {
  test(`hunt verdict: ${v.what} is ${v.known}`, (t) => {
    const r = decodeToken(v.token);
    const scn = buildScenario(r.spec);
    const exec = execute(scn, follow(r.schedule));
    t.is(exec.violation?.kind, v.kind);
    const actors = r.spec.actors.map((a) => a.actor);
    t.is(knownRace(scn.sw.era, scn.archId, actors, exec.violation!.kind, actors), v.known);
  });
}

test('a fault is a bystander of retract-wrong-locks only with the collapse in the scenario', (t) => {
  t.is(knownRace('v5.10', 'x86-ipi', ['unmap_mapping_range', 'fault', 'collapse_pte_mapped_thp'], 'table-reused'), 'retract-wrong-locks');
  t.is(knownRace('v5.10', 'x86-ipi', ['unmap_mapping_range', 'fault'], 'table-reused'), null);
  // GUP-fast's torn read against a fault is its own race, not this one.
  t.is(knownRace('v5.8', 'x86-pae', ['gup_fast', 'fault'], 'torn-pmd-read'), 'gup-fast-pmd-read-once');
  t.is(knownRace('v6.2', 'x86-ipi', ['migrate_pages', 'mremap'], 'counter-mismatch'), null);
});

test('a fork child\'s exit unlinks its VMA from the anon_vma it is linked into: a migration walk holding it read keeps the table (it was a false frame-zero-walked)', (t) => {
  // The hunt's token, and random schedules of the same three actors: exit_mmap of the child used to
  // take the child's own anon_vma lock and free the table under the parent's walker.
  const token = 'mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2NS4xMCIsInYiOltdLCJ3IjoiZm9yayIsInMiOltbImV4aXRfbW1hcCIseyJzY2FubmVkIjowfSwxXSxbIm1pZ3JhdGVfcGFnZXMiLHsiYWRkciI6MH1dLFsiZm9yayIse31dXSwicCI6W1sxLDMsMl0sWzAsMjEsMV0sWzEsMjEsMF0sWzAsMzIsMV1dLCJjIjpbXX0.77233209';
  const r = decodeToken(token);
  const replayed = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
  t.is(replayed.violation, null);
  t.true(replayed.trace.some((s) => s.label.startsWith('free_pgtables(): unlink_anon_vmas(); up_write(anon_vma)')), 'the child unlinks under the parent\'s anon_vma lock');
  const scn = buildScenario(r.spec);
  for (let seed = 0; seed < 300; seed++) {
    const v = execute(scn, uniformRandom(seed)).violation;
    t.not(v?.kind, 'frame-zero-walked', `seed ${seed}`);
  }
});

test('truncation zaps a huge index that a VMA moved off pmd alignment maps through two pte tables (it left 3 ptes mapped: a false kernel-bug)', (t) => {
  // mremap(vma=1, to=31) moves the file VMA [8,16) to [31,39); truncate's unmap_mapping_pages() of
  // pgoff 12 then covers 35..38, across pmd 8 and pmd 9. Found by the load test's campaign.
  for (const era of ['v5.8', 'v5.10', 'v6.2', 'v6.6'] as const) {
    const scn = buildScenario({ arch: 'x86-ipi', era, actors: [{ actor: 'mremap', args: { vma: 1, to: 31, pages: 0 } }, { actor: 'truncate', args: { slot: 3, punch: 0 } }] });
    const exec = execute(scn, follow({ preemptions: [], choices: [] }), { trace: true });
    t.is(exec.violation, null, `${era}: ${exec.violation?.message ?? ''}`);
    t.true(exec.trace.some((s) => s.label.includes('[pmd 9]') && exec.names[s.actor] === 'truncate'), `${era}: truncate zaps pmd 9 too`);
  }
});

test('truncation zaps a VMA that starts inside the huge index (mremap moved its head away): unmap_mapping_range_tree() takes the VMAs of the range, not of its first page (a false kernel-bug)', (t) => {
  // mremap(vma=1, pages=6, to=16) moves [8,14) of the file VMA [8,16) to [16,22): vma 1 keeps [14,16),
  // pgoff 14, which maps pages 2 and 3 of the THP at pgoff 12. Truncating from pgoff 12 must zap them
  // too. The greybox hunt of session 5 found it, on every architecture, with no preemption.
  for (const era of ['v5.8', 'v5.10', 'v6.2', 'v6.6'] as const) {
    for (const punch of [0, 1]) {
      const scn = buildScenario({ arch: 'x86-ipi', era, actors: [{ actor: 'mremap', args: { vma: 1, pages: 6, to: 16 } }, { actor: 'truncate', args: { slot: 3, punch } }] });
      const exec = execute(scn, follow({ preemptions: [], choices: [] }), { trace: true });
      t.is(exec.violation, null, `${era} punch ${punch}: ${exec.violation?.message ?? ''}`);
      t.true(exec.trace.some((s) => s.label.includes('zap_pmd_range()') && s.label.includes('[pmd 3]') && exec.names[s.actor] === 'truncate'), `${era} punch ${punch}: truncate zaps vma 1's pmd 3`);
    }
  }
});
