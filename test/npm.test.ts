// A command that fits npm habits: `npx mmfuzz` from a project that installs the packed package,
// `mmfuzz --version`, the command line through util.parseArgs (--flag=value, a clear error for an
// unknown option), every option in one table, and the default corpus in the project that runs it.

import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main, version } from '../fuzz/main.js';
import { HELP, OPTION_TABLE, parseOptions, UsageError } from '../fuzz/options.js';

const run = promisify(execFile);
const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; scripts: Record<string, string> };
const tmp = () => mkdtempSync(join(tmpdir(), 'mmfuzz-npm-'));

async function cli(argv: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), () => {}, cwd ? { cwd } : {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('npm pack gives a package that installs in another project, where npx mmfuzz runs', async (t) => {
  t.timeout(110_000);
  const dir = tmp();
  // dist/ is built by npm test already: pack it as it is (prepack would rebuild it under the other tests).
  await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: root });
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) return t.fail('npm pack made no tarball');
  const proj = join(dir, 'proj');
  await run('mkdir', [proj]);
  writeFileSync(join(proj, 'package.json'), '{ "name": "a-kernel-tool", "private": true }\n');
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(dir, tgz)], { cwd: proj });
  const v = await run('npx', ['--no-install', 'mmfuzz', '--version'], { cwd: proj });
  t.is(v.stdout.trim(), pkg.version);
  // The same bin, without npx's own start-up: it runs from node_modules/.bin (a symlink to main.js).
  const bin = join(proj, 'node_modules', '.bin', 'mmfuzz');
  const list = await run(bin, ['--list'], { cwd: proj });
  t.regex(list.stdout, /^actor +gup_fast /m);
  const bad = await run(bin, ['--frobnicate'], { cwd: proj }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.is(bad?.code, 2);
  t.is(bad?.stderr.trim(), "mmfuzz: unknown option '--frobnicate': accepted are the options --help lists");
  // The property, from the project's own suite: mmfuzz/arbitraries resolves through the
  // package's exports, fast-check comes with it, and the failure is the trace and its token.
  writeFileSync(join(proj, 'v2.mjs'), readFileSync(join(root, 'examples/property-v2.mjs'), 'utf8'));
  const prop = await run('node', ['v2.mjs'], { cwd: proj }).then(() => null, (e: { code: number; stderr: string }) => e);
  t.is(prop?.code, 1);
  t.regex(prop?.stderr ?? '', /table-use-after-free[\s\S]*CPU 0: gup_fast[\s\S]*replay: npm run fuzz -- --replay mmfz1:/);
  const files = (await run('tar', ['tzf', join(dir, tgz)])).stdout.split('\n');
  t.true(files.includes('package/dist/fuzz/main.js') && files.includes('package/dist/fuzz/worker.js') && files.includes('package/dist/src/index.js'));
  t.true(files.includes('package/dist/src/arbitraries/index.js') && files.includes('package/dist/src/arbitraries/index.d.ts'));
  t.false(files.some((f) => f.startsWith('package/dist/test/') || f.endsWith('.map')), 'no tests, no source maps');
});

test('the bin is the command line itself, and npm run fuzz still runs it', (t) => {
  t.deepEqual(pkg.bin, { mmfuzz: 'dist/fuzz/main.js' });
  t.true(readFileSync(join(root, 'dist/fuzz/main.js'), 'utf8').startsWith('#!/usr/bin/env node\n'));
  t.regex(pkg.scripts['fuzz'] ?? '', /node dist\/fuzz\/main\.js$/);
});

test('--version prints the version in package.json', async (t) => {
  const r = await cli(['--version']);
  t.is(r.code, 0);
  t.is(r.out, pkg.version);
  t.is(version(), pkg.version);
});

test('util.parseArgs: --flag=value is --flag value; a flag with an optional value; one line for an unknown option, a missing value, a value for a flag', (t) => {
  const a = parseOptions(['--seed=5', '--arch=x86-ipi', '--runs', '10'], 4);
  const b = parseOptions(['--seed', '5', '--arch', 'x86-ipi', '--runs=10'], 4);
  t.deepEqual(a, b);
  t.is(a.seed, 5);
  t.is(parseOptions(['--strategy', 'exhaustive', '--enumerate-choices', '--runs', '3'], 4).enumerateChoices, Infinity);
  t.is(parseOptions(['--strategy', 'exhaustive', '--enumerate-choices=2'], 4).enumerateChoices, 2);
  t.true(parseOptions(['--stop-on-failure'], 4).stopOnFailure);
  t.is(parseOptions(['--junit', 'r.xml', '--html=t.html'], 4).junit, 'r.xml');
  const said = (argv: string[]) => t.throws(() => parseOptions(argv, 4), { instanceOf: UsageError })?.message;
  t.is(said(['--frobnicate=3']), "unknown option '--frobnicate': accepted are the options --help lists");
  t.is(said(['-s', '5']), "unknown option '-s': accepted are the options --help lists");
  t.is(said(['--junit']), '--junit needs a value: a file to write');
  t.is(said(['--stop-on-failure=yes']), '--stop-on-failure takes no value');
  t.is(said(['--runs', '-3']), "--runs '-3': accepted are whole numbers from 1 to 1000000000000");
  t.is(said(['--html', 'a.html', '--html', 'b.html']), '--html is given twice: give it once, with a comma-separated list where it takes one');
  t.is(said(['--', '--quiet']), "unexpected argument '--': options start with -- (see --help)");
});

test('every option is one line of one table: util.parseArgs accepts it and --help lists it', (t) => {
  for (const [flag, o] of Object.entries(OPTION_TABLE)) {
    t.regex(HELP, new RegExp(`^  --${flag}\\b`, 'm'), `--help lists --${flag}`);
    t.true(HELP.includes(o.help.split('\n')[0]!), `--help says what --${flag} does`);
    const argv = o.type === 'boolean' ? [`--${flag}`] : [`--${flag}=x`];
    const e = (() => { try { parseOptions(argv, 4); return ''; } catch (err) { return err instanceof Error ? err.message : String(err); } })();
    t.false(e.startsWith('unknown option'), `--${flag} is known: ${e}`);
  }
});

test('the default corpus is .mmfuzz/corpus in the folder that runs the campaign', async (t) => {
  t.timeout(110_000);
  const proj = tmp();
  const r = await cli(['--variant', 'V2', '--arch', 'rcu-table-free', '--actors', 'gup_fast,collapse_file', '--runs', '3000', '--workers', '1', '--seed', '3', '--stop-on-failure', '--quiet'], proj);
  t.is(r.code, 1, r.err);
  t.regex(r.out, new RegExp(`failures saved in ${proj}/\\.mmfuzz/corpus$`, 'm'));
  t.true(existsSync(join(proj, '.mmfuzz', 'corpus')) && readdirSync(join(proj, '.mmfuzz', 'corpus')).some((f) => f.endsWith('.json')));
  t.regex(readFileSync(join(root, '.gitignore'), 'utf8'), /^\.mmfuzz\/$/m, 'this project ignores its own');
  t.regex(readFileSync(join(root, 'README.md'), 'utf8'), /\.mmfuzz\/.*\.gitignore|\.gitignore.*\.mmfuzz\//, 'the README tells users to ignore it');
});
