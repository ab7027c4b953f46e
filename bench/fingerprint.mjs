// A fingerprint of the executor's behaviour: one hash over many random scenarios (every actor,
// architecture, era and world, catalog variants on), each run untraced and traced under a seeded
// random scheduler. The hash covers the outcome, the step count, the violation, which actors finished,
// each step's label as the scheduler's observe() sees it, the data choices asked for, and with the
// trace on, each traced step's label and events. A speed change must leave it identical.
//   node bench/fingerprint.mjs [ROOT] [N]     (ROOT a checkout with dist/ built; N scenarios, 3000)
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const N = Number(process.argv[3] ?? 3000);
const { execute } = await import(`${root}/dist/src/explore/executor.js`);
const { splitmix32, drawMod } = await import(`${root}/dist/src/explore/schedulers.js`);
const { buildScenario } = await import(`${root}/dist/src/mm/scenario.js`);
const { allActors } = await import(`${root}/dist/src/mm/registry.js`);
const { ERA_IDS, VARIANTS } = await import(`${root}/dist/src/mm/switches.js`);
const { ARCH_IDS } = await import(`${root}/dist/src/mm/arch.js`);
const { allWorlds } = await import(`${root}/dist/src/mm/world/registry.js`);

const h = createHash('sha256');
const put = (s) => { h.update(s); h.update('\0'); };

/** A uniform random scheduler that also writes what it is told and asked into the hash. */
function recording(seed) {
  const next = splitmix32(seed);
  return {
    pick: (runnable, last) => { put(`p${runnable.join(',')}/${last}`); return runnable[drawMod(next(), runnable.length)] ?? 0; },
    choose: (n, what) => { put(`c${n}:${what}`); return drawMod(next(), n); },
    observe: (actor, label, events) => { put(`o${actor}:${label}:${JSON.stringify(events)}`); },
  };
}

const rnd = splitmix32(0x5eed);
const draw = (n) => drawMod(rnd(), n);
const actors = allActors().filter((a) => a.daemon !== 'drain');
const worlds = allWorlds();
let built = 0;
let rejected = 0;
const outcomes = {};
for (let i = 0; i < N; i++) {
  const era = ERA_IDS[draw(ERA_IDS.length)];
  const arch = ARCH_IDS[draw(ARCH_IDS.length)];
  const variants = VARIANTS.filter((v) => v.eras.includes(era) && draw(3) === 0).map((v) => v.id);
  const world = draw(3) === 0 ? worlds[draw(worlds.length)].name : 'default';
  const k = 1 + draw(4);
  const calls = [];
  for (let j = 0; j < k; j++) {
    const def = actors[draw(actors.length)];
    const args = {};
    for (const p of def.params) if (draw(2) === 0) args[p.name] = p.min + draw(p.max - p.min + 1);
    calls.push({ actor: def.name, args });
  }
  let scn;
  try {
    scn = buildScenario({ arch, era, variants, world, actors: calls });
  } catch (e) {
    put(`rejected ${i} ${e.message}`);
    rejected++;
    continue;
  }
  built++;
  for (const trace of [false, true]) {
    put(`scenario ${i} ${trace}`);
    const x = execute(scn, recording(i), { trace, maxSteps: 3000 });
    outcomes[x.outcome] = (outcomes[x.outcome] ?? 0) + 1;
    put(`${x.outcome} ${x.steps} ${x.finished.join(',')} ${JSON.stringify(x.violation)}`);
    for (const s of x.trace) put(`${s.step} ${s.actor} ${s.label} ${JSON.stringify(s.events)}`);
  }
}
console.log(`${h.digest('hex')}  (${built} scenarios run twice, ${rejected} rejected; ${JSON.stringify(outcomes)})`);
