// The directed draw: a campaign's focus (the actors its switched-on variants concern, found by probing
// each actor with switches that record what they are asked), and scenarios drawn at it; with no
// variant on, or --focus off, the draw of before.

import test from 'ava';
import fc from 'fast-check';
import { campaignFocus, runCampaign, type CampaignConfig } from '../fuzz/campaign.js';
import { parseOptions, UsageError } from '../fuzz/options.js';
import { program } from '../src/arbitraries/program.js';
import { focusActors, focusGroups } from '../src/explore/focus.js';
import { ACTORS } from '../src/mm/actors/index.js';
import type { ScenarioSpec } from '../src/mm/scenario.js';
import type { EraId, VariantId } from '../src/mm/switches.js';

const inEra = (era: EraId) => ACTORS.filter((a) => !a.eras || a.eras.includes(era));
const V3: readonly VariantId[] = ['gup-fast-no-pmd-recheck', 'khugepaged-no-ipi-sync'];

test('the focus of gup-fast-no-pmd-recheck is the actors that consult it: gup_fast, not a non-reader', (t) => {
  const f = focusActors({ era: 'v6.2', variants: ['gup-fast-no-pmd-recheck'], archs: ['rcu-table-free'], pool: inEra('v6.2') });
  t.true(f.includes('gup_fast'), f.join(','));
  for (const n of ['munmap', 'mincore', 'collapse_file', 'collapse_huge_page']) t.false(f.includes(n), `${n} does not read the switch: ${f.join(',')}`);
});

test("the focus of khugepaged-no-ipi-sync is khugepaged's collapsers, not GUP-fast", (t) => {
  const f = focusActors({ era: 'v6.2', variants: ['khugepaged-no-ipi-sync'], archs: ['rcu-table-free'], pool: inEra('v6.2') });
  for (const n of ['collapse_file', 'collapse_huge_page', 'collapse_pte_mapped_thp']) t.true(f.includes(n), `${n}: ${f.join(',')}`);
  t.false(f.includes('gup_fast'));
});

test('V3 (two switches) gives a group per switch: a directed program has a reader of each', (t) => {
  const g = focusGroups({ era: 'v6.2', variants: V3, archs: ['rcu-table-free'], pool: inEra('v6.2') });
  t.is(g.length, 2);
  t.true(g[0]!.includes('gup_fast') && !g[0]!.includes('collapse_huge_page'), g[0]!.join(','));
  t.true(g[1]!.includes('collapse_huge_page') && !g[1]!.includes('gup_fast'), g[1]!.join(','));
});

test("a variant that changes the architecture (V8: flush by hypercall) focuses on the actors that read what it changed", (t) => {
  const f = focusActors({ era: 'v6.6', variants: ['paravirt-flush-no-rcu'], archs: ['x86-ipi'], pool: inEra('v6.6') });
  t.true(f.includes('munmap'), f.join(','));
  t.false(f.includes('mincore'), 'mincore flushes nothing');
});

test('no variant and no module: no focus; --focus off: none either', (t) => {
  const base = { era: 'v6.2' as const, archs: ['rcu-table-free'], pool: inEra('v6.2') };
  t.deepEqual(campaignFocus({ ...base, variants: [], focus: 'on' }), []);
  t.deepEqual(campaignFocus({ ...base, variants: V3, focus: 'off' }), []);
  t.deepEqual(campaignFocus({ ...base, variants: V3 }), [], 'a caller that does not ask for it (a pool it chose)');
  t.true(campaignFocus({ ...base, variants: V3, focus: 'on' }).length > 0);
});

test('program(): no focus, or focus on actors not in the pool, draws exactly what it drew before', (t) => {
  const pool = inEra('v6.6');
  for (const opsPerThread of [1, 3]) {
    const before = fc.sample(program({ pool, opsPerThread }), { seed: 42, numRuns: 50 });
    t.deepEqual(fc.sample(program({ pool, opsPerThread, focus: [] }), { seed: 42, numRuns: 50 }), before);
    t.deepEqual(fc.sample(program({ pool, opsPerThread, focus: [['no_such_actor']] }), { seed: 42, numRuns: 50 }), before);
  }
});

test('program() with focus groups: most programs have an actor of each group, all are valid programs', (t) => {
  const pool = inEra('v6.2');
  for (const opsPerThread of [1, 2]) {
    const xs = fc.sample(program({ pool, opsPerThread, focus: [['gup_fast'], ['collapse_huge_page']] }), { seed: 3, numRuns: 400 });
    const both = xs.filter((p) => p.some((c) => c.actor === 'gup_fast') && p.some((c) => c.actor === 'collapse_huge_page')).length;
    t.true(both >= 0.6 * xs.length, `${both} of ${xs.length}`);
    t.true(xs.every((p) => p.length >= 2 && p.length <= 4));
    const plain = fc.sample(program({ pool, opsPerThread }), { seed: 3, numRuns: 400 });
    t.true(plain.filter((p) => p.some((c) => c.actor === 'gup_fast') && p.some((c) => c.actor === 'collapse_huge_page')).length < 0.1 * plain.length);
  }
});

/** The scenarios a campaign draws (arch, world and actors), over `runs` runs of uniform random. */
function scenarios(cfg: Partial<CampaignConfig>, runs = 160): Omit<ScenarioSpec, 'variants'>[] {
  const out: Omit<ScenarioSpec, 'variants'>[] = [];
  runCampaign({
    archs: ['rcu-table-free'], era: 'v6.2', variants: [], pool: inEra('v6.2'), fixedActors: undefined, strategy: 'random', depth: 3, preemptions: 2,
    timeMs: null, runs, seed: 9, shrinkMs: 1, pctProbeRuns: 0, ...cfg,
  }, { now: () => 0, onScenario: ({ variants: _v, ...s }) => out.push(s) });
  return out;
}

test('--focus off draws the scenarios of a campaign without variants; the default campaign is unchanged; focus on draws others', (t) => {
  const plain = scenarios({});
  t.is(plain.length, 20);
  t.deepEqual(scenarios({ variants: V3, focus: 'off' }), plain, '--focus off: the undirected draw');
  t.deepEqual(scenarios({ focus: 'on' }), plain, 'no variant: focus on changes nothing');
  t.deepEqual(scenarios({ variants: V3 }), plain, 'not asked for: the undirected draw');
  const aimed = scenarios({ variants: V3, focus: 'on' });
  t.notDeepEqual(aimed, plain);
  const hasBoth = (s: Omit<ScenarioSpec, 'variants'>) => s.actors.some((c) => c.actor === 'gup_fast') && s.actors.some((c) => /^collapse_/.test(c.actor));
  const [a, p] = [aimed.filter(hasBoth).length, plain.filter(hasBoth).length];
  t.true(a >= 4 && a > 2 * p, `${a} vs ${p} of 20`);
});

test('--focus: on or off, anything else is one line of bad usage', (t) => {
  t.is(parseOptions([], 4).focus, 'on');
  t.is(parseOptions(['--focus', 'off'], 4).focus, 'off');
  const e = t.throws(() => parseOptions(['--focus', 'maybe'], 4), { instanceOf: UsageError });
  t.is(e?.message, "--focus 'maybe': accepted are on or off");
});
