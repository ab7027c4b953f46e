// No result lost or hidden: a corpus that can't be written, a campaign in which nothing ran or workers
// died, corpus files that are skipped, and tokens printed for a failure that another worker's
// replaced.

import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Failure } from '../fuzz/campaign.js';
import { readCorpus } from '../fuzz/corpus.js';
import { campaignVerdict, main } from '../fuzz/main.js';
import { keepBest, type Kept } from '../fuzz/pool.js';
import { raceFrom } from '../fuzz/races.js';
import { mergeReports, type Report, type ReportFailure } from '../fuzz/report.js';
import { frozenShrink } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mmfuzz-res-'));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), () => {}, frozenShrink);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const V2 = ['--variant', 'V2', '--arch', 'rcu-table-free', '--actors', 'gup_fast,collapse_file', '--runs', '3000', '--workers', '2', '--seed', '3', '--shrink-time', '120s'];

/** sysfs refuses every new file, even to root (a read-only folder would not stop root). */
const UNWRITABLE = '/sys/mmfuzz-corpus-test';

test('a corpus that cannot be written: the campaign goes on, says so once, and prints every failure with its token', async (t) => {
  const json = join(tmp(), 'r.json');
  const r = await cli([...V2, '--corpus', UNWRITABLE, '--json', json]);
  t.is(r.code, 1, r.err);
  const said = r.err.split('\n').filter((l) => l.includes("can't be written"));
  t.is(said.length, 1, r.err);
  t.regex(said[0]!, /^mmfuzz: the corpus \/sys\/mmfuzz-corpus-test can't be written \(E[A-Z]+\): going on without it/);
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  t.true(report.failures.length > 0);
  for (const f of report.failures) t.true(r.out.includes(`--replay ${f.token}`), `token of ${f.kind} printed`);
  t.regex(r.out, /failures not saved: the corpus \/sys\/mmfuzz-corpus-test can't be written/);
});

test('a current folder whose default corpus (.mmfuzz/corpus) cannot be written is the same: said once, and the campaign goes on', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--runs', '200', '--arch', 'x86-ipi', '--workers', '1', '--quiet'], (l) => out.push(l), (l) => err.push(l), () => {}, { cwd: '/sys' });
  t.is(code, 0, err.join('\n'));
  const said = err.filter((l) => l.includes("can't be written"));
  t.is(said.length, 1, err.join('\n'));
  t.true(said[0]?.startsWith("mmfuzz: the corpus /sys/.mmfuzz/corpus can't be written ("), said[0]);
  t.regex(out.join('\n'), /^200 executions in /m);
});

test('corpus files that are not entries are named, with why, and the campaign goes on', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'junk.json'), '{ not json');
  writeFileSync(join(dir, 'other.json'), '{"version":2}');
  const r = await cli(['--runs', '100', '--arch', 'x86-ipi', '--workers', '1', '--quiet', '--corpus', dir]);
  t.is(r.code, 0, r.err);
  t.regex(r.err, /mmfuzz: corpus .*: skipped junk\.json: it is not valid JSON/);
  t.regex(r.err, /mmfuzz: corpus .*: skipped other\.json: it is not a corpus entry/);
});

test('a campaign in which no execution ran, or a worker died, never reads as clean', (t) => {
  t.deepEqual(campaignVerdict({ executions: 0, failures: [], internalErrors: [] }).code, 3);
  t.regex(campaignVerdict({ executions: 0, failures: [], internalErrors: [] }).lines.join(), /no execution ran/);
  t.is(campaignVerdict({ executions: 100, failures: [], internalErrors: [], workerDeaths: 1 }).code, 3);
  t.regex(campaignVerdict({ executions: 100, failures: [], internalErrors: [], workerDeaths: 1 }).lines.join(), /1 worker death\(s\)/);
  t.is(campaignVerdict({ executions: 100, failures: [{}], internalErrors: [], workerDeaths: 1 }).code, 1, 'a failure found still says 1');
  t.deepEqual(campaignVerdict({ executions: 100, failures: [], internalErrors: [] }), { code: 0, lines: [] });
});

test('every worker dies (an actor ends its thread): exit 3, and the summary says no execution ran', async (t) => {
  const dir = tmp();
  const mod = join(dir, 'exiter.mjs');
  writeFileSync(mod, "export const actors = [{ name: 'thread_exiter', summary: 's', follows: '(test)', inMm: false, daemon: 'no', params: [], *run() { process.exit(7); } }];\n");
  const r = await cli(['--load', mod, '--actors', 'thread_exiter', '--runs', '100', '--workers', '1', '--quiet', '--corpus', join(dir, 'c')]);
  t.is(r.code, 3, r.out + r.err);
  t.regex(r.out, /^0 executions in .*3 worker death\(s\)/m);
  t.regex(r.err, /mmfuzz: no execution ran, so this campaign says nothing about the protocol/);
  t.regex(r.err, /mmfuzz: 3 worker death\(s\)/);
});

const failure = (token: string, foundAfter: number): Failure => ({
  kind: 'stale-pin', actors: ['gup_fast', 'collapse_file'], arch: 'rcu-table-free', era: 'v6.2', world: 'default', variants: [], depth: 1, token, trace: '',
  traceJson: { version: 1, arch: '', era: '', world: 'default', variants: [], actors: [], depth: 1, schedule: { preemptions: [], choices: [] }, steps: [], outcome: '', violation: null },
  known: null, needsVariants: false, minimal: true, shrinkMs: 1, foundKey: 'k', foundAfter, foundAtMs: 1, foundAtSearchMs: 1,
  race: raceFrom({ step: 1, actor: 0, name: 'gup_fast', label: 'gup_pte_range()' }, null, false, null), steps: 2, seenAfter: foundAfter, seenAtMs: 1,
});

test('a token printed for a failure that a lower worker later replaced stays findable: it is carried as otherTokens', (t) => {
  const best = new Map<string, Kept>();
  t.is(keepBest(best, failure('mmfz1:from-slot-1', 10), [1, 10])?.token, 'mmfz1:from-slot-1');
  const kept = keepBest(best, failure('mmfz1:from-slot-0', 50), [0, 50]);
  t.is(kept?.token, 'mmfz1:from-slot-0', 'the lowest slot is kept, as before: same seed, same report');
  t.deepEqual(kept?.otherTokens, ['mmfz1:from-slot-1']);
  t.is(keepBest(best, failure('mmfz1:from-slot-2', 1), [2, 1]), null, 'a later one is not announced');
  t.deepEqual([...best.values()].map((k) => k.failure.otherTokens), [['mmfz1:from-slot-1']]);
});

test('merging reports keeps the tokens of the failures it deduplicates', (t) => {
  const rf = (token: string, depth: number): ReportFailure => ({ kind: 'leak', actors: ['fault'], arch: 'x86-ipi', era: 'v6.6', variants: [], depth, known: null, needsVariants: false, minimal: true, token, trace: '' });
  const rep = (f: ReportFailure): Report => ({ version: 1, options: {}, executions: 1, execsPerSec: 1, durationMs: 1, failures: [f], internalErrors: [] });
  const m = mergeReports([rep(rf('mmfz1:a', 3)), rep(rf('mmfz1:b', 2)), rep({ ...rf('mmfz1:c', 4), otherTokens: ['mmfz1:d'] })]);
  t.is(m.failures[0]?.token, 'mmfz1:b');
  t.deepEqual([...(m.failures[0]?.otherTokens ?? [])].sort(), ['mmfz1:a', 'mmfz1:c', 'mmfz1:d']);
});

test('the corpus of a campaign keeps one entry per failure, every one shrunk', async (t) => {
  const dir = tmp();
  const r = await cli([...V2, '--corpus', dir, '--quiet']);
  t.is(r.code, 1);
  const entries = readCorpus(dir);
  t.true(entries.length > 0);
  t.true(entries.every((e) => e.shrunk), entries.map((e) => `${e.key} ${e.shrunk}`).join('; '));
  t.is(new Set(entries.map((e) => e.key)).size, entries.length);
  for (const token of [...r.out.matchAll(/--replay (mmfz1:\S+)/g)].map((m) => m[1]!)) {
    t.true(entries.some((e) => e.token === token || e.otherTokens?.includes(token)), `printed token ${token.slice(0, 30)}… is in the corpus`);
  }
});
