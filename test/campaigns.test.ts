// Campaigns at scale: progress, the corpus, workers, crashes, budgets, shards, merging.

import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCampaign } from '../fuzz/campaign.js';
import { defaultCorpusDir, dropUnshrunk, readCorpus, recordEntry, replayCorpus, writeEntry, type CorpusEntry } from '../fuzz/corpus.js';
import { main } from '../fuzz/main.js';
import { parseOptions, parseShard, UsageError } from '../fuzz/options.js';
import { runPool, workerSeed, type PoolConfig } from '../fuzz/pool.js';
import { progressPrinter } from '../fuzz/progress.js';
import { after, MAX_TIMER_MS } from '../fuzz/timers.js';
import { mergeReports, parseReport, type Report, type ReportFailure } from '../fuzz/report.js';
import type { ViolationKind } from '../src/oracle/violations.js';
import type { ActorDef } from '../src/mm/actor.js';
import { findActor } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';
import { fakeClock, frozenShrink } from './helpers.js';

const now = () => performance.now();
const tmp = () => mkdtempSync(join(tmpdir(), 'mmfuzz-camp-'));

const V1_TOKEN = (JSON.parse(readFileSync(new URL('../../test/corpus/V1-retract-no-exit-test.json', import.meta.url), 'utf8')) as { token: string }).token;

test('progress on a terminal rewrites one line, at most every 200 ms', (t) => {
  let clock = 0;
  const out: string[] = [];
  const p = progressPrinter({ tty: true, quiet: false, write: (s) => out.push(s), now: () => clock });
  p.update({ executions: 1000, failures: 0, elapsedMs: 1000, timeLeftMs: 29_000 });
  clock = 100;
  p.update({ executions: 1100, failures: 0, elapsedMs: 1100, timeLeftMs: 28_900 });
  clock = 300;
  p.update({ executions: 3000, failures: 1, elapsedMs: 3000, timeLeftMs: 27_000 });
  p.finish();
  t.deepEqual(out, ['\r1000 executions, 1000/s, 0 distinct failure(s), 29 s left\x1b[K', '\r3000 executions, 1000/s, 1 distinct failure(s), 27 s left\x1b[K', '\r\x1b[K']);
});

test('progress in a log is a plain line every 10 s; --quiet prints none', (t) => {
  let clock = 0;
  const out: string[] = [];
  const p = progressPrinter({ tty: false, quiet: false, write: (s) => out.push(s), now: () => clock });
  for (clock = 0; clock <= 25_000; clock += 1000) p.update({ executions: clock, failures: 0, elapsedMs: clock + 1, timeLeftMs: null });
  t.is(out.length, 3, out.join(''));
  t.true(out.every((l) => l.endsWith('\n') && !l.includes('\r')));
  const quiet: string[] = [];
  const q = progressPrinter({ tty: true, quiet: true, write: (s) => quiet.push(s), now: () => 0 });
  q.update({ executions: 1, failures: 0, elapsedMs: 1, timeLeftMs: null });
  t.deepEqual(quiet, []);
});

const entry = (key: string, shrunk: boolean, token = V1_TOKEN): CorpusEntry => ({ version: 1, key, kind: 'frame-zero-walked', arch: 'x86-ipi', actors: ['exit_mmap', 'collapse_file'], token, shrunk });

test('the corpus is written atomically, one file per distinct failure, and a shrunk entry is not overwritten by an unshrunk one', (t) => {
  const dir = tmp();
  writeEntry(dir, entry('frame-zero-walked|x86-ipi|collapse_file,exit_mmap', true));
  t.false(recordEntry(dir, entry('frame-zero-walked|x86-ipi|collapse_file,exit_mmap', false)));
  t.true(recordEntry(dir, entry('stale-pin|rcu-table-free|collapse_huge_page,gup_fast', false)));
  writeFileSync(join(dir, 'junk.json'), '{ not json');
  const files = readdirSync(dir);
  t.false(files.some((f) => f.includes('.tmp-')), 'no temporary file left behind');
  const back = readCorpus(dir);
  t.deepEqual(back.map((e) => [e.key, e.shrunk]), [['frame-zero-walked|x86-ipi|collapse_file,exit_mmap', true], ['stale-pin|rcu-table-free|collapse_huge_page,gup_fast', false]]);
  t.is(defaultCorpusDir('/work/proj'), '/work/proj/.mmfuzz/corpus', 'the default is in the project that runs it, as Hypothesis keeps its database');
  dropUnshrunk(dir, 'stale-pin|rcu-table-free|collapse_huge_page,gup_fast');
  dropUnshrunk(dir, 'frame-zero-walked|x86-ipi|collapse_file,exit_mmap');
  t.deepEqual(readCorpus(dir).map((e) => e.key), ['frame-zero-walked|x86-ipi|collapse_file,exit_mmap'], 'an unshrunk entry superseded by its shrunk one goes; a shrunk one stays');
});

test('replaying the corpus says which entries still fail, which are fixed now, and which cannot be read', async (t) => {
  const fixedToken = V1_TOKEN; // the V1 failure, recorded here under another kind: it no longer shows that kind
  const r = await replayCorpus([entry('a', true), { ...entry('b', true, fixedToken), kind: 'stale-pin' }, entry('c', true, 'mmfz9:zz.00000000')]);
  t.deepEqual(r.reproduce.map((e) => e.key), ['a']);
  t.deepEqual(r.fixed.map((e) => e.key), ['b']);
  t.deepEqual(r.unreadable.map((u) => u.entry.key), ['c']);
});

test('a campaign saves each distinct failure in the corpus, and the next one replays the corpus first', async (t) => {
  const dir = tmp();
  const args = ['--variant', 'V2', '--arch', 'rcu-table-free', '--actors', 'gup_fast,collapse_file', '--runs', '3000', '--workers', '2', '--corpus', dir, '--shrink-time', '120s'];
  const err: string[] = [];
  t.is(await main(args, () => {}, (l) => err.push(l), () => {}, frozenShrink), 1);
  const saved = readCorpus(dir);
  t.true(saved.length >= 1 && saved.every((e) => e.shrunk && e.token.startsWith('mmfz1:')));
  const err2: string[] = [];
  await main(args, () => {}, (l) => err2.push(l), () => {}, frozenShrink);
  t.regex(err2.join('\n'), new RegExp(`corpus ${dir}: ${saved.length} entr(y|ies): ${saved.length} still fail, 0 fixed now`));
});

const poolCfg = (o: Partial<PoolConfig>): PoolConfig => ({
  archs: ['rcu-table-free'], era: 'v6.2', variants: ['khugepaged-no-ipi-sync'], actors: ['gup_fast', 'collapse_file'], fixedActors: undefined,
  strategy: 'random', depth: 3, preemptions: 2, timeMs: null, runs: 4000, seed: 5, shrinkMs: 120_000, workers: 2, shard: { index: 0, count: 1 }, shrinkClock: 'frozen', ...o,
});

test('workers: the same seed and worker count give the same campaign', async (t) => {
  const a = await runPool(poolCfg({}), { now }).done;
  const b = await runPool(poolCfg({}), { now }).done;
  t.is(a.executions, 4000);
  t.true(a.failures.length > 0);
  t.deepEqual(a.failures.map((f) => f.token), b.failures.map((f) => f.token));
  const other = await runPool(poolCfg({ shard: { index: 1, count: 2 } }), { now }).done;
  t.is(other.executions, 4000);
});

// A worker told to shrink on the frozen clock (tests) does so: with no shrink budget at all it still
// shrinks to the fixpoint, the same failures as with two minutes. On the real clock a zero budget
// ends each shrink after its first candidate.
test('workers shrink on the clock the pool names: a frozen one gives the same shrunk failures whatever the budget', async (t) => {
  const roomy = await runPool(poolCfg({ runs: 600, workers: 1 }), { now }).done;
  const none = await runPool(poolCfg({ runs: 600, workers: 1, shrinkMs: 0 }), { now }).done;
  t.true(roomy.failures.length > 0);
  t.true(none.failures.every((f) => f.minimal), 'every shrink reached its fixpoint');
  t.deepEqual(none.failures.map((f) => [f.token, f.depth, f.actors]), roomy.failures.map((f) => [f.token, f.depth, f.actors]));
});

test('a worker that dies is reported and replaced, and the campaign does not hang', async (t) => {
  const died: string[] = [];
  const r = await runPool(poolCfg({ variants: [], runs: 6000, crash: (slot, gen) => (slot === 0 && gen === 0 ? 2 : undefined) }), {
    now, onWorkerDied: (slot, gen, why) => died.push(`${slot}/${gen}: ${why}`),
  }).done;
  t.is(died.length, 1);
  t.regex(died[0]!, /^0\/0: injected worker crash/);
  t.is(r.workerDeaths, 1);
  t.true(r.executions > 3000, `the replacement ran: ${r.executions} executions`);
});


test('a deadline past 2^31 ms is armed in chunks and fires only once the clock has passed it', (t) => {
  const c = fakeClock();
  let fired = 0;
  after(c, 597 * 3_600_000, () => fired++);
  t.deepEqual(c.timers.map((x) => x.ms), [MAX_TIMER_MS], 'no timer longer than Node keeps');
  c.t = MAX_TIMER_MS;
  c.fire();
  t.is(fired, 0, 'a chunk ended, the deadline did not');
  t.deepEqual(c.timers.map((x) => x.ms), [597 * 3_600_000 - MAX_TIMER_MS]);
  c.t = 597 * 3_600_000;
  c.fire();
  t.is(fired, 1);
  t.deepEqual(c.timers, []);
  const cancel = after(c, 10, () => fired++);
  cancel();
  c.t += 100;
  c.fire();
  t.is(fired, 1, 'a cancelled deadline never fires');
});

test('the pool stops its workers when its deadline passes on the clock it is given, and not before', async (t) => {
  const c = fakeClock();
  let progressed: () => void = () => {};
  const someProgress = new Promise<void>((resolve) => { progressed = resolve; });
  let ended = false;
  const run = runPool(poolCfg({ variants: [], runs: null, timeMs: 597 * 3_600_000 }), {
    now: c.now, setTimer: c.setTimer, onProgress: (n) => { if (n > 0) progressed(); },
  });
  void run.done.then(() => { ended = true; });
  await someProgress;
  // The deadline's chunk, beside the watchdogs' short checks (which this clock's jumps never trip:
  // each check sees steps taken since the last).
  t.true(c.timers.some((x) => x.ms === MAX_TIMER_MS) && c.timers.every((x) => x.ms <= MAX_TIMER_MS), 'no timer longer than Node keeps');
  c.t = MAX_TIMER_MS;
  c.fire();
  await new Promise((r) => setImmediate(r));
  t.false(ended, 'the end of a chunk does not end the campaign');
  t.true(c.timers.some((x) => x.ms === 597 * 3_600_000 - MAX_TIMER_MS), 'the rest of the deadline is armed');
  c.t = 597 * 3_600_000;
  c.fire();
  const r = await run.done;
  t.true(r.executions > 0);
  t.is(r.workerDeaths, 0);
});

test('--time 597h runs: a budget past 2^31 ms does not end the campaign at once', async (t) => {
  const out: string[] = [];
  const code = await main(['--time', '597h', '--runs', '2000', '--arch', 'x86-ipi', '--workers', '1', '--quiet', '--corpus', tmp()], (l) => out.push(l), () => {});
  t.is(code, 0);
  t.regex(out.join('\n'), /^2000 executions in /m);
});

test('an exception inside an actor is an internal error with its token, and the campaign goes on', (t) => {
  const broken: ActorDef = {
    name: 'broken', summary: 'throws', follows: '(test)', inMm: false, daemon: 'no', params: [],
    *run() { yield step('about to fail'); throw new Error('model bug: no such pte'); },
  };
  const r = runCampaign({
    archs: ['x86-ipi'], era: 'v6.6', variants: [], pool: [broken, findActor('fault')], fixedActors: undefined,
    strategy: 'random', depth: 3, preemptions: 2, timeMs: null, runs: 500, seed: 1, shrinkMs: 1000,
  }, { now });
  t.is(r.executions, 500, 'the campaign went on');
  t.true(r.internalErrors.length >= 1);
  t.is(r.internalErrors[0]?.message, 'model bug: no such pte');
  t.regex(r.internalErrors[0]?.token ?? '', /^mmfz1:/);
});

test('shards split the seed space: each shard and slot gets its own stream', (t) => {
  const seeds = new Set<number>();
  for (let shard = 0; shard < 8; shard++) for (let slot = 0; slot < 4; slot++) seeds.add(workerSeed(42, { index: shard, count: 8 }, slot, 0));
  t.is(seeds.size, 32);
  t.is(workerSeed(42, { index: 3, count: 8 }, 1, 0), workerSeed(42, { index: 3, count: 8 }, 1, 0));
  t.deepEqual(parseShard('3/8'), { index: 3, count: 8 });
  for (const bad of ['8/8', '1/0', 'x', '1/2/3']) t.throws(() => parseShard(bad), { instanceOf: UsageError, message: /accepted is I\/N with 0 <= I < N/ });
  t.deepEqual(parseOptions(['--shard', '2/4'], 2).shard, { index: 2, count: 4 });
  t.is(parseOptions([], 6).workers, 6, 'the default is the number of cores');
});

const report = (executions: number, failures: Report['failures']): Report => ({ version: 1, options: {}, executions, execsPerSec: executions / 10, durationMs: 10_000 + executions, failures, internalErrors: [] });
const rf = (kind: ViolationKind, depth: number, actors: string[]): ReportFailure =>
  ({ kind, actors, arch: 'x86-ipi', era: 'v5.10', variants: [], depth, known: null, needsVariants: false, minimal: true, token: `mmfz1:${kind}${depth}`, trace: '' });

test('merging shard reports adds executions and deduplicates failures by kind, architecture and actors', (t) => {
  const m = mergeReports([report(100, [rf('stale-pin', 4, ['gup_fast', 'collapse_huge_page'])]), report(300, [rf('stale-pin', 3, ['collapse_huge_page', 'gup_fast']), rf('leak', 1, ['fault'])])]);
  t.is(m.executions, 400);
  t.is(m.durationMs, 10_300);
  t.deepEqual(m.failures.map((f) => [f.kind, f.depth]), [['leak', 1], ['stale-pin', 3]]);
  t.throws(() => parseReport('x.json', '{"version":2}'), { message: /not an mmfuzz report/ });
});

test('npm run fuzz -- merge writes the merged report; bad files get one line and exit 2', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'a.json'), JSON.stringify(report(10, [rf('leak', 1, ['fault'])])));
  writeFileSync(join(dir, 'b.json'), JSON.stringify(report(20, [])));
  const out: string[] = [];
  t.is(await main(['merge', join(dir, 'a.json'), join(dir, 'b.json'), '--json', join(dir, 'm.json')], (l) => out.push(l), () => {}), 1);
  t.true(existsSync(join(dir, 'm.json')));
  t.regex(out.join(''), /merged 2 report\(s\): 30 executions, 1 distinct failure/);
  const err: string[] = [];
  t.is(await main(['merge', join(dir, 'nope.json'), '--json', join(dir, 'm.json')], () => {}, (l) => err.push(l)), 2);
  t.deepEqual(err, [`mmfuzz: merge: report '${join(dir, 'nope.json')}': no such file`]);
});
