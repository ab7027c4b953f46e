// fork (copy_one_pte() at v5.8, copy_nonpresent_pte() and copy_huge_pmd() at v5.10+) of a page
// under migration: the migration entry counts in the child's rss (rss[mm_counter(page)]++) and a
// writable one is made readable in parent and child for a COW mapping (make_migration_entry_read(),
// v5.8; make_readable_migration_entry(), v6.6), at the pte and at the pmd (is_swap_pmd()). Found by
// a 3-minute fork-world campaign as counter-mismatch (migrate_pages vs fork) at v5.8 and v6.6.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
import { describe, runScript } from './helpers.js';

const TOKENS = [
  // v5.8 rcu-table-free: fork copies the migration pte of page 3, then migration maps page 9 in both.
  'mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJ3IjoiZm9yayIsInMiOltbIm1pZ3JhdGVfcGFnZXMiLHsiYWRkciI6MH1dLFsiZm9yayIse31dXSwicCI6W1swLDE0LDFdXSwiYyI6W119.ae3d975c',
  // v6.6 x86-pae, the same race.
  'mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2Ni42IiwidiI6W10sInciOiJmb3JrIiwicyI6W1sibWlncmF0ZV9wYWdlcyIseyJhZGRyIjowfV0sWyJmb3JrIix7fV1dLCJwIjpbWzAsMTksMV1dLCJjIjpbXX0.528d1761',
];

test("the campaign's migrate_pages vs fork tokens: the child's rss counts the migration entry, and both ptes become read-only", (t) => {
  for (const token of TOKENS) {
    const r = decodeToken(token);
    const e = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
    t.is(e.outcome, 'clean', `${r.spec.era}: ${describe(e)}`);
    const copy = e.trace.find((s) => s.label.startsWith('copy_nonpresent_pte()'));
    t.regex(copy?.label ?? '', /make_migration_entry_read\(\).*rss\[mm_counter\(page\)\]\+\+/, r.spec.era ?? '');
    // Migration then maps the new page read-only in both (the COW it was set up for).
    const removed = e.trace.filter((s) => s.label.startsWith('remove_migration_pte('));
    t.is(removed.length, 2, r.spec.era ?? '');
  }
});

test('a THP under migration (a pmd migration entry) is copied as one: deposited table, HPAGE_PMD_NR in rss, read-only in both', (t) => {
  for (const era of ['v5.8', 'v5.10', 'v6.2', 'v6.6']) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      const r = runScript({ arch, era, world: 'fork', actors: [{ actor: 'thp_fault', args: { slot: 1 } }, { actor: 'migrate_pages', args: { addr: 4 } }, { actor: 'fork' }] },
        [{ actor: 'thp_fault' }, { actor: 'migrate_pages', until: 'anon_vma_unlock_read' }, { actor: 'fork' }]);
      const where = `${era} ${arch}: ${describe(r.exec)}`;
      t.is(r.exec.outcome, 'clean', where);
      t.true(r.exec.trace.some((s) => s.label.startsWith('copy_huge_pmd(): is_swap_pmd(pmd): make_migration_entry_read()')), where);
      t.is(r.exec.trace.filter((s) => s.label.startsWith('remove_migration_pmd()')).length, 2, where);
    }
  }
});
