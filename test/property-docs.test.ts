// docs/property-tests.md cannot rot: each file it shows is the file in examples/; the fast-check
// example, run as a user runs it (node, importing mmfuzz/arbitraries), fails with the trace and token
// the doc shows; and the @fast-check/ava example runs here, as one of this file's tests.

import test from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
// The @fast-check/ava example registers its property as a test of this file (the path is the one
// from dist/test/, where this runs; the compiler, resolving from test/, cannot find it).
// @ts-expect-error: a plain JS example, with no types, outside the compiled tree
import '../../examples/property-ava.mjs';

const root = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs/property-tests.md'), 'utf8');
const run = promisify(execFile);

/** The code block right after each marker `<!-- tag: arg -->`. */
function blocks(tag: string): { arg: string; code: string }[] {
  const out: { arg: string; code: string }[] = [];
  const re = /<!-- (\w+):? ?(.*?) -->\n```\w*\n([\s\S]*?)\n```/g;
  for (let m = re.exec(doc); m; m = re.exec(doc)) if (m[1] === tag) out.push({ arg: m[2]!, code: m[3]! });
  return out;
}

test('every file the doc shows is the file in examples/', (t) => {
  const files = blocks('file');
  t.deepEqual(files.map((f) => f.arg), ['examples/property-v2.mjs', 'examples/property-ava.mjs']);
  for (const f of files) t.is(f.code, readFileSync(join(root, f.arg), 'utf8').replace(/\n$/, ''), f.arg);
});

test('the fast-check example fails as the doc shows: the kernel-style trace, and a token that replays it', async (t) => {
  t.timeout(110_000);
  const r = await run('node', [join(root, 'examples/property-v2.mjs')], { cwd: root }).then(() => null, (e: { code: number; stderr: string }) => e);
  if (!r) return t.fail('the property held');
  t.is(r.code, 1);
  const shown = blocks('output')[0]?.code.split('\n').filter((l) => l.trim() !== '' && !l.includes('…')) ?? [];
  t.true(shown.length >= 4);
  for (const line of shown) t.true(r.stderr.includes(line), `the doc shows a line the example does not print: ${line}\n${r.stderr}`);
  const token = /--replay (mmfz\d:\S+)/.exec(r.stderr)?.[1];
  if (!token) return t.fail('no token');
  const d = decodeToken(token);
  t.is(execute(buildScenario(d.spec), follow(d.schedule)).violation?.kind, 'table-use-after-free');
});

