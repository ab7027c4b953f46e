// A canonical text of the model's mutable state: frames and their tables, mms and their VMAs and
// locks, files, CPUs (IRQs, RCU, TLBs, paging-structure caches, pending IPIs), queued RCU callbacks
// (by label and who they wait for), secondary MMUs and actor state. Two models with the same text
// are in the same state as far as any actor or the oracle can tell, except for the bookkeeping of
// *when* (step numbers: `since`, `refStep`, `copiedAt`...), which is left out so that the same state
// reached by two orders of independent steps reads the same. Object keys are sorted; arrays keep
// their order (it is the model's: fill order, queue order).

import type { Model } from './types.js';

/** Fields that record at which step something happened, not what the state is. */
const WHEN = new Set(['since', 'refStep', 'mapStep', 'copiedAt', 'changedAt', 'written']);
/** The model's own fields that are the executor's or fixed configuration. */
const ROOT = ['frames', 'mms', 'files', 'cpus', 'rcu', 'smmus', 'actorState'] as const;

/** `raw` gives the object behind a wrapper (the DPOR search reads its instrumented model so). */
export function stateText(m: Model, raw: <T extends object>(o: T) => T = (o) => o): string {
  let out = '';
  for (const k of ROOT) out += `${k}=${valueText(m[k], raw)};`;
  return out;
}

/** The model's parts that stateText() reads, in its order. */
export const STATE_ROOTS: readonly (typeof ROOT)[number][] = ROOT;

/** The canonical text of one value of the model (a frame, a CPU, the RCU list). With `when`, the
 *  step numbers too (the stateful DPOR search's key: the oracle compares them, src/explore/dpor.ts). */
export function valueText(v: unknown, raw: <T extends object>(o: T) => T = (o) => o, when = false): string {
  let out = '';
  const onStack = new Set<unknown>();
  const go = (v0: unknown): void => {
    if (v0 === null || typeof v0 !== 'object') {
      out += typeof v0 === 'function' ? 'f' : typeof v0 === 'string' ? JSON.stringify(v0) : String(v0);
      return;
    }
    const v = raw(v0);
    if (onStack.has(v)) { out += '^'; return; }
    onStack.add(v);
    if (v instanceof Map) {
      const keys = [...v.keys()].map(String).sort();
      out += 'M{';
      for (const k of keys) { out += `${k}:`; go(v.get(k)); out += ','; }
      out += '}';
    } else if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length; i++) { go(v[i]); out += ','; }
      out += ']';
    } else {
      out += '{';
      const o = v as Record<string, unknown>;
      for (const k of sortedKeys(o)) {
        if (!when && WHEN.has(k)) continue;
        out += `${k}:`;
        go(o[k]);
        out += ',';
      }
      out += '}';
    }
    onStack.delete(v);
  };
  go(v);
  return out;
}

/** An object's keys, sorted; the model's objects keep theirs, so the sort is done once per shape. */
const sortedByShape = new Map<string, readonly string[]>();
function sortedKeys(o: object): readonly string[] {
  const keys = Object.keys(o);
  const shape = keys.join(',');
  let s = sortedByShape.get(shape);
  if (!s) {
    s = keys.slice().sort();
    if (sortedByShape.size < 4096) sortedByShape.set(shape, s);
  }
  return s;
}

/** A 52-bit FNV-1a-style hash of a text (two 32-bit lanes), for counting states. */
export function hashText(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return (a * 0x100000) + (b & 0xfffff);
}

export function stateHash(m: Model, raw?: <T extends object>(o: T) => T): number {
  return hashText(stateText(m, raw));
}
