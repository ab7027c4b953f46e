// A campaign's focus: the actors its switched-on variants concern. An actor belongs to it when its
// code consults one of those switches (has(sw, bug), src/mm/switches.ts, whether in the actor's own
// file or in a helper it calls, such as pmd_none_or_clear_bad() in walk.ts), or reads a feature of
// the architecture that they change (V8 makes an IPI architecture a paravirt guest that flushes by
// hypercall: the flushers read arch.flush), which is found by
// running it: each actor of the pool alone, a few times with its arguments drawn, under switches
// whose set of bugs records what it is asked. Actors of a user module (--load) are in it too: they
// are what the user came to test. A variant's group also brings its partners (partners.ts): the
// actors that read none of the switches but touch what its readers touch where they consult it, under
// locks that let them (V5's THP fault for the pmd walkers, V8's GUP-fast for the flushers), as a group
// of their own, so that a directed program pairs a reader with its other half. Deterministic: the
// runs' arguments and schedules come from fixed seeds, and the answer is in the pool's order.

import type { ActorDef, Args } from '../mm/actor.js';
import type { Arch } from '../mm/arch.js';
import { buildScenario, type ActorCall, type Scenario } from '../mm/scenario.js';
import type { EraId, Switches, VariantId } from '../mm/switches.js';
import { parseWorld } from '../mm/world/registry.js';
import type { MmEvent } from '../mm/events.js';
import type { Model } from '../mm/types.js';
import { execute } from './executor.js';
import { conflicts, emptyProfile, file, kindsOf, rwsemsHeld, type Profile, type RunLog } from './partners.js';
import { splitmix32, uniformRandom } from './schedulers.js';

export interface FocusQuery {
  readonly era: EraId;
  /** The switched-on variants (not the era's own bugs). */
  readonly variants: readonly VariantId[];
  readonly archs: readonly string[];
  /** World names (default: `default`). */
  readonly worlds?: readonly string[];
  readonly pool: readonly ActorDef[];
  /** Is this actor from a user module (--load)? */
  readonly loaded?: (name: string) => boolean;
  /** Runs of each actor per world and architecture (default PROBE_RUNS). */
  readonly runs?: number;
  /** Add each variant group's partners as a group of their own (partners.ts): default true. */
  readonly partners?: boolean;
}

/** Runs of each actor per world and architecture: the first with its default arguments, the others
 *  with arguments and schedules drawn. */
export const PROBE_RUNS = 4;
/** A probe run is short: a switch consulted at all is consulted early in an actor alone. */
const PROBE_STEPS = 400;

/** The switches of `scn` with a set of bugs that writes down every bug it is asked about (in `asked`,
 *  and in `now`, which the probe empties at each step). */
function recordingSwitches(sw: Switches, asked: Set<VariantId>, now: Set<VariantId>): Switches {
  const bugs = new Set(sw.bugs);
  bugs.has = (b: VariantId) => {
    asked.add(b);
    now.add(b);
    return Set.prototype.has.call(bugs, b);
  };
  return { ...sw, bugs };
}

/** `arch`, but reading one of the fields in which it differs from `base` sets `asked.arch` (and
 *  `asked.now`, which the probe clears at each step). */
function recordingArch(arch: Arch, base: Arch, asked: { arch: boolean; now: boolean }): Arch {
  const a = arch as unknown as Readonly<Record<string, unknown>>;
  const b = base as unknown as Readonly<Record<string, unknown>>;
  const changed = new Set(Object.keys(a).filter((k) => k !== 'description' && a[k] !== b[k]));
  if (changed.size === 0) return arch;
  return new Proxy(arch, {
    get: (t, k, r) => {
      if (typeof k === 'string' && changed.has(k)) asked.arch = asked.now = true;
      return Reflect.get(t, k, r) as unknown;
    },
  });
}

function drawArgs(def: ActorDef, next: () => number, first: boolean): Args {
  return Object.fromEntries(def.params.map((p) => [p.name, first ? p.default : p.min + (next() % (p.max - p.min + 1))]));
}

/** Per architecture: the architecture as the variants of `q` leave it, as no variant leaves it, and
 *  the variants that change it on their own (V8). */
interface ArchProbe {
  readonly base: Arch | null;
  readonly changers: readonly VariantId[];
}

function archProbe(q: FocusQuery, arch: string): ArchProbe {
  const archWith = (variants: readonly VariantId[]): Arch | null => {
    try {
      return buildScenario({ arch, era: q.era, variants, actors: [] }, q.pool).arch;
    } catch {
      return null;
    }
  };
  const base = archWith([]);
  return { base, changers: q.variants.filter((v) => { const a = archWith([v]); return a !== null && a !== base; }) };
}

/** Which of the variants of `q` `def`, run alone, asks about (or reads the architecture they change);
 *  into `profile` (when given), what its runs touched, and where it consulted (partners.ts). */
function consulted(def: ActorDef, q: FocusQuery, archs: ReadonlyMap<string, ArchProbe>, profile?: Profile): Set<VariantId> {
  const want = new Set(q.variants);
  const asked = new Set<VariantId>();
  const found = new Set<VariantId>();
  const next = splitmix32(0x5eed ^ def.name.length);
  for (const worldName of q.worlds ?? ['default']) {
    const mms = parseWorld(worldName).mms.length;
    for (const arch of q.archs) {
      const { base, changers } = archs.get(arch) ?? { base: null, changers: [] };
      const archAsked = { arch: false, now: false };
      const now = new Set<VariantId>();
      let run: RunLog = { steps: [] };
      let model: Model | null = null;
      // The scenario run, kept from one run to the next while only the actor's arguments change, so
      // that the executor keeps its model (resetModel() gives each run the world as it starts; a
      // model built afresh for each run was half the probe's time).
      let kept = null as { key: string; scn: { -readonly [K in keyof Scenario]: Scenario[K] } } | null;
      const observe = (actor: number, label: string, events: readonly MmEvent[]) => {
        const kinds: RunLog['steps'][number]['kinds'] = [];
        kindsOf(label, events, kinds);
        const stepAsked = [...now].filter((b) => want.has(b));
        if (archAsked.now) for (const v of changers) if (!stepAsked.includes(v)) stepAsked.push(v);
        run.steps.push({ kinds, locks: model ? rwsemsHeld(model, actor) : [], asked: stepAsked });
        now.clear();
        archAsked.now = false;
      };
      for (let r = 0; r < (q.runs ?? PROBE_RUNS); r++) {
        const call: ActorCall = { actor: def.name, args: drawArgs(def, next, r === 0), ...(mms > 1 ? { mm: r === 0 ? 0 : next() % mms } : {}) };
        let scn: Scenario;
        try {
          scn = buildScenario({ arch, era: q.era, variants: q.variants, world: worldName, actors: [call] }, q.pool);
        } catch {
          continue; // not runnable there (its era, its world): nothing it could ask
        }
        const key = JSON.stringify([scn.mms, scn.actors.map((a) => a.mm)]);
        if (kept?.key === key) kept.scn.actors = scn.actors;
        else kept = { key, scn: { ...scn, sw: recordingSwitches(scn.sw, asked, now), arch: base ? recordingArch(scn.arch, base, archAsked) : scn.arch } };
        run = { steps: [] };
        now.clear();
        archAsked.now = false;
        const sched = uniformRandom(next());
        try {
          execute(kept.scn, profile ? { ...sched, observe } : sched, { maxSteps: PROBE_STEPS, ...(profile ? { prepare: (m: Model) => { model = m; } } : {}) });
        } catch {
          // An exception in a probe is the campaign's to find and report, not the probe's.
        }
        if (profile) file(profile, `${worldName} ${arch}`, run);
        for (const b of asked) if (want.has(b)) found.add(b);
        if (archAsked.arch) for (const v of changers) found.add(v);
        // With partners, every run: a reader's first consultation may touch nothing (a retract that found
        // no table to free), a later run's may.
        if (found.size === want.size && !profile) return found;
      }
    }
  }
  return found;
}

/** The focus groups of a campaign: for each switched-on variant, the actors of the pool that consult
 *  it, and the actors of user modules; then the variants' partners (partnerGroups()); each in the
 *  pool's order, the empty ones left out. A directed program has an actor of each group
 *  (directed.ts): with two variants on, as V3 is (the GUP-fast pmd re-check and khugepaged's IPI),
 *  the race is between a reader of each. */
export function focusGroups(q: FocusQuery): string[][] {
  const inEra = (d: ActorDef) => !d.eras || d.eras.includes(q.era);
  const pool = q.pool.filter(inEra);
  const archs = new Map(q.variants.length === 0 ? [] : q.archs.map((a) => [a, archProbe(q, a)] as const));
  const withPartners = q.partners !== false && q.variants.length > 0;
  const profiles = new Map(withPartners ? pool.map((d) => [d.name, emptyProfile()] as const) : []);
  const reads = new Map(q.variants.length === 0 ? [] : pool.map((d) => [d.name, consulted(d, q, archs, profiles.get(d.name))] as const));
  const groups = q.variants.map((v) => pool.filter((d) => reads.get(d.name)?.has(v) === true).map((d) => d.name));
  groups.push(pool.filter((d) => q.loaded?.(d.name) === true).map((d) => d.name));
  if (withPartners) groups.push(...partnerGroups(q.variants, groups, pool.map((d) => d.name), profiles));
  return groups.filter((g) => g.length > 0);
}

/** A group of more readers than this is narrowed to those its partners meet on the same object. */
const WIDE = 4;

/** For each variant's group (the first `variants.length` of `groups`), its partners (partners.ts):
 *  the actors in no group that conflict with one of its readers where it consulted the variant; and
 *  the group narrowed to the readers that have one (a reader whose consultation nothing outside could
 *  touch is not half of a race the draw can pair; V8's flushers that free no table). None for a group
 *  that another group already partners (V3's two switches: GUP-fast's pmd re-check and khugepaged's
 *  IPI, each group the other's partner: a directed program has both already); a group of partners the
 *  same as one before it is given once. In the pool's order. `groups` is narrowed in place. */
function partnerGroups(variants: readonly VariantId[], groups: string[][], names: readonly string[], profiles: ReadonlyMap<string, Profile>): string[][] {
  const grouped = new Set(groups.flat());
  const out: string[][] = [];
  variants.forEach((v, i) => {
    const readers = groups[i] ?? [];
    const pairs = (r: string, n: string) => r !== n && conflicts(profiles.get(r)!, v, profiles.get(n)!);
    const partnerOf = (n: string) => readers.some((r) => pairs(r, n));
    if (groups.some((g, j) => j !== i && g.length > 0 && g.some(partnerOf))) return;
    // Of the actors that partner some reader, those that partner the most readers (at least 3/4 as many
    // as the best, so that one reader more or less in the probe does not decide): the other half of the
    // most races the group can draw (V8: GUP-fast, gup_slow and a user's touch pair with 11 of the 12
    // flushers, the per-VMA-lock fault with 9, a fault under mmap_lock with 7; V5: the THP fault with
    // 10 of the 10 pmd walkers, collapse_huge_page with 2).
    const count = new Map(names.filter((n) => !grouped.has(n)).map((n) => [n, readers.filter((r) => pairs(r, n)).length] as const));
    const most = Math.max(0, ...count.values());
    if (most === 0) return;
    const mine = names.filter((n) => (count.get(n) ?? 0) * 4 >= most * 3);
    // The readers: those with a partner; and of a wide group (more than WIDE), those that the partners
    // touch on the very object they consult on (the pmd, the table: the probe saw them both at it),
    // the most such partners (3/4 again), if any. V8: of 12 flushers, munmap and exit_mmap free the
    // table GUP-fast walks at its default address. Not in a narrow group: four probe runs with drawn
    // arguments are thin evidence (V2's collapse_file and GUP-fast meet on a file table only at
    // addresses the probe may not draw), and a narrow group's readers are each drawn often already.
    const paired = readers.filter((r) => mine.some((n) => pairs(r, n)));
    const exact = new Map(paired.map((r) => [r, mine.filter((n) => r !== n && conflicts(profiles.get(r)!, v, profiles.get(n)!, true)).length] as const));
    const best = paired.length > WIDE ? Math.max(0, ...exact.values()) : 0;
    groups[i] = best > 0 ? paired.filter((r) => (exact.get(r) ?? 0) * 4 >= best * 3) : paired;
    if (!out.some((g) => g.join() === mine.join())) out.push(mine);
  });
  return out;
}

/** The focus actors of a campaign, in the pool's order: those that consult a switched-on variant (and
 *  their partners, unless `partners: false`), and those of user modules. Empty when no variant is on
 *  and no module's actor is in the pool. */
export function focusActors(q: FocusQuery): string[] {
  const inGroup = new Set(focusGroups(q).flat());
  return q.pool.filter((d) => inGroup.has(d.name)).map((d) => d.name);
}
