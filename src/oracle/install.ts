// No table entry may be installed that points at frame 0, a free frame, or a frame that is not what
// an entry of its kind at its level points at (DESIGN.md, "The oracle"). The kernel has no such
// check on the fast path; CONFIG_PAGE_TABLE_CHECK (mm/page_table_check.c) and the "Bad page map"
// report of print_bad_pte() find some of these afterwards. The model records a store only when it
// is suspect (installSuspect, shared with pgtable.ts), so campaigns see every bad install at no cost
// for the good ones.

import type { Level } from '../mm/entries.js';
import { installSuspect, type MmEvent } from '../mm/events.js';
import type { FrameKind } from '../mm/types.js';
import type { StepRef, Violation } from './violations.js';

type InstallEvent = Extract<MmEvent, { e: 'entry-install' }>;

/** What an entry of each level is, for the message. */
const ENTRY_NAME: Record<Level, string> = { pgd: 'pgd entry', pud: 'pud entry', pmd: 'pmd', pte: 'pte' };

function wanted(want: readonly FrameKind[]): string {
  if (want.includes('pud-table')) return 'a pud table';
  if (want.includes('pmd-table')) return 'a pmd table';
  if (want.includes('pte-table')) return 'a pte table';
  if (want.length === 1 && want[0] === 'huge') return 'a huge page';
  return 'a data page';
}

function what(kind: FrameKind, pfn: number): string {
  if (pfn === 0) return 'physical frame 0';
  if (kind === 'free') return `frame ${pfn}, which is free`;
  return `frame ${pfn}, a ${kind} page`;
}

/** The violation an install event stands for, or null. `lastFree[pfn]` is the step that last freed
 *  a frame. */
export function checkInstall(ev: InstallEvent, ref: StepRef, lastFree: readonly (StepRef | null)[]): Violation | null {
  if (!installSuspect(ev.pfn, ev.frameKind, ev.want)) return null;
  return {
    kind: 'bad-entry-installed', pfn: ev.pfn, level: ev.level, nowKind: ev.frameKind, entry: ev.entry, how: ev.how,
    usedBy: ref, changedBy: ev.pfn === 0 ? null : lastFree[ev.pfn] ?? null,
    message: `${ev.how} installed ${ENTRY_NAME[ev.level]} ${ev.entry} in table ${ev.table}, pointing at ${what(ev.frameKind, ev.pfn)}: ` +
      `it must point at ${wanted(ev.want)}`,
  };
}
