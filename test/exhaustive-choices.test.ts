// Exhaustive search over data choices (--enumerate-choices): a fixed allocator choice hides the races
// that need another frame than the lowest, so the search can try every value of every choice point.

import test from 'ava';
import { exhaustive } from '../src/explore/exhaustive.js';
import { main } from '../fuzz/main.js';
import { HELP } from '../fuzz/options.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { buildScenario } from '../src/mm/scenario.js';
import { recycler } from './helpers.js';


const pool = [...ACTORS, recycler];
const scn = () => buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'recycler' }] }, pool);
const free = () => scn().world.nrFrames - scn().world.frames.length;

test('without --enumerate-choices the search is clean within its bound; with it, the reuse race is found', (t) => {
  const plain = exhaustive(scn(), 2);
  t.true(plain.complete);
  t.is(plain.failure, null);
  const found = exhaustive(scn(), 2, { enumerateChoices: Infinity });
  t.is(found.failure?.exec.violation?.kind, 'table-use-after-free', found.failure?.exec.violation?.message);
  t.true(found.failure!.schedule.choices.some((c) => c !== 0), 'a choice other than 0 shows it');
  const one = exhaustive(scn(), 0, { enumerateChoices: 1 });
  t.is(one.failure?.exec.violation?.kind, 'table-use-after-free', 'one choice away from 0 is enough');
});

test('every vector of choices is run once: n × n for two allocations, 1 + 2(n − 1) with at most one away from 0', (t) => {
  const n = free();
  t.true(n > 2);
  const never = () => false;
  t.is(exhaustive(scn(), 0, { enumerateChoices: Infinity, isFailure: never }).explored, n * n);
  t.is(exhaustive(scn(), 0, { enumerateChoices: 1, isFailure: never }).explored, 1 + 2 * (n - 1));
  t.is(exhaustive(scn(), 0, { isFailure: never }).explored, 1, 'without the flag, one schedule');
});

test('without choices to make, enumerating adds nothing: the same count of schedules', (t) => {
  const s = buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'gup_fast' }, { actor: 'mincore' }] });
  const a = exhaustive(s, 2);
  const b = exhaustive(s, 2, { enumerateChoices: Infinity });
  t.true(a.complete && b.complete);
  t.is(b.explored, a.explored);
});

test('--enumerate-choices on the command line, and --help says it multiplies the space', async (t) => {
  t.regex(HELP, /--enumerate-choices\[=K\][\s\S]*multiplies the space/);
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--strategy', 'exhaustive', '--actors', 'fault', '--arch', 'x86-ipi', '--preemptions', '0', '--enumerate-choices=1', '--corpus', '/nonexistent/mmfuzz-corpus'], (l) => out.push(l), (l) => err.push(l));
  t.is(code, 0, out.join('\n') + err.join('\n'));
  t.regex(err.join('\n'), /exhaustive \(at most 0 preemptions, data choices enumerated\)/);
  const m = /(\d+) executions .*every schedule within the bound was run/.exec(out.join('\n'));
  t.true(m !== null && Number(m[1]) > 1, 'fault allocates: its choices are branches');
});
