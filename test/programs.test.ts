// Programs of operations: a thread that runs several operations in order on its CPU. What a thread of
// several may hold, how the trace shows each operation as it starts, the token that carries
// programs, a race that needs two operations of one thread, and shrinking that removes threads, then
// operations.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { exhaustive } from '../src/explore/exhaustive.js';
import { follow } from '../src/explore/schedule.js';
import { nonPreemptive } from '../src/explore/schedulers.js';
import { shrink, type Candidate } from '../src/explore/shrink.js';
import { crc32, decodeToken, encodeToken, TokenError } from '../src/explore/token.js';
import { renderTrace, traceJson } from '../src/explore/trace.js';
import { ModelError } from '../src/mm/errors.js';
import { actorNames, buildScenario, opsOf, type ActorCall, type ScenarioSpec } from '../src/mm/scenario.js';

// V3 (with V2) at v6.2 on rcu-table-free: GUP-fast pins a page that khugepaged then copies. In the
// default world, anon slot 1 (addresses 4..7) has no pte table: a fault at 4 installs one and maps the
// page, which GUP-fast then walks, while collapse_huge_page() collapses slot 1.
const V3 = { arch: 'rcu-table-free', era: 'v6.2', variants: ['V3', 'V2'] } as const;
const collapse: ActorCall = { actor: 'collapse_huge_page', args: { slot: 1 } };
const faultThenGup: ActorCall = { actor: 'fault', args: { addr: 4 }, then: [{ actor: 'gup_fast', args: { addr: 4 } }] };

test('a thread of several operations: named by them, one CPU, every operation bound with its arguments', (t) => {
  const scn = buildScenario({ ...V3, actors: [faultThenGup, collapse, { ...faultThenGup }] });
  t.deepEqual(scn.actors.map((a) => a.name), ['fault+gup_fast', 'collapse_huge_page', 'fault+gup_fast#2', 'rcu']);
  t.deepEqual(scn.actors[0]!.ops.map((o) => [o.def.name, o.args]), [['fault', { addr: 4 }], ['gup_fast', { addr: 4, write: 1 }]]);
  t.deepEqual(opsOf(faultThenGup).map((o) => o.actor), ['fault', 'gup_fast']);
  t.deepEqual(actorNames([faultThenGup, collapse]), ['fault', 'gup_fast', 'collapse_huge_page']);
});

test('what a thread of several operations may not hold is refused with its reason', (t) => {
  const bad = (actors: ActorCall[]) => t.throws(() => buildScenario({ ...V3, actors }), { instanceOf: ModelError })?.message ?? '';
  t.regex(bad([{ actor: 'fault', then: [{ actor: 'hw_walker' }] }]), /cannot run 'hw_walker': it is a background actor/);
  t.regex(bad([{ actor: 'fault', then: [{ actor: 'collapse_file' }] }]), /mixes user-thread and kernel-thread actors \('fault', 'collapse_file'\)/);
  t.regex(bad([{ actor: 'exit_mmap', then: [{ actor: 'fault' }] }]), /'exit_mmap' must come last/);
  t.regex(bad([{ actor: 'fault', then: [{ actor: 'gup_fast', args: { addr: 99 } }] }]), /argument 'addr' = 99/);
  t.regex(bad([{ actor: 'fault', then: [{ actor: 'no_such_actor' }] }]), /no_such_actor/);
  t.notThrows(() => buildScenario({ ...V3, actors: [{ actor: 'fault', then: [{ actor: 'munmap' }, { actor: 'exit_mmap' }] }] }));
});

test('a thread of one operation (an empty `then`) is the plain call, step for step', (t) => {
  const plain = buildScenario({ ...V3, actors: [{ actor: 'gup_fast', args: { addr: 4 } }, collapse] });
  const empty = buildScenario({ ...V3, actors: [{ actor: 'gup_fast', args: { addr: 4 }, then: [] }, collapse] });
  const a = execute(plain, nonPreemptive(), { trace: true });
  const b = execute(empty, nonPreemptive(), { trace: true });
  t.deepEqual(b.trace.map((s) => s.label), a.trace.map((s) => s.label));
  t.is(renderTrace({ scenario: empty, schedule: { preemptions: [], choices: [] }, exec: b }), renderTrace({ scenario: plain, schedule: { preemptions: [], choices: [] }, exec: a }));
});

test('the trace shows each operation as it starts, in its thread\'s column, in order', (t) => {
  const scn = buildScenario({ ...V3, actors: [faultThenGup, collapse] });
  const exec = execute(scn, nonPreemptive(), { trace: true });
  const starts = exec.trace.filter((s) => s.label.startsWith('op '));
  t.deepEqual(starts.map((s) => [s.actor, s.label]), [[0, 'op 1: fault'], [0, 'op 2: gup_fast(addr=4)']]);
  const faultSteps = exec.trace.filter((s) => s.actor === 0 && s.step > starts[0]!.step && s.step < starts[1]!.step);
  t.true(faultSteps.length > 2 && faultSteps.some((s) => s.label.includes('set_pte_at')), 'the fault runs between its start and the next');
  const text = renderTrace({ scenario: scn, schedule: { preemptions: [], choices: [] }, exec });
  t.regex(text, /CPU 0: fault\+gup_fast +CPU 1: collapse_huge_page\(slot=1\)/);
  t.true(text.indexOf('op 1: fault') < text.indexOf('op 2: gup_fast(addr=4)'));
  t.deepEqual(traceJson({ scenario: scn, schedule: { preemptions: [], choices: [] }, exec }).actors[0]?.ops, [{ actor: 'fault', args: { addr: 4 } }, { actor: 'gup_fast', args: { addr: 4, write: 1 } }]);
});

test('tokens: a program is written as version 2 and read back; a scenario of one operation per thread is still version 1', (t) => {
  const schedule = { preemptions: [{ after: 0, steps: 3, to: 1 }], choices: [1] };
  const prog = { spec: { ...V3, variants: [...V3.variants], actors: [faultThenGup, { ...collapse, mm: 0 }] }, schedule };
  const tok = encodeToken(prog);
  t.regex(tok, /^mmfz2:/);
  const back = decodeToken(tok);
  t.deepEqual(back.spec.actors, [{ ...faultThenGup, then: [{ actor: 'gup_fast', args: { addr: 4 } }] }, collapse]);
  t.is(encodeToken(back), tok);
  t.regex(encodeToken({ spec: { ...V3, actors: [{ actor: 'gup_fast' }, collapse] }, schedule }), /^mmfz1:/);
  t.regex(encodeToken({ spec: { ...V3, actors: [{ actor: 'gup_fast', then: [] }, collapse] }, schedule }), /^mmfz1:/);
  // A version 1 token cannot carry operations: the fourth element is refused there.
  const payload = tok.slice(6, tok.lastIndexOf('.'));
  const v1 = `mmfz1:${payload}.${crc32(payload).toString(16).padStart(8, '0')}`;
  t.throws(() => decodeToken(v1), { instanceOf: TokenError, message: /malformed/ });
  const badOps = Buffer.from(JSON.stringify({ a: 'x86-ipi', e: '', v: [], s: [['fault', {}, 0, [['gup_fast', { addr: -1 }]]]], p: [], c: [] })).toString('base64url');
  t.throws(() => decodeToken(`mmfz2:${badOps}.${crc32(badOps).toString(16).padStart(8, '0')}`), { instanceOf: TokenError, message: /malformed/ });
});

const found = (actors: ActorCall[], p: number) => exhaustive(buildScenario({ ...V3, actors }), p, { stopAfter: 50_000, isFailure: (e) => e.violation !== null });

test('a race that needs two operations of one thread: fault, then GUP-fast of the table it installed, against collapse', (t) => {
  const both = found([faultThenGup, collapse], 2);
  t.is(both.failure?.exec.violation?.kind, 'stale-pin');
  // Either operation alone is clean under every schedule of up to two preemptions.
  for (const alone of [{ actor: 'fault', args: { addr: 4 } }, { actor: 'gup_fast', args: { addr: 4 } }]) {
    const r = found([alone, collapse], 2);
    t.true(r.complete && r.failure === null, `${alone.actor} alone: ${r.failure?.exec.violation?.message ?? 'incomplete'}`);
  }
  // The failure replays from its token.
  const tok = encodeToken({ spec: { ...V3, actors: [faultThenGup, collapse] }, schedule: both.failure!.schedule });
  const r = decodeToken(tok);
  t.is(execute(buildScenario(r.spec), follow(r.schedule)).violation?.kind, 'stale-pin');
});

test('shrinking removes threads, then operations, and keeps the two operations the race needs', (t) => {
  // A noisy start: an extra operation in the racing thread and an extra thread, the first failure of
  // a bounded exhaustive search.
  const spec: ScenarioSpec = {
    ...V3,
    actors: [{ actor: 'fault', args: { addr: 4 }, then: [{ actor: 'touch' }, { actor: 'gup_fast', args: { addr: 4 } }] }, { actor: 'touch' }, collapse],
  };
  const first = exhaustive(buildScenario(spec), 2, { stopAfter: 50_000, isFailure: (e) => e.violation?.kind === 'stale-pin' }).failure;
  if (!first) return t.fail('no start');
  const start: Candidate = { spec, schedule: first.schedule };
  const s = shrink(start, 'stale-pin', { budgetMs: 1, now: () => 0 });
  t.true(s.minimal);
  t.deepEqual(s.spec.actors.map((a) => opsOf(a).map((o) => o.actor)), [['fault', 'gup_fast'], ['collapse_huge_page']]);
  t.is(s.exec.violation?.kind, 'stale-pin');
  t.is(s.schedule.preemptions.length, 2);
});
