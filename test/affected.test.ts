// --affected (src/explore/affected.ts): which eras and architectures have a failure's race. Budgets
// here are counted in executions (small), or on a clock the test moves: never wall-clock time.

import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { affected, raceOf, renderAffected, sameRace, searchRace, type AffectedTable } from '../src/explore/affected.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { decodeToken } from '../src/explore/token.js';
import { buildScenario } from '../src/mm/scenario.js';
import { ERAS, ERA_IDS, VARIANTS } from '../src/mm/switches.js';
import { main } from '../fuzz/main.js';

interface Entry { tag: string; variant: string; token: string }
const dir = new URL('../../test/corpus/', import.meta.url);
const entries: Entry[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Entry);
const V1 = entries.find((e) => e.tag === 'V1')!;

const SMALL = { executions: 60, maxPreemptions: 1 } as const;
const TINY = { executions: 30, maxPreemptions: 1 } as const;

for (const e of entries) {
  test(`${e.tag} ${e.variant}: the table matches the variant's eras and the known races`, (t) => {
    const r = decodeToken(e.token);
    const table = affected(r, TINY, [r.spec.arch]);
    const vs = (r.spec.variants ?? []).map((id) => VARIANTS.find((v) => v.id === id)!);
    t.is(table.lines.length, ERA_IDS.length);
    for (const l of table.lines) {
      const where = `${l.era}:\n${renderAffected(table)}`;
      // With the variants: it cannot run exactly where a variant has no code (CATALOG.md's eras).
      const applies = vs.every((v) => v.eras.includes(l.era));
      t.is(l.with?.t === 'cannot-run', !applies, where);
      if (l.era === r.spec.era) {
        // Its own era: the failure's schedule, and clean with the variants off (the fix is in).
        t.deepEqual(l.with, { t: 'reproduces', how: 'same-schedule' }, where);
        t.false(l.without.t === 'reproduces' && l.without.how === 'same-schedule', where);
      }
      // Without variants, where the era has these bugs of its own, it is there.
      if (vs.every((v) => ERAS[l.era].bugs.includes(v.id))) t.is(l.without.t, 'reproduces', where);
      // And wherever it is found without variants, it is a race known to be real at that release.
      if (l.without.t === 'reproduces') t.truthy(l.known, where);
    }
  });
}

test('V1: reproduces at v5.8 (a known race there, with its fix named), not at v6.2 or v6.6; a line per era and architecture', (t) => {
  const table: AffectedTable = affected(decodeToken(V1.token), SMALL);
  t.is(table.lines.length, ERA_IDS.length * 3);
  for (const l of table.lines) {
    if (l.era === 'v5.8') {
      t.is(l.without.t, 'reproduces');
      t.is(l.known, 'retract-no-exit-test');
      t.regex(l.fix ?? '', /^18e77600f7a1/);
    }
    if (l.era === 'v6.2' || l.era === 'v6.6') t.is(l.without.t, 'not-found');
    if (l.era === 'v6.6') t.deepEqual(l.with, { t: 'cannot-run', why: 'no V1 code at v6.6' });
  }
  const text = renderAffected(table);
  t.is(text.split('\n').filter((x) => /^v\d/.test(x)).length, 12);
  t.regex(text, /v5\.8\s+x86-ipi\s+reproduces \(same schedule\)\s+reproduces \(same schedule\)\s+known race retract-no-exit-test/);
});

test('the same race: same kind, same walker line, same change; another race is not', (t) => {
  const run = (token: string) => {
    const r = decodeToken(token);
    return raceOf(execute(buildScenario(r.spec), follow(r.schedule), { trace: true }));
  };
  const v1 = run(V1.token);
  t.true(sameRace(v1, run(V1.token)));
  t.deepEqual(v1?.changed, { actor: 'collapse_file', line: 'pmdp_collapse_flush(): pmdp_huge_get_and_clear()', act: 'pmdp_huge_get_and_clear' });
  for (const e of entries.filter((x) => x.tag !== 'V1')) t.false(sameRace(v1, run(e.token)), e.tag);
});

test('a search stops at its budget: executions, or time on the clock it is given, but not before its floor', (t) => {
  const r = decodeToken(V1.token);
  const race = raceOf(execute(buildScenario(r.spec), follow(r.schedule), { trace: true }))!;
  const clean = buildScenario({ ...r.spec, era: 'v6.6', variants: [] });
  const byRuns = searchRace(clean, r.schedule, race, { executions: 40 }, r.spec);
  t.is(byRuns.t, 'not-found');
  if (byRuns.t === 'not-found') t.true(byRuns.executions <= 40 && byRuns.schedules + byRuns.sampled <= byRuns.executions);
  // A clock that moves 1 ms each time it is read: a 10 ms budget ends the search long before 10000.
  let ms = 0;
  const byTime = searchRace(clean, r.schedule, race, { executions: 10_000, ms: 10, now: () => ms++ }, r.spec);
  t.true(byTime.t === 'not-found' && byTime.executions < 100, JSON.stringify(byTime));
  ms = 0;
  const floored = searchRace(clean, r.schedule, race, { executions: 10_000, ms: 10, minExecutions: 60, now: () => ms++ }, r.spec);
  t.true(floored.t === 'not-found' && floored.sampled >= 1 && floored.executions >= 60 && floored.executions < 100, JSON.stringify(floored));
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  // Each search of --affected runs at least 100 schedules here (300 by default): enough for V1 on
  // x86-pae at v5.8, whose schedule differs (a pmd read there is two steps) and is found after 45.
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l), () => {}, { affectedMinExecutions: 100 });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('npm run fuzz -- --replay V1 --diagram --affected: the diagram, then a line per era and architecture', async (t) => {
  const r = await cli('--replay', V1.token, '--diagram', '--affected', '--affected-time', '1ms');
  t.is(r.code, 1, r.err);
  t.regex(r.out, /^x86-ipi, era v5\.10, variants retract-no-exit-test: \d+ of \d+ steps/);
  t.regex(r.out, /CPU 0: exit_mmap\s+CPU 1: collapse_file/);
  t.regex(r.out, /spin_lock\(ptl\(0\)\)\s+<==/);
  t.false(r.out.includes('[pmd 2]'));
  const rows = r.out.split('\n').filter((l) => /^v(5\.8|5\.10|6\.2|6\.6)\s/.test(l));
  t.is(rows.length, 12);
  t.true(rows.filter((l) => l.startsWith('v5.8')).every((l) => /known race retract-no-exit-test/.test(l)));
});

test('--affected-time without --affected is bad usage', async (t) => {
  const r = await cli('--replay', V1.token, '--affected-time', '5s');
  t.is(r.code, 2);
  t.regex(r.err, /--affected-time is the budget of --affected/);
});
