// Architectures: how a TLB flush reaches other CPUs and how page tables are freed (CATALOG.md).

import { ModelError } from './errors.js';
import { HPAGE_PMD_NR, PMD_BITS as B, PMD_NONE, pmdDecode, pmdHi, pmdLo, type PmdEntry, type PmdOps } from './entries.js';
import { deepFreeze } from './freeze.js';

/** The built-in architectures. A user module may register more (registerArch), so an architecture id
 *  in general is any string; the built-in ones are still offered by name. */
export type BuiltinArchId = 'x86-ipi' | 'rcu-table-free' | 'x86-pae';
export type ArchId = BuiltinArchId | (string & {});

export interface Arch extends PmdOps {
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
  /** A ranged flush of more pages than this flushes the whole mm instead: x86's
   *  tlb_single_page_flush_ceiling (33), arm64's MAX_TLBI_OPS (PTRS_PER_PTE, v6.6). Absent: never. */
  readonly flushCeiling?: number;
  readonly description: string;
}

/** An architecture as a user module defines it: the pmd predicates (PmdOps) may be left out, and
 *  each one left out is x86's (x86PmdOps(pae)), so that a module written before they existed still
 *  registers and behaves as it did. */
export type ArchDef = Omit<Arch, keyof PmdOps> & Partial<PmdOps>;

// How each architecture reads a pmd. Each predicate tests the bits of the entry's encoding
// (entries.ts), as the kernel's do, so that a torn value is judged as the kernel would judge it.

const FLAGS = (1 << 12) - 1;

/** x86 (arch/x86/include/asm/pgtable.h, v6.6):
 *  - pmd_none(): `(native_pmd_val(pmd) & ~_PAGE_KNL_ERRATUM_MASK) == 0` on an unsigned long, so on
 *    32-bit PAE only the low word ("it might be out of sync with upper half");
 *  - pmd_present(): `pmd_flags(pmd) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE)` ("split_huge_page
 *    will temporarily clear the present bit ... the _PAGE_PSE flag will remain set");
 *  - pmd_trans_huge(): `(pmd_val(pmd) & (_PAGE_PSE|_PAGE_DEVMAP)) == _PAGE_PSE`: false for devmap;
 *  - pmd_bad(): `(pmd_flags(pmd) & ~(_PAGE_USER | _PAGE_ACCESSED)) != (_KERNPG_TABLE & ~_PAGE_ACCESSED)`:
 *    anything but a table entry, a huge pmd included (V5);
 *  - pmd_mkinvalid(): `pfn_pmd(pmd_pfn(pmd), pmd_flags(pmd) & ~(_PAGE_PRESENT|_PAGE_PROTNONE))`: PSE
 *    stays, so the result is still pmd_present() and pmd_trans_huge(); a protnone pmd loses its
 *    protnone, and a swap-format (migration) entry, whose two bits are already clear, is unchanged. */
export function x86PmdOps(pae: boolean): PmdOps {
  return {
    pmd_none: pae ? (e) => pmdLo(e) === 0 : (e) => pmdLo(e) === 0 && pmdHi(e) === 0,
    pmd_present: (e) => (pmdLo(e) & (B.PRESENT | B.PROTNONE | B.PSE)) !== 0,
    pmd_trans_huge: (e) => (pmdLo(e) & (B.PSE | B.DEVMAP)) === B.PSE,
    pmd_bad: (e) => (pmdLo(e) & FLAGS & ~B.ACCESSED) !== B.PRESENT && !(pae ? pmdLo(e) === 0 : e.t === 'none'),
    pmd_mkinvalid: (e) => (e.t === 'huge' || e.t === 'invalid-huge' ? pmdDecode(pmdLo(e) & ~(B.PRESENT | B.PROTNONE), pmdHi(e)) : e),
  };
}

/** arm64 (arch/arm64/include/asm/pgtable.h, v6.6):
 *  - pmd_none(): `!pmd_val(pmd)`, the whole 64-bit value (no PAE);
 *  - pmd_present(): `pte_present(pmd_pte(pmd)) || pmd_present_invalid(pmd)`, where pte_present() is
 *    PTE_VALID | PTE_PROT_NONE and pmd_present_invalid() tests PMD_PRESENT_INVALID, the bit
 *    pmd_mkinvalid() sets;
 *  - pmd_trans_huge(): `pmd_val(pmd) && pmd_present(pmd) && !(pmd_val(pmd) & PMD_TABLE_BIT)`: true
 *    for devmap too;
 *  - pmd_bad(): `!pmd_table(pmd)`;
 *  - pmd_mkinvalid(): sets PMD_PRESENT_INVALID and clears PMD_SECT_VALID, whatever the entry is. A
 *    protnone pmd stays protnone (PTE_PROT_NONE is kept). A swap-format (migration) pmd becomes
 *    pmd_present() and pmd_trans_huge(), its swap bits read as a section's: pmd_pfn() is its offset
 *    (the pfn) shifted by __SWP_OFFSET_SHIFT - PAGE_SHIFT and masked to PMD_MASK. v6.6 calls it so
 *    from __split_huge_pmd_locked(); e783331c7720 (v6.10, "mm: fix race between
 *    __split_huge_pmd_locked() and GUP-fast") stopped that. The invalidated pmd is encoded here as
 *    x86's is (the PMD_PRESENT_INVALID bit is PSE without PRESENT): no PAE on arm64 tears it. */
export const ARM64_PMD_OPS: PmdOps = {
  pmd_none: (e) => pmdLo(e) === 0 && pmdHi(e) === 0,
  pmd_present: (e) => e.t === 'table' || e.t === 'huge' || e.t === 'invalid-huge' || (e.t === 'bad' && (e.lo & (B.PRESENT | B.PROTNONE | B.PSE)) !== 0),
  pmd_trans_huge: (e) => e.t === 'huge' || e.t === 'invalid-huge' || (e.t === 'bad' && (e.lo & B.PSE) !== 0),
  pmd_bad: (e) => e.t !== 'none' && e.t !== 'table',
  pmd_mkinvalid: (e): PmdEntry => {
    switch (e.t) {
      case 'huge': return e.protnone ? e : pmdDecode(pmdLo(e) & ~B.PRESENT, pmdHi(e));
      case 'migration': return { t: 'invalid-huge', pfn: Math.floor(e.pfn / 16) - (Math.floor(e.pfn / 16) % HPAGE_PMD_NR) };
      default: return e;
    }
  },
};

export const ARCHES: Readonly<Record<BuiltinArchId, Arch>> = deepFreeze({
  'x86-ipi': {
    id: 'x86-ipi', flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: false, flushCeiling: 33, ...x86PmdOps(false),
    description: 'x86-64: TLB flush by IPI, waited for; page tables freed right after the flush',
  },
  'rcu-table-free': {
    id: 'rcu-table-free', flush: 'broadcast', tableFree: 'rcu', syncOneIpi: true, pae: false, flushCeiling: 512, ...ARM64_PMD_OPS,
    description: 'arm64/powerpc/s390: broadcast TLB invalidate without IPI; tables freed after an RCU grace period; pmds read as arm64 reads them',
  },
  'x86-pae': {
    id: 'x86-pae', flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: true, flushCeiling: 33, ...x86PmdOps(true),
    description: 'x86-32 PAE: as x86-ipi, but a 64-bit pmd is two 32-bit halves',
  },
});

export const ARCH_IDS: readonly BuiltinArchId[] = Object.freeze(['x86-ipi', 'rcu-table-free', 'x86-pae']);

/** Architectures registered by user modules (--load), completed, with the definition each came from. */
const userArches: Arch[] = [];
const userDefs: ArchDef[] = [];

const PMD_OP_NAMES = ['pmd_none', 'pmd_present', 'pmd_trans_huge', 'pmd_bad', 'pmd_mkinvalid'] as const;

/** Entries every architecture must judge alike: the model's walkers depend on it. */
const TABLE: PmdEntry = { t: 'table', pfn: 5 };
const HUGE: PmdEntry = { t: 'huge', pfn: 8 };

/** Why an architecture's pmd predicates cannot be used, or null. They are run on a none, a table and
 *  a huge entry; what they must say of those is what every architecture says. */
function checkPmdOps(id: string, a: PmdOps): string | null {
  const calls: [string, () => unknown, unknown][] = [
    ['pmd_none() of a none entry', () => a.pmd_none(PMD_NONE), true],
    ['pmd_none() of a table entry', () => a.pmd_none(TABLE), false],
    ['pmd_present() of a none entry', () => a.pmd_present(PMD_NONE), false],
    ['pmd_present() of a table entry', () => a.pmd_present(TABLE), true],
    ['pmd_present() of a huge entry', () => a.pmd_present(HUGE), true],
    ['pmd_trans_huge() of a table entry', () => a.pmd_trans_huge(TABLE), false],
    ['pmd_trans_huge() of a huge entry', () => a.pmd_trans_huge(HUGE), true],
    ['pmd_bad() of a table entry', () => a.pmd_bad(TABLE), false],
    ['pmd_present() of pmd_mkinvalid() of a huge entry', () => a.pmd_present(a.pmd_mkinvalid(HUGE)), true],
  ];
  for (const [what, call, want] of calls) {
    let got: unknown;
    try {
      got = call();
    } catch (e) {
      return `architecture '${id}': ${what} throws (${e instanceof Error ? e.message : String(e)})`;
    }
    if (got !== want) return `architecture '${id}': ${what} must be ${String(want)}, not ${String(got)}`;
  }
  const inv = a.pmd_mkinvalid(HUGE);
  const back = typeof inv === 'object' && inv !== null ? pmdDecode(pmdLo(inv), pmdHi(inv)) : null;
  if (!back || back.t === 'bad' || pmdLo(back) !== pmdLo(inv)) return `architecture '${id}': pmd_mkinvalid() must return an entry (PmdEntry), not ${JSON.stringify(inv)}`;
  return null;
}

/** Why an architecture definition cannot be registered, or null. */
function checkArch(a: Partial<ArchDef> | null): string | null {
  if (!a || typeof a.id !== 'string' || !/^[a-z][a-z0-9-]*$/.test(a.id)) return "an architecture lacks 'id' (lower-case letters, digits and -)";
  if (a.flush !== 'ipi' && a.flush !== 'broadcast' && a.flush !== 'hypercall') return `architecture '${a.id}' has no 'flush' ('ipi', 'broadcast' or 'hypercall')`;
  if (a.tableFree !== 'after-flush' && a.tableFree !== 'rcu') return `architecture '${a.id}' has no 'tableFree' ('after-flush' or 'rcu')`;
  if (typeof a.syncOneIpi !== 'boolean' || typeof a.pae !== 'boolean') return `architecture '${a.id}' lacks 'syncOneIpi' or 'pae' (booleans)`;
  if (typeof a.description !== 'string') return `architecture '${a.id}' lacks 'description'`;
  for (const k of PMD_OP_NAMES) {
    if (a[k] !== undefined && typeof a[k] !== 'function') return `architecture '${a.id}': '${k}' must be a function (or left out, for x86's)`;
  }
  return null;
}

/** The architecture a definition stands for: x86's pmd predicates where it gives none. */
function completeArch(a: ArchDef): Arch {
  const x86 = x86PmdOps(a.pae);
  return {
    ...a,
    pmd_none: a.pmd_none ?? x86.pmd_none, pmd_present: a.pmd_present ?? x86.pmd_present, pmd_trans_huge: a.pmd_trans_huge ?? x86.pmd_trans_huge,
    pmd_bad: a.pmd_bad ?? x86.pmd_bad, pmd_mkinvalid: a.pmd_mkinvalid ?? x86.pmd_mkinvalid,
  };
}

/** Register an architecture. Its pmd predicates (PmdOps) are optional: each one left out is x86's
 *  (x86PmdOps(pae)). Those given are checked on a none, a table and a huge entry. */
export function registerArch(a: ArchDef, origin: string): void {
  const bad = checkArch(a);
  if (bad) throw new ModelError('bad-argument', bad, []);
  if (userDefs.includes(a)) return;
  if (archOf(a.id)) throw new ModelError('bad-argument', `architecture '${a.id}' is already defined (${ARCH_IDS.some((x) => x === a.id) ? 'by mmfuzz' : `before ${origin}`})`, []);
  const arch = completeArch(a);
  const badOps = checkPmdOps(a.id, arch);
  if (badOps) throw new ModelError('bad-argument', badOps, []);
  userDefs.push(a);
  userArches.push(deepFreeze(arch));
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
