// The threads of a fork's child mm run only once fork has returned (src/mm/fork_child.ts): the child
// task is TASK_NEW until wake_up_new_task(), after copy_process() (kernel/fork.c, v5.8–v6.6). Kernel
// threads that reach the child by its rmap or khugepaged's scan are not held.

import test from 'ava';
import { execute, type Execution } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { uniformRandom } from '../src/explore/schedulers.js';
import { decodeToken } from '../src/explore/token.js';
import { knownRace } from '../src/explore/known.js';
import type { ActorDef } from '../src/mm/actor.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { forkChildren, runsInMm } from '../src/mm/fork_child.js';
import { buildScenario, type ActorCall } from '../src/mm/scenario.js';
import { step, type Ctx } from '../src/mm/step.js';
import { FORK_WORLD } from '../src/mm/world/worlds.js';
import { describe, runScript } from './helpers.js';

// From a 20-minute v5.8 hunt over the fork world: exit_mmap of the child (mm 1) ran inside fork,
// freed the child's pud table under copy_page_range(), and fork's pmd_alloc() found none.
const HUNT_TOKENS = [
  'mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2NS44IiwidiI6W10sInciOiJmb3JrIiwicyI6W1siZm9yayIse31dLFsiZXhpdF9tbWFwIix7InNjYW5uZWQiOjF9LDFdLFsiY29sbGFwc2VfaHVnZV9wYWdlIix7InNsb3QiOjF9LDFdLFsiZXhpdF9tbWFwIix7InNjYW5uZWQiOjF9XV0sInAiOltbLTEsMCwzXSxbMywxLDBdLFszLDEsMV0sWzEsMiw0XSxbMSw0LDJdLFsyLDEsM10sWzMsMiwxXSxbMSw1LDBdLFswLDIsM10sWzMsMywwXSxbMCwzLDNdLFswLDYsMV0sWzEsNiwwXSxbMCw3LDFdLFsxLDcsMF0sWzAsOCwxXSxbMSw5LDBdLFswLDEwLDFdLFsxLDExLDBdXSwiYyI6WzMwLDIzLDEzXX0.5d9cc3b1',
  'mmfz1:eyJhIjoieDg2LWlwaSIsImUiOiJ2NS44IiwidiI6W10sInciOiJmb3JrIiwicyI6W1siZXhpdF9tbWFwIix7InNjYW5uZWQiOjB9LDFdLFsiZm9yayIse31dLFsidGhwX2ZhdWx0Iix7InNsb3QiOjB9XV0sInAiOltbLTEsMCwzXSxbMCwxLDFdLFsxLDEsMl0sWzAsMiwxXSxbMSw2LDBdLFswLDMsMV0sWzEsNywwXSxbMCw0LDFdLFsxLDksMF0sWzAsNiwxXSxbMSwxMCwwXSxbMCw4LDFdLFsxLDExLDBdLFswLDksMV1dLCJjIjpbMTksMTldfQ.280f6027',
  'mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJ3IjoiZm9yayIsInMiOltbImZvcmsiLHt9XSxbImV4aXRfbW1hcCIseyJzY2FubmVkIjowfSwxXSxbInRvdWNoIix7ImFjY2Vzc2VzIjozLCJhZGRyIjo1LCJ3cml0ZSI6MH1dXSwicCI6W1swLDEsMV0sWzEsMSwwXSxbMSwxLDJdLFsxLDIsM10sWzEsMiwwXSxbMCwzLDFdLFsxLDMsMF0sWzAsNywxXSxbMSw0LDBdLFswLDgsMV0sWzEsNSwwXSxbMCwxMCwxXSxbMSw3LDBdLFswLDExLDFdLFsxLDksM10sWzMsMSwxXV0sImMiOlszMCwzMF19.6470ddb5',
];

/** The last step fork took, and the first step of any actor that runs in the child mm (Infinity: none). */
function order(e: Execution, scnActors: readonly { readonly name: string; readonly mm: number; readonly def: ActorDef }[]): { forkEnd: number; childStart: number } {
  const forkId = scnActors.findIndex((a) => a.def.forks === true);
  const inChild = new Set(scnActors.flatMap((a, i) => (a.mm === 1 && runsInMm(a.def) ? [i] : [])));
  const forkEnd = Math.max(-1, ...e.trace.filter((s) => s.actor === forkId).map((s) => s.step));
  const childStart = Math.min(Infinity, ...e.trace.filter((s) => inChild.has(s.actor)).map((s) => s.step));
  return { forkEnd, childStart };
}

test("the hunt's tokens replay without an internal error: the child's threads start after fork has returned", (t) => {
  for (const token of HUNT_TOKENS) {
    const r = decodeToken(token);
    const scn = buildScenario(r.spec);
    let e: Execution | null = null;
    t.notThrows(() => { e = execute(scn, follow(r.schedule), { trace: true }); }, token.slice(0, 40));
    if (!e) continue;
    const ex: Execution = e;
    t.is(ex.outcome, 'clean', describe(ex));
    const o = order(ex, scn.actors);
    t.true(o.forkEnd >= 0 && o.childStart > o.forkEnd, `fork ends at ${o.forkEnd}, the child starts at ${o.childStart}`);
  }
});

test('the child exits right after fork, at every era and architecture: its copied tables are torn down, nothing leaks', (t) => {
  for (const era of ['v5.8', 'v5.10', 'v6.2', 'v6.6']) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      // The schedule asks for exit_mmap first; it waits in wake_up_new_task() and fork runs.
      const r = runScript({ arch, era, world: 'fork', actors: [{ actor: 'exit_mmap', mm: 1 }, { actor: 'fork' }] }, [{ actor: 'exit_mmap' }, { actor: 'fork' }]);
      t.is(r.exec.outcome, 'clean', `${era} ${arch}: ${describe(r.exec)}`);
      const exitSteps = r.exec.trace.filter((s) => s.actor === 0);
      const forkSteps = r.exec.trace.filter((s) => s.actor === 1);
      t.true(forkSteps.length > 5 && exitSteps.length > 0 && exitSteps[0]!.step > forkSteps[forkSteps.length - 1]!.step, `${era} ${arch}`);
      // It tore down what fork copied: the child's pte table is freed (by exit_mmap, or after a grace period).
      t.true(r.exec.trace.some((s) => s.step > exitSteps[0]!.step && s.events.some((ev) => ev.e === 'free' && ev.kind === 'pte-table')), `${era} ${arch}: no pte table freed`);
    }
  }
});

/** What a kernel thread working on the child (mm 1) sees at each of its steps. */
const seen: { newTask: boolean; cpumask: boolean[]; vmas: number }[] = [];
const probe: ActorDef = {
  name: 'probe', summary: 'a test kernel thread that records the child mm', follows: '(test)', inMm: false, daemon: 'no', params: [],
  *run(c: Ctx) {
    for (let i = 0; i < 2; i++) {
      seen.push({ newTask: c.mm.newTask, cpumask: c.mm.cpumask.slice(), vmas: c.mm.vmas.length });
      yield step(`probe ${i}`);
    }
  },
};

test('a kernel thread reaches the child while fork copies it; a thread of the child enters mm_cpumask only when it first runs', (t) => {
  seen.length = 0;
  const actors: ActorCall[] = [{ actor: 'fork' }, { actor: 'probe', mm: 1 }, { actor: 'touch', mm: 1, args: { addr: 0, write: 0, accesses: 1 } }];
  const r = runScript({ arch: 'x86-ipi', era: 'v5.8', world: 'fork', actors }, [
    { actor: 'fork', until: 'copy_one_pte' }, { actor: 'touch' }, { actor: 'probe', until: 'probe 0' }, { actor: 'fork' }, { actor: 'touch' }, { actor: 'probe' },
  ], {}, [...ACTORS, probe]);
  t.is(r.exec.outcome, 'clean', describe(r.exec));
  t.deepEqual(r.reached.slice(0, 3), [true, false, true]);
  // Inside fork: the probe ran (not held), the child has its first VMA, and no CPU is in its mask.
  t.deepEqual(seen[0], { newTask: true, cpumask: [false, false, false, false], vmas: 1 });
  // After: the touch thread (CPU 2) ran, so it is in the child's mm_cpumask.
  t.deepEqual(seen[1], { newTask: false, cpumask: [false, false, true, false], vmas: 2 });
  const touched = r.exec.trace.find((s) => s.actor === 2);
  t.regex(touched?.label ?? '', /read to 0 → frame 3/);
});

test('each fork gets its own child: the first empty mm that is not its own and not taken; with none, -ENOMEM and nobody waits', (t) => {
  const fork = ACTORS.find((a) => a.name === 'fork')!;
  const touch = ACTORS.find((a) => a.name === 'touch')!;
  t.deepEqual(forkChildren(FORK_WORLD, [{ def: fork, mm: 0 }, { def: touch, mm: 1 }]), [-1, 0]);
  t.deepEqual(forkChildren(FORK_WORLD, [{ def: touch, mm: 1 }, { def: fork, mm: 0 }, { def: fork, mm: 0 }]), [-1, 1]);
  t.deepEqual(forkChildren(FORK_WORLD, [{ def: fork, mm: 1 }, { def: touch, mm: 1 }]), [-1, -1]);
  t.deepEqual(forkChildren(FORK_WORLD, [{ def: touch, mm: 1 }]), [-1, -1]);
  // The second fork has no child; the child's thread waits for the first only.
  const r = runScript({ arch: 'x86-ipi', era: 'v6.6', world: 'fork', actors: [{ actor: 'fork' }, { actor: 'fork' }, { actor: 'exit_mmap', mm: 1 }] },
    [{ actor: 'exit_mmap' }, { actor: 'fork#2' }, { actor: 'exit_mmap' }, { actor: 'fork' }]);
  t.is(r.exec.outcome, 'clean', describe(r.exec));
  t.regex(r.exec.trace.find((s) => s.actor === 1)?.label ?? '', /-ENOMEM/);
  t.true(r.exec.trace.find((s) => s.actor === 2)!.step > Math.max(...r.exec.trace.filter((s) => s.actor === 0).map((s) => s.step)));
});

test('random schedules of fork with user threads, a walker and khugepaged on the child: no step of the child before fork returns, no internal error', (t) => {
  const actors: ActorCall[] = [
    { actor: 'fork' }, { actor: 'exit_mmap', mm: 1, args: { scanned: 1 } }, { actor: 'touch', mm: 1, args: { addr: 1, write: 1, accesses: 2 } },
    { actor: 'hw_walker', mm: 1 }, { actor: 'collapse_huge_page', mm: 1, args: { slot: 1 } },
  ];
  let khugepagedInside = 0;
  for (const era of ['v5.8', 'v6.6'] as const) {
    for (const arch of ['x86-ipi', 'rcu-table-free', 'x86-pae']) {
      const scn = buildScenario({ arch, era, world: 'fork', actors });
      for (let seed = 1; seed <= 40; seed++) {
        const e = execute(scn, uniformRandom(seed * 7919), { trace: true });
        const where = `${era} ${arch} seed ${seed}: ${describe(e)}`;
        if (e.violation) t.truthy(knownRace(era, arch, [...new Set([e.violation.usedBy.name, e.violation.changedBy?.name ?? ''].filter(Boolean).map((n) => n.replace(/#\d+$/, '')))], e.violation.kind), where);
        const o = order(e, scn.actors);
        if (o.childStart !== Infinity) t.true(o.childStart > o.forkEnd, where);
        if (e.trace.some((s) => s.actor === 4 && s.step < o.forkEnd)) khugepagedInside++;
      }
    }
  }
  // khugepaged (a kernel thread) is not held: it does get to run while fork does.
  t.true(khugepagedInside > 0);
});

test("a fork zapped by its mm's core dump before its syscall makes no child: the child's threads never run (was a deadlock)", (t) => {
  // The campaign's token: coredump, fork and a fork#2 that runs in mm 1.
  const r = decodeToken('mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2NS44IiwidiI6W10sInciOiJmb3JrIiwicyI6W1siY29yZWR1bXAiLHsiYWRkciI6MH1dLFsiZm9yayIse31dLFsiZm9yayIse30sMV1dLCJwIjpbXSwiYyI6W119.82649e5c');
  const e = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
  t.is(e.outcome, 'clean', describe(e));
  t.false(e.trace.some((s) => s.actor === 1 || s.actor === 2), 'neither fork took a step');
  for (const era of ['v5.8', 'v6.6']) {
    const actors: ActorCall[] = [{ actor: 'coredump' }, { actor: 'fork' }, { actor: 'touch', mm: 1, args: { addr: 0, write: 0, accesses: 1 } }];
    // The dump first: fork never begins, so the child's thread never exists.
    const zapped = runScript({ arch: 'x86-ipi', era, world: 'fork', actors }, [{ actor: 'touch' }, { actor: 'coredump' }]);
    t.is(zapped.exec.outcome, 'clean', `${era}: ${describe(zapped.exec)}`);
    t.false(zapped.exec.trace.some((s) => s.actor === 1 || s.actor === 2), era);
    // Fork first: the dump comes after, and the child (no dump there) runs.
    const forked = runScript({ arch: 'x86-ipi', era, world: 'fork', actors }, [{ actor: 'fork' }, { actor: 'coredump' }, { actor: 'touch' }]);
    t.is(forked.exec.outcome, 'clean', `${era}: ${describe(forked.exec)}`);
    t.regex(forked.exec.trace.find((s) => s.actor === 2)?.label ?? '', /read to 0 → frame 3/, era);
  }
});

test("a vCPU of the child registering its mmu notifier takes the anon_vma lock the child's VMAs share with the parent", (t) => {
  // From a v5.8 campaign: migration's rmap walk (under the parent's anon_vma lock) was inside
  // invalidate_range_start/end on the child when kvm registered, because mm_take_all_locks() locked
  // an anon_vma of the child's own; kvm's range_end then found mmu_notifier_count < 0.
  const r = decodeToken('mmfz1:eyJhIjoieDg2LXBhZSIsImUiOiJ2NS44IiwidiI6W10sInciOiJmb3JrIiwicyI6W1sia3ZtIix7ImFjY2Vzc2VzIjoyLCJhZGRyIjowfSwxXSxbIm1pZ3JhdGVfcGFnZXMiLHsiYWRkciI6MH1dLFsiZm9yayIse31dXSwicCI6W1stMSwwLDJdLFsyLDEsMF0sWzIsMSwzXSxbMiwzLDFdLFsxLDEsMl0sWzIsNiwxXSxbMSwzLDJdLFsyLDEwLDFdLFsxLDUsMl0sWzIsMTEsMV0sWzEsNiwyXSxbMiwxNCwxXSxbMSw3LDJdLFsyLDE2LDFdLFsxLDgsMl0sWzIsMTksMV0sWzEsOSwyXSxbMiwyMiwxXSxbMSwxMCwyXSxbMiwyMywxXV0sImMiOlszNSwxOCwxNiwxLDI3LDEsMCwwLDEsMCwxLDEsMSwxLDEsMSwwLDAsMV19.08c1e3e0');
  const e = execute(buildScenario(r.spec), follow(r.schedule), { trace: true });
  t.is(e.outcome, 'clean', describe(e));
  const kvmLocks = e.trace.filter((s) => s.actor === 0 && s.label.startsWith('down_write(')).map((s) => s.label);
  t.true(kvmLocks.includes('down_write(anon_vma)') && !kvmLocks.some((l) => l.includes('anon_vma(mm1)')), kvmLocks.join('; '));
});
