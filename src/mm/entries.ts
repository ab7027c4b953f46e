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

/** A PMD entry. `invalid-huge` is the transient state pmdp_invalidate() leaves (present bit clear, PSE
 *  kept: pmd_present() is still true on x86). `bad` only ever comes out of a torn read. */
export type PmdEntry =
  | { readonly t: 'none' }
  | { readonly t: 'table'; readonly pfn: number }
  | { readonly t: 'huge'; readonly pfn: number }
  | { readonly t: 'invalid-huge'; readonly pfn: number }
  | { readonly t: 'bad'; readonly lo: number; readonly hi: number };

/** A PTE entry: a page (or subpage `sub` of a compound page) mapped at one address. */
export type PteEntry =
  | { readonly t: 'none' }
  | { readonly t: 'present'; readonly pfn: number; readonly sub: number; readonly writable: boolean; readonly dirty: boolean };

export const PMD_NONE: PmdEntry = { t: 'none' };
export const PTE_NONE: PteEntry = { t: 'none' };

// Low-half flag bits. The pfn is split: PFN_LO_BITS in the low half, the rest in the high half, so a
// table pointer of any frame >= 4 has a non-zero high half and a torn read yields a wrong frame.
const _PAGE_PRESENT = 1;
const _PAGE_PSE = 2;
const FLAG_BITS = 2;
const PFN_LO_BITS = 2;
const PFN_LO_MASK = (1 << PFN_LO_BITS) - 1;

export function pmdLo(e: PmdEntry): number {
  switch (e.t) {
    case 'none': return 0;
    case 'table': return _PAGE_PRESENT | ((e.pfn & PFN_LO_MASK) << FLAG_BITS);
    case 'huge': return _PAGE_PRESENT | _PAGE_PSE | ((e.pfn & PFN_LO_MASK) << FLAG_BITS);
    case 'invalid-huge': return _PAGE_PSE | ((e.pfn & PFN_LO_MASK) << FLAG_BITS);
    case 'bad': return e.lo;
  }
}

export function pmdHi(e: PmdEntry): number {
  switch (e.t) {
    case 'none': return 0;
    case 'bad': return e.hi;
    default: return e.pfn >>> PFN_LO_BITS;
  }
}

/** Decode two halves. Every value a store can produce decodes back to itself. */
export function pmdDecode(lo: number, hi: number): PmdEntry {
  if (lo === 0 && hi === 0) return PMD_NONE;
  const flags = lo & ((1 << FLAG_BITS) - 1);
  const pfn = (hi << PFN_LO_BITS) | ((lo >>> FLAG_BITS) & PFN_LO_MASK);
  if (lo >>> (FLAG_BITS + PFN_LO_BITS) !== 0) return { t: 'bad', lo, hi };
  switch (flags) {
    case _PAGE_PRESENT: return { t: 'table', pfn };
    case _PAGE_PRESENT | _PAGE_PSE: return { t: 'huge', pfn };
    case _PAGE_PSE: return { t: 'invalid-huge', pfn };
    default: return { t: 'bad', lo, hi };
  }
}

/** pmd_val(): the 64-bit value, as one JS number (exact below 2^53). */
export function pmdVal(lo: number, hi: number): number {
  return hi * 0x1_0000_0000 + lo;
}

/** The pfn a pmd points to, as pmd_pfn() computes it: 0 for none, whatever the bits say for bad. */
export function pmd_pfn(e: PmdEntry): number {
  switch (e.t) {
    case 'none': return 0;
    case 'bad': return (e.hi << PFN_LO_BITS) | ((e.lo >>> FLAG_BITS) & PFN_LO_MASK);
    default: return e.pfn;
  }
}

/** x86 pmd_none(): on 32-bit only the low word is tested ("it might be out of sync with upper half"),
 *  so a torn value with a zero low half is none. On 64-bit such a value never arises. */
export function pmd_none(e: PmdEntry): boolean { return e.t === 'none' || (e.t === 'bad' && e.lo === 0); }
/** x86 pmd_present(): _PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE, so an invalidated huge pmd is present. */
export function pmd_present(e: PmdEntry): boolean { return e.t === 'table' || e.t === 'huge' || e.t === 'invalid-huge'; }
export function pmd_trans_huge(e: PmdEntry): boolean { return e.t === 'huge' || e.t === 'invalid-huge'; }
/** x86 pmd_bad(): flags other than a kernel table's. A huge pmd *is* bad to it: that is V5. */
export function pmd_bad(e: PmdEntry): boolean { return !pmd_none(e) && e.t !== 'table'; }
export function pte_none(e: PteEntry): boolean { return e.t === 'none'; }
export function pte_present(e: PteEntry): boolean { return e.t === 'present'; }

/** The pmd slot (a pmd's index in the whole address space) of an address. */
export function pmdIndex(addr: number): number { return Math.floor(addr / PMD_PAGES); }
export function pteIndex(addr: number): number { return addr % PTRS_PER_PTE; }
export function pmdAddr(slot: number): number { return slot * PMD_PAGES; }
/** pmd_index(), pud_index(), pgd_index(): the entry's index within its table. */
export function pmdTableIndex(slot: number): number { return slot % PTRS_PER_PMD; }
export function pudIndex(addr: number): number { return Math.floor(addr / PUD_PAGES) % PTRS_PER_PUD; }
export function pgdIndex(addr: number): number { return Math.floor(addr / PGDIR_PAGES) % PTRS_PER_PGD; }

export function pteSame(a: PteEntry, b: PteEntry): boolean {
  if (a.t === 'none' || b.t === 'none') return a.t === b.t;
  return a.pfn === b.pfn && a.sub === b.sub && a.writable === b.writable && a.dirty === b.dirty;
}

export function fmtPmd(e: PmdEntry): string {
  switch (e.t) {
    case 'none': return 'none';
    case 'table': return `table(${e.pfn})`;
    case 'huge': return `huge(${e.pfn})`;
    case 'invalid-huge': return `invalid-huge(${e.pfn})`;
    case 'bad': return `bad(lo=${e.lo.toString(16)},hi=${e.hi.toString(16)})`;
  }
}

export function fmtPte(e: PteEntry): string {
  if (e.t === 'none') return 'none';
  return `${e.pfn}${e.sub ? `+${e.sub}` : ''}${e.writable ? ' rw' : ' ro'}${e.dirty ? ' dirty' : ''}`;
}
