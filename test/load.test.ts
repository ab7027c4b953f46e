// User modules through the command line (--load), as a developer checking a patch uses them: the
// examples fuzzed with a fixed seed, and every way a module can be bad.

import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { main } from '../fuzz/main.js';
import { frozenShrink } from './helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const wrongPatch = join(root, 'examples/pmd-peek-walker.mjs');
const fixedPatch = join(root, 'examples/pmd-walker-fixed.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'mmfuzz-load-'));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main([...argv, '--corpus', join(scratch, 'corpus')], (l) => out.push(l), (l) => err.push(l), () => {}, frozenShrink);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const fuzz = ['--arch', 'rcu-table-free', '--strategy', 'pct', '--runs', '20000', '--seed', '4', '--shrink-time', '120s', '--quiet'];

test('the wrong patch (examples/pmd-peek-walker.mjs) is found: a table freed under its walk', async (t) => {
  const r = await cli('--load', wrongPatch, '--actors', 'pmd_peek_walker,collapse_file', ...fuzz);
  t.is(r.code, 1, r.err);
  // The actors in the order the campaign drew them: either.
  t.regex(r.out, /=== failure 1: table-use-after-free: (pmd_peek_walker vs collapse_file|collapse_file vs pmd_peek_walker) on rcu-table-free/);
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

test('a token that needs a world from a module says which, when its module is not loaded; one in a shipped world replays', async (t) => {
  const { encodeToken } = await import('../src/explore/token.js');
  const spec = { arch: 'x86-ipi', era: 'v6.6', variants: [], actors: [{ actor: 'fault', args: {}, mm: 1 }] };
  const missing = await cli('--replay', encodeToken({ spec: { ...spec, world: 'three-mms' }, schedule: { preemptions: [], choices: [] } }));
  t.is(missing.code, 2);
  t.is(missing.err, "mmfuzz: the token needs world 'three-mms', which is not built in: load the module that defines it with --load FILE");
  const shipped = await cli('--replay', encodeToken({ spec: { ...spec, world: 'shared-file' }, schedule: { preemptions: [], choices: [] } }));
  t.is(shipped.code, 0, shipped.err);
});

function module(name: string, text: string): string {
  const f = join(scratch, name);
  writeFileSync(f, text);
  return f;
}

const actorText = (name: string, extra = '') => `export const actors = [{ name: '${name}', summary: 's', follows: 'f', inMm: true, daemon: 'no', params: [], *run() {} ${extra}}];\n`;

const BAD: readonly [string, () => string, RegExp][] = [
  ['throws on import', () => module('throws.mjs', "throw new Error('cannot open /dev/kmsg');\n"), /throws\.mjs': the module failed to load: cannot open \/dev\/kmsg/],
  ['exports nothing', () => module('empty.mjs', 'export const version = 1;\n'), /empty\.mjs': the module exports no actors, variants, arches or worlds \(export const actors = \[ \.\.\. \]\)/],
  ['takes a built-in name', () => module('dup-builtin.mjs', actorText('fault')), /dup-builtin\.mjs': actor 'fault' is already defined \(by mmfuzz\)/],
  ['takes a loaded name', () => module('dup-user.mjs', actorText('pmd_peek_walker')), /dup-user\.mjs': actor 'pmd_peek_walker' is already defined \(by .*pmd-peek-walker\.mjs\)/],
  ['lacks run', () => module('norun.mjs', "export const actors = [{ name: 'x', summary: 's', follows: 'f', inMm: true, daemon: 'no', params: [] }];\n"), /norun\.mjs': an actor 'x' lacks 'run' \(a generator function\)/],
  ['has a bad param', () => module('badparam.mjs', actorText('y').replace('params: []', "params: [{ name: 'addr', min: 3, max: 1, default: 2 }]")), /badparam\.mjs': an actor 'y' has a bad param/],
  ['is TypeScript', () => module('walker.ts', 'export const actors = [];\n'), /walker\.ts': a TypeScript module must be built to JavaScript first/],
  ['does not exist', () => join(scratch, 'nowhere.mjs'), /nowhere\.mjs': no such file/],
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

// A module that registers a variant switch (tested by its own actor) and an architecture.
const api = new URL('../src/index.js', import.meta.url).href;
const switched = module('switched.mjs', `
import { down_read, has, mmap_read_unlock_step, pmd_off_present, pmd_read, pmd_table, pmdAddr, pte_lockptr, pte_offset_map_lock, pte_read, pte_unmap_unlock, spin_lock_ptl, spin_unlock, step } from '${api}';
export const variants = [{ id: 'walker-skips-rcu', summary: 'the walker reads *pmd itself instead of pte_offset_map_lock()' }];
export const arches = [{ id: 'pae-rcu', flush: 'broadcast', tableFree: 'rcu', syncOneIpi: true, pae: true, description: 'PAE entries, RCU table freeing' }];
export const actors = [{
  name: 'switched_walker', summary: 'walks pmd 2; the switch makes it skip RCU', follows: '(test) mincore_pte_range(), v6.6',
  inMm: true, daemon: 'no', params: [],
  *run(c) {
    yield* down_read(c, c.mm.mmap_lock);
    if (has(c.m.sw, 'walker-skips-rcu')) {
      const v = yield* pmd_read(c, pmd_off_present(c, pmdAddr(2)), 'pmdval = *pmd');
      if (v.entry.t === 'table') { const t = pmd_table(c, v); yield* spin_lock_ptl(c, t); pte_read(c, t, 0); spin_unlock(c, pte_lockptr(c.m, t)); yield step('walk'); }
    } else {
      const t = yield* pte_offset_map_lock(c, pmd_off_present(c, pmdAddr(2)));
      if (t) { pte_read(c, t, 0); pte_unmap_unlock(c, t); yield step('walk'); }
    }
    yield* mmap_read_unlock_step(c, 'done');
  },
}];
`);

test('a module registers a variant switch and an architecture: --list shows them, --variant and --arch take them', async (t) => {
  const list = await cli('--load', switched, '--list');
  t.regex(list.out, /variant  walker-skips-rcu +the walker reads/);
  t.regex(list.out, /arch     pae-rcu +PAE entries, RCU table freeing/);
  const on = await cli('--load', switched, '--variant', 'walker-skips-rcu', '--arch', 'pae-rcu', '--actors', 'switched_walker,collapse_file', ...fuzz.filter((a) => a !== 'rcu-table-free' && a !== '--arch'));
  t.is(on.code, 1, on.err);
  t.regex(on.out, /needs walker-skips-rcu\): .* on pae-rcu/);
  const token = /--replay (mmfz1:\S+)/.exec(on.out)![1]!;
  t.is((await cli('--load', switched, '--replay', token)).code, 1);
  t.is((await cli('--load', switched, '--replay', token, '--variant', 'none')).code, 0, 'the token, with the switch off, runs clean');
  const off = await cli('--load', switched, '--arch', 'pae-rcu', '--actors', 'switched_walker,collapse_file', '--strategy', 'pct', '--runs', '10000', '--quiet');
  t.is(off.code, 0, off.out);
});

test('the built-in actors stay clean on a registered architecture (v6.6)', async (t) => {
  // Only the built-in ones: this process has loaded the examples' wrong patch too (and, since the
  // workers load every module the process has, that walker would race).
  const builtIn = (await import('../src/mm/actors/index.js')).ACTORS.filter((a) => !a.eras || a.eras.includes('v6.6')).map((a) => a.name).join(',');
  const r = await cli('--load', switched, '--arch', 'pae-rcu', '--actors', builtIn, '--runs', '4000', '--quiet');
  t.is(r.code, 0, r.out + r.err);
});

test('a token that needs a registered variant or architecture says which, when its module is not loaded', async (t) => {
  const { encodeToken } = await import('../src/explore/token.js');
  const v = encodeToken({ spec: { arch: 'x86-ipi', era: 'v6.6', variants: ['walker-skips-rcu'], actors: [{ actor: 'collapse_file', args: {} }] }, schedule: { preemptions: [], choices: [] } });
  const a = encodeToken({ spec: { arch: 'sparc-tso', era: 'v6.6', variants: [], actors: [{ actor: 'collapse_file', args: {} }] }, schedule: { preemptions: [], choices: [] } });
  t.regex((await cli('--replay', v)).err, /needs variant 'walker-skips-rcu', which is not built in: load the module/);
  t.regex((await cli('--replay', a)).err, /needs architecture 'sparc-tso', which is not built in: load the module/);
});

const BAD_DEFS: readonly [string, string, RegExp][] = [
  ['a variant without a summary', "export const variants = [{ id: 'v-x' }];", /variant 'v-x' lacks 'summary'/],
  ['a variant with a built-in id', "export const variants = [{ id: 'retract-no-exit-test', summary: 's' }];", /variant 'retract-no-exit-test' is already defined \(by mmfuzz\)/],
  ['a variant in no era', "export const variants = [{ id: 'v-y', summary: 's', eras: ['v4.4'] }];", /variant 'v-y' has bad 'eras': accepted are v5.8, v5.10, v6.2, v6.6/],
  ['an architecture with no flush', "export const arches = [{ id: 'a-x', tableFree: 'rcu', syncOneIpi: true, pae: false, description: 'd' }];", /architecture 'a-x' has no 'flush' \('ipi', 'broadcast' or 'hypercall'\)/],
  ['an architecture with a built-in id', "export const arches = [{ id: 'x86-ipi', flush: 'ipi', tableFree: 'after-flush', syncOneIpi: false, pae: false, description: 'd' }];", /architecture 'x86-ipi' is already defined \(by mmfuzz\)/],
];

for (const [what, text, why] of BAD_DEFS) {
  test(`a module with ${what}: one line naming the file, exit 2`, async (t) => {
    const file = module(`bad-${what.replace(/\W+/g, '-')}.mjs`, `${text}\n`);
    const r = await cli('--load', file, '--list');
    t.is(r.code, 2, r.out);
    t.regex(r.err, new RegExp(`${basename(file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}': ${why.source}`));
  });
}
