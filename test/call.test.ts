// call(): a path the executor keeps on the actor's own stack behaves as `yield*` does: the same
// steps, labels, return values and waits, in one step where the path takes none.
import test from 'ava';
import { execute } from '../src/explore/executor.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import type { ActorDef } from '../src/mm/actor.js';
import { actorState } from '../src/mm/actor_state.js';
import { down_write, up_write } from '../src/mm/locks.js';
import { buildScenario } from '../src/mm/scenario.js';
import { blockUntil, call, resumeActor, step, type ActorGen, type Ctx } from '../src/mm/step.js';
import type { Stepper } from '../src/mm/pgtable.js';

/** A path of `n` steps that returns n * 10, or takes no step at all for n = 0. */
function* path(n: number): Stepper<number> {
  for (let i = 0; i < n; i++) yield step(`path(${n}) step ${i}`);
  return n * 10;
}

/** The flag for this execution (actor state: emptied before each one). */
function flagOf(c: Ctx): { up: boolean } {
  return actorState(c, 'call-test.flag', () => ({ up: false }));
}
/** How often the caller found the flag down, over all executions. */
interface Waits { waited: number }

/** Calls within calls, a path that takes no step, and one that waits for a flag another actor sets. */
function* outer(c: Ctx, viaCall: boolean, waits: Waits): Stepper<number> {
  const flag = flagOf(c);
  const a = viaCall ? yield* call(path(2)) : yield* path(2);
  const b = viaCall ? yield* call(path(0)) : yield* path(0);
  yield step(`outer got ${a} and ${b}`);
  const wait = function* (): Stepper<string> {
    yield* blockUntil('wait for the flag', () => flag.up || (waits.waited++, false));
    yield step('flag seen');
    return 'waited';
  };
  const w = viaCall ? yield* call(wait()) : yield* wait();
  yield step(`outer ${w} as ${c.name}`);
  return a + b;
}

function actors(viaCall: boolean, waits: Waits): ActorDef[] {
  const caller: ActorDef = {
    name: 'caller', summary: 'calls paths', follows: '(test)', inMm: true, daemon: 'no', params: [],
    *run(c): ActorGen {
      const r = viaCall ? yield* call(outer(c, true, waits)) : yield* outer(c, false, waits);
      yield step(`run got ${r}`);
    },
  };
  const setter: ActorDef = {
    name: 'setter', summary: 'sets the flag under mmap_lock', follows: '(test)', inMm: true, daemon: 'no', params: [],
    *run(c): ActorGen {
      yield* down_write(c, c.mm.mmap_lock);
      flagOf(c).up = true;
      up_write(c, c.mm.mmap_lock);
      yield step('flag up');
    },
  };
  return [caller, setter];
}

function traces(viaCall: boolean, waits: Waits = { waited: 0 }): string[] {
  const defs = actors(viaCall, waits);
  const scn = buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'caller' }, { actor: 'setter' }] }, defs);
  const out: string[] = [];
  for (let seed = 0; seed < 30; seed++) {
    const e = execute(scn, uniformRandom(seed), { trace: true });
    out.push(`${e.outcome} ${e.finished.join(',')}: ${e.trace.map((s) => `${s.actor}:${s.label}`).join(' | ')}`);
  }
  return out;
}

test('a path entered with call() gives the trace yield* gives: steps, return values, a path with no step, a wait', (t) => {
  const waits = { waited: 0 };
  const viaCall = traces(true, waits);
  t.deepEqual(viaCall, traces(false));
  t.true(viaCall.every((s) => s.startsWith('clean true,true') && s.includes('0:outer got 20 and 0') && s.includes('0:run got 20')), viaCall.find((s) => !s.includes('0:run got 20')));
  t.true(waits.waited > 0, 'some schedule makes the caller wait inside a called path');
});

test('resumeActor() runs into called paths and back out within one step', (t) => {
  const frames = { gen: (function* (): ActorGen {
    const v = yield* call(path(1));
    const w = yield* call(path(0));
    yield step(`got ${v} ${w}`);
  })(), callers: [] };
  const labels: string[] = [];
  for (let y = resumeActor(frames); y !== null; y = resumeActor(frames)) labels.push(y.kind === 'step' ? y.label : y.kind);
  t.deepEqual(labels, ['path(1) step 0', 'got 10 0']);
  t.is(frames.callers.length, 0);
});

test('an error thrown inside a called path leaves execute() as it does under yield*', (t) => {
  const thrower: ActorDef = {
    name: 'thrower', summary: 'throws inside a called path', follows: '(test)', inMm: true, daemon: 'no', params: [],
    *run(): ActorGen {
      yield* call((function* (): ActorGen {
        yield step('before');
        throw new Error('thrown in a called path');
      })());
    },
  };
  const scn = buildScenario({ arch: 'x86-ipi', actors: [{ actor: 'thrower' }] }, [thrower]);
  t.throws(() => execute(scn, uniformRandom(0)), { message: 'thrown in a called path' });
});
