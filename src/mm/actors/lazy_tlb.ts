// A CPU in lazy TLB mode: it ran a thread of the mm, then switched to a kernel thread without
// switching mm (context_switch() → enter_lazy_tlb()), so it stays in mm_cpumask and its TLB and
// paging-structure caches still hold the mm. It runs no user code, but the CPU may walk the page
// tables speculatively at any moment and fill its caches (the reason 64482aafe55f, v4.19, makes
// table-freeing flushes reach lazy CPUs). A flush IPI makes it leave lazy mode (switch to init_mm).
//
// x86 only IPIs lazy CPUs for flushes that free tables (freed_tables, 016c4d92cd16); until
// 3ef938c35035 (v6.15) flush_tlb_range() passed freed_tables = false, also from
// pmdp_collapse_flush(), which khugepaged follows by freeing the table.

import type { ActorDef } from '../actor.js';
import { step } from '../step.js';
import { translate, userSpan } from './hw_walker.js';

export const lazy_tlb: ActorDef = {
  name: 'lazy_tlb',
  summary: 'a CPU in lazy TLB mode on the mm (a kernel thread borrowed it): speculative walks fill its caches; no user access',
  follows: 'kernel/sched/core.c context_switch() → enter_lazy_tlb(); arch/x86/mm/tlb.c flush_tlb_func(), native_flush_tlb_multi() (v5.8–v6.6)',
  inMm: false,
  lazyTlb: true,
  daemon: 'background',
  params: [{ name: 'walks', min: 1, max: 8, default: 2, doc: 'how many speculative walks the CPU makes' }],
  *run(c, args) {
    const n = args['walks'] ?? 2;
    for (let i = 0; i < n; i++) {
      if (!c.cpu.lazy) {
        yield step('switched to init_mm: no walks of the mm any more');
        return;
      }
      const addr = c.m.choose(userSpan(c), 'hw-address');
      const t = translate(c, addr, false);
      yield step(`speculative page walk of ${addr}${t ? ` → frame ${t.pfn}` : ': not mapped'}`);
    }
  },
};
