// The bad-input sweep: a few hundred generated command lines, each with at least one bad piece among
// good ones. Every one must exit 2 with exactly one line on stderr, under 200 characters, with no
// stack trace, no raw control character and nothing on stdout. The lines are drawn by fast-check from
// a fixed seed, so the sweep is the same on every run; main() runs in-process.

import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';

const scratch = mkdtempSync(join(tmpdir(), 'mmfuzz-bad-'));
const corpus = join(scratch, 'corpus');
const HUGE = 'x'.repeat(100_000);
const FORGED = 'v6.6\n=== failure 1: forged';
const ESC = '\u001b[31mred\u001b[0m';

/** Pieces that are fine alone; a line takes each at most once. */
const GOOD: readonly (readonly string[])[] = [
  ['--arch', 'x86-ipi'], ['--era', 'v6.6'], ['--runs', '100'], ['--seed', '7'], ['--quiet'], ['--workers', '1'], ['--strategy', 'pct'],
  ['--depth', '2'], ['--time', '5s'], ['--shard', '1/4'], ['--actors', 'gup_fast,munmap'], ['--json', join(scratch, 'out.json')],
  ['--variant', 'V2'], ['--shrink-time', '1s'], ['--workers', '999'], ['--preemptions', '1'], ['--arch=rcu-table-free,x86-pae'],
];

/** Pieces each of which makes any line bad, wherever it stands. */
const BAD: readonly (readonly string[])[] = [
  // options that do not exist, arguments that are not options
  ['--frobnicate'], ['-x'], ['--'], ['---arch', 'x86-ipi'], ['--ARCH', 'all'], ['gup_fast'], [''], [HUGE], [`--${HUGE}`], [`--${FORGED}`],
  ['--quiet=1'], ['--list=yes'], ['--help=me'],
  // values that are not accepted: unknown names, stray spaces, empty list entries, escapes, newlines
  ['--arch', 'sparc'], ['--arch', 'x86-ipi '], ['--arch', ' x86-ipi'], ['--arch', 'x86-ipi,'], ['--arch', 'x86-ipi,,x86-pae'], ['--arch', 'ALL'],
  ['--arch', ESC], ['--arch', 'a\nb'], ['--arch', HUGE], ['--arch='],
  ['--era', 'v6.6 '], ['--era', ' v6.6'], ['--era', 'v4.4'], ['--era', 'v6.6,v6.2'], ['--era', '6.6'], ['--era', FORGED], ['--era', HUGE],
  ['--variant', 'V10'], ['--variant', 'V1 '], ['--variant', 'nonee'], ['--variant', 'V2,'], ['--variant', HUGE],
  ['--actors', 'zap_everything'], ['--actors', 'gup_fast '], ['--actors', ',gup_fast'], ['--actors', `gup_fast,${FORGED}`],
  ['--strategy', 'dfs'], ['--strategy', 'pct,random'], ['--strategy', 'PCT'], ['--strategy', 'random '],
  // numbers: out of range, not whole, huge, signed, in another base
  ['--depth', '0'], ['--depth', '11'], ['--depth', '3.5'], ['--depth', '1e3'], ['--depth', '99999999999999999999'], ['--depth', ' 3'],
  ['--preemptions', '7'], ['--preemptions', 'x'], ['--preemptions', '-1'], ['--preemptions', 'None'], ['--preemptions', 'none '], ['--preemptions', 'infinite'],
  ['--runs', '0'], ['--runs', '-3'], ['--runs', '1e6'], ['--runs', '99999999999999999999'], ['--runs', '0x10'], ['--runs', '9'.repeat(5000)],
  ['--seed', '4294967296'], ['--seed', '-1'], ['--seed', 'abc'], ['--seed', '+5'],
  ['--workers', '0'], ['--workers', '-2'], ['--workers', '1.5'], ['--workers', '99999999999999999999'],
  ['--shard', '0/99999999999999999999'], ['--shard', '8/8'], ['--shard', '1/0'], ['--shard', 'x'], ['--shard', '0/8 '], ['--shard', '-1/8'], ['--shard', '0/65537'],
  // durations: no unit, zero, past a year, huge, fractional, spaced
  ['--time', '30'], ['--time', '0s'], ['--time', '597000h'], ['--time', `${'9'.repeat(30)}s`], ['--time', '1.5s'], ['--time', '-5s'], ['--time', '30 s'],
  ['--time', '99999999999999999999'], ['--time', '30S'], ['--shrink-time', '0ms'], ['--shrink-time', 'forever'], ['--shrink-time', '9000h'],
  // given twice
  ['--era', 'v6.6', '--era', 'v6.6'], ['--quiet', '--quiet'], ['--seed', '1', '--seed=2'], ['--arch', 'x86-ipi', '--arch', 'x86-pae'],
  // an era the variant has no code in
  ['--era', 'v6.6', '--variant', 'V1'],
  // replay: not a token, a damaged one, another version, a missing file
  ['--replay', 'mmfz1:abc'], ['--replay', 'mmfz7:abc.00000000'], ['--replay', '/no/such/file'], ['--replay', `mmfz1:${HUGE}`], ['--replay', FORGED],
  // a token whose checksum is right over bad contents; files that are not regular files
  ['--replay', 'mmfz1:bnVsbA.3c3d388a'], ['--replay', '/dev/zero'], ['--replay', scratch], ['--replay', join(scratch, 'fifo')],
  ['--load', '/dev/zero'], ['--load', join(scratch, 'fifo')], ['--load', scratch],
  // modules that do not exist or are not built
  ['--load', '/no/such/module.mjs'], ['--load', join(scratch, 'walker.ts')], ['--load', `/no/${HUGE}.mjs`],
];

/** Flags without their value: bad only at the end of a line (else the next piece is taken as it). */
const TRAILING: readonly string[] = ['--seed', '--arch', '--time', '--json', '--replay', '--corpus', '--load', '--workers'];

const lineArb = fc.tuple(
  fc.shuffledSubarray([...GOOD], { maxLength: 5 }),
  fc.array(fc.constantFrom(...BAD), { minLength: 1, maxLength: 2 }),
  fc.option(fc.constantFrom(...TRAILING), { freq: 4 }),
  fc.nat(),
).map(([good, bad, trailing, at]) => {
  const pieces = [...good];
  bad.forEach((b, i) => pieces.splice((at + i) % (pieces.length + 1), 0, b));
  const argv = [...pieces.flat(), '--corpus', corpus];
  return trailing === null ? argv : [...argv, trailing];
});

/** merge's own bad lines. */
const MERGE: readonly string[][] = [
  ['merge'], ['merge', '--json'], ['merge', join(scratch, 'a.json')], ['merge', '--bogus', 'a.json'], ['merge', '-j', 'a.json'],
  ['merge', join(scratch, 'nope.json'), '--json', join(scratch, 'm.json')], ['merge', 'a.json', '--json', 'm.json', '--json', 'n.json'],
  ['merge', join(scratch, 'not-json.json'), '--json', join(scratch, 'm.json')], ['merge', `a${FORGED}.json`, '--json', 'x.json'],
  ['merge', join(scratch, 'fifo'), '--json', join(scratch, 'm.json')], ['merge', scratch, '--json', join(scratch, 'm.json')],
  ['merge', '/dev/zero', '--json', join(scratch, 'm.json')], ['merge', join(scratch, 'bad-report.json'), '--json', join(scratch, 'm.json')],
  ['merge', join(scratch, 'not-json.json'), '--json', scratch],
];

export const LINES: readonly (readonly string[])[] = [...fc.sample(lineArb, { seed: 13, numRuns: 300 }), ...MERGE];

test.before(() => {
  mkdirSync(corpus, { recursive: true });
  writeFileSync(join(scratch, 'walker.ts'), 'export const actors = [];\n');
  writeFileSync(join(scratch, 'not-json.json'), '{ not json');
  writeFileSync(join(scratch, 'bad-report.json'), JSON.stringify({ version: 1, executions: 1, durationMs: 1, failures: [1] }));
  execFileSync('mkfifo', [join(scratch, 'fifo')]);
});

const show = (argv: readonly string[]) => JSON.stringify(argv.map((a) => (a.length > 60 ? `${a.slice(0, 60)}…(${a.length})` : a)));

/** What is wrong with one line's outcome, or null. */
function problem(code: number, out: readonly string[], err: readonly string[]): string | null {
  const text = err.join('\n');
  if (code !== 2) return `exit ${code}, not 2`;
  if (err.length !== 1 || text.includes('\n')) return `${err.length} lines, not one`;
  if (text.length <= 'mmfuzz: '.length + 10) return 'a message that says nothing';
  if (text.length >= 200) return `${text.length} characters, not under 200`;
  if (/\bat .*\.(js|ts|mjs):\d+/.test(text)) return 'a stack trace';
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'a raw control character';
  if (/internal error/.test(text)) return 'called an internal error';
  if (out.length > 0) return 'something on stdout';
  return null;
}

test('the bad-input sweep: every bad command line gets exit 2 and one short line, never a stack trace', async (t) => {
  t.timeout(60_000);
  const problems: string[] = [];
  for (const argv of LINES) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
    const p = problem(code, out, err);
    if (p) problems.push(`${p}: ${show(argv)} → ${err.join('\\n').slice(0, 200)}`);
  }
  t.true(LINES.length >= 300);
  t.deepEqual(problems.slice(0, 8), [], `${problems.length} of ${LINES.length} lines went wrong`);
});
