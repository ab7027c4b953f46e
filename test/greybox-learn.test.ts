// Greybox across scenarios (issue 12, learned.ts): a reversal that showed nothing new in a scenario of
// the same kinds of actor is not tried first again, and the campaign leaves a scenario with nothing
// worth a run for a new one. Budgets in executions, clocks frozen.

import test from 'ava';
import { greyboxGuide } from '../src/explore/strategies/greybox.js';
import { reversalMemory, reversalSig } from '../src/explore/strategies/learned.js';
import { execute } from '../src/explore/executor.js';
import { buildScenario, findActor, type ScenarioSpec } from '../src/mm/scenario.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { CATALOG } from '../bench/strategies.js';
import { runCampaign, type CampaignConfig } from '../fuzz/campaign.js';
import { frozenClock } from './helpers.js';

test('reversal memory: untried is worth a run, barren is not, once new stays worth it; per kinds of scenario', (t) => {
  const m = reversalMemory();
  const r = reversalSig(3, 7, true);
  t.not(r, reversalSig(3, 7, false), 'the kind is part of the name');
  t.not(r, reversalSig(7, 3, true), 'and the order of the two steps');
  t.true(m.worth('1,2', r));
  m.record('1,2', r, false);
  t.false(m.worth('1,2', r), 'tried, nothing new');
  t.true(m.worth('1,2,5', r), 'another kind of scenario has not tried it');
  m.record('1,2', r, true);
  m.record('1,2', r, false);
  t.true(m.worth('1,2', r), 'it showed something new once: a later barren try does not undo that');
  t.is(m.size(), 1);
});

/** Runs of scenario `key` until the guide has nothing worth a run (at most `cap`): the schedules run. */
function exhaust(g: ReturnType<typeof greyboxGuide>, key: string, spec: keyof typeof CATALOG, cap: number): string[] {
  return exhaustSpec(g, key, CATALOG[spec]!, cap);
}

function exhaustSpec(g: ReturnType<typeof greyboxGuide>, key: string, spec: ScenarioSpec, cap: number): string[] {
  const scn = buildScenario(spec, ACTORS);
  const ctx = { actors: scn.actors.length, depth: 3, k: 30 };
  const out: string[] = [];
  for (let i = 0; i < cap; i++) {
    const p = g.plan(key, ctx, 100 + i);
    const e = execute(scn, p.make(), { trace: true });
    out.push(e.trace.map((s) => `${s.actor}`).join(''));
    g.feedback(p);
    if (!g.more!(key)) break;
  }
  return out;
}

test('a new scenario of the same actors skips the reversals that showed nothing new in the first', (t) => {
  // V3's scenario under two keys, as a campaign's pool draws the same actors again.
  const fresh = exhaust(greyboxGuide(3), 'a', 'V3', 300);
  t.true(fresh.length > 3 && fresh.length < 300, `the first runs ${fresh.length} times, then has nothing worth a run`);
  const g = greyboxGuide(3);
  t.deepEqual(exhaust(g, 'a', 'V3', 300), fresh, 'the same seed, the same runs');
  const again = exhaust(g, 'b', 'V3', 300);
  t.is(again[0], fresh[0], 'a new scenario starts from its default run');
  t.true(again.length < fresh.length, `the second: ${again.length} runs, not ${fresh.length}`);
  // What the second ran after its default run is what the first left worth trying: not the first's
  // barren reversals, so not its run order.
  t.notDeepEqual(again.slice(0, 3), fresh.slice(0, 3));
});

test('a greybox campaign moves on from a scenario with nothing worth a run (PCT gives each 8)', (t) => {
  const cfg = (strategy: 'greybox' | 'pct'): CampaignConfig => ({
    archs: ['x86-ipi'], era: 'v5.10', variants: ['coredump-unlocked'], pool: ['coredump', 'collapse_huge_page'].map((a) => findActor(a)),
    fixedActors: undefined, strategy, depth: 3, preemptions: 2, timeMs: null, runs: 400, seed: 7, shrinkMs: 100, pctProbeRuns: 0,
  });
  const count = (strategy: 'greybox' | 'pct') => {
    let scenarios = 0;
    const r = runCampaign(cfg(strategy), { now: frozenClock, onScenario: () => { scenarios++; } });
    return { scenarios, runs: r.executions };
  };
  const pct = count('pct');
  t.true(pct.runs >= 8 * (pct.scenarios - 1), `pct: ${pct.runs} runs over ${pct.scenarios} scenarios`);
  const gb = count('greybox');
  t.is(gb.runs, 400, 'greybox spends the whole budget (no failure here stops it)');
  t.true(gb.runs < 5 * gb.scenarios, `greybox: ${gb.runs} runs over ${gb.scenarios} scenarios`);
  t.deepEqual(count('greybox'), gb, 'the same seed, the same campaign');
});

test('what two actors learned carries to a scenario where they do the same beside another actor', (t) => {
  // V3's two actors, then the same two with a fault far from their range: the fault takes lines of
  // its own, but gup_fast and collapse_huge_page take theirs as before, and so do their reversals.
  const two = CATALOG['V3']!;
  const three: ScenarioSpec = { ...two, actors: [...two.actors, { actor: 'fault', args: { addr: 13 } }] };
  const alone = exhaustSpec(greyboxGuide(5), 'c', three, 300);
  const g = greyboxGuide(5);
  exhaustSpec(g, 'a', two, 300);
  const after = exhaustSpec(g, 'c', three, 300);
  t.true(after.length * 2 < alone.length, `beside the fault: ${after.length} runs after the pair's scenario, ${alone.length} without`);
});
