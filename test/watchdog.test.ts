// The watchdog on executions: an actor whose step never returns (a loop without a yield) is found by
// its still heartbeat, reported as an internal error naming it, and the campaign goes on without it.
// The clock is injected and moved by hand: nothing here waits for, or asserts, wall-clock time.

import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execute, readHeartbeat, watchExecutions } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { buildScenario } from '../src/mm/scenario.js';
import { runPool, type PoolConfig } from '../fuzz/pool.js';
import { newHeartbeat, watchdog } from '../fuzz/watchdog.js';
import { fakeClock } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-watch-'));
const spinner = join(dir, 'spinner.mjs');
writeFileSync(spinner, "export const actors = [{ name: 'spinner', summary: 'loops without yielding', follows: '(test)', inMm: false, daemon: 'no', params: [], *run() { for (;;) {} } }];\n");


test('the executor beats: steps begun, and whose step it is', (t) => {
  const hb = newHeartbeat();
  watchExecutions(hb);
  try {
    execute(buildScenario({ arch: 'x86-pae', era: 'v6.6', actors: [{ actor: 'fault' }] }), follow({ preemptions: [], choices: [] }));
  } finally {
    watchExecutions(null);
  }
  const r = readHeartbeat(hb);
  t.true(r.steps > 0);
  t.is(r.arch, 'x86-pae');
  t.true(['fault', 'rcu'].includes(r.actor), r.actor);
});

test('the watchdog fires only when the count stays still past the deadline on its clock', (t) => {
  const hb = newHeartbeat();
  const ints = new Int32Array(hb, 0, 4);
  const c = fakeClock();
  const stuck: string[] = [];
  watchdog(hb, c, 1000, (s) => stuck.push(s.actor));
  c.tick(5000);
  t.deepEqual(stuck, [], 'not armed before the first step');
  Atomics.store(ints, 0, 1);
  c.tick(250);
  c.tick(2000);
  t.deepEqual(stuck, [], 'still, but between steps');
  Atomics.store(ints, 0, 2);
  Atomics.store(ints, 3, 1);
  c.tick(250);
  c.tick(900);
  t.deepEqual(stuck, [], 'in a step for 900 ms of a 1000 ms deadline');
  Atomics.store(ints, 0, 3);
  c.tick(250);
  c.tick(900);
  t.deepEqual(stuck, [], 'it moved: the deadline starts again');
  c.tick(250);
  t.is(stuck.length, 1);
  c.tick(5000);
  t.is(stuck.length, 1, 'once');
});

const cfg = (o: Partial<PoolConfig>): PoolConfig => ({
  archs: ['x86-ipi'], era: 'v6.6', variants: [], actors: ['spinner', 'fault'], fixedActors: undefined, load: [spinner],
  strategy: 'random', depth: 3, preemptions: 2, timeMs: null, runs: 300, seed: 1, shrinkMs: 1000, workers: 1, shard: { index: 0, count: 1 },
  stepDeadlineMs: 30_000, ...o,
});

test('a campaign with an actor that never yields: an internal error naming it, and the campaign goes on without it', async (t) => {
  const c = fakeClock();
  const errors: string[] = [];
  const run = runPool(cfg({}), { now: c.now, setTimer: c.setTimer, onInternalError: (e) => errors.push(e.message) });
  let done = false;
  void run.done.then(() => { done = true; });
  // 300 ms of the pool's clock for each 10 ms that pass here: a step stuck for 30 s of it has been
  // stuck for about a second here, far longer than any step of a healthy actor takes even on a
  // loaded machine. (Nothing asserts how long anything took.)
  for (let i = 0; i < 6000 && !done; i++) {
    c.tick(300);
    await new Promise((r) => setTimeout(r, 10));
  }
  t.true(done, 'the campaign ended');
  const r = await run.done;
  t.deepEqual(errors, ["actor 'spinner' did not return from a step within 30 s: it loops without yielding (left out of the rest of the campaign)"]);
  t.is(r.internalErrors.length, 1);
  t.deepEqual(r.internalErrors[0]?.actors, ['spinner']);
  t.is(r.workerDeaths, 0, 'a worker ended by the watchdog is not a death');
  t.true(r.executions > 0, 'the replacement ran the other actors');
});

/** A clock for main() that runs 20 times fast: the 30 s step deadline is about 1.5 s here, still far
 *  longer than any healthy step. Nothing asserts how long anything took. */
const fastClock = () => ({
  now: () => performance.now() * 20,
  setTimer: (ms: number, fn: () => void) => { const h = setTimeout(fn, Math.ceil(ms / 20)); return () => clearTimeout(h); },
});

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../fuzz/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), () => {}, { clock: fastClock() });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const spinToken = async () => (await import('../src/explore/token.js')).encodeToken({
  spec: { arch: 'x86-ipi', era: 'v6.6', variants: [], actors: [{ actor: 'spinner', args: {} }, { actor: 'fault', args: {} }] },
  schedule: { preemptions: [], choices: [] },
});

test('--replay of a token whose actor never yields: an internal error naming it, exit 3, no hang', async (t) => {
  const r = await cli(['--load', spinner, '--replay', await spinToken()]);
  t.is(r.code, 3, r.out + r.err);
  t.is(r.err, "mmfuzz: internal error (a bug in mmfuzz or its module, not a race) in spinner on x86-ipi: actor 'spinner' did not return from a step within 30 s: it loops without yielding");
});

test('the corpus replay at start-up names an entry that hangs, and the campaign goes on', async (t) => {
  const { writeEntry } = await import('../fuzz/corpus.js');
  const corpus = join(mkdtempSync(join(tmpdir(), 'mmfuzz-watch-c-')), 'corpus');
  writeEntry(corpus, { version: 1, key: 'x|x86-ipi|fault,spinner', kind: 'leak', arch: 'x86-ipi', actors: ['spinner', 'fault'], token: await spinToken(), shrunk: true });
  const r = await cli(['--load', spinner, '--actors', 'fault,munmap', '--runs', '200', '--workers', '1', '--corpus', corpus]);
  t.is(r.code, 0, r.err);
  t.regex(r.err, /corpus .*: 1 entry: 0 still fail, 0 fixed now, 1 hang/);
  t.regex(r.err, /mmfuzz: internal error \(a bug in mmfuzz or its module, not a race\): corpus entry x\|x86-ipi\|fault,spinner: actor 'spinner' did not return from a step within 30 s/);
  t.regex(r.out, /^200 executions in /m);
});

test('a --runs campaign through main with an actor that never yields ends, names it, and exits 3', async (t) => {
  const r = await cli(['--load', spinner, '--actors', 'spinner,fault', '--runs', '300', '--workers', '1', '--quiet', '--corpus', join(dir, 'c2')]);
  t.is(r.code, 3, r.out + r.err);
  t.regex(r.err, /internal error .* in spinner on \S+: actor 'spinner' did not return from a step within 30 s: it loops without yielding \(left out of the rest of the campaign\)/);
});
