// A long campaign that is interrupted keeps every failure it had found: Ctrl-C stops the workers and
// prints the summary; even a kill -9 leaves whole corpus files behind (they are written atomically
// the moment a failure is seen).

import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCorpus } from '../fuzz/corpus.js';

const mainJs = new URL('../fuzz/main.js', import.meta.url).pathname;

function startCampaign(corpus: string) {
  // The pool is V2's actors: this is about interrupting, not about how soon a seed finds V2 among
  // every actor (each new actor changes the seed's stream).
  const actors = 'gup_fast,collapse_file,collapse_pte_mapped_thp,collapse_huge_page,munmap,fault';
  const child = spawn(process.execPath, [mainJs, '--variant', 'V2', '--arch', 'rcu-table-free', '--actors', actors, '--time', '120s', '--workers', '2', '--corpus', corpus, '--seed', '9'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => out };
}

async function firstEntry(dir: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json'))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no failure saved within 60 s');
}

test('Ctrl-C stops the campaign, prints the summary, and keeps every failure', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mmfuzz-int-')), 'corpus');
  const c = startCampaign(dir);
  await firstEntry(dir);
  c.child.kill('SIGINT');
  const code = await c.exited;
  t.is(code, 1, c.out());
  t.regex(c.out(), /executions in [\d.]+ s .*distinct failure/);
  t.true(readCorpus(dir).length >= 1);
});

test('kill -9 loses no failure found so far: the corpus files are whole', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'mmfuzz-kill-')), 'corpus');
  const c = startCampaign(dir);
  await firstEntry(dir);
  c.child.kill('SIGKILL');
  await c.exited;
  const entries = readCorpus(dir);
  t.true(entries.length >= 1);
  t.is(entries.length, readdirSync(dir).filter((f) => f.endsWith('.json')).length, 'every file parses');
  t.true(entries.every((e) => e.token.startsWith('mmfz1:')));
});
