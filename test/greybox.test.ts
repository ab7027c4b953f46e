// Greybox (coverage-guided) scheduling, the portfolio, and which --depth PCT finds a failure at
// (issue 12). Budgets in executions, clocks frozen: nothing here depends on the machine's speed.

import test from 'ava';
import { accesses, greyboxGuide, labelReads, mutate, pairTracker, tracked, type Entry } from '../src/explore/strategies/greybox.js';
import { follow } from '../src/explore/schedule.js';
import type { MmEvent } from '../src/mm/events.js';
import { pmdHi, pmdLo } from '../src/mm/entries.js';
import { membersOf, PORTFOLIO_MEMBERS } from '../src/explore/strategies/portfolio.js';
import { samplersOf } from '../src/explore/strategies/samplers.js';
import { pctFindsAt } from '../src/explore/strategies/pct.js';
import { findStrategy } from '../src/explore/strategies/index.js';
import { execute } from '../src/explore/executor.js';
import { buildScenario, findActor } from '../src/mm/scenario.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { CATALOG, toFirstFailure } from '../bench/strategies.js';
import { runCampaign, type CampaignConfig } from '../fuzz/campaign.js';
import { parseOptions } from '../fuzz/options.js';
import { frozenClock } from './helpers.js';

test('greybox pairs: a step that reads what another actor wrote, and one that frees what another read', (t) => {
  const ids = new Map<string, number>();
  const intern = (l: string) => { if (!ids.has(l)) ids.set(l, ids.size); return ids.get(l)!; };
  const p = pairTracker(intern);
  p.observe(0, 'clear', [{ e: 'pmd-store', table: 1, idx: 0, slot: 4, mm: 0, old: { t: 'none' }, now: { t: 'none' }, how: 'x' }]);
  t.is(p.pairs.size, 0, 'a first write conflicts with nothing');
  p.observe(0, 'again', [{ e: 'pmd-read', table: 1, idx: 0, slot: 4, lo: 0, hi: 0, since: 0 }]);
  t.is(p.pairs.size, 0, 'the same actor reading its own write is no pair');
  p.observe(1, 'read', [{ e: 'pmd-read', table: 1, idx: 0, slot: 4, lo: 0, hi: 0, since: 0 }]);
  t.is(p.pairs.size, 1, 'reads-from another actor');
  p.observe(0, 'free', [{ e: 'pmd-store', table: 1, idx: 0, slot: 4, mm: 0, old: { t: 'none' }, now: { t: 'none' }, how: 'x' }]);
  t.is(p.pairs.size, 2, 'a write after another actor read it');
  t.deepEqual(accesses([{ e: 'mm-users', mm: 0, now: 1 }]), [], 'not every event touches an object');
});

test('greybox mutation: deterministic from its draws, and it changes the schedule', (t) => {
  const e: Entry = { schedule: { preemptions: [{ after: 0, steps: 2, to: 1 }], choices: [1] }, steps: [5, 7], arity: [2, 3, 4] };
  const draw = (seed: number) => { let s = seed; return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8; };
  let changed = 0;
  for (let seed = 0; seed < 20; seed++) {
    const a = mutate(e, 2, draw(seed));
    t.deepEqual(mutate(e, 2, draw(seed)), a);
    if (JSON.stringify(a) !== JSON.stringify(e.schedule)) changed++;
    for (const p of a.preemptions) t.true(p.to >= 0 && p.to < 2 && p.steps >= 0 && (p.after < 0 || p.steps <= e.steps[p.after]!));
    a.choices.forEach((c, i) => t.true(c < (e.arity[i] ?? 1)));
  }
  t.true(changed >= 15, `changed ${changed}/20`);
});

test('greybox keeps a schedule only when it shows new pairs', (t) => {
  const scn = buildScenario(CATALOG['V7']!, ACTORS);
  const g = greyboxGuide(1);
  const ctx = { actors: scn.actors.length, depth: 3, k: 30 };
  const first = g.plan('s', ctx, 7);
  execute(scn, first.make());
  const gained = g.feedback(first);
  t.true(gained > 0 && g.coverage() === gained);
  // The same fresh run again (same seed): nothing new, nothing kept.
  const again = greyboxGuide(1);
  const p1 = again.plan('s', ctx, 7);
  execute(scn, p1.make());
  again.feedback(p1);
  const p2 = again.plan('s', ctx, 7);
  // The corpus has one entry now: this plan is a mutant or a fresh run, either way the same scheduler twice.
  const a = execute(scn, p2.make(), { trace: true });
  const b = execute(scn, p2.make(), { trace: true });
  t.deepEqual(a.trace.map((s) => s.label), b.trace.map((s) => s.label), 'a plan gives the same run every time');
});

test('greybox accesses: a walk through a pmd value reads the table it points to, a pte store writes its table', (t) => {
  const lo = pmdLo({ t: 'table', pfn: 7 });
  const hi = pmdHi({ t: 'table', pfn: 7 });
  const walk = accesses([{ e: 'pmd-read', table: 1, idx: 0, slot: 4, lo, hi, since: 0 }]);
  const store = accesses([{ e: 'pte-store', pfn: 7, idx: 3, old: { t: 'none' }, now: { t: 'none' } }]);
  t.true(walk.every((a) => !a.write) && store.every((a) => a.write));
  t.true(walk.some((a) => store.some((b) => b.key === a.key)), 'they conflict: a lockless pte read has no event of its own');
  t.false(accesses([{ e: 'pmd-read', table: 1, idx: 0, slot: 4, lo: 0, hi: 0, since: 0 }]).some((a) => store.some((b) => b.key === a.key)), 'a none pmd points nowhere');
  const out: number[] = [];
  labelReads('zap_pmd_range(): is_swap_pmd(*pmd) || pmd_trans_huge(*pmd) [pmd 1]', out);
  labelReads('pmd_read [mm1 pmd 2] [high half]', out);
  labelReads('copy_user_highpage(3 → 9+0)', out);
  t.is(out.length, 2);
  t.true(out.every((c) => c % 2 === 0), 'reads (a write would be odd)');
  t.not(out[0], out[1], 'two pmds, two objects');
  const p = pairTracker((l) => l.length);
  p.observe(0, 'a [pmd 1]', []);
  p.observe(1, 'b', [{ e: 'pmd-store', table: 1, idx: 1, slot: 1, mm: 0, old: { t: 'none' }, now: { t: 'none' }, how: 'x' }]);
  t.is(p.pairs.size, 1, 'a store after another actor\'s labelled pmd load is a pair');
});

test('greybox reversals of V9\'s default run: one preemption each, and the stale-read window after the dump\'s pmd read is the race', (t) => {
  const scn = buildScenario(CATALOG['V9']!, ACTORS);
  const tr = tracked(follow({ preemptions: [], choices: [] }), scn.actors.length, (l) => l.length);
  const base = execute(scn, tr.s);
  t.is(base.violation, null);
  const revs = tr.reversed();
  t.true(revs.length >= 2);
  for (const r of revs) t.is(r.preemptions.length, 1);
  // follow_pmd_mask() reads pmd 0 in the dump's 3rd step; khugepaged (actor 1) right after it.
  const window = revs.find((r) => r.preemptions[0]!.after === 0 && r.preemptions[0]!.steps === 3 && r.preemptions[0]!.to === 1);
  t.truthy(window, JSON.stringify(revs));
  t.is(execute(scn, follow(window!)).violation?.kind, 'bogus-table-walked');
  // Each reversal of that run adds one preemption to it, its own kept first.
  const tr2 = tracked(follow(window!), scn.actors.length, (l) => l.length);
  execute(scn, tr2.s);
  t.true(tr2.reversed().some((r) => r.preemptions.length === 2 && JSON.stringify(r.preemptions[0]) === JSON.stringify(window!.preemptions[0])));
});

test('a reversal keeps every point decided before its step, the silent default picks recording() writes with a preemption too', (t) => {
  // Actor 0, the default, runs nothing (it blocks again); then 2 instead of 1, then 1 instead of 2.
  const script = [0, 2, 1, 1, 0];
  let i = 0;
  const tr = tracked({ pick: () => script[i++]!, choose: () => 0 }, 3, (l) => l.length);
  const W: MmEvent[] = [{ e: 'pmd-store', table: 1, idx: 1, slot: 1, mm: 0, old: { t: 'none' }, now: { t: 'none' }, how: 'x' }];
  const R: MmEvent[] = [{ e: 'pmd-read', table: 1, idx: 1, slot: 1, lo: 0, hi: 0, since: 0 }];
  tr.s.pick([0, 1, 2], -1);
  tr.s.pick([1, 2], -1);
  tr.s.observe!(2, 'a', W);
  tr.s.pick([0, 1, 2], 2);
  tr.s.observe!(1, 'b', R);
  tr.s.pick([0, 1, 2], 1); tr.s.observe!(1, 'c', []);
  tr.s.pick([0, 2], 1); tr.s.observe!(0, 'd', W);
  const run = tr.entry().schedule.preemptions;
  t.is(run.length, 3, JSON.stringify(run));
  const revs = tr.reversals();
  // Actor 0 before step 1 (b's read): both points decided before step 0 kept, then the new one.
  const before1 = revs.find((r) => r.actors[0] === 1 && r.actors[1] === 0 && r.schedule.preemptions.at(-1)!.after === 2);
  t.deepEqual(before1?.schedule.preemptions.slice(0, -1), run.slice(0, 2), JSON.stringify(revs.map((r) => r.schedule)));
  // Actor 0 right after step 1: all three kept (the third gave step 1).
  const after1 = revs.find((r) => r.actors[0] === 1 && r.actors[1] === 0 && r.schedule.preemptions.at(-1)!.after === 1);
  t.deepEqual(after1?.schedule.preemptions.slice(0, -1), run, JSON.stringify(revs.map((r) => r.schedule)));
});

test('greybox finds V3 within 40 executions and V9 within 5 (seeds 1-3), the same with the same seed', (t) => {
  const g = findStrategy('greybox');
  if (g.kind !== 'sampling') return t.fail();
  for (const seed of [1, 2, 3]) {
    const n = toFirstFailure(CATALOG['V3']!, g, seed, 3, 40, 'stale-pin');
    t.true(n <= 40, `V3 seed ${seed}: found after ${n} executions`);
    t.is(toFirstFailure(CATALOG['V3']!, g, seed, 3, 40, 'stale-pin'), n, 'same seed, same executions');
    const m = toFirstFailure(CATALOG['V9']!, g, seed, 3, 5, 'bogus-table-walked');
    t.true(m <= 5, `V9 seed ${seed}: found after ${m} executions`);
  }
});

test('a greybox guide: the same seed plans the same schedules, run after run', (t) => {
  // V4: PAE, so data choices (the load order) are drawn too.
  const scn = buildScenario(CATALOG['V4']!, ACTORS);
  const ctx = { actors: scn.actors.length, depth: 3, k: 30 };
  const campaign = (seed: number) => {
    const g = greyboxGuide(seed);
    const out: string[] = [];
    for (let i = 0; i < 60; i++) {
      const p = g.plan('s', ctx, 1000 + i);
      const e = execute(scn, p.make(), { trace: true });
      out.push(e.trace.map((s) => s.label).join('|'));
      g.feedback(p);
    }
    return out;
  };
  const a = campaign(5);
  t.deepEqual(campaign(5), a);
  t.true(new Set(a).size > 10, 'and the runs differ');
});

const cfg = (o: Partial<CampaignConfig>): CampaignConfig => ({
  archs: ['rcu-table-free'], era: 'v6.2', variants: ['gup-fast-no-pmd-recheck', 'khugepaged-no-ipi-sync'],
  pool: ['gup_fast', 'collapse_huge_page'].map((a) => findActor(a)), fixedActors: undefined,
  strategy: 'portfolio', depth: 3, preemptions: 2, timeMs: null, runs: 6000, seed: 4, shrinkMs: 1000, stopAfterFailures: 1, pctProbeRuns: 0, ...o,
});

test('a portfolio campaign finds V3, says which member found it, and the same seed gives the same campaign', (t) => {
  const a = runCampaign(cfg({}), { now: frozenClock });
  const b = runCampaign(cfg({}), { now: frozenClock });
  const f = a.failures.find((x) => x.kind === 'stale-pin');
  t.truthy(f, `found ${a.failures.map((x) => x.kind).join(', ')} in ${a.executions}`);
  t.truthy(f!.foundBy && PORTFOLIO_MEMBERS.some((m) => m.strategy === f!.foundBy!.strategy && m.depth === f!.foundBy!.depth));
  t.is(b.executions, a.executions);
  t.deepEqual(b.failures.map((x) => [x.token, x.foundBy]), a.failures.map((x) => [x.token, x.foundBy]));
  // A greybox campaign too: its guide lives as long as the campaign, from the campaign's seed.
  const g1 = runCampaign(cfg({ strategy: 'greybox', runs: 3000 }), { now: frozenClock });
  const g2 = runCampaign(cfg({ strategy: 'greybox', runs: 3000 }), { now: frozenClock });
  t.true(g1.failures.some((x) => x.kind === 'stale-pin'), `greybox: ${g1.executions} runs`);
  t.deepEqual(g2.failures.map((x) => x.token), g1.failures.map((x) => x.token));
  t.is(g2.executions, g1.executions);
});

test('a portfolio campaign keeps one greybox guide over its turns, made from one seed draw', (t) => {
  let draws = 0;
  const samplers = samplersOf(PORTFOLIO_MEMBERS, () => ++draws);
  const greyboxes = samplers.filter((s) => s.mem.strategy === 'greybox');
  t.is(greyboxes.length, PORTFOLIO_MEMBERS.length / 2);
  t.truthy(greyboxes[0]!.guide);
  t.true(greyboxes.every((s) => s.guide === greyboxes[0]!.guide), 'every greybox turn has the same guide');
  t.true(samplers.filter((s) => s.mem.strategy !== 'greybox').every((s) => s.guide === undefined));
  t.is(draws, 1, 'one seed drawn, as before the portfolio listed greybox more than once');
});

test('the portfolio spreads workers over its members; it is the default, with one worker or several', (t) => {
  t.deepEqual(membersOf(PORTFOLIO_MEMBERS, 0, 1), [...PORTFOLIO_MEMBERS]);
  const two = [membersOf(PORTFOLIO_MEMBERS, 0, 2), membersOf(PORTFOLIO_MEMBERS, 1, 2)];
  t.deepEqual([...two[0]!, ...two[1]!].length, PORTFOLIO_MEMBERS.length);
  t.false(two[0]!.some((m) => two[1]!.includes(m)), 'no member twice');
  t.deepEqual(membersOf(PORTFOLIO_MEMBERS, 7, 8), PORTFOLIO_MEMBERS.filter((_, i) => i % 8 === 7));
  t.deepEqual(membersOf(PORTFOLIO_MEMBERS, 13, 20), [PORTFOLIO_MEMBERS[13 % PORTFOLIO_MEMBERS.length]!]);
  // Greybox every other turn: half of one worker's turns, and one of two workers' whole share.
  t.is(PORTFOLIO_MEMBERS.filter((m) => m.strategy === 'greybox').length * 2, PORTFOLIO_MEMBERS.length);
  t.true(two[0]!.every((m) => m.strategy === 'greybox'));
  t.is(parseOptions(['--workers', '2'], 2).strategy, 'portfolio');
  t.is(parseOptions(['--workers', '1'], 2).strategy, 'portfolio');
  t.is(parseOptions(['--workers', '2', '--strategy', 'pct'], 2).strategy, 'pct');
  t.is(parseOptions(['--strategy', 'greybox'], 2).strategy, 'greybox');
});

test('which --depth PCT finds a failure at: V3 (two preemptions) not at d = 2, at d = 3', (t) => {
  const scn = buildScenario(CATALOG['V3']!, ACTORS);
  const k = execute(scn, { pick: (r, l) => (r.includes(l) ? l : r[0]!), choose: () => 0 }).steps;
  t.is(pctFindsAt(scn, 'stale-pin', 2, k, 400), 3);
  t.is(pctFindsAt(scn, 'stale-pin', 3, k, 400), 3);
  t.is(pctFindsAt(scn, 'no-such-kind', 1, k, 5), null);
});
