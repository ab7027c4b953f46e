// Architectures: how a TLB flush reaches other CPUs and how page tables are freed (CATALOG.md).

import { ModelError } from './errors.js';
import { deepFreeze } from './freeze.js';

/** The built-in architectures. A user module may register more (registerArch), so an architecture id
 *  in general is any string; the built-in ones are still offered by name. */
export type BuiltinArchId = 'x86-ipi' | 'rcu-table-free' | 'x86-pae';
export type ArchId = BuiltinArchId | (string & {});

export interface Arch {
  readonly id: ArchId;
  /** ipi: flush_tlb_mm_range() IPIs mm_cpumask and waits for every CPU to take it (an IRQs-off CPU
   *  takes it on local_irq_restore). broadcast: a TLBI-style invalidate that waits for nobody.
   *  hypercall: a paravirt guest's flush (V8): invalidates at once, waits for nobody. */
  readonly flush: 'ipi' | 'broadcast' | 'hypercall';
  /** tlb_remove_table(): freed right after the gather's flush, or after an RCU grace period
   *  (CONFIG_MMU_GATHER_RCU_TABLE_FREE, tlb_remove_table_rcu). */
  readonly tableFree: 'after-flush' | 'rcu';
  /** tlb_remove_table_sync_one() does something (an IPI to every CPU, waited for) only where tables
   *  are freed by RCU; elsewhere it is a no-op. */
  readonly syncOneIpi: boolean;
  /** 64-bit entries read and written as two 32-bit halves (x86-32 PAE). */
  readonly pae: boolean;
  readonly description: string;
}

export const ARCHES: Readonly<Record<BuiltinArchId, Arch>> = deepFreeze({
  'x86-ipi': {
    id: 'x86-ipi', flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: false,
    description: 'x86-64: TLB flush by IPI, waited for; page tables freed right after the flush',
  },
  'rcu-table-free': {
    id: 'rcu-table-free', flush: 'broadcast', tableFree: 'rcu', syncOneIpi: true, pae: false,
    description: 'arm64/powerpc/s390: broadcast TLB invalidate without IPI; tables freed after an RCU grace period',
  },
  'x86-pae': {
    id: 'x86-pae', flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: true,
    description: 'x86-32 PAE: as x86-ipi, but a 64-bit pmd is two 32-bit halves',
  },
});

export const ARCH_IDS: readonly BuiltinArchId[] = Object.freeze(['x86-ipi', 'rcu-table-free', 'x86-pae']);

/** Architectures registered by user modules (--load). */
const userArches: Arch[] = [];

/** Why an architecture definition cannot be registered, or null. */
function checkArch(a: Partial<Arch> | null): string | null {
  if (!a || typeof a.id !== 'string' || !/^[a-z][a-z0-9-]*$/.test(a.id)) return "an architecture lacks 'id' (lower-case letters, digits and -)";
  if (a.flush !== 'ipi' && a.flush !== 'broadcast' && a.flush !== 'hypercall') return `architecture '${a.id}' has no 'flush' ('ipi', 'broadcast' or 'hypercall')`;
  if (a.tableFree !== 'after-flush' && a.tableFree !== 'rcu') return `architecture '${a.id}' has no 'tableFree' ('after-flush' or 'rcu')`;
  if (typeof a.syncOneIpi !== 'boolean' || typeof a.pae !== 'boolean') return `architecture '${a.id}' lacks 'syncOneIpi' or 'pae' (booleans)`;
  if (typeof a.description !== 'string') return `architecture '${a.id}' lacks 'description'`;
  return null;
}

export function registerArch(a: Arch, origin: string): void {
  const bad = checkArch(a);
  if (bad) throw new ModelError('bad-argument', bad, []);
  if (userArches.includes(a)) return;
  if (archOf(a.id)) throw new ModelError('bad-argument', `architecture '${a.id}' is already defined (${ARCH_IDS.some((x) => x === a.id) ? 'by mmfuzz' : `before ${origin}`})`, []);
  userArches.push(deepFreeze(a));
  userArches.sort((x, y) => (x.id < y.id ? -1 : 1));
}

/** An architecture by id, built-in or registered. */
export function archOf(id: string): Arch | undefined {
  return ARCH_IDS.some((x) => x === id) ? ARCHES[id as BuiltinArchId] : userArches.find((a) => a.id === id);
}

/** Every architecture id: the built-in ones, then the registered ones. */
export function allArchIds(): readonly ArchId[] {
  return userArches.length === 0 ? ARCH_IDS : [...ARCH_IDS, ...userArches.map((a) => a.id)];
}

/** V8 (paravirt-flush-no-rcu) turns an IPI architecture into a paravirt guest whose flush is a
 *  hypercall, while tables are still freed at once (before 9e52fc2b50de). */
export function paravirtGuest(a: Arch): Arch {
  if (a.flush !== 'ipi') return a;
  return Object.freeze({ ...a, flush: 'hypercall', description: `${a.description}; paravirt guest: flush by hypercall, no IPI` });
}
