// User modules through the command line (--load), as a developer checking a patch uses them: the
// examples fuzzed with a fixed seed, and every way a module can be bad.

import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';

const root = new URL('../../', import.meta.url).pathname;
const wrongPatch = join(root, 'examples/pmd-peek-walker.mjs');
const fixedPatch = join(root, 'examples/pmd-walker-fixed.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'mmfuzz-load-'));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--corpus', join(scratch, 'corpus')], (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const fuzz = ['--arch', 'rcu-table-free', '--strategy', 'pct', '--runs', '20000', '--seed', '4', '--shrink-time', '120s', '--quiet'];

test('the wrong patch (examples/pmd-peek-walker.mjs) is found: a table freed under its walk', async (t) => {
  const r = await cli('--load', wrongPatch, '--actors', 'pmd_peek_walker,collapse_file', ...fuzz);
  t.is(r.code, 1, r.err);
  t.regex(r.out, /=== failure 1: table-use-after-free: pmd_peek_walker vs collapse_file on rcu-table-free/);
  const token = /--replay (mmfz1:\S+)/.exec(r.out)?.[1];
  t.truthy(token);
  t.is((await cli('--load', wrongPatch, '--replay', token!)).code, 1, 'its token replays with the module loaded');
});

test('the correct alternative (examples/pmd-walker-fixed.mjs) stays clean', async (t) => {
  const r = await cli('--load', fixedPatch, '--actors', 'pmd_walker_fixed,collapse_file', ...fuzz);
  t.is(r.code, 0, r.out + r.err);
  t.regex(r.out, /20000 executions .*: 0 distinct failure/);
});

test('--list shows loaded actors and where they come from', async (t) => {
  const r = await cli('--load', wrongPatch, '--list');
  t.is(r.code, 0);
  t.true(r.out.includes(`actor    pmd_peek_walker`) && r.out.includes(`(from ${wrongPatch})`));
});

test('a token that needs a user actor says which, when its module is not loaded', async (t) => {
  const { encodeToken } = await import('../src/explore/token.js');
  const token = encodeToken({ spec: { arch: 'x86-ipi', era: 'v6.6', variants: [], actors: [{ actor: 'smaps_rollup_walker', args: {} }] }, schedule: { preemptions: [], choices: [] } });
  const r = await cli('--replay', token);
  t.is(r.code, 2);
  t.is(r.err, "mmfuzz: the token needs actor 'smaps_rollup_walker', which is not built in: load the module that defines it with --load FILE");
});

function module(name: string, text: string): string {
  const f = join(scratch, name);
  writeFileSync(f, text);
  return f;
}

const actorText = (name: string, extra = '') => `export const actors = [{ name: '${name}', summary: 's', follows: 'f', inMm: true, daemon: 'no', params: [], *run() {} ${extra}}];\n`;

const BAD: readonly [string, () => string, RegExp][] = [
  ['throws on import', () => module('throws.mjs', "throw new Error('cannot open /dev/kmsg');\n"), /throws\.mjs: the module failed to load: cannot open \/dev\/kmsg/],
  ['exports nothing', () => module('empty.mjs', 'export const version = 1;\n'), /empty\.mjs: the module exports no actors \(export const actors = \[ \.\.\. \]\)/],
  ['takes a built-in name', () => module('dup-builtin.mjs', actorText('fault')), /dup-builtin\.mjs: actor 'fault' is already defined \(by mmfuzz\)/],
  ['takes a loaded name', () => module('dup-user.mjs', actorText('pmd_peek_walker')), /dup-user\.mjs: actor 'pmd_peek_walker' is already defined \(by .*pmd-peek-walker\.mjs\)/],
  ['lacks run', () => module('norun.mjs', "export const actors = [{ name: 'x', summary: 's', follows: 'f', inMm: true, daemon: 'no', params: [] }];\n"), /norun\.mjs: an actor 'x' lacks 'run' \(a generator function\)/],
  ['has a bad param', () => module('badparam.mjs', actorText('y').replace('params: []', "params: [{ name: 'addr', min: 3, max: 1, default: 2 }]")), /badparam\.mjs: an actor 'y' has a bad param/],
  ['is TypeScript', () => module('walker.ts', 'export const actors = [];\n'), /walker\.ts: a TypeScript module must be built to JavaScript first/],
  ['does not exist', () => join(scratch, 'nowhere.mjs'), /nowhere\.mjs: no such file/],
];

for (const [what, make, why] of BAD) {
  test(`a module that ${what}: one line naming the file, exit 2`, async (t) => {
    const file = make();
    const r = await cli('--load', `${wrongPatch},${file}`, '--list');
    t.is(r.code, 2, r.out);
    t.regex(r.err, why);
    t.is(r.err.split('\n').length, 1);
    t.notRegex(r.err, /\bat .*\.(js|mjs):\d+/, 'no stack trace');
  });
}
