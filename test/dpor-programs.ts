// The small programs the DPOR tests run (dpor.test.ts, dpor-state.test.ts), and the unreduced search
// they are checked against.

import fc from 'fast-check';
import { execute, type Execution } from '../src/explore/executor.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { spin_lock, spin_unlock } from '../src/mm/locks.js';
import { pte_read, pte_write, tableNow } from '../src/mm/pgtable.js';
import { buildScenario, type Scenario } from '../src/mm/scenario.js';
import { stateText } from '../src/mm/state_hash.js';
import { step } from '../src/mm/step.js';
import type { Model } from '../src/mm/types.js';

// Small programs over two pte tables of the default world (frames 5 and 2, entries 2 and 3, which map
// nothing): a write under the table's ptl (3 steps), a lockless read (1 step), an increment under the
// ptl (3 steps), and a lockless read whose value is then written to the other table, under its ptl
// (4 steps): what a step writes depends on what it read.
export type Op = { readonly k: 'w'; readonly t: number; readonly i: number; readonly v: number }
  | { readonly k: 'r'; readonly t: number; readonly i: number }
  | { readonly k: 'inc'; readonly t: number; readonly i: number }
  | { readonly k: 'cp'; readonly t: number; readonly i: number; readonly to: number }
  /** The table's ptl taken and dropped, nothing written (2 steps). */
  | { readonly k: 'l'; readonly t: number; readonly i: number }
  /** A write without the ptl (1 step): the oracle's pte-write-without-ptl. */
  | { readonly k: 'u'; readonly t: number; readonly i: number; readonly v: number };
export const TABLES = [5, 2];
const swap = (offset: number) => ({ t: 'swap' as const, type: 0, offset });
export const cost = (o: Op) => (o.k === 'r' || o.k === 'u' ? 1 : o.k === 'l' ? 2 : o.k === 'cp' ? 4 : 3);

export function program(name: string, ops: readonly Op[], daemon: ActorDef['daemon'] = 'no'): ActorDef {
  return {
    name, summary: '(test) pte reads and writes', follows: '(test)', inMm: true, daemon, params: [],
    *run(c) {
      for (const o of ops) {
        const t = tableNow(c.m, o.t);
        if (o.k === 'r') {
          const e = pte_read(c, t, o.i);
          yield step(`read ${o.t}[${o.i}] = ${e.t === 'swap' ? e.offset : 0}`);
          continue;
        }
        if (o.k === 'u') {
          pte_write(c, t, o.i, swap(o.v));
          yield step(`write ${t.pfn} = ${o.v} unlocked`);
          continue;
        }
        if (o.k === 'l') {
          const lock = c.m.frames[t.pfn]!.ptl;
          yield* spin_lock(c, lock);
          spin_unlock(c, lock);
          yield step('spin_unlock');
          continue;
        }
        let v = o.k === 'w' ? o.v : 0;
        let into = t;
        if (o.k === 'cp') {
          const e = pte_read(c, t, o.i);
          v = (e.t === 'swap' ? e.offset : 0) + 10;
          yield step(`read ${o.t}[${o.i}]`);
          into = tableNow(c.m, o.to);
        }
        const ptl = c.m.frames[into.pfn]!.ptl;
        yield* spin_lock(c, ptl);
        if (o.k === 'inc') {
          const was = pte_read(c, t, o.i);
          v = (was.t === 'swap' ? was.offset : 0) + 1;
        }
        pte_write(c, into, o.k === 'cp' ? 3 : o.i, swap(v));
        yield step(`write ${into.pfn} = ${v}`);
        spin_unlock(c, ptl);
        yield step('spin_unlock');
      }
    },
  };
}

export function scenarioOf(progs: readonly (readonly Op[])[], background: readonly Op[] = []): Scenario {
  const defs = progs.map((ops, i) => program(`prog${i}`, ops));
  if (background.length) defs.push(program('background', background, 'background'));
  return buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: defs.map((d) => ({ actor: d.name })) }, [...ACTORS, ...defs]);
}

export const finalOf = (m: Model, e: Execution, raw?: <T extends object>(o: T) => T) => `${e.outcome}:${e.violation?.kind ?? ''}:${stateText(m, raw)}`;

/** The unreduced search: every order of steps (a depth-first walk over the actor picked at each
 *  scheduling point), each run once. */
export function everySchedule(scn: Scenario): { finals: Set<string>; runs: number } {
  const finals = new Set<string>();
  const stack: number[][] = [[]];
  let runs = 0;
  while (stack.length > 0) {
    const prefix = stack.pop()!;
    const picks: number[] = [];
    let model: Model | null = null;
    const e = execute(scn, {
      pick(runnable) {
        const k = picks.length;
        const a = k < prefix.length ? prefix[k]! : runnable[0]!;
        if (k >= prefix.length) for (const b of runnable) if (b !== a) stack.push([...picks, b]);
        picks.push(a);
        return a;
      },
      choose: () => 0,
    }, { prepare: (m) => { model = m; } });
    runs++;
    finals.add(finalOf(model!, e));
  }
  return { finals, runs };
}

// One entry (table 5, entry 2), so that programs race; `cp` copies it to entry 3 or to the other
// table, whose ptl is another lock.
const table = fc.constant(5);
const entry = fc.constant(2);
export const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('w' as const), t: table, i: entry, v: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('r' as const), t: table, i: entry }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('inc' as const), t: table, i: entry }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('cp' as const), t: table, i: fc.constant(2), to: fc.constantFrom(...TABLES) }), weight: 2 },
);
// Two actors, at most 6 steps between them: the unreduced search stays in the hundreds.
export const programs = fc.array(fc.array(op, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 2 })
  .filter((ps) => ps.flat().reduce((n, o) => n + cost(o), 0) <= 6);

