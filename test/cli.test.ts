// The command line, through main() as `npm run fuzz` runs it: exit codes, one-line errors, list,
// replay, a clean campaign and its JSON report.

import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';
import { encodeToken } from '../src/explore/token.js';
import { frozenShrink } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'mmfuzz-cli-'));

/** Run the command line; campaigns save their corpus in a scratch folder, not the user's cache. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const withCorpus = argv[0] === 'merge' || argv.includes('--corpus') ? argv : [...argv, '--corpus', join(scratch, 'corpus')];
  const code = await main(withCorpus, (l) => out.push(l), (l) => err.push(l), () => {}, frozenShrink);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const V1 = encodeToken({
  spec: { arch: 'x86-ipi', era: 'v5.10', variants: ['retract-no-exit-test'], actors: [{ actor: 'exit_mmap', args: { scanned: 0 } }, { actor: 'collapse_file', args: { slot: 2 } }] },
  schedule: { preemptions: [{ after: 0, steps: 15, to: 1 }], choices: [] },
});

const BAD: readonly [string[], RegExp][] = [
  [['--arch', 'sparc'], /--arch 'sparc': accepted are x86-ipi, rcu-table-free, x86-pae/],
  [['--era', 'v4.4'], /--era 'v4.4': accepted are v5.8, v5.10, v6.2, v6.6/],
  [['--variant', 'V10'], /--variant 'V10': accepted are V1..V9, the ids --list shows, or none/],
  [['--actors', 'zap_everything'], /--actors 'zap_everything': accepted are collapse_file,/],
  [['--strategy', 'dfs'], /--strategy 'dfs': accepted are random, pct, pos, greybox, exhaustive, portfolio/],
  [['--time', '30'], /--time '30': accepted are a whole number with ms, s, m or h/],
  [['--runs', '-3'], /--runs '-3': accepted are whole numbers from 1/],
  [['--depth', '0'], /--depth '0': accepted are whole numbers from 1 to 10/],
  [['--seed'], /--seed needs a value/],
  [['--frobnicate'], /unknown option '--frobnicate'/],
  [['gup_fast'], /unexpected argument 'gup_fast'/],
  [['--era', 'v6.6', '--variant', 'V1'], /variant 'retract-no-exit-test' \(V1\) has no code in era v6.6: it applies to v5.8, v5.10, v6.2/],
  [['--strategy', 'exhaustive'], /--strategy exhaustive needs a fixed scenario/],
  [['--replay', 'mmfz1:abc'], /replay token is truncated/],
  [['--replay', 'mmfz7:abc.00000000'], /format version 7 is not known/],
  [['--ops', '5'], /--ops '5': accepted are whole numbers from 1 to 4/],
  [['--actors', 'fault;fork'], /--actors 'fault;fork': a thread of several operations \(fault, fork\) cannot run 'fork': a fork runs as a thread of its own/],
  [['--actors', 'fault;gup_fast(mm=0)'], /--actors 'fault;gup_fast\(mm=0\)': mm= goes on a thread's first operation/],
  [['--actors', 'fault;;munmap'], /--actors 'fault;;munmap': an empty operation: accepted is NAME or NAME\(ARG=N,...\), a thread's operations joined by ';'/],
  [['--replay', '/no/such/file'], /neither a replay token \(mmfz1:\.\.\. or mmfz2:\.\.\.\) nor a file/],
];

for (const [argv, why] of BAD) {
  test(`bad usage ${argv.join(' ')}: one line, exit 2`, async (t) => {
    const r = await cli(...argv);
    t.is(r.code, 2);
    t.regex(r.err, why);
    t.is(r.err.split('\n').length, 1, 'one line');
    t.notRegex(r.err, /\bat .*\.js:\d+/, 'no stack trace');
  });
}

test('--list names every actor, variant, era and architecture, a line each', async (t) => {
  const r = await cli('--list');
  t.is(r.code, 0);
  for (const w of ['actor    exit_mmap', 'variant  V4 pae-torn-pmd-read', 'era      v6.6', 'arch     rcu-table-free']) t.true(r.out.includes(w), w);
});

test('--replay prints the trace and exits 1 when the violation reproduces', async (t) => {
  const r = await cli('--replay', V1);
  t.is(r.code, 1, r.err);
  t.regex(r.out, /CPU 0: exit_mmap +CPU 1: collapse_file/);
  t.regex(r.out, /frame-zero-walked: took the ptl of physical frame 0/);
  t.is((await cli('--replay', V1)).out, r.out, 'the same trace every time');
});

test('--replay with the switch turned off exits 0 and says so', async (t) => {
  const r = await cli('--replay', V1, '--variant', 'none');
  t.is(r.code, 0, r.err);
  t.regex(r.out, /does not reproduce/);
});

test('--replay --json writes the same trace as JSON', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-'));
  const file = join(dir, 'trace.json');
  t.is((await cli('--replay', V1, '--json', file)).code, 1);
  const j = JSON.parse(readFileSync(file, 'utf8')) as { version: number; depth: number; steps: { actor: string; label: string }[]; violation: { kind: string } };
  t.is(j.version, 1);
  t.is(j.depth, 2);
  t.is(j.violation.kind, 'frame-zero-walked');
  t.is(j.steps[j.steps.length - 1]?.actor, 'exit_mmap');
});

test('--replay reads a token from a file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-'));
  writeFileSync(join(dir, 'bug.txt'), `found this:\n${V1}\n`);
  t.is((await cli('--replay', join(dir, 'bug.txt'))).code, 1);
});

test('a campaign with nothing new exits 0 (known races are reported, not news) and writes the JSON report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-'));
  const file = join(dir, 'report.json');
  const r = await cli('--runs', '3000', '--seed', '5', '--json', file, '--quiet');
  t.is(r.code, 0, r.out + r.err);
  const rep = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  for (const k of ['version', 'options', 'executions', 'execsPerSec', 'durationMs', 'failures']) t.true(k in rep, k);
  t.is(rep['executions'], 3000);
  t.deepEqual((rep['failures'] as { known: string | null }[]).filter((f) => !f.known), [], 'no failure but known races');
});

test('--ops is in the JSON report\'s options (the report says how its programs were drawn)', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'mmfuzz-')), 'report.json');
  const r = await cli('--runs', '200', '--seed', '5', '--ops', '3', '--workers', '1', '--json', file, '--quiet');
  t.true(r.code === 0 || r.code === 1, r.err);
  t.notRegex(r.err, /died/, 'no worker died (a fork drawn into a thread of several operations killed them)');
  t.is((JSON.parse(readFileSync(file, 'utf8')) as { options: { ops: number } }).options.ops, 3);
});

test("--actors writes a thread of several operations with ';': exhaustive search runs it as one thread, and the report gives it back so", async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'mmfuzz-')), 'report.json');
  const r = await cli('--strategy', 'exhaustive', '--actors', 'fault(addr=4);gup_fast(addr=4),munmap(vma=0)', '--preemptions', '1', '--arch', 'x86-ipi', '--json', file, '--quiet');
  t.is(r.code, 0, r.out + r.err);
  t.regex(r.out, /every schedule within the bound was run/);
  const rep = JSON.parse(readFileSync(file, 'utf8')) as { options: { actors: string[] }; executions: number };
  t.deepEqual(rep.options.actors, ['fault(addr=4);gup_fast(addr=4)', 'munmap(vma=0)']);
  // Two threads: more schedules than the two operations' own, fewer than three threads would give.
  const three = await cli('--strategy', 'exhaustive', '--actors', 'fault(addr=4),gup_fast(addr=4),munmap(vma=0)', '--preemptions', '1', '--arch', 'x86-ipi', '--quiet');
  t.true(rep.executions < Number(/(\d+) executions/.exec(three.out)?.[1]), `${rep.executions} vs ${three.out}`);
});

test('a campaign that finds a failure exits 1, and the same seed finds the same token', async (t) => {
  const args = ['--variant', 'V2', '--arch', 'rcu-table-free', '--actors', 'gup_fast,collapse_file', '--runs', '4000', '--seed', '11', '--quiet', '--shrink-time', '120s'];
  const a = await cli(...args);
  t.is(a.code, 1, a.err);
  const token = /replay: npm run fuzz -- --replay (\S+)/.exec(a.out)?.[1];
  t.truthy(token);
  t.is(/replay: npm run fuzz -- --replay (\S+)/.exec((await cli(...args)).out)?.[1], token);
  t.is((await cli('--replay', token!)).code, 1);
});

test('exhaustive search reports its count and whether it covered the bound', async (t) => {
  const r = await cli('--strategy', 'exhaustive', '--actors', 'gup_fast,munmap', '--preemptions', '1', '--arch', 'x86-ipi', '--quiet');
  t.is(r.code, 0, r.out + r.err);
  t.regex(r.out, /\d+ executions .*every schedule within the bound was run/);
});

test('--workers above four per core (or 64) is lowered, with one line that says so', async (t) => {
  const { parseOptions } = await import('../fuzz/options.js');
  const o = parseOptions(['--workers', '256'], 2);
  t.is(o.workers, 8);
  t.deepEqual(o.notes, ['mmfuzz: --workers 256 is more than this machine can use (2 cores): running 8']);
  t.is(parseOptions(['--workers', '100'], 32).workers, 64, 'never more than 64');
  t.deepEqual(parseOptions(['--workers', '3'], 2).notes, []);
  const r = await cli('--workers', '100000', '--runs', '200', '--arch', 'x86-ipi', '--quiet');
  t.is(r.code, 0, r.err);
  t.regex(r.err, /^mmfuzz: --workers 100000 is more than this machine can use \(\d+ cores?\): running \d+$/m);
});

test('a value with a stray space, a repeated option and a huge number are refused', async (t) => {
  for (const [argv, why] of [
    [['--era', 'v6.6 '], /--era 'v6\.6 ': accepted are v5\.8, v5\.10, v6\.2, v6\.6/],
    [['--era', 'v6.6', '--era', 'v6.2'], /--era is given twice: give it once/],
    [['--shard', '0/99999999999999999999'], /--shard '0\/99999999999999999999': accepted is I\/N with 0 <= I < N <= 65536/],
    [['--time', '99999999999999999999h'], /--time '99999999999999999999h': accepted are a whole number with ms, s, m or h/],
    [['--time', '9000h'], /--time '9000h': at most 8760h \(a year\) is accepted/],
    [['--arch', 'x86-ipi\n=== failure 1: forged'], /--arch 'x86-ipi\\n=== failure 1: forged': accepted are/],
  ] as const) {
    const r = await cli(...argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.err, why);
    t.is(r.err.split('\n').length, 1);
  }
});
