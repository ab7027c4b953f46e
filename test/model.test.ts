import { wholeMm } from '../src/mm/tlbflush.js';
// The model's mechanisms, one at a time: entries, IPIs, RCU, locks, the allocator, scenario input.

import test from 'ava';
import fc from 'fast-check';
import { execute } from '../src/explore/executor.js';
import { fromStreams, nonPreemptive, scripted, uniformRandom } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { call_rcu, local_irq_restore, local_irq_save, rcu_read_lock, rcu_read_unlock, send_ipi_and_wait } from '../src/mm/cpu.js';
import { pmd_bad, pmd_none, pmd_present, pmdDecode, pmdHi, pmdLo, type PmdEntry } from '../src/mm/entries.js';
import { ARCHES } from '../src/mm/arch.js';
import { ModelError } from '../src/mm/errors.js';
import { alloc_page, freeFrame } from '../src/mm/frames.js';
import { down_read, down_write_trylock, downgrade_write, up_read } from '../src/mm/locks.js';
import { buildScenario } from '../src/mm/scenario.js';
import { step, type ActorGen, type Ctx } from '../src/mm/step.js';
import { makeSwitches } from '../src/mm/switches.js';
import { describe, runScript, stepOf } from './helpers.js';
import { ACTORS } from '../src/mm/actors/index.js';

function actor(name: string, run: (c: Ctx) => ActorGen, inMm = true): ActorDef {
  return { name, summary: 'test', follows: '(test)', inMm, daemon: 'no', params: [], run };
}

const entry = fc.oneof(
  fc.constant<PmdEntry>({ t: 'none' }),
  fc.integer({ min: 1, max: 31 }).map((pfn): PmdEntry => ({ t: 'table', pfn })),
  fc.integer({ min: 1, max: 31 }).map((pfn): PmdEntry => ({ t: 'huge', pfn })),
  fc.integer({ min: 1, max: 31 }).map((pfn): PmdEntry => ({ t: 'invalid-huge', pfn })),
);

test('a stored pmd decodes back from its two halves', (t) => {
  fc.assert(fc.property(entry, (e) => {
    t.deepEqual(pmdDecode(pmdLo(e), pmdHi(e)), e);
  }));
});

test('PAE: a zero low half reads as none (pmd_none() tests only the low word); a lone high half is bad', (t) => {
  const torn = pmdDecode(0, pmdHi({ t: 'table', pfn: 13 }));
  t.is(torn.t, 'bad');
  t.true(pmd_none(ARCHES['x86-pae'], torn));
  t.false(pmd_none(ARCHES['x86-ipi'], torn), 'x86-64 tests the whole value');
  const frank = pmdDecode(pmdLo({ t: 'table', pfn: 13 }), 0);
  t.deepEqual(frank, { t: 'table', pfn: 1 }, 'a new low half with an old high half is a table pointer to the wrong frame');
  t.true(pmd_present(ARCHES['x86-pae'], { t: 'invalid-huge', pfn: 9 }), 'x86 pmd_present() is true for an invalidated huge pmd');
  t.true(pmd_bad(ARCHES['x86-pae'], { t: 'huge', pfn: 9 }), 'x86 pmd_bad() is true for a huge pmd: what V5 trips on');
});

test('an IPI to a CPU with IRQs off waits until it turns them on; the sender blocks until then', (t) => {
  const pool = [
    actor('irqs_off', function* (c) {
      const f = local_irq_save(c);
      yield step('local_irq_save');
      yield step('work with IRQs off');
      local_irq_restore(c, f);
      yield step('local_irq_restore');
    }),
    actor('sender', function* (c) {
      yield* send_ipi_and_wait(c, c.m.cpus, wholeMm(c.mm), 'smp_call_function');
      yield step('after the IPIs');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', actors: [{ actor: 'irqs_off' }, { actor: 'sender' }] },
    [{ actor: 'irqs_off', until: 'local_irq_save' }, { actor: 'sender' }, { actor: 'irqs_off' }], {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  const after = stepOf(exec, 'sender', 'after the IPIs');
  t.true(after > stepOf(exec, 'irqs_off', 'local_irq_restore'), 'the sender went on only after the target took the IPI');
  t.true(stepOf(exec, 'irqs_off', 'work with IRQs off') < after);
  const takes = exec.trace.flatMap((s) => s.events).filter((e) => e.e === 'ipi-take');
  t.true(takes.some((e) => e.e === 'ipi-take' && e.cpu === 0), 'CPU 0 took its IPI');
});

test('call_rcu() waits for every CPU that was in a read side; later readers do not hold it', (t) => {
  const freed: number[] = [];
  const pool = [
    actor('reader', function* (c) {
      rcu_read_lock(c);
      yield step('rcu_read_lock');
      yield step('read');
      rcu_read_unlock(c);
      yield step('rcu_read_unlock');
    }),
    actor('updater', function* (c) {
      call_rcu(c.m, c.id, 'free', () => { freed.push(c.m.step); });
      yield step('call_rcu');
    }),
    actor('late_reader', function* (c) {
      rcu_read_lock(c);
      yield step('late rcu_read_lock');
      yield step('late read');
      rcu_read_unlock(c);
      yield step('late rcu_read_unlock');
    }),
  ];
  const { exec } = runScript({ arch: 'x86-ipi', actors: [{ actor: 'reader' }, { actor: 'updater' }, { actor: 'late_reader' }] },
    [{ actor: 'reader', until: 'rcu_read_lock' }, { actor: 'updater' }, { actor: 'late_reader', until: 'late rcu_read_lock' }, { actor: 'rcu' }, { actor: 'reader' }, { actor: 'rcu' }],
    {}, pool);
  t.is(exec.outcome, 'clean', describe(exec));
  const cb = stepOf(exec, 'rcu', 'rcu_do_batch');
  t.true(cb > stepOf(exec, 'reader', 'rcu_read_unlock'), 'the callback ran after the pre-existing reader left');
  t.true(cb < stepOf(exec, 'late_reader', 'late rcu_read_unlock'), 'the reader that came later did not hold the grace period');
  t.is(freed.length, 1);
});

test('rwsem: trylock fails against a reader; downgrade keeps writers out', (t) => {
  const pool = [
    actor('reader', function* (c) {
      yield* down_read(c, c.mm.mmap_lock);
      yield step('holding read');
      up_read(c, c.mm.mmap_lock);
      yield step('up_read');
    }),
    actor('writer', function* (c) {
      const ok = down_write_trylock(c, c.mm.mmap_lock);
      yield step(ok ? 'trylock ok' : 'trylock failed');
      if (!ok) return;
      downgrade_write(c, c.mm.mmap_lock);
      yield step('downgraded');
      up_read(c, c.mm.mmap_lock);
      yield step('up_read');
    }),
  ];
  const first = runScript({ arch: 'x86-ipi', actors: [{ actor: 'reader' }, { actor: 'writer' }] },
    [{ actor: 'reader', until: 'holding read' }, { actor: 'writer' }], {}, pool);
  t.true(stepOf(first.exec, 'writer', 'trylock failed') >= 0);
  const second = runScript({ arch: 'x86-ipi', actors: [{ actor: 'reader' }, { actor: 'writer' }] },
    [{ actor: 'writer', until: 'downgraded' }, { actor: 'reader' }], {}, pool);
  t.true(stepOf(second.exec, 'reader', 'holding read') > stepOf(second.exec, 'writer', 'downgraded'), 'a reader gets in after the downgrade');
  t.is(second.exec.outcome, 'clean', describe(second.exec));
});

test('the allocator returns the free frame the schedule chooses, in pfn order', (t) => {
  const got: number[] = [];
  const pool = [actor('alloc', function* (c) {
    got.push(alloc_page(c, 'data'));
    got.push(alloc_page(c, 'data'));
    freeFrame(c.m, got[0]!, 'now');
    freeFrame(c.m, got[1]!, 'now');
    yield step('alloc twice, free both');
  })];
  runScript({ arch: 'x86-ipi', actors: [{ actor: 'alloc' }] }, [], { alloc: [0, 3] }, pool);
  t.deepEqual(got, [9, 13], 'choice 0 is the lowest free frame (9); then choice 3 among 10.. is 13');
});

test('the same scenario and schedule give the same trace, byte for byte', (t) => {
  const scn = buildScenario({ arch: 'x86-pae', era: 'v5.10', actors: [{ actor: 'exit_mmap' }, { actor: 'collapse_file' }, { actor: 'hw_walker' }, { actor: 'gup_fast', args: { addr: 9 } }] });
  for (let seed = 0; seed < 50; seed++) {
    const a = execute(scn, uniformRandom(seed), { trace: true });
    const b = execute(scn, uniformRandom(seed), { trace: true });
    t.is(JSON.stringify(b), JSON.stringify(a));
  }
});

test('bad input: unknown names and arguments are typed errors that list what is accepted', (t) => {
  const err = (f: () => unknown) => t.throws(f, { instanceOf: ModelError });
  t.regex(err(() => buildScenario({ arch: 'sparc', actors: [] })).message, /unknown architecture 'sparc': accepted are x86-ipi, rcu-table-free, x86-pae/);
  t.regex(err(() => buildScenario({ arch: 'x86-ipi', era: 'v4.4', actors: [] })).message, /unknown era 'v4.4': accepted are v5.8, v5.10, v6.2, v6.6/);
  t.regex(err(() => buildScenario({ arch: 'x86-ipi', variants: ['V10'], actors: [] })).message, /unknown variant 'V10': accepted are retract-no-exit-test, /);
  t.regex(err(() => buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'zap_everything' }] })).message, /unknown actor 'zap_everything': accepted are collapse_file, /);
  t.regex(err(() => buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'gup_fast', args: { addr: 99 } }] })).message, /argument 'addr' = 99: accepted are integers 0..15/);
  t.regex(err(() => buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'gup_fast', args: { size: 1 } }] })).message, /has no argument 'size': accepted are addr, write/);
  const oldOnly: ActorDef = { name: 'old_walker', summary: 's', follows: '(test)', inMm: true, daemon: 'no', eras: ['v6.2'], params: [], *run() { yield step('walk'); } };
  t.is(err(() => buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'old_walker' }] }, [...ACTORS, oldOnly])).kind, 'unknown-actor');
  const v1 = err(() => makeSwitches('v6.6', ['retract-no-exit-test']));
  t.is(v1.kind, 'variant-not-in-era');
  t.regex(v1.message, /has no code in era v6.6: it applies to v5.8, v5.10, v6.2/);
});

test('a variant without an era runs in its home era; an era alone holds its own bugs', (t) => {
  t.is(makeSwitches(undefined, ['V1']).era, 'v5.10');
  t.is(makeSwitches(undefined, ['pae-torn-pmd-read']).era, 'v6.6');
  t.is(makeSwitches(undefined).era, 'v6.6');
  t.true(makeSwitches('v5.8').bugs.has('retract-no-exit-test'));
  t.false(makeSwitches('v6.2').bugs.has('khugepaged-no-ipi-sync'));
  t.deepEqual(makeSwitches('v6.2', ['V3', 'V2', 'V3']).variants, ['khugepaged-no-ipi-sync', 'gup-fast-no-pmd-recheck']);
});

test('every user thread drops its mm_users reference; only the last mmput() runs exit_mmap', (t) => {
  const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', actors: [{ actor: 'exit_mmap' }, { actor: 'fault', args: { addr: 5 } }, { actor: 'gup_fast' }] });
  t.is(scn.mms[0]?.mmUsers, 3);
  for (let seed = 0; seed < 200; seed++) {
    const e = execute(scn, uniformRandom(seed), { trace: true });
    t.is(e.outcome, 'clean', describe(e));
    t.is(e.trace.filter((s) => s.label.startsWith('exit_mmap(): remove_vma()')).length, 1, `seed ${seed}: one teardown`);
  }
});

test('the executor reports a step limit instead of running forever', (t) => {
  const pool = [actor('spin', function* () { for (;;) yield step('spin'); })];
  const e = execute(buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'spin' }] }, pool), nonPreemptive(), { maxSteps: 100 });
  t.is(e.outcome, 'step-limit');
  t.is(e.steps, 100);
});

test('fromStreams maps numbers onto the runnable actors and choices, then runs without preemption', (t) => {
  const scn = buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'fault', args: { addr: 4 } }, { actor: 'fault', args: { addr: 5 } }] });
  const e = execute(scn, fromStreams([1, 1, 0], [0]), { trace: true });
  t.is(e.names[e.trace[0]!.actor], 'fault#2');
  t.is(e.outcome, 'clean', describe(e));
  const s = scripted(['a'], [{ actor: 'a', until: 'x' }], { alloc: [7] });
  t.is(s.choose(4, 'alloc'), 0, 'a scripted choice out of range falls back to 0');
});
