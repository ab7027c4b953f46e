// Architectures: how a TLB flush reaches other CPUs and how page tables are freed (CATALOG.md).

export type ArchId = 'x86-ipi' | 'rcu-table-free' | 'x86-pae';

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

export const ARCHES: Readonly<Record<ArchId, Arch>> = {
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
};

export const ARCH_IDS: readonly ArchId[] = ['x86-ipi', 'rcu-table-free', 'x86-pae'];

/** V8 (paravirt-flush-no-rcu) turns an IPI architecture into a paravirt guest whose flush is a
 *  hypercall, while tables are still freed at once (before 9e52fc2b50de). */
export function paravirtGuest(a: Arch): Arch {
  if (a.flush !== 'ipi') return a;
  return { ...a, flush: 'hypercall', description: `${a.description}; paravirt guest: flush by hypercall, no IPI` };
}
