// The same protocol in an ava suite, with @fast-check/ava: at v6.6, GUP-fast, khugepaged, faults and a
// walker of one's own (written for v6.6's pte_offset_map_lock(), which may fail), as programs of up to
// two operations per thread, stay safe under PCT schedules. The user module's actor joins the pool
// once it is registered.

import { testProp } from '@fast-check/ava';
import { execution, assertSafe, registerActor } from 'mmfuzz/arbitraries';
import { actors } from './pmd-walker-fixed.mjs';

for (const a of actors) registerActor(a, 'examples/pmd-walker-fixed.mjs');

testProp('GUP-fast, khugepaged, faults and the walker are safe at v6.6 on RCU-table-free arches',
  [execution({ era: 'v6.6', arch: ['rcu-table-free'], actors: ['gup_fast', 'collapse_file', 'fault', ...actors.map((a) => a.name)],
    opsPerThread: { min: 1, max: 2 }, strategy: 'pct' })],
  (t, e) => {
    assertSafe(e);
    t.pass();
  }, { numRuns: 200 });
