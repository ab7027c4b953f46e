// Failures grouped the way syzbot titles crashes: by the race, not by how it was seen. A race is the
// racing pair, the kernel line that changed the frame and the kernel line that used it (and the known
// race, where there is one). One race is often seen through several violation kinds (a table freed
// under a walker is a use-after-free on one architecture, frame 0 walked or a torn pmd on another),
// on each architecture, and with a third actor that shrinking could not remove: all of it one race.

import type { Execution } from '../src/explore/executor.js';
import type { MmEvent } from '../src/mm/events.js';
import type { StepRef, Violation } from '../src/oracle/violations.js';

/** One side of a race: the actor, and the kernel line (its step's label, without this run's numbers). */
export interface RaceSite {
  readonly actor: string;
  readonly line: string;
  /** The step in the failure's shrunk trace. */
  readonly step: number;
}

export interface Race {
  /** What groups failures: equal keys, one race. */
  readonly key: string;
  /** One line, as a syzbot title: `used-line in used-actor vs changed-line in changed-actor`. */
  readonly title: string;
  readonly used: RaceSite;
  /** The step that changed what was used: the oracle's `changedBy`, or else the last step of another
   *  actor before the use that changed a pmd, a pte or freed a frame (preferring one that touched the
   *  frame or pmd slot of the violation; failing any, the other actor's last step before the use).
   *  Null when no other actor took a step before the use. */
  readonly changed: RaceSite | null;
  /** The oracle named `changed` itself (else it was read off the trace). */
  readonly changedByOracle: boolean;
  readonly known: string | null;
}

const baseName = (n: string) => n.replace(/#\d+$/, '');

/** A step's label as a kernel line: bracketed notes (`[pmd 3]`, `[low half]`), a result the step saw
 *  (`→ page 8`, `: not mapped`) and this run's numbers (frames, addresses) are not the line. */
export function kernelLine(label: string): string {
  return label
    .replace(/\s*\[[^\]]*\]/g, '')
    .replace(/\s*→.*$/, '')
    .replace(/: not mapped$/, '')
    .replace(/\b\d+\b/g, 'N')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Events that change what a walker may be using. */
function changes(ev: MmEvent): boolean {
  return ev.e === 'pmd-store' || ev.e === 'upper-store' || ev.e === 'pte-store' || ev.e === 'free' || ev.e === 'pmd-clear-bad';
}

/** Does `ev` change the frame or the pmd slot the violation is about? */
function touches(ev: MmEvent, v: Violation): boolean {
  const slot = 'slot' in v ? v.slot : null;
  switch (ev.e) {
    case 'free': case 'pte-store': return v.pfn !== null && ev.pfn === v.pfn;
    case 'pmd-store': return (slot !== null && ev.slot === slot) || (v.pfn !== null && ((ev.old.t === 'table' || ev.old.t === 'huge') && ev.old.pfn === v.pfn));
    case 'pmd-clear-bad': return slot !== null && ev.slot === slot;
    default: return false;
  }
}

/** The step that changed what the violation's step used, read off a traced execution. */
export function changerOf(exec: Execution, v: Violation): StepRef | null {
  if (v.changedBy) return v.changedBy;
  let any: StepRef | null = null;
  let pmd: StepRef | null = null;
  let other: StepRef | null = null;
  for (const s of exec.trace) {
    if (s.step >= v.usedBy.step) break;
    if (s.actor === v.usedBy.actor) continue;
    const ref: StepRef = { step: s.step, actor: s.actor, name: exec.names[s.actor] ?? '?', label: s.label };
    other = ref;
    for (const ev of s.events) {
      if (!changes(ev)) continue;
      if (touches(ev, v)) return lastTouching(exec, v) ?? ref;
      any = ref;
      if (ev.e === 'pmd-store') pmd = ref;
    }
  }
  // No other actor changed an entry or freed a frame (a mapcount, a refcount): its last step is it.
  return pmd ?? any ?? other;
}

/** The last step of another actor before the use that touched the violation's frame or slot. */
function lastTouching(exec: Execution, v: Violation): StepRef | null {
  let hit: StepRef | null = null;
  for (const s of exec.trace) {
    if (s.step >= v.usedBy.step) break;
    if (s.actor === v.usedBy.actor) continue;
    if (s.events.some((ev) => changes(ev) && touches(ev, v))) hit = { step: s.step, actor: s.actor, name: exec.names[s.actor] ?? '?', label: s.label };
  }
  return hit;
}

const site = (r: StepRef): RaceSite => ({ actor: baseName(r.name), line: kernelLine(r.label), step: r.step });

/** The race of a violation seen in a traced execution (`trace: true`). */
export function raceOf(exec: Execution, v: Violation, known: string | null): Race {
  return raceFrom(v.usedBy, changerOf(exec, v), v.changedBy !== null, known);
}

export function raceFrom(usedBy: StepRef, changedBy: StepRef | null, byOracle: boolean, known: string | null): Race {
  const used = site(usedBy);
  const changed = changedBy ? site(changedBy) : null;
  const title = `${used.line} in ${used.actor}${changed ? ` vs ${changed.line} in ${changed.actor}` : ''}`;
  const key = [known ?? '', used.actor, used.line, changed?.actor ?? '', changed?.line ?? ''].join('|');
  return { key, title, used, changed, changedByOracle: byOracle, known };
}

/** What grouping needs of a failure (a campaign's Failure or a report's). */
export interface Groupable {
  readonly kind: string;
  readonly arch: string;
  readonly actors: readonly string[];
  readonly race: Race;
  readonly depth: number;
  readonly token: string;
  /** Steps in its shrunk trace: the shortest trace shows the race. */
  readonly steps: number;
  /** When it was first seen: executions and milliseconds into the campaign (absent in old reports). */
  readonly seenAfter?: number | undefined;
  readonly seenAtMs?: number | undefined;
}

export interface RaceGroup<F extends Groupable> {
  readonly race: Race;
  readonly kinds: readonly string[];
  readonly archs: readonly string[];
  /** Each distinct set of actors it was seen with, `a vs b` (in name order: a set, not who raced whom). */
  readonly actors: readonly string[];
  /** The failure whose trace is the shortest (then the least deep, then the first token). */
  readonly shortest: F;
  readonly failures: readonly F[];
  /** The first of its failures seen: executions and milliseconds into the campaign. */
  readonly firstAfter: number | null;
  readonly firstAtMs: number | null;
}

const uniq = (xs: readonly string[]) => [...new Set(xs)].sort();
const minOf = (xs: readonly (number | undefined)[]): number | null => {
  const ns = xs.filter((x): x is number => typeof x === 'number');
  return ns.length ? Math.min(...ns) : null;
};

/** Failures grouped by race, in the order of their keys (the same failures, the same groups). */
export function groupRaces<F extends Groupable>(failures: readonly F[]): RaceGroup<F>[] {
  const by = new Map<string, F[]>();
  for (const f of failures) by.set(f.race.key, [...(by.get(f.race.key) ?? []), f]);
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, fs]) => {
    const shortest = [...fs].sort((a, b) => a.steps - b.steps || a.depth - b.depth || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0))[0]!;
    return {
      race: shortest.race,
      kinds: uniq(fs.map((f) => f.kind)),
      archs: uniq(fs.map((f) => f.arch)),
      actors: uniq(fs.map((f) => [...f.actors].map(baseName).sort().join(' vs '))),
      shortest,
      failures: fs,
      firstAfter: minOf(fs.map((f) => f.seenAfter)),
      firstAtMs: minOf(fs.map((f) => f.seenAtMs)),
    };
  });
}
