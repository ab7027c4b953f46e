// DPOR (src/explore/dpor.ts): exhaustive search without a preemption bound. What must hold: it reaches
// every final state the unreduced search reaches (on small scenarios, where the unreduced search is
// cheap), with fewer schedules; it finds a known race; it proves a small fixed scenario clean and says
// so; the same inputs give the same result.

import test from 'ava';
import fc from 'fast-check';
import { dpor } from '../src/explore/dpor.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { main } from '../fuzz/main.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { buildScenario, type Scenario } from '../src/mm/scenario.js';
import { recycler } from './helpers.js';
import { everySchedule, finalOf, programs, scenarioOf } from './dpor-programs.js';
import type { Model } from '../src/mm/types.js';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function dporFinals(scn: Scenario): { finals: Set<string>; runs: number } {
  const finals = new Set<string>();
  const r = dpor(scn, { isFailure: () => false, onFinal: (m, e, raw) => finals.add(finalOf(m, e, raw)) });
  if (!r.complete) throw new Error('dpor: not complete');
  return { finals, runs: r.explored };
}

test('DPOR reaches the same final states as the unreduced search, with no more schedules (property)', (t) => {
  let fewer = 0;
  let orders = 0;
  fc.assert(fc.property(programs, (ps) => {
    const scn = scenarioOf(ps);
    const all = everySchedule(scn);
    const red = dporFinals(scn);
    t.deepEqual([...red.finals].sort(), [...all.finals].sort(), JSON.stringify(ps));
    t.true(red.runs <= all.runs, `${red.runs} > ${all.runs}: ${JSON.stringify(ps)}`);
    if (red.runs < all.runs) fewer++;
    if (all.finals.size > 1) orders++;
  }), { seed: 12, numRuns: 16 });
  t.true(fewer >= 6, `fewer schedules in only ${fewer} of 16 programs`);
  t.true(orders >= 4, `only ${orders} of 16 programs end in more than one state: the property tests little`);
});

test('independent programs: one schedule; conflicting ones: one per order of the conflicting steps', (t) => {
  // Different tables: every order is equivalent.
  const apart = scenarioOf([[{ k: 'w', t: 5, i: 2, v: 1 }], [{ k: 'w', t: 2, i: 2, v: 2 }]]);
  t.is(dporFinals(apart).runs, 1);
  t.is(everySchedule(apart).finals.size, 1);
  // The same entry written 1 and 2: two orders of the writes, two final states.
  const two = scenarioOf([[{ k: 'w', t: 5, i: 2, v: 1 }], [{ k: 'w', t: 5, i: 2, v: 2 }]]);
  const red = dporFinals(two);
  const all = everySchedule(two);
  t.is(all.finals.size, 2);
  t.deepEqual([...red.finals].sort(), [...all.finals].sort());
  t.true(red.runs < all.runs, `${red.runs} vs ${all.runs}`);
});

test('a background daemon (the hardware walker\'s kind) that the foreground\'s end stops: the schedules where it stepped first are run too', (t) => {
  // Run in the default order, the writer ends first and the daemon never steps: only the race between
  // the writer's last step and the daemon's next brings its write in.
  const scn = scenarioOf([[{ k: 'w', t: 5, i: 2, v: 1 }]], [{ k: 'w', t: 5, i: 3, v: 9 }]);
  const red = dporFinals(scn);
  const all = everySchedule(scn);
  t.true(all.finals.size > 1);
  t.deepEqual([...red.finals].sort(), [...all.finals].sort());
});

const V2 = (variants: string[]) => buildScenario({ arch: 'rcu-table-free', era: 'v6.2', variants,
  actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'fault', args: { addr: 5 } }] });

test('V2 unfixed: found with no preemption bound, and its schedule replays in the ordinary executor', (t) => {
  const r = dpor(V2(['khugepaged-no-ipi-sync']));
  t.false(r.complete);
  t.is(r.failure?.exec.violation?.kind, 'table-use-after-free');
  const again = execute(V2(['khugepaged-no-ipi-sync']), follow(r.failure!.schedule));
  t.is(again.violation?.kind, 'table-use-after-free');
});

test('V2 fixed: proven clean with no bound; every final state of the 1-preemption search is among DPOR\'s', (t) => {
  const scn = V2([]);
  const finals = new Set<string>();
  const r = dpor(scn, { onFinal: (m, e, raw) => finals.add(finalOf(m, e, raw)) });
  t.true(r.complete);
  t.is(r.failure, null);
  t.true((r.states ?? 0) > 0);
  // The unreduced bounded search, at most one preemption: its final states, its count of schedules.
  const bounded = boundedFinals(scn, 1);
  const missing = [...bounded.finals].filter((f) => !finals.has(f)).length;
  t.true(bounded.runs > r.explored, `bounded ${bounded.runs} vs dpor ${r.explored}`);
  t.is(missing, 0, `${missing} of ${bounded.finals.size} final states of the bounded search not reached`);
});

/** The bounded search of exhaustive.ts (at most `p` preemption points, children deviating after
 *  their parent's last deviation), done again here so that each run's final model can be read. */
function boundedFinals(scn: Scenario, p: number): { finals: Set<string>; runs: number } {
  type Point = { after: number; steps: number; to: number };
  const finals = new Set<string>();
  const stack: { points: Point[]; lastPos: number }[] = [{ points: [], lastPos: -1 }];
  let runs = 0;
  while (stack.length > 0) {
    const node = stack.pop()!;
    let pos = 0;
    let lastStepper = -1;
    const steps: number[] = [];
    const inner = follow({ preemptions: node.points, choices: [] });
    let model: Model | null = null;
    const alts: (Point & { pos: number })[] = [];
    const e = execute(scn, {
      pick(runnable, last) {
        const d = pos++;
        const id = inner.pick(runnable, last);
        const dflt = runnable.includes(last) ? last : runnable[0]!;
        for (const a of runnable) if (a !== dflt) alts.push({ pos: d, after: lastStepper, steps: lastStepper < 0 ? 0 : steps[lastStepper] ?? 0, to: a });
        return id;
      },
      choose: () => 0,
      observe(actor, label, events) { steps[actor] = (steps[actor] ?? 0) + 1; lastStepper = actor; inner.observe?.(actor, label, events); },
    }, { prepare: (m) => { model = m; } });
    runs++;
    finals.add(finalOf(model!, e));
    if (node.points.length < p) {
      for (const a of alts) if (a.pos > node.lastPos) stack.push({ points: [...node.points, { after: a.after, steps: a.steps, to: a.to }], lastPos: a.pos });
    }
  }
  return { finals, runs };
}

test('data choices are branches: a reuse that needs another frame than the lowest is found only with them enumerated', (t) => {
  // Frees a fresh table, allocates again and goes on using the first number: wrong only when the
  // allocator hands back another frame (exhaustive-choices.test.ts has its bounded twin).
  const scn = () => buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'recycler' }] }, [...ACTORS, recycler]);
  const plain = dpor(scn());
  t.true(plain.complete);
  t.is(plain.explored, 1);
  const found = dpor(scn(), { enumerateChoices: 1 });
  t.is(found.failure?.exec.violation?.kind, 'table-use-after-free');
  t.true(found.failure!.schedule.choices.some((c) => c !== 0));
  const n = scn().world.nrFrames - scn().world.frames.length;
  t.is(dpor(scn(), { enumerateChoices: Infinity, isFailure: () => false }).explored, n * n, 'every vector of two choices of n free frames, once');
});

test('the same scenario gives the same search: schedules, states, the failure\'s schedule', (t) => {
  const a = dpor(V2(['khugepaged-no-ipi-sync']));
  const b = dpor(V2(['khugepaged-no-ipi-sync']));
  t.deepEqual({ n: a.explored, s: a.states, f: a.failure?.schedule }, { n: b.explored, s: b.states, f: b.failure?.schedule });
  const c = dpor(scenarioOf([[{ k: 'inc', t: 5, i: 2 }], [{ k: 'inc', t: 5, i: 2 }]]));
  const d = dpor(scenarioOf([[{ k: 'inc', t: 5, i: 2 }], [{ k: 'inc', t: 5, i: 2 }]]));
  t.deepEqual({ n: c.explored, s: c.states }, { n: d.explored, s: d.states });
});

test('--preemptions none proves a small fixed scenario clean: the summary and the JSON say complete, with no bound', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-dpor-'));
  const json = join(dir, 'r.json');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--strategy', 'exhaustive', '--actors', 'gup_fast(addr=8),collapse_file', '--arch', 'rcu-table-free', '--era', 'v6.2',
    '--preemptions', 'none', '--json', json, '--corpus', join(dir, 'corpus')], (l) => out.push(l), (l) => err.push(l));
  t.is(code, 0, err.join('\n'));
  t.regex(out.join('\n'), /proven clean on rcu-table-free: every schedule \(no preemption bound/);
  t.regex(out.join('\n'), /distinct state\(s\).* \d+ cut at a state seen before\)/);
  const r = JSON.parse(readFileSync(json, 'utf8')) as { complete: boolean; preemptionBound: number | null; schedules: number; states: number; cuts: number; options: { preemptions: unknown } };
  t.true(r.complete);
  t.is(r.preemptionBound, null);
  t.is(r.options.preemptions, 'none');
  t.true(r.schedules > 0 && r.states > 0);
  t.is(typeof r.cuts, 'number');
  // The unfixed variant: the same search fails, and the summary does not claim a proof.
  const out2: string[] = [];
  const code2 = await main(['--strategy', 'exhaustive', '--actors', 'gup_fast(addr=8),collapse_file', '--arch', 'rcu-table-free', '--era', 'v6.2',
    '--variant', 'khugepaged-no-ipi-sync', '--preemptions', 'none', '--shrink-time', '0s', '--corpus', join(dir, 'corpus2')], (l) => out2.push(l), () => {});
  t.not(code2, 0);
  t.notRegex(out2.join('\n'), /proven clean/);
});

test('--preemptions takes a number or none; anything else is one line and exit 2', async (t) => {
  const err: string[] = [];
  const code = await main(['--strategy', 'exhaustive', '--actors', 'fault', '--preemptions', 'never'], () => {}, (l) => err.push(l));
  t.is(code, 2);
  t.is(err.length, 1);
  t.regex(err[0]!, /--preemptions 'never': accepted are whole numbers from 0 to 6, or 'none'/);
});

test('DPOR finds the v5.10 mremap race against unmap_mapping_range: the rmap trees hold the VMA objects its proxied mms reset', (t) => {
  // Its instrumented mms are new keys to the world's VMA objects, which are made afresh; i_mmap kept
  // the first set, which no reset restored, and the search ran clean past the race.
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v5.10', actors: [{ actor: 'mremap' }, { actor: 'unmap_mapping_range' }] });
  const r = dpor(scn, { stopAfter: 3000 });
  t.is(r.failure?.exec.violation?.kind, 'frame-zero-walked');
  t.is(execute(scn, follow(r.failure!.schedule)).violation?.kind, 'frame-zero-walked', 'the plain executor replays it');
});
