// The public arbitraries (mmfuzz/arbitraries): each one's values are valid, and so are their shrinks
// (fast-check's way: a property that fails on every value makes fast-check walk the shrinks, and
// each must still be valid); fc.assert's seed and path replay a failure; a failure shrinks to the
// minimal interleaving the command line's campaign gives.

import test from 'ava';
import fc from 'fast-check';
import { arch, assertSafe, execution, program, schedule, switches, world, type ExecutionValue } from '../src/arbitraries/index.js';
import { execute } from '../src/explore/executor.js';
import { decodeToken } from '../src/explore/token.js';
import { follow } from '../src/explore/schedule.js';
import { ARCH_IDS } from '../src/mm/arch.js';
import { buildScenario, opsOf } from '../src/mm/scenario.js';
import { parseVariant } from '../src/mm/switches.js';
import { runCampaign } from '../fuzz/campaign.js';
import { findActor } from '../src/mm/scenario.js';
import { frozenClock } from './helpers.js';

/** Every value fast-check hands a property that always fails: the first, then its shrinks. */
function valuesAndShrinks<T>(arb: fc.Arbitrary<T>, seed: number): T[] {
  const seen: T[] = [];
  fc.check(fc.property(arb, (v) => { seen.push(v); return false; }), { seed, numRuns: 1 });
  return seen;
}

test('program(): every value and every shrink builds, with 2..3 threads of 1..3 operations each that may share a thread', (t) => {
  const arb = program({ pool: ['fault', 'gup_fast', 'munmap', 'collapse_file', 'hw_walker', 'exit_mmap', 'mprotect'], threads: { min: 2, max: 3 }, opsPerThread: { min: 1, max: 3 } });
  let multi = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const vs = valuesAndShrinks(arb, seed);
    t.true(vs.length > 1 || opsOf(vs[0]![0]!).length === 1);
    for (const p of vs) {
      t.notThrows(() => buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: p }), JSON.stringify(p));
      t.true(p.length >= 2 && p.length <= 3);
      for (const c of p) t.true(opsOf(c).length <= 3);
      if (p.some((c) => opsOf(c).length > 1)) multi++;
    }
  }
  t.true(multi > 0, 'threads of several operations are drawn');
});

test('program(): a fork is never drawn into a thread of several operations (it runs as a thread of its own)', (t) => {
  const arb = program({ pool: ['fork', 'fault', 'munmap', 'exit_mmap'], threads: { min: 2, max: 3 }, opsPerThread: { min: 2, max: 3 } });
  let forks = 0;
  for (const p of fc.sample(arb, { seed: 7, numRuns: 200 })) {
    t.notThrows(() => buildScenario({ arch: 'x86-ipi', era: 'v6.6', world: 'fork', actors: p }), JSON.stringify(p));
    for (const c of p) if (opsOf(c).some((o) => o.actor === 'fork')) { forks++; t.is(opsOf(c).length, 1, JSON.stringify(c)); }
  }
  t.true(forks > 0, 'forks are drawn');
});

test('a pool entry that is a thread the user wrote is drawn as written: its operations in order, what was fixed kept, the rest drawn', (t) => {
  const entry = { def: findActor('fault'), args: { addr: 4 }, then: [{ def: findActor('gup_fast'), args: { write: 1 } }] };
  const calls = fc.sample(program({ pool: [entry, 'munmap'], opsPerThread: { min: 1, max: 3 } }), { seed: 3, numRuns: 100 }).flat();
  const threads = calls.filter((c) => c.actor === 'fault');
  t.true(threads.length > 0);
  for (const c of threads) {
    t.deepEqual(opsOf(c).map((o) => o.actor), ['fault', 'gup_fast']);
    t.is(c.args?.['addr'], 4);
    t.is(c.then![0]!.args?.['write'], 1);
  }
  t.true(new Set(threads.map((c) => c.then![0]!.args?.['addr'])).size > 1, "gup_fast's address is drawn");
});

test('program() with one operation per thread draws what the campaigns drew before programs', (t) => {
  const a = fc.sample(program({ pool: ['fault', 'munmap'] }), { seed: 4, numRuns: 50 });
  t.true(a.every((p) => p.every((c) => c.then === undefined)));
  t.deepEqual(fc.sample(program({ pool: ['fault', 'munmap'], opsPerThread: 1 }), { seed: 4, numRuns: 50 }), a);
});

test('world(), arch(), switches(): values among those named; a variant the era lacks is refused', (t) => {
  t.deepEqual([...new Set(fc.sample(world(['default', 'fork']), { seed: 1, numRuns: 50 }).map((w) => w.name))].sort(), ['default', 'fork']);
  t.deepEqual([...new Set(fc.sample(arch(), { seed: 1, numRuns: 100 }))].sort(), [...ARCH_IDS].sort());
  t.deepEqual(fc.sample(switches('v6.2', ['V2']), { seed: 1, numRuns: 3 })[0], { era: 'v6.2', variants: ['khugepaged-no-ipi-sync'] });
  t.throws(() => switches('v6.6', ['V1']));
  t.throws(() => arch(['sparc']));
});

test('schedule(): seeds from fast-check\'s random source; shrinks are canonical schedules with fewer or earlier preemptions', (t) => {
  const scn = buildScenario({ arch: 'rcu-table-free', era: 'v6.2', variants: ['V2'], actors: [{ actor: 'gup_fast', args: { addr: 8 } }, { actor: 'collapse_file' }, { actor: 'hw_walker' }] });
  const ctx = { actors: scn.actors.length, depth: 3, k: 60 };
  const arb = schedule({ strategy: 'random' });
  t.deepEqual(fc.sample(arb, { seed: 9, numRuns: 5 }).map((s) => s.seed), fc.sample(arb, { seed: 9, numRuns: 5 }).map((s) => s.seed));
  const seen = [] as { points: number; fixed: boolean }[];
  fc.check(fc.property(arb, (s) => {
    execute(scn, s.scheduler(ctx));
    seen.push({ points: s.recorded()!.preemptions.length, fixed: s.fixed !== null });
    return false;
  }), { seed: 5, numRuns: 1 });
  t.true(seen.length > 2, 'it shrank');
  t.false(seen[0]!.fixed);
  t.true(seen.slice(1).every((x) => x.fixed), 'shrinks follow canonical schedules');
  t.true(seen[seen.length - 1]!.points < seen[0]!.points, `fewer preemptions: ${seen.map((x) => x.points).join(' → ')}`);
  t.throws(() => schedule({ strategy: 'exhaustive' as never }));
});

const V2 = { era: 'v6.2', variants: ['V2'], arch: ['rcu-table-free'], actors: ['gup_fast', 'collapse_file', 'fault'], strategy: 'pct' } as const;

test('the issue\'s example fails with the kernel-style trace and token; its seed and path replay the same failure', (t) => {
  const arb = execution(V2);
  const r = fc.check(fc.property(arb, assertSafe), { seed: 3, numRuns: 5000 });
  t.true(r.failed);
  const e = r.counterexample![0] as ExecutionValue;
  t.is(e.violation?.kind, 'table-use-after-free');
  const message = String(r.errorInstance);
  t.true(message.includes(e.trace) && message.includes(`--replay ${e.token}`));
  t.regex(e.trace, /CPU 0: gup_fast/);
  const again = fc.check(fc.property(execution(V2), assertSafe), { seed: 3, path: r.counterexamplePath!, endOnFailure: true });
  t.true(again.failed);
  t.is((again.counterexample![0] as ExecutionValue).token, e.token);
  // The token replays outside fast-check.
  const d = decodeToken(e.token);
  t.is(execute(buildScenario(d.spec), follow(d.schedule)).violation?.kind, 'table-use-after-free');
});

test('fc.assert shrinks to the minimal interleaving the command line gives: the same actors, preemptions and steps', (t) => {
  const r = fc.check(fc.property(execution(V2), assertSafe), { seed: 3, numRuns: 5000 });
  const e = r.counterexample![0] as ExecutionValue;
  const cli = runCampaign({
    archs: ['rcu-table-free'], era: 'v6.2', variants: [parseVariant('V2').id], pool: V2.actors.map((a) => findActor(a)), fixedActors: undefined,
    strategy: 'pct', depth: 3, preemptions: 2, timeMs: null, runs: 20_000, seed: 1, shrinkMs: 1e9, stopAfterFailures: 1,
  }, { now: frozenClock });
  const f = cli.failures[0]!;
  const mine = decodeToken(e.token);
  const theirs = decodeToken(f.token);
  t.is(e.violation?.kind, f.kind);
  t.deepEqual(mine.spec.actors.map((a) => a.actor), theirs.spec.actors.map((a) => a.actor));
  t.deepEqual(mine.schedule.preemptions, theirs.schedule.preemptions);
  // The same steps in the same order: the traces differ at most in the numbers (the address GUP was
  // drawn with, which shrinking keeps when it is not the default).
  const labels = (trace: string) => trace.split('\n').map((l) => l.replace(/\d+/g, '#').replace(/ +/g, ' '));
  t.deepEqual(labels(e.trace), labels(f.trace));
});
