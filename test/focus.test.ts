// The directed draw: a campaign's focus (the actors its switched-on variants concern, found by probing
// each actor with switches that record what they are asked), and scenarios drawn at it; with no
// variant on, or --focus off, the draw of before.

import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { campaignFocus, runCampaign, type CampaignConfig } from '../fuzz/campaign.js';
import { main } from '../fuzz/main.js';
import { parseOptions, UsageError } from '../fuzz/options.js';
import { program } from '../src/arbitraries/program.js';
import { focusActors, focusGroups } from '../src/explore/focus.js';
import { ACTORS } from '../src/mm/actors/index.js';
import type { ScenarioSpec } from '../src/mm/scenario.js';
import type { EraId, VariantId } from '../src/mm/switches.js';
import { frozenShrink, testActor } from './helpers.js';
import { step } from '../src/mm/step.js';

const inEra = (era: EraId) => ACTORS.filter((a) => !a.eras || a.eras.includes(era));
const V3: readonly VariantId[] = ['gup-fast-no-pmd-recheck', 'khugepaged-no-ipi-sync'];

test('the focus of gup-fast-no-pmd-recheck is the actors that consult it: gup_fast, not a non-reader', (t) => {
  const f = focusActors({ era: 'v6.2', variants: ['gup-fast-no-pmd-recheck'], archs: ['rcu-table-free'], pool: inEra('v6.2'), partners: false });
  t.true(f.includes('gup_fast'), f.join(','));
  for (const n of ['munmap', 'mincore', 'collapse_file', 'collapse_huge_page']) t.false(f.includes(n), `${n} does not read the switch: ${f.join(',')}`);
});

test("the focus of khugepaged-no-ipi-sync is khugepaged's collapsers, not GUP-fast", (t) => {
  const f = focusActors({ era: 'v6.2', variants: ['khugepaged-no-ipi-sync'], archs: ['rcu-table-free'], pool: inEra('v6.2'), partners: false });
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
  const f = focusActors({ era: 'v6.6', variants: ['paravirt-flush-no-rcu'], archs: ['x86-ipi'], pool: inEra('v6.6'), partners: false });
  t.true(f.includes('munmap'), f.join(','));
  t.false(f.includes('mincore'), 'mincore flushes nothing');
});

test("a user module's actors are a focus group of their own, with or without a variant", (t) => {
  // Not registered (that would put it in every campaign of this file): `loaded` says it is a module's,
  // as campaignFocus's originOf() does for --load.
  const mine = testActor('focus_test_walker', function* () { yield step('walk'); });
  const pool = [...inEra('v6.2'), mine];
  const loaded = (n: string) => n === mine.name;
  t.deepEqual(focusGroups({ era: 'v6.2', variants: [], archs: ['x86-ipi'], pool, loaded }), [['focus_test_walker']]);
  t.deepEqual(focusGroups({ era: 'v6.2', variants: [], archs: ['x86-ipi'], pool }), [], 'not a module\'s: no focus');
  const g = focusGroups({ era: 'v6.2', variants: ['gup-fast-no-pmd-recheck'], archs: ['rcu-table-free'], pool, loaded });
  t.is(g.length, 3, 'the readers, the module, the readers\' partners (focus-partners.test.ts)');
  t.true(g[0]!.includes('gup_fast'));
  t.deepEqual(g[1], ['focus_test_walker']);
  t.false(g[2]!.includes('gup_fast') || g[2]!.includes('focus_test_walker'), g[2]!.join(','));
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

// Every actor of era v6.2 when this test was written: named, not read from ACTORS, so that an actor
// added later does not change what the seed draws.
const EVERY_ACTOR_V62 = ['collapse_file', 'collapse_huge_page', 'collapse_pte_mapped_thp', 'coredump', 'exit_mmap', 'fault', 'file_fault', 'fork', 'gup_fast', 'gup_slow', 'hw_walker', 'kvm', 'lazy_tlb', 'madvise_dontneed', 'migrate_pages', 'mincore', 'mprotect', 'mremap', 'munmap', 'shrink_folio_list', 'split_huge_pmd', 'task_numa_work', 'thp_fault', 'touch', 'truncate', 'try_to_unmap', 'unmap_mapping_range'];

/** Runs until the first stale-pin (V3's kind) of a campaign over every actor with V3's switches, or null. */
function v3After(focus: 'on' | 'off', runs: number): number | null {
  let after: number | null = null;
  // A clock that moves a millisecond at each look: the 1 ms shrink budget ends the same way on any
  // machine, loaded or not.
  let ms = 0;
  runCampaign({
    archs: ['rcu-table-free'], era: 'v6.2', variants: V3, pool: EVERY_ACTOR_V62.map((n) => ACTORS.find((a) => a.name === n)!), fixedActors: undefined,
    strategy: 'pos', depth: 3, preemptions: 2, timeMs: null, runs, seed: 2, shrinkMs: 1, pctProbeRuns: 0, focus,
  }, { now: () => ms++, onFound: (f) => { if (f.kind === 'stale-pin' && after === null) after = f.after ?? 0; }, stop: () => after !== null });
  return after;
}

test('with every actor and V3 on, the directed draw finds V3 within a budget in which the undirected draw does not', (t) => {
  const directed = v3After('on', 1500);
  t.not(directed, null, 'the directed draw finds stale-pin within 1500 runs');
  t.is(v3After('off', 1500), null, 'the undirected draw (--focus off) does not');
});

/** The command line, in a scratch folder: its status, its header line and its JSON report's options. */
async function cli(...argv: string[]): Promise<{ code: number; header: string; options: Record<string, unknown> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-focus-'));
  const err: string[] = [];
  const code = await main([...argv, '--workers', '1', '--corpus', join(dir, 'corpus'), '--json', join(dir, 'r.json')], () => {}, (l) => err.push(l), () => {}, frozenShrink);
  const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { options: Record<string, unknown> };
  return { code, header: err.find((l) => l.startsWith('mmfuzz: portfolio')) ?? '', options: report.options };
}

test('the header and the JSON report name the focus; --focus off and --actors say so or nothing; no variant: nothing', async (t) => {
  const on = await cli('--variant', 'V7', '--arch', 'x86-ipi', '--runs', '16');
  // The readers (gup_fast, kvm) and their partners (the table freers...), in the pool's order, six named.
  const focus = on.options['focus'] as string[];
  t.true(['gup_fast', 'kvm', 'munmap'].every((n) => focus.includes(n)), focus.join(','));
  t.regex(on.header, new RegExp(`, variants gup-fast-no-irq-disable, focus ${focus.slice(0, 6).join(' ')} \\(\\+${focus.length - 6}\\),`));
  const off = await cli('--variant', 'V7', '--arch', 'x86-ipi', '--runs', '16', '--focus', 'off');
  t.regex(off.header, /, focus off,/);
  t.is(off.options['focus'], 'off');
  const chosen = await cli('--variant', 'V7', '--arch', 'x86-ipi', '--runs', '16', '--actors', 'gup_fast,munmap');
  t.notRegex(chosen.header, /focus/);
  const plain = await cli('--arch', 'x86-ipi', '--runs', '16');
  t.notRegex(plain.header, /focus/);
  t.false('focus' in plain.options);
});

test('--focus: on or off, anything else is one line of bad usage', (t) => {
  t.is(parseOptions([], 4).focus, 'on');
  t.is(parseOptions(['--focus', 'off'], 4).focus, 'off');
  const e = t.throws(() => parseOptions(['--focus', 'maybe'], 4), { instanceOf: UsageError });
  t.is(e?.message, "--focus 'maybe': accepted are on or off");
});
