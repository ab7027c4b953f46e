// Races grouped the way kernel people group them (fuzz/races.ts): by the racing pair and the kernel
// lines that changed and used the frame, not by violation kind and architecture. A real v5.8 campaign
// whose failures are two races seen on several architectures, its summary, report, corpus and JUnit
// report; --stop-on-failure; the executions to the first failure of each race.

import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCorpus } from '../fuzz/corpus.js';
import { junitXml, xmlText } from '../fuzz/junit.js';
import { main } from '../fuzz/main.js';
import { groupRaces, kernelLine, raceFrom, type Groupable } from '../fuzz/races.js';
import type { Report, ReportFailure, ReportRace } from '../fuzz/report.js';
import { frozenShrink } from './helpers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mmfuzz-races-'));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), () => {}, frozenShrink);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('a kernel line is the step without this run\'s numbers, notes and results', (t) => {
  t.is(kernelLine('spin_lock(ptl(5))'), 'spin_lock(ptl(N))');
  t.is(kernelLine('spin_lock(ptl(7))'), kernelLine('spin_lock(ptl(0))'));
  t.is(kernelLine('pte_offset_map_lock(): pte_offset_map(pmd); pte_lockptr(mm, pmd) [pmd 3] [high half]'), 'pte_offset_map_lock(): pte_offset_map(pmd); pte_lockptr(mm, pmd)');
  t.is(kernelLine('zap_pte_range(): ptep_get_and_clear_full(addr 12) → page 8'), 'zap_pte_range(): ptep_get_and_clear_full(addr N)');
  t.not(kernelLine('retract_page_tables(): mm_dec_nr_ptes(); pte_free(5)'), kernelLine('collapse_pte_mapped_thp(): mm_dec_nr_ptes(); pte_free(5)'));
});

const fail = (kind: string, arch: string, steps: number, used: string, changed: string | null, known: string | null = null): Groupable => ({
  kind, arch, actors: ['exit_mmap', 'collapse_file#1'], depth: 2, steps, token: `mmfz1:${kind}.${arch}`,
  race: raceFrom({ step: steps - 1, actor: 0, name: 'exit_mmap', label: used }, changed === null ? null : { step: 3, actor: 1, name: 'collapse_file#1', label: changed }, true, known),
  seenAfter: steps * 10, seenAtMs: steps,
});

test('one race seen as several kinds on several architectures is one group, with the shortest trace; another line is another race', (t) => {
  const g = groupRaces([
    fail('table-use-after-free', 'x86-ipi', 20, 'spin_lock(ptl(5))', 'pte_free(5)', 'retract-no-exit-test'),
    fail('table-reused', 'x86-pae', 12, 'spin_lock(ptl(7))', 'pte_free(7)', 'retract-no-exit-test'),
    fail('table-use-after-free', 'rcu-table-free', 15, 'spin_lock(ptl(5))', 'pte_free(5)', 'retract-no-exit-test'),
    fail('frame-zero-walked', 'x86-ipi', 9, 'spin_lock(ptl(0))', 'pmdp_huge_get_and_clear()', 'retract-no-exit-test'),
  ]);
  t.is(g.length, 2);
  const uaf = g.find((r) => r.race.changed?.line === 'pte_free(N)');
  t.deepEqual(uaf?.kinds, ['table-reused', 'table-use-after-free']);
  t.deepEqual(uaf?.archs, ['rcu-table-free', 'x86-ipi', 'x86-pae']);
  t.deepEqual(uaf?.actors, ['collapse_file vs exit_mmap']);
  t.is(uaf?.shortest.arch, 'x86-pae', 'the shortest trace (12 steps)');
  t.is(uaf?.firstAfter, 120);
  t.is(uaf?.race.title, 'spin_lock(ptl(N)) in exit_mmap vs pte_free(N) in collapse_file');
  // The known race is part of the key: the same lines in an era where the race is not known are news.
  t.is(groupRaces([fail('leak', 'x86-ipi', 5, 'a()', 'b()', 'k'), fail('leak', 'x86-pae', 5, 'a()', 'b()', null)]).length, 2);
});

test('JUnit XML: one test case per race (a known one skipped, a new one failed, with its token and trace), and one for the campaign', (t) => {
  const f = (known: string | null, token: string): ReportFailure => ({ kind: 'stale-pin', actors: ['gup_fast', 'collapse_huge_page'], arch: 'rcu-table-free', era: 'v6.2', variants: [], depth: 1, known, needsVariants: false, minimal: true, token, trace: 'CPU 0: gup_fast <== & "x" \u0001' });
  const race = (title: string, known: string | null, token: string): ReportRace => ({ title, key: title, known, used: { actor: 'a', line: 'l', step: 1 }, changed: null, kinds: ['stale-pin'], archs: ['rcu-table-free'], actors: ['gup_fast vs collapse_huge_page'], firstFoundExecutions: 5, firstFoundMs: 1500, shortest: token, failures: [f(known, token)] });
  const xml = junitXml({ name: 'mmfuzz v6.2', executions: 100, durationMs: 2000, races: [race('a <b> in x', null, 'mmfz1:new'), race('c in y', 'gup-fast-no-pmd-recheck', 'mmfz1:old')], internalErrors: [], workerDeaths: 0 });
  t.is((xml.match(/<testcase /g) ?? []).length, 3);
  t.regex(xml, /<testsuites name="mmfuzz" tests="3" failures="1" errors="0" skipped="1"/);
  t.regex(xml, /<testcase classname="mmfuzz.v6.2" name="a &lt;b&gt; in x" time="1.500">\n\s*<failure message="stale-pin: a &lt;b&gt; in x; replay: npx mmfuzz --replay mmfz1:new"/);
  t.regex(xml, /<skipped message="known race: gup-fast-no-pmd-recheck/);
  t.regex(xml, /CPU 0: gup_fast &lt;== &amp; &quot;x&quot; \\x01/, 'the trace, escaped; no character XML forbids');
  t.regex(xml, /<testcase classname="mmfuzz" name="campaign">\n\s*<system-out>100 executions/);
  // Well formed: outside the tags, no raw < or >, and every & an entity.
  const text = xml.replace(/<\?xml[^>]*\?>|<\/?[a-z-]+(\s+[a-z]+="[^"<>]*")*\s*\/?>/g, '');
  t.false(/[<>]|&(?!(amp|lt|gt|quot|apos);)/.test(text), text.slice(0, 200));
  const bad = junitXml({ name: 'x', executions: 0, durationMs: 1, races: [], internalErrors: [{ message: 'boom', actors: ['a'], arch: 'x86-ipi', token: '' }], workerDeaths: 1 });
  t.regex(bad, /<testcase classname="mmfuzz" name="campaign">\n\s*<error message="internal error in a on x86-ipi: boom">/);
  t.is(xmlText('\u0000a&b'), '\\x00a&amp;b');
});

// v5.8, exit_mmap against collapse_file (retract_page_tables() without the exit test): a handful of
// failures over three architectures that are two races.
const V58 = ['--era', 'v5.8', '--actors', 'exit_mmap,collapse_file', '--runs', '1000', '--workers', '1', '--seed', '1', '--shrink-time', '20s'];

test('a real v5.8 campaign: failures of several kinds and architectures reported as races, in the summary, the report, the corpus and the JUnit report', async (t) => {
  t.timeout(110_000);
  const dir = tmp();
  const json = join(dir, 'r.json');
  const junit = join(dir, 'r.xml');
  const corpus = join(dir, 'corpus');
  const r = await cli([...V58, '--corpus', corpus, '--json', json, '--junit', junit, '--quiet']);
  t.is(r.code, 0, 'known races only');
  const rep = JSON.parse(readFileSync(json, 'utf8')) as Report;
  const races = rep.races ?? [];
  t.true(rep.failures.length > races.length && races.length >= 1, `${rep.failures.length} failures in ${races.length} races`);
  t.deepEqual(races.flatMap((x) => x.failures.map((f) => f.token)).sort(), rep.failures.map((f) => f.token).sort(), 'every failure in exactly one race');
  for (const race of races) {
    t.true(race.failures.every((f) => f.race?.key === race.key));
    t.is(race.shortest, race.failures[0]?.token ?? '');
    t.is(race.failures[0]?.steps, Math.min(...race.failures.map((f) => f.steps ?? Infinity)), 'the shortest trace first');
    t.deepEqual(race.archs, [...new Set(race.failures.map((f) => f.arch))].sort());
    t.is(race.known, 'retract-no-exit-test');
    t.is(race.firstFoundExecutions, Math.min(...race.failures.map((f) => f.seenAfter ?? Infinity)), 'the executions to its first failure');
    t.true((race.firstFoundExecutions ?? 0) >= 1 && typeof race.firstFoundMs === 'number');
    // The summary: one block per race, with what it was seen as and its shortest trace.
    const block = r.out.split('\n--- race ').find((b) => b.includes(race.title));
    t.truthy(block, race.title);
    t.true(block?.includes(`seen as ${race.kinds.join(', ')} on ${race.archs.join(', ')}`));
    t.true(block?.includes(race.failures[0]!.trace), 'its shortest trace');
    for (const f of race.failures) t.true(block?.includes(f.token), 'every failure\'s token under its race');
  }
  t.regex(r.out, new RegExp(`^1000 executions in .*: ${rep.failures.length} distinct failure\\(s\\) in ${races.length} race\\(s\\), ${races.length} of them known`, 'm'));
  const entries = readCorpus(corpus);
  t.is(entries.length, rep.failures.length);
  t.true(entries.every((e) => races.some((x) => x.key === e.race?.key)), 'corpus entries carry their race');
  const xml = readFileSync(junit, 'utf8');
  t.is((xml.match(/<testcase /g) ?? []).length, races.length + 1);
  t.is((xml.match(/<skipped message="known race: retract-no-exit-test/g) ?? []).length, races.length);
  // merge (of shards) keeps the races, and writes the JUnit report the nightly publishes.
  const merged = await cli(['merge', json, '--json', join(dir, 'm.json'), '--junit', join(dir, 'm.xml')]);
  t.is(merged.code, 1, merged.err);
  t.regex(merged.out, new RegExp(`${rep.failures.length} distinct failure\\(s\\) in ${races.length} race\\(s\\)`));
  const m = JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')) as Report;
  t.deepEqual(m.races?.map((x) => [x.key, x.failures.length]), races.map((x) => [x.key, x.failures.length]));
  t.is((readFileSync(join(dir, 'm.xml'), 'utf8').match(/<testcase /g) ?? []).length, races.length + 1);
});

test('--stop-on-failure ends the campaign at the first failure, which is shrunk and reported with the executions it took', async (t) => {
  t.timeout(110_000);
  const dir = tmp();
  const json = join(dir, 'r.json');
  const r = await cli([...V58, '--corpus', join(dir, 'corpus'), '--json', json, '--quiet', '--stop-on-failure']);
  t.is(r.code, 0);
  const rep = JSON.parse(readFileSync(json, 'utf8')) as Report;
  t.is(rep.failures.length, 1);
  t.is(rep.races?.length, 1);
  t.is(rep.executions, rep.failures[0]?.seenAfter ?? -1, 'not one execution after it');
  t.true(rep.executions < 1000);
  t.regex(r.out, /stopped at the first failure \(--stop-on-failure\)/);
});
