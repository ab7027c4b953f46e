// What mprotect() promises once it returns: no thread of the mm accesses the range beyond the new
// protection. mprotect_fixup() → change_protection() changes the entries and flushes the TLB
// (flush_tlb_range() in change_protection_range() until v5.19, tlb_finish_mmu() in
// do_mprotect_pkey() from 4a18419f71cd "mm/mprotect: use mmu_gather", v6.0) before the syscall
// returns; user code relies on it (a write after mprotect(PROT_READ) faults). A TLB entry filled
// before the return and still allowing the access afterwards is one that flush missed.
//
// NUMA hinting (change_prot_numa()) promises nothing to user code, and an access before the return
// may still go through the old entry: neither is judged here.

import type { MmEvent } from '../mm/events.js';
import { PROT_READ, PROT_WRITE } from '../mm/mprotect.js';
import type { StepRef, Violation } from './violations.js';

type ProtDone = Extract<MmEvent, { e: 'prot-done' }>;
type UserAccess = Extract<MmEvent, { e: 'user-access' }>;

export interface ProtectionChecks {
  done(ref: StepRef, ev: ProtDone): void;
  access(ref: StepRef, ev: UserAccess): Violation | null;
  /** What decides a later verdict, as text (the stateful DPOR search's key: src/explore/dpor.ts). */
  text(): string;
}

function fmtProt(prot: number): string {
  if ((prot & (PROT_READ | PROT_WRITE)) === 0) return 'PROT_NONE';
  return [prot & PROT_READ ? 'PROT_READ' : '', prot & PROT_WRITE ? 'PROT_WRITE' : ''].filter(Boolean).join('|');
}

export function protectionChecks(): ProtectionChecks {
  const returned: { readonly ev: ProtDone; readonly by: StepRef }[] = [];
  return {
    done(ref, ev) {
      returned.push({ ev, by: ref });
    },
    text: () => returned.map((r) => `${JSON.stringify(r.ev)}@${r.by.step}`).join(';'),
    access(ref, ev) {
      const need = ev.write ? PROT_WRITE : PROT_READ;
      const r = returned.find((x) => x.ev.mm === ev.mm && ev.addr >= x.ev.start && ev.addr < x.ev.end && x.by.step > ev.since && (x.ev.prot & need) === 0);
      if (!r) return null;
      return { kind: 'stale-tlb-protection', pfn: ev.pfn, cpu: ev.cpu, addr: ev.addr, usedBy: ref, changedBy: r.by,
        message: `CPU ${ev.cpu} ${ev.write ? 'wrote to' : 'read'} address ${ev.addr} through a TLB entry filled at step ${ev.since}, after mprotect(${fmtProt(r.ev.prot)}) of [${r.ev.start}, ${r.ev.end}) returned at step ${r.by.step}: its flush missed the entry` };
    },
  };
}
