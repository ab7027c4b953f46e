// Coverage-guided scheduling (greybox) with sampled race reversal (issue 12).
//
// Feedback (Wolff, Shi, Zheng, Roychoudhury, "Greybox Fuzzing for Concurrency Testing", ASPLOS 2024,
// RFF): the feedback of an execution is the set of conflicting pairs it saw: a step of one actor that
// read what a step of another had written (reads-from), wrote what another had read or written, or
// freed what another used. A pair is named by the two steps' labels (their kernel lines, numbers taken
// out) and the relation, not by the step's position, so the same interleaving of the same two lines
// counts once however it was reached. A run that shows a pair its scenario had not shown is kept in
// the scenario's corpus; feedback() tells the campaign how many pairs were new to the whole campaign.
//
// Mutation by reversal (the backtracking step of DPOR: Flanagan, Godefroid, "Dynamic Partial-Order
// Reduction for Model Checking Software", POPL 2005; here sampled, one run per reversal, as RFF's
// mutants that make a read see another write). For each pair of conflicting steps of a kept run,
// step i of actor a and a later step of actor b, two schedules are queued, each the run's canonical
// schedule up to that point and one preemption more:
//   - reversal: before step i, b instead of a (b's conflicting step now comes first);
//   - stale-read window, when step i only read the object: right after step i, b instead (a goes on
//     later with what it read, after b's write: what a check-then-use race needs).
// After the preemption the default rule runs b until it blocks or ends. A reversal's run is kept in
// turn when it shows a pair new to the scenario, so a race that needs the reader to stop after its
// read and the writer to stop right before a later write is two reversals from the default run (V3:
// GUP-fast stops after its pmd read; khugepaged, run to the end, wrote the pte GUP-fast then reads
// as none; reversing that pair stops khugepaged after copying the page, before clearing its pte).
// Then, per kept run, CHOICE_FLIPS runs with one of its first data choices drawn anew (a reversal
// keeps the run's choices; PAE's load order is one: V4). Each run's candidates form a batch, queued
// in the order of their steps; the newest batch is taken first (depth first, as DPOR explores), and
// a schedule is never queued twice. No bound on preemptions: a reversal adds one, and the frontier
// holds at most FRONTIER_MAX schedules.
//
// A scenario's first run is the default schedule (no preemption), the run DPOR starts from. After
// that, of every 8 runs 7 take the next reversal (when there is one) and 1 is a havoc mutant of a
// corpus entry; with neither, a fresh POS sample (pos.ts). Reversals are learned across scenarios
// (learned.ts): a reversal, named by its two steps' labels, that showed nothing new to the campaign in
// a scenario where its two actors did the same (took the same lines on the same objects in its first
// run) is taken only after those that did or were never tried; a campaign leaves a scenario as soon
// as none of those waits (more()), for a new scenario: in a pool, most drawn scenarios cannot fail at
// all, and a run there is a run lost (V9's catalog pool: one drawn scenario in ten can; 8 runs each
// spent 59 runs per find, 2 or 3 each about 30). Havoc (1–3 of):
//   - flip a preemption: drop one of the schedule's points, or add one (after some actor's n-th step,
//     switch to another actor);
//   - move a change point: shift a point by a few of its actor's steps, or switch to another actor;
//   - change a data choice (which free frame, which address).
// A schedule here is the canonical one (schedule.ts): a corpus entry is a run's own canonical schedule,
// and a reversal or mutant is run by follow(), so every execution replays from its schedule alone.
//
// What the pairs are taken from: the events an untraced execution records (events.ts): pmd stores and
// reads (by pmd slot), pte stores, frees and allocations, pins, TLB fills and flushes, suspect table and
// user accesses. Sound table reads, locks and RCU are recorded only when tracing (counted either way,
// so a traced run takes the same steps: events.ts traceOnly()). The walk
// through a pmd value is seen instead: the step that acts on a pmd it read (pmd-read) reads the
// table or huge page the value points to, as a whole, and a pte store writes its table's frame as
// well as the entry. That is what connects GUP-fast's lockless pte read (no event) with khugepaged's
// ptep_clear(). And a plain pmd load that is only tested (pmd_none(), pmd_trans_huge()) records no
// event, but its step's label names the pmd ("[pmd N]", pgtable.ts's pmd_read()): labelReads().
//
// Determinism: everything is drawn from the campaign's seeds (splitmix32); the corpus and frontier
// are lists in the order entries were added, reversals are listed by step, pairs are numbers in
// Sets, and the per-scenario states are evicted least recently planned first. The same seed gives
// the same campaign.

import type { MmEvent } from '../../mm/events.js';
import { pmdDecode } from '../../mm/entries.js';
import { pmdSlotsInLabel } from '../../mm/pgtable.js';
import { hashText } from '../../mm/state_hash.js';
import type { Scheduler } from '../executor.js';
import { follow, recording, type Preemption, type Schedule } from '../schedule.js';
import { splitmix32 } from '../schedulers.js';
import { posScheduler } from './pos.js';
import { reversalMemory, reversalSig } from './learned.js';
import type { Guide, Plan, SampleContext, SamplingStrategy } from './strategy.js';

/** Object keys: a frame, a pmd slot, a CPU's TLB, an entry (table frame, index); tag in the low 3 bits. */
const frame = (pfn: number) => pfn * 8;
const slot = (s: number) => s * 8 + 1;
const tlb = (cpu: number) => cpu * 8 + 2;
const entry = (table: number, idx: number) => (table * 1024 + idx) * 8 + 3;

/** The objects a step read and wrote, from its events (write: true when it changed or freed it). */
export function accesses(events: readonly MmEvent[]): { key: number; write: boolean }[] {
  return accessCodes(events, []).map((c) => ({ key: Math.floor(c / 2), write: c % 2 === 1 }));
}

/** accesses(), packed: key × 2, plus 1 for a write (no object per access: this runs at every step). */
export function accessCodes(events: readonly MmEvent[], out: number[]): number[] {
  const r = (key: number) => out.push(key * 2);
  const w = (key: number) => out.push(key * 2 + 1);
  for (const ev of events) {
    switch (ev.e) {
      case 'pmd-store': w(slot(ev.slot)); break;
      case 'pmd-read': {
        // The value acted on: a walk through it reads the table (or huge page) it points to. Sound
        // pte reads are not recorded untraced, so the table is read as a whole.
        r(slot(ev.slot));
        const v = pmdDecode(ev.lo, ev.hi);
        if (v.t === 'table' || v.t === 'huge') r(frame(v.pfn));
        break;
      }
      case 'pmd-clear-bad': w(slot(ev.slot)); break;
      case 'upper-store': w(entry(ev.table, ev.idx)); break;
      case 'table-access': (ev.write ? w : r)(entry(ev.pfn, ev.idx)); r(frame(ev.pfn)); break;
      case 'pte-store': w(entry(ev.pfn, ev.idx)); w(frame(ev.pfn)); break;
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

/** The pmds a step read by a plain load, as its label names them (pmdSlotsInLabel()). A value that
 *  is only tested and read again records no event untraced (pmd_use() is for values acted on), yet
 *  the test decides the walker's path (pmd_none_or_clear_bad() before a fault installs a huge pmd:
 *  V5). */
export function labelReads(label: string, out: number[]): void {
  if (!label.includes('pmd ')) return;
  let hit = labelSlots.get(label);
  if (hit === undefined) {
    hit = [];
    for (const n of pmdSlotsInLabel(label)) hit.push(slot(n));
    if (labelSlots.size >= 4096) labelSlots.clear();
    labelSlots.set(label, hit);
  }
  for (const key of hit) out.push(key * 2);
}
const labelSlots = new Map<string, number[]>();

/** Relations of a conflicting pair: b read what a wrote; b wrote what a read; b wrote what a wrote. */
const WR = 0;
const RW = 1;
const WW = 2;

/** One execution's pairs, as numbers: (label a, label b, relation). Labels are interned by `intern`
 *  (or by the caller, who passes the label's number: tracked() has it already). observe() returns the
 *  step's accesses (accessCodes() and labelReads()), valid until the next call. */
export function pairTracker(intern: (label: string) => number) {
  // Who wrote each object last, and who read it since: label × 1024 + actor.
  const writer = new Map<number, number>();
  const readers = new Map<number, number[]>();
  const pairs = new Set<number>();
  const scratch: number[] = [];
  const add = (a: number, b: number, rel: number) => pairs.add((a * 0x100000 + b) * 4 + rel);
  return {
    pairs,
    observe(actor: number, label: string, events: readonly MmEvent[], labelId?: number): readonly number[] {
      scratch.length = 0;
      accessCodes(events, scratch);
      labelReads(label, scratch);
      if (scratch.length === 0) return scratch;
      const me = labelId ?? intern(label);
      const touch = me * 1024 + actor;
      for (const code of scratch) {
        const key = Math.floor(code / 2);
        const write = code % 2 === 1;
        const w = writer.get(key);
        if (w !== undefined && w % 1024 !== actor) add(Math.floor(w / 1024), me, write ? WW : WR);
        if (write) {
          for (const rd of readers.get(key) ?? []) if (rd % 1024 !== actor) add(Math.floor(rd / 1024), me, RW);
          writer.set(key, touch);
          readers.delete(key);
        } else {
          const rs = readers.get(key);
          if (rs) rs.push(touch);
          else readers.set(key, [touch]);
        }
      }
      return scratch;
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
 *  choices' arities), its pairs tracked, and each step's position and conflicts kept for reversals. */
export function tracked(base: Scheduler, actors: number, intern: (label: string) => number) {
  const rec = recording(base);
  const pairs = pairTracker(intern);
  const steps = new Array<number>(actors).fill(0);
  const arity: number[] = [];
  // Per step (parallel arrays: no object per step): who took it; the actor that took the step before
  // (-1 for the first) and its count of steps then; the taker's own count once it is taken; the
  // actors runnable at the decision that gave it, as a bit mask (bit a: actor a).
  const stepActor: number[] = [];
  const stepLabel: number[] = [];
  // The label as the actor gave it (numbers kept: which pmd, which address): kinds().
  const stepRaw: string[] = [];
  const prevActor: number[] = [];
  const prevCount: number[] = [];
  const ownCount: number[] = [];
  const runnableAt: number[] = [];
  // The global step at which each recorded preemption was decided (in the order recorded).
  const prePos: number[] = [];
  // What each step touched, flat: step i's accesses are acc[from[i] .. from[i + 1]), a key times 2
  // plus 1 for a write. Conflicts by position are worked out only for a run that is kept.
  const acc: number[] = [];
  const from: number[] = [];
  let runnableMask = 0;
  let prev = -1;
  const s: Scheduler = {
    pick(runnable, last) {
      runnableMask = 0;
      for (const a of runnable) if (a < 31) runnableMask |= 1 << a;
      // Every point recording() writes at this pick (the silent default picks before a preemption
      // too) was decided here.
      const before = rec.written();
      const id = rec.pick(runnable, last);
      for (let k = rec.written(); k > before; k--) prePos.push(stepActor.length);
      return id;
    },
    choose(n, what) {
      arity.push(n);
      return rec.choose(n, what);
    },
    observe(actor, label, events) {
      const prevSteps = prev < 0 ? 0 : steps[prev]!;
      steps[actor] = (steps[actor] ?? 0) + 1;
      stepActor.push(actor);
      const labelId = intern(label);
      stepLabel.push(labelId);
      stepRaw.push(label);
      prevActor.push(prev);
      prevCount.push(prevSteps);
      ownCount.push(steps[actor]!);
      runnableAt.push(runnableMask);
      prev = actor;
      from.push(acc.length);
      for (const code of pairs.observe(actor, label, events, labelId)) acc.push(code);
      rec.observe?.(actor, label, events);
    },
  };
  const entry = (): Entry => ({ schedule: rec.schedule(), steps: steps.slice(), arity: arity.slice() });
  /** The run's reversals and stale-read windows (b only where it could run at that decision), then
   *  its choice flips when `next` is given (it draws the new values). */
  const reversals = (next?: () => number): Candidate[] => {
    const sched = rec.schedule();
    const out: Candidate[] = [];
    // Candidates: (step i, actor b, kind) packed as (i * 64 + b) * 2 + kind, b < 31 (a bit of the
    // runnable mask): b's later step conflicts with step i; kind 1 before step i, 0 right after it.
    const cands = new Map<number, number>();
    const touches = new Map<number, { step: number; actor: number; write: boolean }[]>();
    for (let j = 0; j < stepActor.length; j++) {
      const actor = stepActor[j]!;
      for (let x = from[j]!, end = from[j + 1] ?? acc.length; x < end; x++) {
        const key = Math.floor(acc[x]! / 2);
        const write = acc[x]! % 2 === 1;
        let ts = touches.get(key);
        if (!ts) touches.set(key, (ts = []));
        for (const t of ts) {
          if (t.actor === actor || !(t.write || write) || actor >= 31) continue;
          // Before step t.step, actor b instead; and where t.step read what b writes, b right after
          // it (the reader goes on with what it read: the window a stale read needs).
          // Named by the first conflicting step met with b's (learned.ts).
          const rev = (t.step * 64 + actor) * 2;
          if (!cands.has(rev + 1)) cands.set(rev + 1, reversalSig(stepLabel[t.step]!, stepLabel[j]!, true));
          if (!t.write && !cands.has(rev)) cands.set(rev, reversalSig(stepLabel[t.step]!, stepLabel[j]!, false));
        }
        ts.push({ step: j, actor, write });
      }
    }
    // By step; at a step, the stale-read window first, then the reversal.
    for (const x of [...cands.keys()].sort((a, b) => a - b)) {
      const after = x % 2 === 0;
      const i = Math.floor(x / 128);
      const b = Math.floor(x / 2) % 64;
      const mask = runnableAt[after ? i + 1 : i];
      if (mask === undefined || (mask & (1 << b)) === 0) continue;
      const keep = sched.preemptions.filter((_, j) => (prePos[j] ?? Infinity) < (after ? i + 1 : i));
      const point = after ? { after: stepActor[i]!, steps: ownCount[i]!, to: b } : { after: prevActor[i]!, steps: prevCount[i]!, to: b };
      out.push({ schedule: { preemptions: [...keep, point], choices: sched.choices }, sig: cands.get(x)!, actors: [stepActor[i]!, b] });
    }
    // Then the run again with one of its first data choices drawn anew (PAE's load order, which frame
    // the allocator returns): a reversal keeps the run's choices.
    if (next) {
      for (let j = 0, n = 0; j < arity.length && n < CHOICE_FLIPS; j++) {
        const a = arity[j]!;
        if (a < 2) continue;
        n++;
        const choices = sched.choices.slice();
        while (choices.length <= j) choices.push(0);
        choices[j] = (choices[j]! + 1 + (next() % (a - 1))) % a;
        out.push({ schedule: { preemptions: sched.preemptions, choices }, sig: NaN, actors: [-1, -1] });
      }
    }
    return out;
  };
  const reversed = (next?: () => number): Schedule[] => reversals(next).map((c) => c.schedule);
  /** What each actor did (learned.ts): its labels in order as it gave them, numbers kept (which pmd,
   *  which address), hashed (hashText(): two that collide only share what they learn). The same actor
   *  on another range, or finding another table, is another kind. */
  const kinds = (): string[] => {
    const seqs = Array.from({ length: actors }, (): string[] => []);
    for (let i = 0; i < stepActor.length; i++) seqs[stepActor[i]!]?.push(stepRaw[i]!);
    return seqs.map((q) => hashText(q.join('\n')).toString(36));
  };
  return { s, pairs: pairs.pairs, entry, reversals, reversed, kinds };
}

/** A schedule queued to run, and what it reverses by labels (learned.ts: reversalSig()); NaN for a
 *  choice flip. */
export interface Candidate {
  readonly schedule: Schedule;
  readonly sig: number;
  /** The actor whose step it reverses (or passes) and the actor run instead; [-1, -1] for a flip. */
  readonly actors: readonly [number, number];
}

/** How many of a kept run's data choices are drawn anew, each in a run of its own. */
const CHOICE_FLIPS = 2;

/** Most entries a scenario's corpus keeps (the oldest go first), and most reversals waiting. */
const CORPUS_MAX = 64;
const FRONTIER_MAX = 512;
/** Most schedules a scenario remembers having run or queued (so as not to run a reversal twice). */
const KNOWN_MAX = 8192;

function queued(st: PerScenario): number {
  let n = 0;
  for (const b of st.frontier) n += b.length;
  return n;
}

/** Most scenarios whose state a guide keeps (a pool campaign draws thousands): the least recently
 *  planned goes first. */
const SCENARIOS_MAX = 64;

interface PerScenario {
  /** The pairs this scenario's runs have shown: a run new here is kept, though other scenarios
   *  showed the same pairs (its reversals are this scenario's). */
  readonly seen: Set<number>;
  readonly corpus: Entry[];
  /** Reversals of kept runs not run yet: a batch per run, each by step; the newest is taken first. */
  readonly frontier: Candidate[][];
  /** Schedules run or waiting (so that none is queued twice). */
  readonly known: Set<string>;
  runs: number;
  /** What each of its actors did in its first run (tracked().kinds()): a reversal learns from and
   *  teaches the scenarios where its two actors did the same. */
  kinds: string[];
}

const keyOf = (s: Schedule) => JSON.stringify(s);

/** A campaign's greybox state: the pairs seen so far and, per scenario, the corpus. */
export function greyboxGuide(seed: number): Guide {
  const next = splitmix32(seed);
  const labels = new Map<string, number>();
  // Raw label to id: most steps' labels recur run after run (the same string), so the digits are
  // taken out once per label.
  const raw = new Map<string, number>();
  const intern = (label: string) => {
    const hit = raw.get(label);
    if (hit !== undefined) return hit;
    const l = label.replace(/\d+/g, '#');
    let id = labels.get(l);
    if (id === undefined) {
      id = labels.size;
      labels.set(l, id);
    }
    if (raw.size >= 16384) raw.clear();
    raw.set(label, id);
    return id;
  };
  const seen = new Set<number>();
  // Reversals tried over the campaign, by what they reverse (labels, not positions), per kinds of
  // scenario; and the reversal each plan runs (none: NaN), for feedback() to record.
  const memory = reversalMemory();
  // A reversal is learned by what its two actors did (not the others: in a pool of every actor the
  // rest of a scenario seldom recurs).
  const where = (st: PerScenario, c: Candidate) => `${st.kinds[c.actors[0]] ?? ''}>${st.kinds[c.actors[1]] ?? ''}`;
  // A choice flip (no name: NaN) is taken in its turn, but does not keep a scenario on its own.
  const worth = (st: PerScenario, c: Candidate) => Number.isNaN(c.sig) || memory.worth(where(st, c), c.sig);
  const scenarios = new Map<string, PerScenario>();
  const last = new WeakMap<Plan, ReturnType<typeof tracked>>();
  const candOf = new WeakMap<Plan, Candidate>();
  const stateOf = (key: string): PerScenario => {
    let st = scenarios.get(key);
    if (st) {
      // Most recently used last (a Map keeps insertion order).
      scenarios.delete(key);
    } else {
      st = { seen: new Set(), corpus: [], frontier: [], known: new Set(), runs: 0, kinds: [] };
      if (scenarios.size >= SCENARIOS_MAX) scenarios.delete(scenarios.keys().next().value!);
    }
    scenarios.set(key, st);
    return st;
  };
  /** The next run's schedule, and the queued reversal it is (null: not one); null: a POS sample. */
  const choose = (st: PerScenario, actors: number): { readonly schedule: Schedule; readonly cand: Candidate | null } | null => {
    // The scenario's first run: the default schedule, no preemption (the run DPOR starts from).
    if (st.runs === 0) return { schedule: { preemptions: [], choices: [] }, cand: null };
    // 7 runs in 8: the next reversal of the newest batch (depth first; within a run, by step); the
    // 8th a havoc mutant of a corpus entry. POS when neither.
    if (next() % 8 !== 0) {
      // First a reversal worth trying (learned.ts), newest batch first; then the rest, depth first
      // (only a campaign that keeps the scenario, or a fixed one, gets to them).
      for (let b = st.frontier.length - 1; b >= 0; b--) {
        const batch = st.frontier[b]!;
        const i = batch.findIndex((c) => worth(st, c));
        if (i < 0) continue;
        const c = batch.splice(i, 1)[0]!;
        if (batch.length === 0) st.frontier.splice(b, 1);
        return { schedule: c.schedule, cand: c };
      }
      while (st.frontier.length > 0) {
        const b = st.frontier.length - 1;
        const batch = st.frontier[b]!;
        const c = batch.shift();
        if (batch.length === 0) st.frontier.splice(b, 1);
        if (c) return { schedule: c.schedule, cand: c };
      }
    } else if (st.corpus.length > 0) {
      return { schedule: mutate(st.corpus[next() % st.corpus.length]!, actors, next), cand: null };
    }
    return null;
  };
  return {
    plan(key: string, ctx: SampleContext, runSeed: number): Plan {
      const st = stateOf(key);
      const chosen = choose(st, ctx.actors);
      const schedule = chosen?.schedule ?? null;
      const cand = chosen?.cand ?? null;
      st.runs++;
      const plan: Plan = {
        key,
        make() {
          const t = tracked(schedule ? follow(schedule) : posScheduler(runSeed, ctx.actors), ctx.actors, intern);
          if (!last.has(plan)) { last.set(plan, t); if (cand) candOf.set(plan, cand); }
          return t.s;
        },
      };
      return plan;
    },
    feedback(plan: Plan): number {
      const t = last.get(plan);
      if (!t) return 0;
      let gained = 0;
      let here = 0;
      const st = stateOf(plan.key);
      for (const p of t.pairs) {
        if (!st.seen.has(p)) {
          st.seen.add(p);
          here++;
        }
        if (seen.has(p)) continue;
        seen.add(p);
        gained++;
      }
      if (st.kinds.length === 0) st.kinds = t.kinds();
      const c = candOf.get(plan);
      if (c && !Number.isNaN(c.sig)) memory.record(where(st, c), c.sig, gained > 0);
      const e = t.entry();
      if (st.known.size >= KNOWN_MAX) st.known.clear();
      st.known.add(keyOf(e.schedule));
      if (here > 0 || st.corpus.length === 0) {
        st.corpus.push(e);
        if (st.corpus.length > CORPUS_MAX) st.corpus.shift();
        // A full frontier takes no more: what waits is nearer the default run.
        const batch: Candidate[] = [];
        for (const r of t.reversals(next)) {
          const k = keyOf(r.schedule);
          if (queued(st) + batch.length >= FRONTIER_MAX || st.known.has(k)) continue;
          st.known.add(k);
          batch.push(r);
        }
        if (batch.length > 0) st.frontier.push(batch);
      }
      return gained;
    },
    coverage: () => seen.size,
    // A scenario is worth another run while a reversal worth trying waits: what is left (havoc, POS,
    // reversals that showed nothing new in its kind of scenario) is left for new scenarios.
    more(key: string): boolean {
      const st = scenarios.get(key);
      return !st || st.runs === 0 || st.frontier.some((b) => b.some((c) => !Number.isNaN(c.sig) && worth(st, c)));
    },
  };
}

export const greybox: SamplingStrategy = {
  kind: 'sampling',
  name: 'greybox',
  summary: 'coverage-guided: runs that show new conflicting pairs (kernel line × kernel line) are kept, and each of their conflicting pairs reversed in a run of its own',
  // Without a campaign's guide (one run on its own), a fresh run: POS.
  make: (seed, ctx) => posScheduler(seed, ctx.actors),
  guide: greyboxGuide,
};
