// Programs of operations changed neither old tokens nor the traces of scenarios of one operation per
// thread: every mmfz1 token of the README, the docs, the tests and the regression corpus, and 150
// random ones, were rendered by the build before programs (test/golden/v1-traces.json keeps a hash
// of each text and JSON trace). Each must decode, encode back to the same token, and render the same
// bytes today. Five were rendered again by the build just before programs were merged: model fixes
// merged first had changed them (the PAE two-store pmd clear, the fork child, NUMA faults in KVM).
// Six more were rendered again when try_to_unmap's label took its era's put_page() before v6.2 (it
// said folio_put() at every era); that label is the only difference, checked when they were.
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken, encodeToken } from '../src/explore/token.js';
import { renderTrace, traceJson } from '../src/explore/trace.js';
import { buildScenario } from '../src/mm/scenario.js';

interface Golden { readonly token: string; readonly trace: string; readonly json: string }
const golden = (JSON.parse(readFileSync(new URL('../../test/golden/v1-traces.json', import.meta.url), 'utf8')) as { traces: Golden[] }).traces;
const corpus = ['V1-retract-no-exit-test', 'V2-khugepaged-no-ipi-sync', 'V9-coredump-unlocked']
  .map((f) => (JSON.parse(readFileSync(new URL(`../../test/corpus/${f}.json`, import.meta.url), 'utf8')) as { token: string }).token);
const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

test('the golden file holds the corpus tokens and many others', (t) => {
  t.true(golden.length >= 150);
  for (const tok of corpus) t.true(golden.some((g) => g.token === tok), tok);
});

test('every mmfz1 token renders the same text and JSON trace as before programs, and encodes back to itself', (t) => {
  let differ = 0;
  for (const g of golden) {
    const r = decodeToken(g.token);
    t.true(g.token.startsWith('mmfz1:'));
    if (encodeToken(r) !== g.token) { t.fail(`re-encoded differently: ${g.token}`); continue; }
    const scenario = buildScenario(r.spec);
    const exec = execute(scenario, follow(r.schedule), { trace: true });
    if (sha(renderTrace({ scenario, schedule: r.schedule, exec })) !== g.trace || sha(JSON.stringify(traceJson({ scenario, schedule: r.schedule, exec }))) !== g.json) {
      differ++;
      t.log(`differs: ${g.token}`);
    }
  }
  t.is(differ, 0);
});
