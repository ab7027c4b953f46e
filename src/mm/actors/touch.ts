// A user thread that touches one address: each access goes through its CPU's TLB, filled from a
// hardware walk on a miss (translate(), as hw_walker's), and faults when the entry does not allow it:
// not mapped, protnone (PROT_NONE or a NUMA hinting entry), or a write through a read-only entry.
// The fault (src/mm/numa.ts) restores a hinting entry (do_numa_page(), do_huge_pmd_numa_page()) or
// ends in SIGSEGV; then the access is retried once, as the faulting instruction is.
//
// Unlike hw_walker (a background CPU touching schedule-chosen addresses), it is a foreground thread
// with its own address, and it reports every access, so that the oracle can hold it to what an
// mprotect() that has returned promises (stale-tlb-protection).
//
// A page fault drops the faulting address's TLB entry (x86: the SDM's "invalidates ... for the
// faulting linear address"; arm64: flush_tlb_fix_spurious_fault()), so the retry walks the tables.

import type { ActorDef } from '../actor.js';
import { flushLocal } from '../cpu.js';
import { tlbAccessSuspect, traceOnly } from '../events.js';
import { frameOf } from '../frames.js';
import { NR_PAGES } from '../entries.js';
import { handle_mm_fault, type NumaFaultMutations } from '../numa.js';
import { type ActorGen, call, type Ctx, step } from '../step.js';
import type { TlbEntry } from '../types.js';
import { setDirtyBit, translate, writeUnseen } from './hw_walker.js';

/** One access through the TLB: the entry it went through, or why it faults. */
function access(c: Ctx, addr: number, write: boolean): { readonly t: TlbEntry } | { readonly fault: string } {
  const t = translate(c, addr);
  if (!t) return { fault: 'not present' };
  if (write && !t.writable) return { fault: 'write to a read-only entry' };
  if (write && !t.dirty && !setDirtyBit(c, t)) return { fault: 'the walk to set the dirty bit finds no writable pte' };
  const f = frameOf(c.m, t.pfn);
  const unseen = write && writeUnseen(c, t);
  if (traceOnly(c.m) || unseen || tlbAccessSuspect(t.gen, f.kind, f.gen, write, t.since, f.copiedAt)) {
    c.m.events.push({ e: 'hw-access', cpu: c.cpu.id, addr, pfn: t.pfn, gen: t.gen, frameKind: f.kind, frameGen: f.gen, write, since: t.since, copiedAt: f.copiedAt, unseen });
  }
  c.m.events.push({ e: 'user-access', cpu: c.cpu.id, mm: c.mm.id, addr, pfn: t.pfn, write, since: t.since });
  return { t };
}

/** The actor, with test mutations of its fault path (none: the kernel's code). */
export function makeTouch(name: string, mut: NumaFaultMutations = {}): ActorDef {
  return {
    name,
    summary: 'a user thread that reads or writes one address through its TLB, faulting (NUMA hinting, SIGSEGV) when the entry does not allow it',
    follows: 'the MMU (TLB, page walk) and arch/x86/mm/fault.c do_user_addr_fault() → handle_mm_fault() (src/mm/numa.ts); v5.8–v6.6',
    inMm: true,
    daemon: 'no',
    params: [
      { name: 'addr', min: 0, max: NR_PAGES - 1, default: 0, doc: 'the address (page index) it touches' },
      { name: 'write', min: 0, max: 1, default: 1, doc: '1: the accesses are writes' },
      { name: 'accesses', min: 1, max: 4, default: 2, doc: 'how many times it touches the address' },
    ],
    *run(c, args): ActorGen {
      const addr = args['addr'] ?? 0;
      const write = (args['write'] ?? 1) === 1;
      const what = write ? 'write' : 'read';
      for (let i = 0; i < (args['accesses'] ?? 2); i++) {
        let r = access(c, addr, write);
        if ('t' in r) {
          yield step(`user ${what} to ${addr} → frame ${r.t.pfn}`);
          continue;
        }
        flushLocal(c.cpu, { mm: c.mm.id, start: addr, end: addr + 1 });
        yield step(`user ${what} to ${addr}: page fault (${r.fault})`);
        const res = yield* call(handle_mm_fault(c, addr, write, mut));
        if (res === 'sigsegv') {
          yield step(`user ${what} to ${addr}: SIGSEGV`);
          return;
        }
        r = access(c, addr, write);
        if ('t' in r) yield step(`user ${what} to ${addr} (retried) → frame ${r.t.pfn}`);
        else {
          flushLocal(c.cpu, { mm: c.mm.id, start: addr, end: addr + 1 });
          yield step(`user ${what} to ${addr} (retried): page fault again (${r.fault}): not handled here, gives up`);
        }
      }
    },
  };
}

export const touch = makeTouch('touch');
