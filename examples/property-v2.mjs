// A property over executions: on an architecture that frees page tables by RCU and flushes without
// IPIs, khugepaged must not free a pte table under GUP-fast. With V2 on (2ba99c5e0881 taken back out)
// fc.assert finds the race and shrinks it to its minimal interleaving.

import fc from 'fast-check';
import { execution, assertSafe } from 'mmfuzz/arbitraries';

fc.assert(fc.property(execution({ era: 'v6.2', variants: ['V2'], arch: ['rcu-table-free'],
  actors: ['gup_fast', 'collapse_file', 'fault'], strategy: 'pct' }), assertSafe), { seed: 1, numRuns: 10_000 });
