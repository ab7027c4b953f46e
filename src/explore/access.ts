// What each step of an execution reads and writes: the footprints DPOR's dependency relation is
// taken from (dpor.ts). Two steps are dependent when one writes a location the other reads or writes.
//
// How: the model's long-lived objects (frames and their tables, mms, VMAs, locks, CPUs with their
// TLBs and IPIs, files, the RCU list, actor state) are replaced in place, in a model the search keeps
// to itself, by proxies that record each property read and written, charged to the actor whose step
// runs. Everyone, actors and oracle alike, then holds the same proxies, so object identity is kept.
//
// Conservative where it cannot see:
// - An object an actor makes during an execution (a TLB entry, an IPI, an RCU callback, a split VMA)
//   stays a plain object, so that the actor's own references to it keep their identity. The
//   proxied container it sits in (cpu.tlb, m.rcu, mm.vmas) becomes "dynamic": after every step the
//   container's whole contents are compared with what they were, and any change is a write of the
//   whole container; a step that takes such an object out of its container (or puts one in) reads the
//   whole container, and so does every later step of the same actor (it may still hold the object).
// - Entries (objects with a string tag `t`, immutable by their readonly types) and frozen objects are
//   values: reading one is a read of the slot that held it.
// - The step counter `m.step`, the event list and the scheduler's `m.choose` are the executor's, not
//   shared state: not tracked (a step number written into the model is bookkeeping, which the state
//   hash leaves out too).
// What it cannot see at all: a closure that captured a plain object and runs in another actor's step
// (an RCU callback that kept a VMA it made). No actor does that today; one that did would need its
// object put in the model.
//
// Observations (for the stateful search's key, dpor.ts): while `observe(true)`, every value a read
// returns to the actor stepping (a number, a string, an entry by its text, a model object by its id,
// a plain object by its text at the time, a key list, `has`, a Map's size, the step counter) is
// hashed, in order, into that actor's running hash. An actor is a generator, a deterministic function
// of what its steps read: two actors of the same code that read the same sequence of values hold the
// same locals. Reads of a plain object's own fields (not proxied) are not seen: the object's text is
// hashed when it is taken, and the containers it came from (`sticky`) are hashed at each step start
// of the actor that took it (dpor.ts), which covers a change another actor made to it in between.

import type { Model } from '../mm/types.js';
import { valueText } from '../mm/state_hash.js';

/** What one step touched. A location is an object id times KEYS plus a key id. */
export interface Footprint {
  readonly reads: Set<number>;
  readonly writes: Set<number>;
  /** Objects read or written as a whole (a dynamic container). */
  readonly readAll: Set<number>;
  readonly writeAll: Set<number>;
  /** Every object touched in any way. */
  readonly objs: Set<number>;
}

const KEYS = 1 << 16;
/** Key id 0: the whole object. */
const WHOLE = 0;

export function emptyFootprint(): Footprint {
  return { reads: new Set(), writes: new Set(), readAll: new Set(), writeAll: new Set(), objs: new Set() };
}

export function mergeInto(into: Footprint, from: Footprint): void {
  for (const x of from.reads) into.reads.add(x);
  for (const x of from.writes) into.writes.add(x);
  for (const x of from.readAll) into.readAll.add(x);
  for (const x of from.writeAll) into.writeAll.add(x);
  for (const x of from.objs) into.objs.add(x);
}

const objOf = (loc: number) => Math.floor(loc / KEYS);

function writesHit(w: Footprint, o: Footprint, alsoReads: boolean): boolean {
  for (const x of w.writes) {
    const ob = objOf(x);
    if (o.writes.has(x) || o.writeAll.has(ob) || (alsoReads && (o.reads.has(x) || o.readAll.has(ob)))) return true;
  }
  for (const ob of w.writeAll) if (o.objs.has(ob)) return true;
  return false;
}

/** Dependent: one writes what the other reads or writes. */
export function conflict(a: Footprint, b: Footprint): boolean {
  return writesHit(a, b, true) || writesHit(b, a, true);
}

/** A pseudo-object (id 1) for facts the executor keeps outside the model: that a foreground actor
 *  is still running, which is what lets a background daemon (the hardware walker) step. */
export const FOREGROUND_LOC = 1 * KEYS + WHOLE;

/** The step counter, as a location: a step that takes a stamp of it (a TLB fill's `since`, a pmd
 *  read's) reads it, and a step whose stamp the oracle compares with those (a copy, `copiedAt`; an
 *  mprotect() return) writes it. Without it two such steps would commute, yet the oracle's verdict
 *  (a write through a TLB entry filled before the copy) depends on their order. */
export const CLOCK_LOC = 1 * KEYS + 1;

export interface Tracker {
  /** Put the model's long-lived objects behind proxies (again after each reset: idempotent). Returns
   *  how many objects it put behind a proxy this time (0 once the model's objects are all known). */
  instrument(m: Model): number;
  /** Record into `fp` from now on (null: record nothing). */
  record(fp: Footprint | null): void;
  /** The end of a step: compare the dynamic containers with what they held, charging a change to
   *  `fp`; and remember them as they are now. */
  settle(fp: Footprint | null): void;
  /** Objects an actor took a plain object from: every step of it reads them whole (see above). */
  sticky(actor: number): ReadonlySet<number>;
  /** The actor whose steps the recording is charged to (for `sticky`). */
  setActor(actor: number): void;
  /** Forget the per-execution facts (sticky objects). */
  reset(): void;
  /** A proxy's target (to read the model without recording). */
  raw<T extends object>(o: T): T;
  /** Hash the values reads return into the current actor's observations (see above), or stop. */
  observe(on: boolean): void;
  /** Hash a value of the search's (a data choice) into the current actor's observations. */
  note(token: string): void;
  /** Hash the text of the containers the current actor took a plain object from (`sticky`). */
  noteSticky(): void;
  /** Each actor's observations so far, as text. */
  observations(): readonly string[];
  /** The parts of the model written since the last call, by component: `frames:3` (a frame and
   *  all under it), `frames` (the array itself), `rcu`; `all` when it cannot tell (after a reset, a
   *  write to an object two components share). For a state text kept by component. */
  takeWritten(): { readonly all: boolean; readonly comps: ReadonlySet<string> };
}

/** The model's fields that are the executor's or fixed configuration, not shared mutable state. */
const ROOT_SKIP = new Set<PropertyKey>(['archId', 'arch', 'sw', 'world', 'setup', 'events', 'choose', 'step', 'tracing', 'traceOnly']);

const isValue = (v: object): boolean =>
  Object.isFrozen(v) || (!Array.isArray(v) && typeof (v as { t?: unknown }).t === 'string');

export function createTracker(): Tracker {
  const proxyOf = new WeakMap<object, object>();
  const targetOf = new WeakMap<object, object>();
  const idOf = new WeakMap<object, number>();
  let nextId = 2;
  const keyIds = new Map<PropertyKey, number>();
  let cur: Footprint | null = null;
  let actor = -1;
  const stickies: Set<number>[] = [];
  /** Dynamic containers: id → target, and their contents as last seen. */
  const dynamic = new Map<number, object>();
  const seen = new Map<number, string>();
  /** Which component of the model each target is in ('' when shared between two). */
  const componentOf = new WeakMap<object, string>();
  let writtenAll = true;
  let written = new Set<string>();
  let observing = false;
  /** Per actor, two 32-bit lanes of a running FNV-style hash. */
  const obsA: number[] = [];
  const obsB: number[] = [];
  const rawOf = <T extends object>(o: T): T => (targetOf.get(o) as T | undefined) ?? o;
  const note = (s: string) => {
    if (actor < 0) return;
    let a = obsA[actor] ?? 0x811c9dc5;
    let b = obsB[actor] ?? 0x01000193;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193) >>> 0;
      b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
    }
    // A separator, so that ("ab","c") and ("a","bc") differ.
    a = Math.imul(a ^ 0xff, 0x01000193) >>> 0;
    b = Math.imul(b ^ 0xff, 0x5bd1e995) >>> 0;
    obsA[actor] = a;
    obsB[actor] = b;
  };
  const valueTexts = new WeakMap<object, string>();
  const seenValue = (v: unknown) => {
    if (!observing || !cur) return;
    if (v === null || typeof v !== 'object') { note(typeof v === 'function' ? 'f' : `${typeof v}:${String(v)}`); return; }
    const tgt = targetOf.get(v) ?? (proxyOf.has(v) ? v : undefined);
    if (tgt !== undefined) { note(`#${id(tgt)}`); return; }
    if (isValue(v)) {
      let t = valueTexts.get(v);
      if (t === undefined) { t = valueText(v, rawOf, true); valueTexts.set(v, t); }
      note(t);
      return;
    }
    note(`plain:${valueText(v, rawOf, true)}`);
  };
  const dirty = (t: object) => {
    const c = componentOf.get(t);
    if (c === undefined || c === '') writtenAll = true;
    else written.add(c);
  };

  const keyId = (k: PropertyKey): number => {
    let i = keyIds.get(k);
    if (i === undefined) {
      i = keyIds.size + 1;
      if (i >= KEYS) throw new Error('access: too many distinct keys');
      keyIds.set(k, i);
    }
    return i;
  };
  const id = (t: object): number => {
    let i = idOf.get(t);
    if (i === undefined) { i = nextId++; idOf.set(t, i); }
    return i;
  };
  const read = (t: object, k: PropertyKey) => {
    if (!cur) return;
    const o = id(t);
    cur.reads.add(o * KEYS + keyId(k));
    cur.objs.add(o);
  };
  const write = (t: object, k: PropertyKey) => {
    if (!cur) return;
    const o = id(t);
    cur.writes.add(o * KEYS + keyId(k));
    cur.objs.add(o);
  };
  const stickyFor = (a: number): Set<number> => {
    let s = stickies[a];
    if (!s) { s = new Set(); stickies[a] = s; }
    return s;
  };
  /** A plain object left or entered container `t`. */
  const plain = (t: object) => {
    const o = id(t);
    if (!dynamic.has(o)) { dynamic.set(o, t); seen.set(o, contents(t)); }
    if (!cur) return;
    cur.readAll.add(o);
    cur.objs.add(o);
    if (actor >= 0) stickyFor(actor).add(o);
  };

  /** A container's contents, for change detection: proxied members by identity, the rest deeply. */
  function contents(t: object): string {
    const out: string[] = [];
    const onStack = new Set<object>();
    const go = (v: unknown): void => {
      if (v === null || typeof v !== 'object') { out.push(typeof v === 'function' ? 'f' : String(v)); return; }
      const tgt = targetOf.get(v);
      if (tgt !== undefined && tgt !== t) { out.push(`#${id(tgt)}`); return; }
      const o = tgt ?? v;
      if (onStack.has(o)) { out.push('^'); return; }
      onStack.add(o);
      if (o instanceof Map) {
        out.push('M{');
        for (const [k, x] of o) { out.push(String(k), ':'); go(x); out.push(','); }
        out.push('}');
      } else if (Array.isArray(o)) {
        out.push('[');
        for (const x of o) { go(x); out.push(','); }
        out.push(']');
      } else {
        out.push('{');
        for (const k of Object.keys(o).sort()) { out.push(k, ':'); go((o as Record<string, unknown>)[k]); out.push(','); }
        out.push('}');
      }
      onStack.delete(o);
    };
    go(t);
    return out.join('');
  }

  const handler: ProxyHandler<object> = {
    get(t, k) {
      const v: unknown = Reflect.get(t, k);
      seenValue(v);
      if (typeof v === 'function') return v;
      if (typeof k === 'string') read(t, k);
      if (v === null || typeof v !== 'object') return v;
      const p = proxyOf.get(v);
      if (p) return p;
      if (targetOf.has(v) || isValue(v)) return v;
      plain(t);
      return v;
    },
    set(t, k, v: unknown) {
      let val = v;
      if (val !== null && typeof val === 'object') {
        const p = proxyOf.get(val);
        if (p) val = p;
        else if (!targetOf.has(val) && !isValue(val)) plain(t);
        // A model object moved into another component: its writes can no longer be told apart.
        const vt = targetOf.get(val as object);
        if (vt && componentOf.get(vt) !== componentOf.get(t)) componentOf.set(vt, '');
      }
      dirty(t);
      if (Array.isArray(t) && k === 'length' && typeof val === 'number' && val < t.length) {
        if (cur) { const o = id(t); cur.writeAll.add(o); cur.objs.add(o); }
      } else {
        write(t, k);
        if (Array.isArray(t) && typeof k === 'string' && k !== 'length') write(t, 'length');
        if (k === 'copiedAt' && cur) { cur.writes.add(CLOCK_LOC); cur.objs.add(1); }
      }
      return Reflect.set(t, k, val);
    },
    deleteProperty(t, k) {
      dirty(t);
      if (cur) { const o = id(t); cur.writeAll.add(o); cur.objs.add(o); }
      return Reflect.deleteProperty(t, k);
    },
    defineProperty(t, k, d) {
      dirty(t);
      if (cur) { const o = id(t); cur.writeAll.add(o); cur.objs.add(o); }
      return Reflect.defineProperty(t, k, d);
    },
    has(t, k) {
      read(t, k);
      const r = Reflect.has(t, k);
      seenValue(r);
      return r;
    },
    ownKeys(t) {
      if (cur) { const o = id(t); cur.readAll.add(o); cur.objs.add(o); }
      const r = Reflect.ownKeys(t);
      seenValue(r.map(String).join(','));
      return r;
    },
  };

  /** A Map (actor state): its methods run on the Map itself, recording by key. */
  const mapHandler = (t: Map<unknown, unknown>): ProxyHandler<Map<unknown, unknown>> => {
    const whole = (w: boolean) => {
      if (!cur) return;
      const o = id(t);
      (w ? cur.writeAll : cur.readAll).add(o);
      cur.objs.add(o);
    };
    const got = (v: unknown) => {
      if (v !== null && typeof v === 'object' && !targetOf.has(v) && !isValue(v)) plain(t);
      return v;
    };
    return {
      get(_t, k) {
        switch (k) {
          case 'size': whole(false); seenValue(t.size); return t.size;
          case 'get': return (key: unknown) => { read(t, String(key)); const v = t.get(key); seenValue(v); return got(v); };
          case 'has': return (key: unknown) => { read(t, String(key)); const r = t.has(key); seenValue(r); return r; };
          case 'set': return (key: unknown, v: unknown) => {
            dirty(t);
            write(t, String(key));
            if (v !== null && typeof v === 'object' && !targetOf.has(v) && !isValue(v)) plain(t);
            t.set(key, v);
            return proxyOf.get(t);
          };
          case 'delete': return (key: unknown) => { dirty(t); whole(true); const r = t.delete(key); seenValue(r); return r; };
          case 'clear': return () => { dirty(t); whole(true); t.clear(); };
          default: {
            whole(false);
            // Iteration: what it will return, whole.
            if (observing && cur) note(`map:${valueText(t, rawOf, true)}`);
            plain(t);
            const f: unknown = Reflect.get(t, k);
            return typeof f === 'function' ? (f as (...a: unknown[]) => unknown).bind(t) : f;
          }
        }
      },
    };
  };

  let wrapped = 0;
  const clocked = new WeakSet<object>();
  const wrap = (t: object): object => {
    let p = proxyOf.get(t);
    if (!p) {
      wrapped++;
      p = t instanceof Map ? new Proxy(t, mapHandler(t as Map<unknown, unknown>)) : new Proxy(t, handler);
      proxyOf.set(t, p);
      targetOf.set(p, t);
      idOf.set(p, id(t));
    }
    return p;
  };

  /** Put every object reachable from `t` (a target) behind its proxy, in place, noting the
   *  component of the model it is in (`comp`; at the root, each root field's own). */
  const walk = (t: object, comp: string | null, visited: Set<object>): void => {
    if (comp !== null) {
      const was = componentOf.get(t);
      if (was === undefined) componentOf.set(t, comp);
      else if (was !== comp) componentOf.set(t, '');
    }
    if (visited.has(t)) return;
    visited.add(t);
    if (t instanceof Map) {
      for (const v of t.values()) if (v !== null && typeof v === 'object') plain(t);
      return;
    }
    const root = comp === null;
    for (const k of Object.keys(t)) {
      if (root && ROOT_SKIP.has(k)) continue;
      const v: unknown = (t as Record<string, unknown>)[k];
      if (v === null || typeof v !== 'object') continue;
      // The root's arrays (frames, mms, files, cpus) are a component each, and so is each element.
      const c = root ? k : !comp.includes(':') && Array.isArray(t) ? `${comp}:${k}` : comp;
      const tgt = targetOf.get(v);
      if (tgt) { walk(tgt, c, visited); continue; }
      if (isValue(v)) continue;
      walk(v, c, visited);
      if (!Reflect.set(t, k, wrap(v))) throw new Error(`access: cannot instrument ${k}`);
    }
  };

  return {
    instrument(m) {
      const was = cur;
      cur = null;
      wrapped = 0;
      if (!clocked.has(m)) {
        clocked.add(m);
        let step = m.step;
        Object.defineProperty(m, 'step', {
          get: () => {
            if (cur) { cur.reads.add(CLOCK_LOC); cur.objs.add(1); }
            seenValue(step);
            return step;
          },
          set: (v: number) => { step = v; },
          enumerable: true, configurable: true,
        });
      }
      walk(m, null, new Set());
      for (const [o, t] of dynamic) seen.set(o, contents(t));
      writtenAll = true;
      cur = was;
      return wrapped;
    },
    record(fp) { cur = fp; },
    settle(fp) {
      const was = cur;
      cur = null;
      for (const [o, t] of dynamic) {
        const now = contents(t);
        if (seen.get(o) !== now) {
          seen.set(o, now);
          dirty(t);
          if (fp) { fp.writeAll.add(o); fp.objs.add(o); }
        }
      }
      cur = was;
    },
    sticky: (a) => stickies[a] ?? new Set(),
    setActor(a) { actor = a; },
    reset() { stickies.length = 0; actor = -1; cur = null; observing = false; obsA.length = 0; obsB.length = 0; },
    raw: rawOf,
    observe(on) { observing = on; },
    note(s) { note(s); },
    noteSticky() {
      const s = actor >= 0 ? stickies[actor] : undefined;
      if (!s) return;
      for (const o of [...s].sort((a, b) => a - b)) {
        const t = dynamic.get(o);
        if (t) note(`sticky:${o}:${valueText(t, rawOf, true)}`);
      }
    },
    observations: () => obsA.map((a, i) => `${a}/${obsB[i] ?? ''}`),
    takeWritten() {
      const r = { all: writtenAll, comps: written };
      writtenAll = false;
      written = new Set();
      return r;
    },
  };
}
