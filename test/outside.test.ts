// An actor file outside the project's folder imports 'mmfuzz' and is run with --load from that
// folder: it has no node_modules/mmfuzz, so the CLI's resolve hook supplies this copy (in every
// worker too).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

test("a module in a temporary folder imports 'mmfuzz' and is fuzzed from there, on two workers", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-outside-'));
  writeFileSync(join(dir, 'walker.mjs'), readFileSync(join(root, 'examples/pmd-peek-walker.mjs'), 'utf8'));
  const r = spawnSync(process.execPath, [join(root, 'dist/fuzz/main.js'), '--load', 'walker.mjs', '--actors', 'pmd_peek_walker,collapse_file',
    '--arch', 'rcu-table-free', '--strategy', 'pct', '--runs', '3000', '--seed', '1', '--workers', '2', '--quiet', '--corpus', join(dir, 'corpus')],
  { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  t.is(r.status, 1, r.stdout + r.stderr);
  t.regex(r.stdout, /table-use-after-free: (pmd_peek_walker vs collapse_file|collapse_file vs pmd_peek_walker)/);
  t.notRegex(r.stderr, /Cannot find package/);
});

test("without the hook's target a bare 'mmfuzz' import would fail there (the test above can fail)", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-outside-'));
  writeFileSync(join(dir, 'plain.mjs'), "import { step } from 'mmfuzz';\nconsole.log(typeof step);\n");
  const r = spawnSync(process.execPath, [join(dir, 'plain.mjs')], { cwd: dir, encoding: 'utf8' });
  t.not(r.status, 0);
  t.regex(r.stderr, /Cannot find package 'mmfuzz'/);
});
