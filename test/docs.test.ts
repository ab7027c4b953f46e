// docs/writing-actors.md cannot rot: each file it shows must be the file in examples/, each command
// it runs must exit as it says, and the trace it shows must be the one the command prints.

import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';
import { frozenShrink } from './helpers.js';

const root = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/writing-actors.md'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'mmfuzz-docs-'));

/** The code block right after each marker `<!-- tag -->`. */
function blocks(tag: RegExp): { arg: string; code: string }[] {
  const out: { arg: string; code: string }[] = [];
  const re = /<!-- (\w+):? ?(.*?) -->\n```\w*\n([\s\S]*?)\n```/g;
  for (let m = re.exec(doc); m; m = re.exec(doc)) if (tag.test(m[1]!)) out.push({ arg: m[2]!, code: m[3]! });
  return out;
}

async function run(command: string): Promise<{ code: number; out: string }> {
  // Quotes group an argument (--actors 'kvm(addr=0),munmap'); each examples/ path, also in a comma list
  // (--load examples/a.mjs,examples/b.mjs), is taken from the checkout.
  const words = command.replace(/^npm run fuzz -- /, '').match(/'[^']*'|\S+/g) ?? [];
  const argv = words.map((w) => w.replace(/^'(.*)'$/, '$1').split(',').map((a) => (a.startsWith('examples/') ? join(root, a) : a)).join(','));
  const out: string[] = [];
  const code = await main([...argv, '--corpus', join(scratch, 'corpus')], (l) => out.push(l), () => {}, () => {}, frozenShrink);
  return { code, out: out.join('\n') };
}

test('every file the doc shows is the file in examples/', (t) => {
  const files = blocks(/^file$/);
  t.true(files.length >= 2);
  for (const f of files) t.is(f.code, readFileSync(join(root, f.arg), 'utf8').replace(/\n$/, ''), f.arg);
});

const marked = blocks(/^(run|output)$/);
const runs = marked.flatMap((b, i) => (b.arg.startsWith('exit') ? [{ ...b, shown: marked[i + 1]?.arg === '' ? marked[i + 1]?.code : undefined }] : []));

test('the doc runs commands, and shows what some of them print', (t) => {
  t.true(runs.length >= 4 && runs.some((r) => r.shown));
});

// One test per command, run one at a time (they share the registries that --load fills), so that each
// has the whole of ava's timeout and a failure names its command.
for (const r of runs) {
  test.serial(`the doc's command exits as it says, and prints what it shows: ${r.code.trim().replace(/^npm run fuzz -- /, '')}`, async (t) => {
    const expect = Number(/exit (\d)/.exec(r.arg)?.[1]);
    const res = await run(r.code.trim());
    t.is(res.code, expect, `${r.code}\n${res.out}`);
    if (r.shown) t.true(res.out.includes(r.shown), `the doc's trace is not what\n${r.code}\nprints:\n${res.out}`);
  });
}
