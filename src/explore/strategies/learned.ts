// What a greybox campaign learns across scenarios (issue 12): which reversals are worth a run.
//
// A reversal is named by what it reverses, not by where: the labels of its two conflicting steps
// (kernel lines, numbers taken out) and its kind (before the first step, or right after a read). The
// same reversal recurs in every scenario where its two actors do the same (a pool draws the same
// actors again with other partners beside them, in another order), and most drawn scenarios cannot
// fail at all (V9's catalog pool: coredump and collapse_huge_page on the same huge range, coredump
// first, about one drawn scenario in ten). So a reversal that was tried where its two actors did the
// same and showed nothing new to the campaign is not tried first again, and a scenario whose queued
// reversals are all such is left for a new one (Guide.more()); one that showed something new stays
// worth trying.
//
// Where its two actors did the same (greybox.ts, tracked().kinds()): each actor's labels in the
// scenario's first run as it gave them (numbers kept: which pmd, which address), the two actors' in
// the order of the reversal. Only those two: with every actor in the pool the rest of a scenario
// seldom recurs, and a key of all its actors' labels (the first version) carried little (V9 with
// every actor: 2.97 finds per 1000 runs; keyed by the two actors 4.45). With the numbers kept: the
// same lines on another pmd are another case (numbers taken out, V3 with every actor fell from 3.63
// to 2.46: gup_fast on one pmd taught gup_fast on another; and V4's torn read needs actors that share
// a pmd: names alone had marked every reversal barren in scenarios whose actors did not). It needs no
// key format. The memory is a Map keyed by strings, cleared whole when full (the same draws give the
// same state).

/** Most (kinds, reversal) pairs remembered; past it the memory starts again. */
const MEMORY_MAX = 1 << 16;

/** A reversal's name: labels of the step preempted (or passed) and of the other actor's conflicting
 *  step, and the kind (1: before the first step, 0: right after it). Label ids < 2^16 fit. */
export const reversalSig = (first: number, second: number, before: boolean): number => ((first % 0x10000) * 0x10000 + (second % 0x10000)) * 2 + (before ? 1 : 0);

export interface ReversalMemory {
  /** Whether a reversal is worth a run where its two actors did `kinds`: never tried there, or it
   *  once showed something new to the campaign. */
  worth(kinds: string, sig: number): boolean;
  /** After a run of that reversal: did it show anything new to the campaign? */
  record(kinds: string, sig: number, gained: boolean): void;
  /** (kinds, reversal) pairs remembered. */
  size(): number;
}

export function reversalMemory(): ReversalMemory {
  // true: it showed something new once; false: tried, nothing new.
  const memo = new Map<string, boolean>();
  const at = (kinds: string, sig: number) => `${kinds}|${sig}`;
  return {
    worth: (kinds, sig) => memo.get(at(kinds, sig)) !== false,
    record(kinds, sig, gained) {
      const k = at(kinds, sig);
      if (memo.get(k) === true) return;
      if (memo.size >= MEMORY_MAX && !memo.has(k)) memo.clear();
      memo.set(k, gained);
    },
    size: () => memo.size,
  };
}
