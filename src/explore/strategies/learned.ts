// What a greybox campaign learns across scenarios (issue 12): which reversals are worth a run.
//
// A reversal is named by what it reverses, not by where: the labels of its two conflicting steps
// (kernel lines, numbers taken out) and its kind (before the first step, or right after a read). The
// same reversal recurs in every scenario of the same kind (a pool draws the same actors again with
// other arguments, other partners, in another order), and most drawn scenarios cannot fail at all
// (V9's catalog pool: coredump and collapse_huge_page on the same huge range, coredump first, about
// one drawn scenario in ten). So a reversal that was tried in a scenario of the same kind and showed
// nothing new to the campaign is not tried first again, and a scenario whose queued reversals are all
// such is left for a new one (Guide.more()); one that showed something new stays worth trying.
//
// The kind of a scenario (greybox.ts, tracked().kinds()) is what its actors did in its first run:
// each actor's sequence of labels, each such sequence once. So the same actors that walk the same
// lines learn from each other, and an actor that finds another table (another range, another order of
// actors) takes other lines and starts afresh. Coarser (the actors' names alone) lost V4: its torn
// read needs many runs in a scenario whose actors share a pmd, and the scenarios whose actors did not
// had marked every reversal barren first. It needs no key format. The memory is a Map keyed by
// strings, cleared whole when full (the same draws give the same state).

/** Most (kinds, reversal) pairs remembered; past it the memory starts again. */
const MEMORY_MAX = 1 << 16;

/** A reversal's name: labels of the step preempted (or passed) and of the other actor's conflicting
 *  step, and the kind (1: before the first step, 0: right after it). Label ids < 2^16 fit. */
export const reversalSig = (first: number, second: number, before: boolean): number => ((first % 0x10000) * 0x10000 + (second % 0x10000)) * 2 + (before ? 1 : 0);

export interface ReversalMemory {
  /** Whether a reversal is worth a run in a scenario of these kinds: never tried there, or it once
   *  showed something new to the campaign. */
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
