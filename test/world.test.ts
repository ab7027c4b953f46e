// Worlds: the initial state is data, every shipped world is valid and builds, and nothing an execution
// does survives the reset before the next one.

import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { actorState } from '../src/mm/actor_state.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { ARCHES } from '../src/mm/arch.js';
import { PTRS_PER_PTE } from '../src/mm/entries.js';
import { makeSwitches } from '../src/mm/switches.js';
import { buildScenario } from '../src/mm/scenario.js';
import { resumeActor } from '../src/mm/step.js';
import { step } from '../src/mm/step.js';
import type { Model } from '../src/mm/types.js';
import { buildModel, countTables, resetModel } from '../src/mm/world/build.js';
import { checkWorld, registerWorld } from '../src/mm/world/registry.js';
import type { World } from '../src/mm/world/types.js';
import { DEFAULT_WORLD, SHARED_FILE_WORLD, TWO_PMD_TABLES_WORLD, WORLDS } from '../src/mm/world/worlds.js';

/** Everything of a model that an execution can change, as plain data. */
function snapshot(m: Model): unknown {
  return {
    frames: m.frames.map((f) => ({ ...f, ptl: { ...f.ptl }, ptes: [...f.ptes], lo: [...f.lo], hi: [...f.hi], deposited: [...f.deposited] })),
    mms: m.mms.map((mm) => ({ ...mm, vmas: mm.vmas.map((v) => ({ ...v })), mmap_lock: { ...mm.mmap_lock, readers: [...mm.mmap_lock.readers] },
      anon_vma_lock: { ...mm.anon_vma_lock, readers: [...mm.anon_vma_lock.readers] }, page_table_lock: { ...mm.page_table_lock }, cpumask: [...mm.cpumask] })),
    files: m.files.map((f) => ({ ...f, hpage: [...f.hpage], i_mmap_rwsem: { ...f.i_mmap_rwsem, readers: [...f.i_mmap_rwsem.readers] } })),
    cpus: m.cpus.map((c) => ({ ...c, tlb: c.tlb.map((t) => ({ ...t })), pwc: c.pwc.map((p) => ({ ...p })), pendingIpi: [...c.pendingIpi] })),
    rcu: m.rcu.length, events: m.events.length, step: m.step, tracing: m.tracing, actorState: [...m.actorState.keys()],
  };
}

function fresh(world: World): Model {
  return buildModel('x86-ipi', ARCHES['x86-ipi'], makeSwitches('v6.6', []), world, [{ actor: 0, mm: 0 }, { actor: 1, mm: -1 }], [{ mmUsers: 2, khugepagedScanning: false }]);
}

test('every shipped world is valid, and its counters come from its tables', (t) => {
  t.is(WORLDS.length, new Set(WORLDS.map((w) => w.name)).size);
  for (const w of WORLDS) {
    t.is(checkWorld(w), null, w.name);
    const m = fresh(w);
    for (const mm of m.mms) {
      const n = countTables(m, mm.pgd);
      t.deepEqual([mm.rss, mm.nr_ptes, mm.nr_pmds, mm.nr_puds], [n.rss, n.ptes, n.pmds, n.puds], w.name);
    }
  }
  const d = fresh(DEFAULT_WORLD);
  t.deepEqual([d.mms[0]!.rss, d.mms[0]!.nr_ptes, d.mms[0]!.nr_pmds], [2 + PTRS_PER_PTE, 3, 1]);
  t.is(fresh(SHARED_FILE_WORLD).mms.length, 2);
  t.is(fresh(TWO_PMD_TABLES_WORLD).mms[0]!.nr_pmds, 2);
});

test('a world is a plain value: it survives JSON unchanged', (t) => {
  for (const w of WORLDS) t.deepEqual(JSON.parse(JSON.stringify(w)), w);
});

test('a bad world is refused with one line saying what is wrong', (t) => {
  const bad: [unknown, RegExp][] = [
    [{ ...DEFAULT_WORLD, name: 'Bad Name' }, /lacks 'name'/],
    [{ ...DEFAULT_WORLD, frames: DEFAULT_WORLD.frames.filter((f) => f.pfn !== 0) }, /frame 0 must be 'reserved'/],
    [{ ...DEFAULT_WORLD, frames: [...DEFAULT_WORLD.frames, { pfn: 40, kind: 'data', refcount: 1 }] }, /pfn outside/],
    [{ ...DEFAULT_WORLD, frames: DEFAULT_WORLD.frames.map((f) => (f.pfn === 1 ? { ...f, entries: [{ t: 'table', pfn: 3 }] } : f)) }, /not a pte-table/],
    [{ ...DEFAULT_WORLD, mms: [{ pgd: 1, vmas: [] }] }, /pgd must be a frame of kind 'pgd'/],
    [{ ...DEFAULT_WORLD, mms: [{ pgd: 32, vmas: [{ start: 0, end: 8, kind: 'anon', anon_vma: true }, { start: 4, end: 9, kind: 'anon', anon_vma: true }] }] }, /overlapping/],
    [{ ...DEFAULT_WORLD, files: [{ name: 'f', hpage: [3] }] }, /not a huge page/],
    [null, /not an object/],
  ];
  for (const [w, re] of bad) {
    const why = checkWorld(w);
    t.regex(why ?? '', re);
    t.false((why ?? '').includes('\n'));
    t.true((why ?? '').length < 200);
  }
  t.throws(() => registerWorld({ ...DEFAULT_WORLD }, 'test'), { message: /already defined/ });
});

// Touches every kind of state an actor module can reach, so that a reset that forgets one fails.
const vandal: ActorDef = {
  name: 'vandal', summary: 'changes every piece of model state it can reach', follows: '(test)', inMm: true, daemon: 'no', params: [],
  *run(c) {
    const m = c.m;
    m.files[0]!.hpage[2] = 0;
    m.files[0]!.hpage.push(9);
    m.files[0]!.i_mmap_rwsem.readers.push(c.id);
    c.mm.vmas[0]!.start = 3;
    c.mm.vmas.pop();
    c.mm.rss = 99;
    c.mm.khugepaged_scanning = true;
    c.mm.page_table_lock.owner = c.id;
    m.frames[20]!.ptes[1] = { t: 'present', pfn: 3, sub: 0, writable: true, dirty: true };
    m.frames[20]!.written = true;
    m.frames[21]!.lo[2] = 5;
    m.frames[21]!.written = true;
    m.frames[22]!.ptl.owner = c.id;
    m.frames[2]!.ptes[0] = { t: 'none' };
    c.cpu.tlb.push({ mm: 0, addr: 1, pfn: 3, gen: 1, writable: true, dirty: true, since: 0 });
    c.cpu.irqsOff = true;
    actorState(c, 'vandal.count', () => ({ n: 0 })).n++;
    yield step('vandalise');
  },
};

test('nothing an execution changes survives the reset before the next one (file.hpage leaked before worlds)', (t) => {
  for (const w of WORLDS) {
    const scn = buildScenario({ arch: 'x86-ipi', era: 'v6.6', world: w.name, actors: [{ actor: 'vandal' }] }, [...ACTORS, vandal]);
    const m = buildModel(scn.archId, scn.arch, scn.sw, scn.world, scn.actors.map((a, i) => ({ actor: i, mm: a.def.inMm ? a.mm : -1 })), scn.mms);
    const before = snapshot(m);
    execute(scn, uniformRandom(1));
    const second = execute(scn, uniformRandom(1));
    t.not(second.violation, null, 'the vandal leaves a model the oracle objects to');
    const reused = buildModel(scn.archId, scn.arch, scn.sw, scn.world, scn.actors.map((a, i) => ({ actor: i, mm: a.def.inMm ? a.mm : -1 })), scn.mms);
    const gen = vandal.run({ id: 0, name: 'vandal', m: reused, cpu: reused.cpus[0]!, mm: reused.mms[0]! }, {});
    gen.next();
    t.notDeepEqual(snapshot(reused), before, 'the vandal changed the model');
    resetModel(reused);
    t.deepEqual(snapshot(reused), before, w.name);
  }
});

test('after random executions of the built-in actors, a reset model equals a fresh one', (t) => {
  const actors = ['exit_mmap', 'collapse_file', 'gup_fast', 'fault', 'hw_walker', 'munmap', 'thp_fault'].map((a) => ({ actor: a }));
  for (const w of WORLDS) {
    const scn = buildScenario({ arch: 'rcu-table-free', era: 'v6.6', world: w.name, actors });
    const m = buildModel(scn.archId, scn.arch, scn.sw, scn.world, scn.actors.map((a, i) => ({ actor: i, mm: a.def.inMm ? a.mm : -1 })), scn.mms);
    const before = snapshot(m);
    for (let seed = 0; seed < 30; seed++) execute(scn, uniformRandom(seed));
    // execute() reuses one model per scenario; reach it by running once more and compare a reset copy.
    const probe = buildModel(scn.archId, scn.arch, scn.sw, scn.world, scn.actors.map((a, i) => ({ actor: i, mm: a.def.inMm ? a.mm : -1 })), scn.mms);
    const runs = scn.actors.map((a, i) => ({ gen: a.run({ id: i, name: a.name, m: probe, cpu: probe.cpus[i]!, mm: probe.mms[a.mm]! }), callers: [] }));
    for (let k = 0; k < 40; k++) for (const r of runs) resumeActor(r);
    resetModel(probe);
    t.deepEqual(snapshot(probe), before, w.name);
  }
});

test('actorState() is per execution: emptied by the reset', (t) => {
  const counter: ActorDef = {
    name: 'counter', summary: 'counts its runs in actor state', follows: '(test)', inMm: true, daemon: 'no', params: [],
    *run(c) {
      const s = actorState(c, 'counter.n', () => ({ n: 0 }));
      s.n++;
      yield step(`run ${s.n}`);
    },
  };
  const scn = buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'counter' }] }, [counter]);
  const labels = [0, 1, 2].map((s) => execute(scn, uniformRandom(s), { trace: true }).trace[0]?.label);
  t.deepEqual(labels, ['run 1', 'run 1', 'run 1']);
});
