// Coverage-guided scheduling (greybox; Wolff, Shi, Zheng, Roychoudhury, "Greybox Fuzzing for
// Concurrency Testing", ASPLOS 2024). The feedback of an execution is the set of conflicting pairs it
// saw: a step of one actor that read what a step of another had written (reads-from), wrote what
// another had read or written, or freed what another used. A pair is named by the two steps' labels
// (their kernel lines, numbers taken out) and the relation, not by the step's position, so the same
// interleaving of the same two lines counts once however it was reached. Schedules whose run showed a
// pair never seen before in the campaign are kept in a corpus (per scenario) and mutated:
//   - flip a preemption: drop one of the schedule's points, or add one (after some actor's n-th step,
//     switch to another actor);
//   - move a change point: shift a point by a few of its actor's steps, or switch to another actor;
//   - change a data choice (which free frame, which address).
// A schedule here is the canonical one (schedule.ts): a corpus entry is a run's own canonical schedule,
// and a mutant is run by follow(), so every execution replays from its schedule alone.
//
// Fresh runs (no corpus yet for the scenario, and one run in two after that) are POS samples (pos.ts):
// POS spreads over partial orders, which gives the corpus varied seeds to mutate.
//
// What the pairs are taken from: the events an untraced execution records (events.ts): pmd stores and
// reads (by pmd slot), pte stores, frees and allocations, pins, TLB fills and flushes, suspect table and
// user accesses. Sound table reads, locks and RCU are recorded only when tracing, so they are not in
// the feedback; the pmd read a walker acts on is (pmd-read, at the step that acts on it).
//
// Determinism: everything is drawn from the campaign's seeds (splitmix32), the corpus is a list in the
// order entries were added, and pairs are numbers in a Set; the same seed gives the same campaign.

import type { MmEvent } from '../../mm/events.js';
import type { Scheduler } from '../executor.js';
import { follow, recording, type Preemption, type Schedule } from '../schedule.js';
import { splitmix32 } from '../schedulers.js';
import { posScheduler } from './pos.js';
import type { Guide, Plan, SampleContext, SamplingStrategy } from './strategy.js';

/** Object keys: a frame, a pmd slot, a CPU's TLB, an entry (table frame, index); tag in the low 3 bits. */
const frame = (pfn: number) => pfn * 8;
const slot = (s: number) => s * 8 + 1;
const tlb = (cpu: number) => cpu * 8 + 2;
const entry = (table: number, idx: number) => (table * 1024 + idx) * 8 + 3;

/** The objects a step read and wrote, from its events (write: true when it changed or freed it). */
export function accesses(events: readonly MmEvent[], out: { key: number; write: boolean }[] = []): { key: number; write: boolean }[] {
  const r = (key: number) => out.push({ key, write: false });
  const w = (key: number) => out.push({ key, write: true });
  for (const ev of events) {
    switch (ev.e) {
      case 'pmd-store': w(slot(ev.slot)); break;
      case 'pmd-read': r(slot(ev.slot)); break;
      case 'pmd-clear-bad': w(slot(ev.slot)); break;
      case 'upper-store': w(entry(ev.table, ev.idx)); break;
      case 'table-access': (ev.write ? w : r)(entry(ev.pfn, ev.idx)); r(frame(ev.pfn)); break;
      case 'pte-store': w(entry(ev.pfn, ev.idx)); break;
      case 'dirty-pte-cleared': w(entry(ev.table, ev.idx)); break;
      case 'entry-install': w(entry(ev.table, ev.idx)); r(frame(ev.pfn)); break;
      case 'table-zeroed': case 'free': case 'alloc': case 'cow-share': case 'cache-remove': case 'page-dirty': w(frame(ev.pfn)); break;
      case 'pin': case 'unpin': case 'ref-get': case 'ref-put': case 'file-rmap': case 'smmu-fill': case 'smmu-access': r(frame(ev.pfn)); break;
      case 'copy': r(frame(ev.from)); w(frame(ev.to)); break;
      case 'tlb-fill': case 'pwc-fill': w(tlb(ev.cpu)); r(frame(ev.pfn)); break;
      case 'hw-access': case 'user-access': r(tlb(ev.cpu)); (ev.write ? w : r)(frame(ev.pfn)); break;
      case 'flush': for (const c of ev.cpus) w(tlb(c)); break;
      default: break;
    }
  }
  return out;
}

/** Relations of a conflicting pair: b read what a wrote; b wrote what a read; b wrote what a wrote. */
const WR = 0;
const RW = 1;
const WW = 2;

interface Touch { readonly actor: number; readonly label: number }

/** One execution's pairs, as numbers: (label a, label b, relation). Labels are interned by `intern`. */
export function pairTracker(intern: (label: string) => number) {
  const writer = new Map<number, Touch>();
  const readers = new Map<number, Touch[]>();
  const pairs = new Set<number>();
  const scratch: { key: number; write: boolean }[] = [];
  const add = (a: number, b: number, rel: number) => pairs.add((a * 0x100000 + b) * 4 + rel);
  return {
    pairs,
    observe(actor: number, label: string, events: readonly MmEvent[]) {
      scratch.length = 0;
      accesses(events, scratch);
      if (scratch.length === 0) return;
      const me = intern(label);
      for (const { key, write } of scratch) {
        const w = writer.get(key);
        if (w && w.actor !== actor) add(w.label, me, write ? WW : WR);
        if (write) {
          for (const rd of readers.get(key) ?? []) if (rd.actor !== actor) add(rd.label, me, RW);
          writer.set(key, { actor, label: me });
          readers.delete(key);
        } else {
          const rs = readers.get(key);
          if (rs) rs.push({ actor, label: me });
          else readers.set(key, [{ actor, label: me }]);
        }
      }
    },
  };
}

/** What a run left to mutate: its canonical schedule, the steps each actor took, the arity of each
 *  data choice in the order asked. */
export interface Entry {
  readonly schedule: Schedule;
  readonly steps: readonly number[];
  readonly arity: readonly number[];
}

/** Mutate a schedule 1–3 times (havoc), with `next` for every draw. */
export function mutate(e: Entry, actors: number, next: () => number): Schedule {
  let points: Preemption[] = e.schedule.preemptions.slice();
  const choices = e.schedule.choices.slice();
  const ran = e.steps.map((s, a) => (s > 0 ? a : -1)).filter((a) => a >= 0);
  const other = (a: number) => (actors < 2 ? a : (a + 1 + (next() % (actors - 1))) % actors);
  const rounds = 1 + (next() % 3);
  for (let i = 0; i < rounds; i++) {
    const op = next() % 4;
    if (op === 0 && points.length > 0) {
      // Flip a preemption off.
      const j = next() % points.length;
      points = points.filter((_, x) => x !== j);
    } else if (op <= 1 && ran.length > 0) {
      // Flip one on: after some actor's n-th step (or before anyone steps), switch to another.
      const after = next() % (ran.length + 1) === 0 ? -1 : ran[next() % ran.length]!;
      const steps = after < 0 ? 0 : 1 + (next() % e.steps[after]!);
      points.push({ after, steps, to: other(Math.max(0, after)) });
    } else if (op === 2 && points.length > 0) {
      // Move a change point by a few steps of its actor, or send it to another actor.
      const j = next() % points.length;
      const p = points[j]!;
      if (p.after >= 0 && next() % 3 !== 0) {
        const d = 1 + (next() % 3);
        const steps = Math.max(1, Math.min(e.steps[p.after] ?? 1, next() % 2 === 0 ? p.steps - d : p.steps + d));
        points[j] = { ...p, steps };
      } else {
        points[j] = { ...p, to: other(p.to) };
      }
    } else if (e.arity.length > 0) {
      // Change a data choice.
      const j = next() % e.arity.length;
      while (choices.length <= j) choices.push(0);
      choices[j] = next() % e.arity[j]!;
    }
  }
  return { preemptions: points, choices };
}

/** The scheduler of a plan: `base` recorded (its canonical schedule, the steps each actor took, the
 *  choices' arities) and its pairs tracked. */
function tracked(base: Scheduler, actors: number, intern: (label: string) => number) {
  const rec = recording(base);
  const pairs = pairTracker(intern);
  const steps = new Array<number>(actors).fill(0);
  const arity: number[] = [];
  const s: Scheduler = {
    pick: (runnable, last) => rec.pick(runnable, last),
    choose(n, what) {
      arity.push(n);
      return rec.choose(n, what);
    },
    observe(actor, label, events) {
      steps[actor] = (steps[actor] ?? 0) + 1;
      pairs.observe(actor, label, events);
      rec.observe?.(actor, label, events);
    },
  };
  return { s, pairs: pairs.pairs, entry: (): Entry => ({ schedule: rec.schedule(), steps: steps.slice(), arity: arity.slice() }) };
}

/** Most entries a scenario's corpus keeps (the oldest go first). */
const CORPUS_MAX = 64;

/** A campaign's greybox state: the pairs seen so far and, per scenario, the corpus. */
export function greyboxGuide(seed: number): Guide {
  const next = splitmix32(seed);
  const labels = new Map<string, number>();
  const intern = (label: string) => {
    const l = label.replace(/\d+/g, '#');
    let id = labels.get(l);
    if (id === undefined) {
      id = labels.size;
      labels.set(l, id);
    }
    return id;
  };
  const seen = new Set<number>();
  const corpus = new Map<string, Entry[]>();
  const last = new WeakMap<Plan, ReturnType<typeof tracked>>();
  return {
    plan(key: string, ctx: SampleContext, runSeed: number): Plan {
      const entries = corpus.get(key);
      const fresh = !entries || entries.length === 0 || next() % 2 === 0;
      const schedule = fresh ? null : mutate(entries[next() % entries.length]!, ctx.actors, next);
      const plan: Plan = {
        key,
        make() {
          const t = tracked(schedule ? follow(schedule) : posScheduler(runSeed, ctx.actors), ctx.actors, intern);
          if (!last.has(plan)) last.set(plan, t);
          return t.s;
        },
      };
      return plan;
    },
    feedback(plan: Plan): number {
      const t = last.get(plan);
      if (!t) return 0;
      let gained = 0;
      for (const p of t.pairs) {
        if (seen.has(p)) continue;
        seen.add(p);
        gained++;
      }
      if (gained > 0) {
        const list = corpus.get(plan.key) ?? [];
        list.push(t.entry());
        if (list.length > CORPUS_MAX) list.shift();
        corpus.set(plan.key, list);
      }
      return gained;
    },
    coverage: () => seen.size,
  };
}

export const greybox: SamplingStrategy = {
  kind: 'sampling',
  name: 'greybox',
  summary: 'coverage-guided: schedules that show new conflicting pairs (kernel line × kernel line) are kept and mutated',
  // Without a campaign's guide (one run on its own), a fresh run: POS.
  make: (seed, ctx) => posScheduler(seed, ctx.actors),
  guide: greyboxGuide,
};
