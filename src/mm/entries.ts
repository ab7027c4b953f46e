// Page-table entries and their 64-bit encoding.
//
// Four levels, as x86-64 with 4-level paging has them (p4d folded into the pgd): pgd → pud → pmd →
// pte, each table a frame of PTRS_PER_* entries. An address is a page index. A pmd covers
// PTRS_PER_PTE pages (HPAGE_PMD_NR, the size of a huge page), a pud PTRS_PER_PMD pmds, a pgd entry
// PTRS_PER_PUD puds. A "slot" is the index of a pmd in the whole address space (addr / PMD_PAGES):
// which pmd table holds it is for the walk to say.
//
// A pmd is stored as two 32-bit halves (lo, hi), as x86-32 PAE stores it. On 64-bit architectures
// both halves are written and read in one atomic access; on PAE a plain C read of `*pmdp` is two loads
// (CVE-2012-2373), which is why the halves are modelled everywhere.

export const PTRS_PER_PTE = 4;
export const PTRS_PER_PMD = 4;
export const PTRS_PER_PUD = 4;
export const PTRS_PER_PGD = 4;
export const HPAGE_PMD_NR = PTRS_PER_PTE;
/** Pages one pmd maps (PMD_SIZE), one pud (PUD_SIZE), one pgd entry (PGDIR_SIZE). */
export const PMD_PAGES = PTRS_PER_PTE;
export const PUD_PAGES = PMD_PAGES * PTRS_PER_PMD;
export const PGDIR_PAGES = PUD_PAGES * PTRS_PER_PUD;
/** TASK_SIZE, in pages. */
export const TASK_PAGES = PGDIR_PAGES * PTRS_PER_PGD;
/** The pages the default world's VMAs span: the range of address arguments of the built-in actors. */
export const NR_PAGES = PUD_PAGES;
/** The levels of the page-table tree, top down. */
export type Level = 'pgd' | 'pud' | 'pmd' | 'pte';

// ---------------------------------------------------------------------------------------------------
// Entries. Each kind the kernel's protocol tells apart is a variant (`t`); the bits it reads on a
// mapping are optional flags, absent meaning clear, so `{ t: 'present', pfn, sub, writable, dirty }`
// and `{ t: 'huge', pfn }` mean what they always did. A decoded entry carries only the flags that are
// set (its canonical form).

/** Bits a mapping (a present pte, a huge pmd) carries besides its pfn and write permission. */
export interface MappingBits {
  /** _PAGE_ACCESSED / PTE_AF: young. */
  readonly accessed?: boolean;
  /** _PAGE_SOFT_DIRTY (CONFIG_MEM_SOFT_DIRTY): written since the last clear_refs. */
  readonly softDirty?: boolean;
  /** _PAGE_UFFD_WP: write-protected by userfaultfd; a write faults to the handler. */
  readonly uffdWp?: boolean;
  /** PROT_NONE for NUMA hinting (change_prot_numa()): present to the kernel (pte_present(),
   *  pmd_present() and pmd_trans_huge() are true), not to the hardware, which faults on it. */
  readonly protnone?: boolean;
  /** pte_devmap() / pmd_devmap(): ZONE_DEVICE memory. x86's pmd_trans_huge() is false for it,
   *  arm64's is not. */
  readonly devmap?: boolean;
}

/** Bits only a pte carries. */
export interface PteBits extends MappingBits {
  /** pte_special(): no struct page to count (vm_normal_page() returns NULL): the zero page, PFNMAP. */
  readonly special?: boolean;
}

/** Bits a non-present (swap-format) entry keeps for the mapping it stands for. */
export interface SwapBits {
  /** _PAGE_SWP_SOFT_DIRTY. */
  readonly softDirty?: boolean;
  /** _PAGE_SWP_UFFD_WP. */
  readonly uffdWp?: boolean;
}

/** A PMD entry (also what a pud or pgd entry holds: none, table, or, where the level allows it,
 *  huge). `invalid-huge` is what pmdp_invalidate() leaves on x86 (present bit clear, PSE kept:
 *  pmd_present() is still true). `migration` is a THP migration entry (non-present, a swap entry of
 *  type SWP_MIGRATION_READ or _WRITE, whose offset is the pfn under migration). `bad` is any value
 *  that is not one of these, which only a torn read or a half-written store produces. */
export type PmdEntry =
  | { readonly t: 'none' }
  | { readonly t: 'table'; readonly pfn: number }
  | ({ readonly t: 'huge'; readonly pfn: number; readonly writable?: boolean; readonly dirty?: boolean } & MappingBits)
  | ({ readonly t: 'invalid-huge'; readonly pfn: number; readonly writable?: boolean; readonly dirty?: boolean } & Omit<MappingBits, 'protnone'>)
  | ({ readonly t: 'migration'; readonly pfn: number; readonly write: boolean } & SwapBits)
  | { readonly t: 'bad'; readonly lo: number; readonly hi: number };

/** A PTE entry. `present`: a page (or subpage `sub` of a compound page) mapped at one address,
 *  protnone included (present to the kernel). `swap`: a swapped-out page, by swap `type` (a swap
 *  device, 0..MAX_SWAPFILES-1) and `offset` (its slot, 0..SWP_OFFSET_MAX). `migration`: a page under
 *  migration (non-present; a fault waits for it), readable or writable once restored; from v6.1
 *  (2e3468778dbe "mm: Remember young/dirty bit for page migrations") it also keeps the pte's young
 *  and dirty bits, where the swap offset has room (migration_entry_supports_ad()). */
export type PteEntry =
  | { readonly t: 'none' }
  | ({ readonly t: 'present'; readonly pfn: number; readonly sub: number; readonly writable: boolean; readonly dirty: boolean } & PteBits)
  | ({ readonly t: 'swap'; readonly type: number; readonly offset: number; readonly exclusive?: boolean } & SwapBits)
  | ({ readonly t: 'migration'; readonly pfn: number; readonly sub: number; readonly write: boolean; readonly young?: boolean; readonly dirty?: boolean } & SwapBits);

/** The model's swap devices and slots: small, since no actor needs more. */
export const MAX_SWAPFILES = 4;
export const SWP_OFFSET_MAX = 63;

export const PMD_NONE: PmdEntry = { t: 'none' };
export const PTE_NONE: PteEntry = { t: 'none' };

// The two 32-bit halves (lo, hi) of an entry, x86-like. The flags are in the low half; the pfn is
// split, PFN_LO_BITS at PFN_SHIFT in the low half and the rest in the high half, so a table pointer
// of any frame >= 4 has a non-zero high half and a torn read yields a wrong frame. A non-present entry
// in swap format (present, PSE and PROTNONE clear) is marked by _PAGE_SWP so that it is never zero.
// (Real x86 keeps _PAGE_DEVMAP at bit 58 of a 64-bit entry and stores a swap offset inverted; the
// model keeps every flag in the low half so that PAE can tear them too.)
/** The low half's bits, for architectures' predicates that test them (arch.ts). */
export const PMD_BITS = {
  PRESENT: 1 << 0,
  RW: 1 << 1,
  /** Swap format only: this is a swap entry (never zero). */
  SWP: 1 << 2,
  /** Swap format only: SWP_MIGRATION_WRITE rather than _READ. */
  SWP_MIGRATION_WRITE: 1 << 3,
  DEVMAP: 1 << 4,
  ACCESSED: 1 << 5,
  DIRTY: 1 << 6,
  PSE: 1 << 7,
  /** x86 reuses _PAGE_GLOBAL while the present bit is clear. */
  PROTNONE: 1 << 8,
  UFFD_WP: 1 << 10,
  SOFT_DIRTY: 1 << 11,
} as const;
const B = PMD_BITS;
const PFN_SHIFT = 12;
const PFN_LO_BITS = 2;
const PFN_LO_MASK = (1 << PFN_LO_BITS) - 1;
const PFN_LO_SCALE = 1 << PFN_LO_BITS;

function pfnLo(pfn: number): number { return (pfn & PFN_LO_MASK) << PFN_SHIFT; }
function mappingBits(e: MappingBits & { readonly writable?: boolean; readonly dirty?: boolean }): number {
  return (e.writable ? B.RW : 0) | (e.dirty ? B.DIRTY : 0) | (e.accessed ? B.ACCESSED : 0) | (e.softDirty ? B.SOFT_DIRTY : 0) |
    (e.uffdWp ? B.UFFD_WP : 0) | (e.devmap ? B.DEVMAP : 0);
}

export function pmdLo(e: PmdEntry): number {
  switch (e.t) {
    case 'none': return 0;
    case 'table': return B.PRESENT | pfnLo(e.pfn);
    case 'huge': return (e.protnone ? B.PROTNONE : B.PRESENT) | B.PSE | mappingBits(e) | pfnLo(e.pfn);
    case 'invalid-huge': return B.PSE | mappingBits(e) | pfnLo(e.pfn);
    case 'migration': return B.SWP | (e.write ? B.SWP_MIGRATION_WRITE : 0) | (e.softDirty ? B.SOFT_DIRTY : 0) | (e.uffdWp ? B.UFFD_WP : 0) | pfnLo(e.pfn);
    case 'bad': return e.lo;
  }
}

export function pmdHi(e: PmdEntry): number {
  switch (e.t) {
    case 'none': return 0;
    case 'bad': return e.hi;
    default: return Math.floor(e.pfn / PFN_LO_SCALE);
  }
}

/** The canonical flags of a decoded mapping: only the set ones. */
function flagsOf(lo: number): MappingBits & { writable?: boolean; dirty?: boolean } {
  if ((lo & (B.RW | B.DIRTY | B.ACCESSED | B.SOFT_DIRTY | B.UFFD_WP | B.DEVMAP)) === 0) return {};
  return {
    ...(lo & B.RW ? { writable: true } : {}), ...(lo & B.DIRTY ? { dirty: true } : {}),
    ...(lo & B.ACCESSED ? { accessed: true } : {}), ...(lo & B.SOFT_DIRTY ? { softDirty: true } : {}),
    ...(lo & B.UFFD_WP ? { uffdWp: true } : {}), ...(lo & B.DEVMAP ? { devmap: true } : {}),
  };
}

function decodeKind(lo: number, pfn: number): PmdEntry | null {
  if (lo & B.PRESENT) {
    if (!(lo & B.PSE)) return { t: 'table', pfn };
    return { t: 'huge', pfn, ...flagsOf(lo) };
  }
  if (lo & B.PSE) return lo & B.PROTNONE ? { t: 'huge', pfn, protnone: true, ...flagsOf(lo) } : { t: 'invalid-huge', pfn, ...flagsOf(lo) };
  if (lo & B.SWP) {
    return { t: 'migration', pfn, write: (lo & B.SWP_MIGRATION_WRITE) !== 0, ...(lo & B.SOFT_DIRTY ? { softDirty: true } : {}), ...(lo & B.UFFD_WP ? { uffdWp: true } : {}) };
  }
  return null;
}

/** Decode two halves. Every value a store can produce decodes back to itself, and any other pair of
 *  halves (a torn read, a half-written store) to `bad`, so that encoding a decoded value always gives
 *  back the same halves: a walker sees exactly the bits the kernel would. */
export function pmdDecode(lo: number, hi: number): PmdEntry {
  if (lo === 0 && hi === 0) return PMD_NONE;
  // Entries are immutable values, and a run decodes the same few over and over: decode each once.
  // (Only halves as stores make them: non-negative and small, so that the key is exact.) Every low
  // half a store makes is below 2^14 (flags and the pfn's low bits), so the key of such a pair is a
  // small integer (a Smi to V8: hashed as an integer, and no heap number made for it); any other
  // pair keeps a key of its own, above 2^30.
  const cacheable = lo >= 0 && lo < 0x8000_0000 && hi >= 0 && hi < 0x10_0000 && Number.isInteger(lo) && Number.isInteger(hi);
  const k = lo < 0x4000 && hi < 0x1_0000 ? hi * 0x4000 + lo : 2 ** 30 + hi * 0x8000_0000 + lo;
  const hit = cacheable ? decoded.get(k) : undefined;
  if (hit) return hit;
  const e = decodeKind(lo, hi * PFN_LO_SCALE + ((lo >>> PFN_SHIFT) & PFN_LO_MASK));
  const v: PmdEntry = Object.freeze(e !== null && pmdLo(e) === lo && pmdHi(e) === hi ? e : { t: 'bad', lo, hi });
  if (!cacheable) return v;
  if (decoded.size >= 4096) decoded.clear();
  decoded.set(k, v);
  return v;
}
const decoded = new Map<number, PmdEntry>();

/** pmd_val(): the 64-bit value, as one JS number (exact below 2^53). */
export function pmdVal(lo: number, hi: number): number {
  return hi * 0x1_0000_0000 + lo;
}

/** The pfn a pmd points to, as pmd_pfn() computes it: 0 for none, whatever the bits say for bad
 *  (and, for a migration entry, the pfn its swap offset holds). */
export function pmd_pfn(e: PmdEntry): number {
  switch (e.t) {
    case 'none': return 0;
    case 'bad': return e.hi * PFN_LO_SCALE + ((e.lo >>> PFN_SHIFT) & PFN_LO_MASK);
    default: return e.pfn;
  }
}

/** Two pmd values are the same value (pmd_same()): the same halves. */
export function pmdSame(a: PmdEntry, b: PmdEntry): boolean {
  return pmdLo(a) === pmdLo(b) && pmdHi(a) === pmdHi(b);
}

// The pmd predicates belong to the architecture (Arch.pmd_none ... in arch.ts): which entries they
// accept differs. These take the architecture as the kernel's take it implicitly, from the build:
// pmd_present(c.m.arch, v.entry).

/** What an architecture says of pmd entries (include/linux/pgtable.h's arch hooks). */
export interface PmdOps {
  /** pmd_none(). */
  readonly pmd_none: (e: PmdEntry) => boolean;
  /** pmd_present(): a table, a huge pmd (protnone too) or an invalidated one. */
  readonly pmd_present: (e: PmdEntry) => boolean;
  /** pmd_trans_huge(). */
  readonly pmd_trans_huge: (e: PmdEntry) => boolean;
  /** pmd_bad(): not a table entry. The model's is false for a none pmd (the kernel's is true, but
   *  every caller tests pmd_none() first). */
  readonly pmd_bad: (e: PmdEntry) => boolean;
  /** pmd_mkinvalid(): what pmdp_invalidate() stores in place of a huge pmd. */
  readonly pmd_mkinvalid: (e: PmdEntry) => PmdEntry;
}

/** A user module written before the predicates took the architecture passes the entry alone. */
function ops(a: PmdOps, e: PmdEntry | undefined, name: string): PmdEntry {
  if (e === undefined || typeof a !== 'object' || a === null || typeof a.pmd_none !== 'function') {
    throw new TypeError(`${name}() takes the architecture and the entry: ${name}(c.m.arch, pmdval.entry)`);
  }
  return e;
}
export function pmd_none(a: PmdOps, e: PmdEntry): boolean { return a.pmd_none(ops(a, e, 'pmd_none')); }
export function pmd_present(a: PmdOps, e: PmdEntry): boolean { return a.pmd_present(ops(a, e, 'pmd_present')); }
export function pmd_trans_huge(a: PmdOps, e: PmdEntry): boolean { return a.pmd_trans_huge(ops(a, e, 'pmd_trans_huge')); }
export function pmd_bad(a: PmdOps, e: PmdEntry): boolean { return a.pmd_bad(ops(a, e, 'pmd_bad')); }
export function pmd_mkinvalid(a: PmdOps, e: PmdEntry): PmdEntry { return a.pmd_mkinvalid(ops(a, e, 'pmd_mkinvalid')); }
/** is_swap_pmd(): not none and not present (a migration entry). */
export function is_swap_pmd(a: PmdOps, e: PmdEntry): boolean { return !pmd_none(a, e) && !pmd_present(a, e); }
/** pmd_protnone(): a NUMA-hinting huge pmd. */
export function pmd_protnone(e: PmdEntry): boolean { return e.t === 'huge' && e.protnone === true; }

// pte predicates agree on every built-in architecture (x86: _PAGE_PRESENT | _PAGE_PROTNONE; arm64:
// PTE_VALID | PTE_PROT_NONE), so they take no architecture.
export function pte_none(e: PteEntry): boolean { return e.t === 'none'; }
/** pte_present(): true for protnone too. */
export function pte_present(e: PteEntry): boolean { return e.t === 'present'; }
/** pte_protnone(): a NUMA-hinting pte. */
export function pte_protnone(e: PteEntry): boolean { return e.t === 'present' && e.protnone === true; }
/** What the hardware walker may use: present and not protnone. */
export function pte_hw_valid(e: PteEntry): e is Extract<PteEntry, { t: 'present' }> { return e.t === 'present' && e.protnone !== true; }
/** A huge pmd the hardware walker maps: present (not protnone, not invalidated). */
export function pmd_hw_huge(e: PmdEntry): e is Extract<PmdEntry, { t: 'huge' }> { return e.t === 'huge' && e.protnone !== true; }
/** is_swap_pte(): neither none nor present (a swap or migration entry). */
export function is_swap_pte(e: PteEntry): boolean { return e.t === 'swap' || e.t === 'migration'; }

/** The pmd slot (a pmd's index in the whole address space) of an address. */
export function pmdIndex(addr: number): number { return Math.floor(addr / PMD_PAGES); }
export function pteIndex(addr: number): number { return addr % PTRS_PER_PTE; }
export function pmdAddr(slot: number): number { return slot * PMD_PAGES; }
/** pmd_index(), pud_index(), pgd_index(): the entry's index within its table. */
export function pmdTableIndex(slot: number): number { return slot % PTRS_PER_PMD; }
export function pudIndex(addr: number): number { return Math.floor(addr / PUD_PAGES) % PTRS_PER_PUD; }
export function pgdIndex(addr: number): number { return Math.floor(addr / PGDIR_PAGES) % PTRS_PER_PGD; }

const PTE_FLAGS = ['accessed', 'softDirty', 'uffdWp', 'protnone', 'devmap', 'special', 'exclusive'] as const;

function flag(e: PteEntry, k: (typeof PTE_FLAGS)[number]): boolean {
  return (e as Partial<Record<(typeof PTE_FLAGS)[number], boolean>>)[k] === true;
}

/** pte_same(): the same kind, frame, permissions and bits (an absent flag is a clear one). */
export function pteSame(a: PteEntry, b: PteEntry): boolean {
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'none': return true;
    case 'present': { const o = b as typeof a; if (a.pfn !== o.pfn || a.sub !== o.sub || a.writable !== o.writable || a.dirty !== o.dirty) return false; break; }
    case 'swap': { const o = b as typeof a; if (a.type !== o.type || a.offset !== o.offset) return false; break; }
    case 'migration': { const o = b as typeof a; if (a.pfn !== o.pfn || a.sub !== o.sub || a.write !== o.write || (a.young === true) !== (o.young === true) || (a.dirty === true) !== (o.dirty === true)) return false; break; }
  }
  return PTE_FLAGS.every((k) => flag(a, k) === flag(b, k));
}

const FLAG_NAMES: readonly [keyof (PteBits & { exclusive?: boolean }), string][] = [
  ['accessed', 'young'], ['softDirty', 'soft-dirty'], ['uffdWp', 'uffd-wp'], ['protnone', 'protnone'], ['devmap', 'devmap'], ['special', 'special'], ['exclusive', 'exclusive'],
];

function fmtFlags(e: object): string {
  const r = e as Partial<Record<string, boolean>>;
  return FLAG_NAMES.filter(([k]) => r[k] === true).map(([, n]) => ` ${n}`).join('');
}

export function fmtPmd(e: PmdEntry): string {
  switch (e.t) {
    case 'none': return 'none';
    case 'table': return `table(${e.pfn})`;
    case 'huge': case 'invalid-huge': {
      const f = `${e.writable ? ' rw' : ''}${e.dirty ? ' dirty' : ''}${fmtFlags(e)}`;
      return `${e.t}(${e.pfn}${f ? `,${f}` : ''})`;
    }
    case 'migration': return `migration(${e.pfn} ${e.write ? 'write' : 'read'}${fmtFlags(e)})`;
    case 'bad': return `bad(lo=${e.lo.toString(16)},hi=${e.hi.toString(16)})`;
  }
}

export function fmtPte(e: PteEntry): string {
  switch (e.t) {
    case 'none': return 'none';
    case 'present': return `${e.pfn}${e.sub ? `+${e.sub}` : ''}${e.writable ? ' rw' : ' ro'}${e.dirty ? ' dirty' : ''}${fmtFlags(e)}`;
    case 'swap': return `swap(${e.type}:${e.offset}${fmtFlags(e)})`;
    case 'migration': return `migration(${e.pfn}${e.sub ? `+${e.sub}` : ''} ${e.write ? 'write' : 'read'}${e.young ? ' young' : ''}${e.dirty ? ' dirty' : ''}${fmtFlags(e)})`;
  }
}
