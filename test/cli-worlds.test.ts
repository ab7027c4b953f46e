// The command line and worlds (issue 8): --world, --list, worlds from a module (and in the workers),
// actor arguments given with --actors, strictly parsed and kept fixed.

import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';
import { frozenShrink } from './helpers.js';
import { parseActorCalls, parseOptions } from '../fuzz/options.js';
import { allActors } from '../src/mm/registry.js';

const scratch = mkdtempSync(join(tmpdir(), 'mmfuzz-worlds-'));
const api = new URL('../src/index.js', import.meta.url).href;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--corpus', join(scratch, 'corpus')], (l) => out.push(l), (l) => err.push(l), () => {}, frozenShrink);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function module(name: string, text: string): string {
  const f = join(scratch, name);
  writeFileSync(f, text);
  return f;
}

// A world of its own (the default layout under another name) and an actor that hits a BUG_ON() only
// with k=2, in mm 1 of a world of several mms, or anywhere in the module's world: so that a failure
// says which world and which arguments the workers ran.
const mod = module('mine.mjs', `
import { BUG_ON, DEFAULT_WORLD, step } from '${api}';
export const worlds = [{ ...DEFAULT_WORLD, name: 'mine', summary: 'the default layout, from a module' }];
export const actors = [{
  name: 'bug_if', summary: 'BUG_ON(k == 2) in mm 1, or in world mine', follows: '(test)', inMm: true, daemon: 'no',
  params: [{ name: 'k', min: 0, max: 3, default: 0, doc: 'a number' }, { name: 'j', min: 0, max: 3, default: 0, doc: 'another' }],
  *run(c, args) {
    yield step('look around');
    BUG_ON(c, args.k === 2 && (c.mm.id === 1 || c.m.world.name === 'mine'), 'k == 2');
    yield step('done');
  },
}];
`);

const BAD: readonly [string[], RegExp][] = [
  [['--world', 'shared-file,nowhere'], /^mmfuzz: --world 'nowhere': accepted are default, shared-file, two-pmd-tables, mremap, fork$/],
  [['--actors', 'munmap(vma=1'], /--actors 'munmap\(vma=1': unbalanced parentheses: accepted is NAME or NAME\(ARG=N,\.\.\.\)/],
  [['--actors', 'munmap)('], /unbalanced parentheses/],
  [['--actors', 'munmap(vma)'], /--actors 'munmap\(vma\)': malformed argument 'vma': accepted are vma=0\.\.1, mm=0\.\.0 \(ARG=N, whole numbers\)/],
  [['--actors', 'munmap(vma=-1)'], /malformed argument 'vma=-1'/],
  [['--actors', 'munmap vma=1'], /--actors 'munmap vma=1': malformed: accepted is NAME or NAME\(ARG=N,\.\.\.\)/],
  [['--actors', 'munmap(foo=1)'], /--actors 'munmap\(foo=1\)': munmap has no argument 'foo': accepted are vma=0\.\.1, mm=0\.\.0/],
  [['--actors', 'munmap(vma=7)'], /--actors 'munmap\(vma=7\)': vma=7 is out of range: accepted is vma=0\.\.1/],
  [['--actors', 'munmap(vma=1,vma=0)'], /argument 'vma' given twice/],
  [['--actors', 'fault(addr=5,mm=1)'], /--actors 'fault\(addr=5,mm=1\)': mm=1 is out of range: accepted is mm=0\.\.0 \(the mms of world default/],
  [['--actors', 'fault(mm=1)', '--world', 'shared-file,default'], /mm=1 is out of range: accepted is mm=0\.\.0 \(the mms of world shared-file, default/],
  [['--actors', 'zap_all(x=1)'], /--actors 'zap_all': accepted are collapse_file,/],
  [['--enumerate-choices'], /--enumerate-choices is for --strategy exhaustive/],
  [['--strategy', 'exhaustive', '--actors', 'fault', '--enumerate-choices=0'], /--enumerate-choices '0': accepted are whole numbers from 1 to 16/],
];

for (const [argv, why] of BAD) {
  test(`bad usage ${argv.join(' ')}: one line, exit 2`, async (t) => {
    const r = await cli(...argv);
    t.is(r.code, 2, r.out);
    t.regex(r.err, why);
    t.is(r.err.split('\n').length, 1, 'one line');
  });
}

test('--actors takes arguments and mm=N; what is not given is left to draw', (t) => {
  const calls = parseActorCalls(' munmap(vma=1), collapse_file(slot=2),fault( addr = 5 ,mm=1),gup_fast,mincore()', allActors(), { mms: 2, worlds: ['shared-file'] });
  t.deepEqual(calls, [
    { actor: 'munmap', args: { vma: 1 } },
    { actor: 'collapse_file', args: { slot: 2 } },
    { actor: 'fault', args: { addr: 5 }, mm: 1 },
    { actor: 'gup_fast' },
    { actor: 'mincore' },
  ]);
  t.deepEqual(parseOptions(['--world', 'shared-file', '--actors', 'fault(mm=1)']).actors, [{ actor: 'fault', mm: 1 }]);
  t.deepEqual(parseOptions([]).worlds, ['default']);
  t.deepEqual(parseOptions(['--world', 'two-pmd-tables,shared-file']).worlds, ['two-pmd-tables', 'shared-file']);
  t.is(parseOptions(['--strategy', 'exhaustive', '--enumerate-choices']).enumerateChoices, Infinity);
  t.is(parseOptions(['--strategy', 'exhaustive', '--enumerate-choices=2']).enumerateChoices, 2);
  t.is(parseOptions([]).enumerateChoices, 0);
});

test('--list shows every world with its summary, a line each, and where a loaded one comes from', async (t) => {
  const r = await cli('--list');
  t.is(r.code, 0);
  t.regex(r.out, /^world    default +one mm: /m);
  t.regex(r.out, /^world    shared-file +two mms, /m);
  t.regex(r.out, /^world    two-pmd-tables +one mm: /m);
  const l = await cli('--load', mod, '--list');
  t.true(l.out.includes(`world    mine                     the default layout, from a module (from ${mod})`), l.out);
});

test('exhaustive: arguments and mm given with --actors are the scenario; the trace heads show them', async (t) => {
  const hit = await cli('--load', mod, '--world', 'shared-file', '--strategy', 'exhaustive', '--actors', 'bug_if(k=2,mm=1),bug_if(j=3)', '--preemptions', '0', '--arch', 'x86-ipi', '--quiet');
  t.is(hit.code, 1, hit.out + hit.err);
  t.regex(hit.out, /=== failure 1: kernel-bug: bug_if on x86-ipi in world shared-file/);
  t.regex(hit.out, /x86-ipi, era v6\.6, world shared-file; depth 1/);
  t.regex(hit.out, /^ {6}CPU 0: bug_if\(k=2\) mm1$/m, 'the actor with its argument and its mm');
  const miss = await cli('--load', mod, '--world', 'shared-file', '--strategy', 'exhaustive', '--actors', 'bug_if(k=2,mm=0),bug_if(k=1,mm=1)', '--preemptions', '1', '--arch', 'x86-ipi', '--quiet');
  t.is(miss.code, 0, miss.out);
  t.regex(miss.out, /every schedule within the bound was run/);
});

test('a campaign keeps the arguments given, draws the rest and the mm; shrinking keeps what was given', async (t) => {
  const file = join(scratch, 'pinned.json');
  const r = await cli('--load', mod, '--world', 'shared-file', '--actors', 'bug_if(j=3)', '--runs', '300', '--seed', '2', '--workers', '1', '--arch', 'x86-ipi', '--json', file, '--quiet');
  t.is(r.code, 1, r.out + r.err);
  const rep = JSON.parse(readFileSync(file, 'utf8')) as { options: { actors: string[]; worlds: string[] }; failures: { world: string; traceJson: { actors: { name: string; args: Record<string, number>; mm: number }[] } }[] };
  t.deepEqual(rep.options.actors, ['bug_if(j=3)']);
  t.deepEqual(rep.options.worlds, ['shared-file']);
  const f = rep.failures[0]!;
  t.is(f.world, 'shared-file');
  const bugIf = f.traceJson.actors.filter((a) => a.name.startsWith('bug_if'));
  t.is(bugIf.length, 1, 'shrunk to one actor');
  t.deepEqual(bugIf[0], { cpu: 0, name: 'bug_if', args: { j: 3, k: 2 }, mm: 1 }, 'j=3 was given and kept, k and mm were drawn and needed');
  t.regex(r.out, /CPU 0: bug_if\(k=2,j=3\) mm1/);
});

test('a world from a module reaches the workers: a campaign of two workers runs in it and names it', async (t) => {
  const r = await cli('--load', mod, '--world', 'mine', '--actors', 'bug_if', '--runs', '200', '--seed', '3', '--workers', '2', '--arch', 'x86-ipi', '--quiet');
  t.is(r.code, 1, r.out + r.err);
  t.notRegex(r.err, /died/);
  t.regex(r.out, /kernel-bug: bug_if on x86-ipi in world mine/);
  const token = /--replay (mmfz1:\S+)/.exec(r.out)![1]!;
  t.is((await cli('--load', mod, '--replay', token)).code, 1, 'its token replays with the module loaded');
  // (A token whose world is not loaded: test/load.test.ts; here the module stays loaded in this process.)
});

test('a campaign given several worlds runs in each of them', async (t) => {
  const file = join(scratch, 'several.json');
  // bug_if(k=2) fails in world mine (any mm) and in mm 1 of shared-file: both are found.
  const r = await cli('--load', mod, '--world', 'default,mine,shared-file', '--actors', 'bug_if(k=2)', '--runs', '300', '--seed', '4', '--workers', '1', '--arch', 'x86-ipi', '--json', file, '--quiet');
  t.is(r.code, 1, r.out + r.err);
  const rep = JSON.parse(readFileSync(file, 'utf8')) as { failures: { world: string }[] };
  t.true(rep.failures.length >= 1);
  t.true(rep.failures.every((f) => f.world === 'mine' || f.world === 'shared-file'), 'never in the default world, where it cannot fail');
});

const BAD_WORLDS: readonly [string, string, RegExp][] = [
  ['a world with a bad name', "export const worlds = [{ name: 'Bad World' }];", /a world lacks 'name' \(lower-case letters, digits and -\)/],
  ['a world named as a shipped one', "import { DEFAULT_WORLD } from 'API'; export const worlds = [DEFAULT_WORLD];", /world 'default' is already defined \(by mmfuzz\)/],
  ['a world whose frame 0 is a table', "import { DEFAULT_WORLD } from 'API'; export const worlds = [{ ...DEFAULT_WORLD, name: 'zero', frames: DEFAULT_WORLD.frames.map((f) => f.pfn === 0 ? { ...f, kind: 'data' } : f) }];", /world 'zero': frame 0 must be 'reserved'/],
];

for (const [what, text, why] of BAD_WORLDS) {
  test(`a module with ${what}: one line naming the file, exit 2`, async (t) => {
    const file = module(`bad-${what.replace(/\W+/g, '-')}.mjs`, `${text.replace("'API'", `'${api}'`)}\n`);
    const r = await cli('--load', file, '--list');
    t.is(r.code, 2, r.out);
    t.is(r.err.split('\n').length, 1);
    t.regex(r.err, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'?: ${why.source}`));
  });
}

// Every built-in actor is modelled in every era now (collapse_pte_mapped_thp gained v6.6): an actor of
// a module that names its eras.
const oldOnly = module('old-only.mjs', `
import { step } from '${api}';
export const actors = [{
  name: 'old_walker', summary: 'a walker the v6.6 code no longer has', follows: '(test)', inMm: true, daemon: 'no',
  eras: ['v5.8', 'v5.10', 'v6.2'], params: [],
  *run() { yield step('walk'); },
}];
`);

test('an actor named with --actors that the era lacks is bad usage, not dropped (the campaign would read as clean)', async (t) => {
  const r = await cli('--load', oldOnly, '--era', 'v6.6', '--actors', 'kvm(addr=13),old_walker', '--runs', '10');
  t.is(r.code, 2, r.out + r.err);
  t.regex(r.err, /^mmfuzz: --actors 'old_walker': not modelled in era v6\.6; it is in v5\.8, v5\.10, v6\.2$/);
});
