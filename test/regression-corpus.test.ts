// The regression corpus (test/corpus/): one failure per catalog variant, found by the fuzzer and
// checked in. Each must still reproduce with its variant on, and stay clean with the variant off.

import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
import { VARIANT_IDS } from '../src/mm/switches.js';
import type { ViolationKind } from '../src/oracle/violations.js';

interface Entry { variant: string; tag: string; needs: string[]; kind: ViolationKind; token: string }

const dir = new URL('../../test/corpus/', import.meta.url);
const entries: Entry[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Entry);

test('the regression corpus has an entry for every catalog variant', (t) => {
  t.deepEqual([...new Set(entries.map((e) => e.variant))].sort(), [...VARIANT_IDS].sort());
});

for (const e of entries) {
  test(`${e.tag} ${e.variant}: still ${e.kind} with the variant on, clean with it off`, (t) => {
    const r = decodeToken(e.token);
    t.deepEqual([...(r.spec.variants ?? [])].sort(), [...e.needs].sort());
    const on = execute(buildScenario(r.spec), follow(r.schedule));
    t.is(on.violation?.kind, e.kind);
    const off = execute(buildScenario({ ...r.spec, variants: [] }), follow(r.schedule));
    t.is(off.violation, null, off.violation?.message);
  });
}
