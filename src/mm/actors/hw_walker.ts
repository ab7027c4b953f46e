// The hardware page-table walker of a CPU running user code in the mm. At each step it accesses one
// address (a schedule choice): through the TLB if it has the translation, else through the
// paging-structure cache, else by walking the live tables, filling both caches. A walk is one atomic
// step: a flush IPI is taken at an instruction boundary, and a broadcast invalidate waits for walks in
// flight. Stale entries are what turn a missing flush into a use-after-free.

import type { ActorDef } from '../actor.js';
import { NR_PAGES, pmdIndex, pteIndex } from '../entries.js';
import { tlbAccessSuspect } from '../events.js';
import { frameOf } from '../frames.js';
import { pmd_load, pte_read } from '../pgtable.js';
import { step, type Ctx } from '../step.js';
import type { TlbEntry } from '../types.js';

/** Translate `addr` as the MMU would; null when nothing is mapped (the access would fault). */
function translate(c: Ctx, addr: number): TlbEntry | null {
  const { cpu, m } = c;
  const hit = cpu.tlb[addr];
  if (hit) return hit;
  const slot = pmdIndex(addr);
  let table = cpu.pwc[slot] ?? null;
  if (!table) {
    const v = pmd_load(c, slot);
    if (v.entry.t === 'huge') {
      const t = { pfn: v.entry.pfn, gen: v.gen };
      cpu.tlb[addr] = t;
      m.events.push({ e: 'tlb-fill', cpu: cpu.id, addr, pfn: t.pfn });
      return t;
    }
    if (v.entry.t !== 'table') return null;
    table = { pfn: v.entry.pfn, gen: v.gen };
    cpu.pwc[slot] = table;
    m.events.push({ e: 'pwc-fill', cpu: cpu.id, slot, pfn: table.pfn });
  }
  const pte = pte_read(c, table, pteIndex(addr), 'hw');
  if (pte.t !== 'present') return null;
  const t = { pfn: pte.pfn, gen: frameOf(m, pte.pfn).gen };
  cpu.tlb[addr] = t;
  m.events.push({ e: 'tlb-fill', cpu: cpu.id, addr, pfn: t.pfn });
  return t;
}

export const hw_walker: ActorDef = {
  name: 'hw_walker',
  summary: 'a CPU running user code in the mm: each step accesses one address through TLB, paging-structure cache or a walk',
  follows: 'the MMU (x86 and arm64 page walks, TLB and paging-structure caches)',
  inMm: true,
  daemon: 'background',
  params: [{ name: 'accesses', min: 1, max: 8, default: 3, doc: 'how many accesses the CPU makes' }],
  *run(c, args) {
    const n = args['accesses'] ?? 3;
    for (let i = 0; i < n; i++) {
      const addr = c.m.choose(NR_PAGES, 'hw-address');
      const t = translate(c, addr);
      if (t) {
        const f = frameOf(c.m, t.pfn);
        if (c.m.tracing || tlbAccessSuspect(t.gen, f.kind, f.gen)) {
          c.m.events.push({ e: 'hw-access', cpu: c.cpu.id, addr, pfn: t.pfn, gen: t.gen, frameKind: f.kind, frameGen: f.gen });
        }
      }
      yield step(t ? `user access to ${addr} → frame ${t.pfn}` : `user access to ${addr}: not mapped`);
    }
  },
};
