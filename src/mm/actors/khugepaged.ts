// What khugepaged's collapse paths share.

import { pmd_present, pmd_trans_huge } from '../entries.js';
import { pmd_off, pmd_read, type PmdVal, type Stepper } from '../pgtable.js';
import type { Ctx } from '../step.js';
import type { Mm } from '../types.js';

/** khugepaged_test_exit() / hpage_collapse_test_exit(): mm_users has dropped to zero. */
export function test_exit(mm: Mm): boolean {
  return mm.mm_users === 0;
}

/** mm_find_pmd() (≤ v6.0) / find_pmd_or_thp_or_none() (v6.1+): the pmd, if it points to a table. */
export function* find_pmd(c: Ctx, mm: Mm, addr: number, label: string): Stepper<PmdVal | null> {
  const p = pmd_off(c, addr, mm);
  if (!p) return null;
  const v = yield* pmd_read(c, p, label);
  if (!pmd_present(c.m.arch, v.entry) || pmd_trans_huge(c.m.arch, v.entry)) return null;
  return v;
}
