// Which releases and architectures a race affects: for every era and architecture, with a failure's
// actors and arguments, a short search for the same race (the same kind of violation, and the same
// racing pair of kernel lines), with the failure's variants switched on and without them. Each search
// tries the failure's own schedule, then every schedule within 0, 1, 2, 3 preemptions (as far as
// three quarters of its budget go), then PCT samples with the rest. Budgets are counted in executions; a time limit, if any, comes
// from an injected clock.

import { execute, type Execution } from './executor.js';
import { exhaustive } from './exhaustive.js';
import { knownRace } from './known.js';
import { pct } from './pct.js';
import { follow, recording, type Schedule } from './schedule.js';
import { sliceRace } from './slice.js';
import { kernelLine } from './diagram.js';
import { encodeToken, type Replay } from './token.js';
import { allArchIds } from '../mm/arch.js';
import { allActors } from '../mm/registry.js';
import { buildScenario, type Scenario } from '../mm/scenario.js';
import { allVariants, ERA_IDS, type EraId } from '../mm/switches.js';
import type { ViolationKind } from '../oracle/violations.js';
import type { MmEvent } from '../mm/events.js';

/** A race: its kind, and the racing pair: the line where it goes wrong and the line of another CPU
 *  that changed what it used there, each with its actor. Numbers in lines (frame numbers) are not
 *  part of it: another era may allocate another frame. The changing line is compared by what it did
 *  to the entries and frames involved (`act`: pte_free() of a pte table, pmdp_huge_get_and_clear() of
 *  the pmd), not by its whole text: the statements around it move between releases (v5.8's
 *  retract_page_tables() drops mmap_lock before pte_free(), v5.10's after). */
export interface RaceId {
  readonly kind: ViolationKind;
  readonly used: { readonly actor: string; readonly line: string };
  readonly changed: { readonly actor: string; readonly line: string; readonly act: string } | null;
}

/** What a step did to the involved objects, in the primitives' words. */
function actOf(events: readonly MmEvent[], objects: ReadonlySet<string>): string {
  const acts = new Set<string>();
  for (const ev of events) {
    switch (ev.e) {
      case 'free': case 'alloc': if (objects.has(`l:${ev.pfn}`) || objects.has(`f:${ev.pfn}`)) acts.add(`${ev.e} ${ev.kind}`); break;
      case 'pmd-store': case 'upper-store': if (objects.has(`e:${ev.table}:${ev.idx}`)) acts.add(ev.how); break;
      case 'entry-install': if (objects.has(`e:${ev.table}:${ev.idx}`)) acts.add(ev.how); break;
      case 'pte-store': if (objects.has(`e:${ev.pfn}:${ev.idx}`)) acts.add('set pte'); break;
      case 'copy': if (objects.has(`f:${ev.from}`) || objects.has(`f:${ev.to}`)) acts.add('copy'); break;
      case 'ref-get': case 'ref-put': case 'pin': case 'unpin': if (objects.has(`f:${ev.pfn}`)) acts.add(ev.e); break;
      default: break;
    }
  }
  return [...acts].sort().join(', ');
}

const baseName = (n: string) => n.replace(/#\d+$/, '');
const lineOf = (label: string) => kernelLine(label).replace(/\d+/g, 'N');

/** The race an execution (run with the trace on) ended in, or null if it ended clean. */
export function raceOf(e: Execution): RaceId | null {
  const v = e.violation;
  if (!v) return null;
  const slice = e.trace.length ? sliceRace(e.trace, v) : null;
  const ch = slice?.changer ?? null;
  const changer = ch !== null ? e.trace[ch] ?? null : null;
  return {
    kind: v.kind,
    used: { actor: baseName(v.usedBy.name), line: lineOf(v.usedBy.label) },
    changed: changer && slice ? { actor: baseName(e.names[changer.actor] ?? ''), line: lineOf(changer.label), act: actOf(changer.events, slice.objects) } : null,
  };
}

export function sameRace(a: RaceId | null, b: RaceId | null): boolean {
  if (!a || !b) return false;
  return a.kind === b.kind && a.used.actor === b.used.actor && a.used.line === b.used.line
    && (a.changed?.actor ?? null) === (b.changed?.actor ?? null) && (a.changed?.act ?? null) === (b.changed?.act ?? null);
}

export function describeRace(r: RaceId): string {
  return `${r.kind}: ${r.used.actor} at ${r.used.line}${r.changed ? `, after ${r.changed.actor} at ${r.changed.line}` : ''}`;
}

/** What one search found. */
export type SearchResult =
  | { readonly t: 'reproduces'; readonly how: 'same-schedule' }
  | { readonly t: 'reproduces'; readonly how: 'exhaustive' | 'sampled'; readonly executions: number; readonly preemptions: number; readonly token: string }
  /** `proven`: every schedule within that many preemptions was run (null: not even 0 was covered). */
  | { readonly t: 'not-found'; readonly proven: number | null; readonly schedules: number; readonly sampled: number; readonly executions: number }
  | { readonly t: 'cannot-run'; readonly why: string };

export interface AffectedLine {
  readonly era: EraId;
  readonly arch: string;
  /** With the failure's variants on (null when it has none). */
  readonly with: SearchResult | null;
  /** With no variant: the era's own code. */
  readonly without: SearchResult;
  /** The known race (docs/known-races.md) it is, when it reproduces without variants. */
  readonly known: string | null;
  /** The fix, where the catalog or the known races know it. */
  readonly fix: string | null;
}

export interface AffectedTable {
  readonly race: RaceId;
  readonly variants: readonly string[];
  readonly lines: readonly AffectedLine[];
}

export interface AffectedBudget {
  /** Executions per search (the failure's own schedule is not counted). */
  readonly executions: number;
  /** And milliseconds per search, on `now`. */
  readonly ms?: number;
  /** Or milliseconds for the whole table, on `now`: each search gets an even share of what is left,
   *  so that the searches that end early (the same schedule, cannot run) leave their time to others. */
  readonly totalMs?: number;
  readonly now?: () => number;
  /** The time limit is not looked at before this many executions (default 0): on a loaded machine a
   *  search still says something. */
  readonly minExecutions?: number;
  /** The exhaustive phase goes up to this many preemptions (default 3). */
  readonly maxPreemptions?: number;
}

/** Fixes of the known races that are not catalog variants (docs/known-races.md). */
const KNOWN_FIXES: Readonly<Record<string, string>> = {
  'dump-without-mmget-still-valid': 'bbe98f9cadff khugepaged: khugepaged_test_exit() check mmget_still_valid() (v5.9)',
  'exit-mmput-window': '64591e8605d6 mm: protect free_pgtables with mmap_lock write lock in exit_mmap (v5.17; it closed the window as a side effect)',
  'khugepaged-file-no-mmu-notifier': 'f268f6cf875f mm/khugepaged: invoke MMU notifiers in shmem/file collapse paths (v6.1)',
  'lazy-tlb-collapse-flush': '3ef938c35035 x86/mm: Fix flush_tlb_range() when used for zapping normal PMDs (v6.15)',
};

export function fixOf(known: string): string | null {
  return KNOWN_FIXES[known] ?? allVariants().find((v) => v.id === known)?.fix ?? null;
}

/** Why a scenario cannot be built at an era, or null. */
function cannotRun(r: Replay, era: EraId, variants: readonly string[]): string | null {
  for (const id of variants) {
    const v = allVariants().find((x) => x.id === id);
    if (v && !v.eras.includes(era)) return `no ${v.tag} code at ${era}`;
  }
  for (const a of r.spec.actors) {
    const d = allActors().find((x) => x.name === a.actor);
    if (d?.eras && !d.eras.includes(era)) return `no ${a.actor} at ${era}`;
  }
  return null;
}

/** One search: the failure's schedule, then exhaustive within 0..maxPreemptions, then PCT samples. */
export function searchRace(scn: Scenario, schedule: Schedule, race: RaceId, budget: AffectedBudget, spec: Replay['spec']): SearchResult {
  const first = execute(scn, follow(schedule), { trace: true });
  if (sameRace(raceOf(first), race)) return { t: 'reproduces', how: 'same-schedule' };
  const now = budget.now;
  const t0 = now?.() ?? 0;
  const floor = budget.minExecutions ?? 0;
  let used = 0;
  const outOfTime = () => used >= floor && budget.ms !== undefined && now !== undefined && now() - t0 >= budget.ms;
  // The cheap half first (the kind and the line where it goes wrong), then the racing pair.
  const isRace = (e: Execution) => e.violation !== null && e.violation.kind === race.kind && baseName(e.violation.usedBy.name) === race.used.actor
    && lineOf(e.violation.usedBy.label) === race.used.line && sameRace(raceOf(e), race);
  const token = (s: Schedule) => encodeToken({ spec: { ...spec, era: scn.sw.era, arch: scn.archId, variants: scn.sw.variants }, schedule: s });
  // Exhaustive, bound by bound, within three quarters of the budget.
  const half = Math.max(1, Math.floor(budget.executions * 3 / 4));
  let inPhase = 0;
  const halfTime = () => used + ++inPhase > floor / 2 && budget.ms !== undefined && now !== undefined && now() - t0 >= budget.ms * 3 / 4;
  let proven: number | null = null;
  let schedules = 0;
  for (let p = 0; p <= (budget.maxPreemptions ?? 3); p++) {
    inPhase = 0;
    const r = exhaustive(scn, p, { choices: schedule.choices, isFailure: isRace, stopAfter: half - used, shouldStop: halfTime, trace: true });
    used += r.explored;
    if (r.failure) return { t: 'reproduces', how: 'exhaustive', executions: used, preemptions: r.failure.schedule.preemptions.length, token: token(r.failure.schedule) };
    if (!r.complete) break;
    proven = p;
    schedules = r.explored;
  }
  // PCT samples with the rest, depth 3, change points among the failure's own length of steps.
  const k = Math.max(1, first.steps);
  let sampled = 0;
  for (let seed = 1; used < budget.executions && !outOfTime(); seed++) {
    const rec = recording(pct(seed, scn.actors.length, 3, k));
    const e = execute(scn, rec, { trace: true });
    used++;
    sampled++;
    if (isRace(e)) {
      const s = rec.schedule();
      return { t: 'reproduces', how: 'sampled', executions: used, preemptions: s.preemptions.length, token: token(s) };
    }
  }
  return { t: 'not-found', proven, schedules, sampled, executions: used };
}

/** The table for a failure (a replay token's contents): every era and architecture. */
export function affected(r: Replay, budget: AffectedBudget, arches: readonly string[] = allArchIds(), eras: readonly EraId[] = ERA_IDS): AffectedTable {
  const scn = buildScenario(r.spec);
  const exec = execute(scn, follow(r.schedule), { trace: true });
  const race = raceOf(exec);
  if (!race) throw new Error('affected: the failure does not reproduce with its own switches');
  const variants = scn.sw.variants;
  // First what costs nothing (cannot run there) or one run (the failure's own schedule), so that
  // the budget is shared among the searches that remain.
  const cells = eras.flatMap((era) => arches.map((arch) => ({ era, arch })));
  const columns = variants.length ? [variants, []] : [[]];
  const results = cells.map(({ era, arch }) => columns.map((vs): SearchResult | (() => SearchResult) => {
    const why = cannotRun(r, era, vs);
    if (why) return { t: 'cannot-run', why };
    const s = buildScenario({ ...r.spec, era, arch, variants: vs });
    if (sameRace(raceOf(execute(s, follow(r.schedule), { trace: true })), race)) return { t: 'reproduces', how: 'same-schedule' };
    return () => searchRace(s, r.schedule, race, share(), r.spec);
  }));
  let searchesLeft = results.flat().filter((x) => typeof x === 'function').length;
  const t0 = budget.now?.() ?? 0;
  const share = (): AffectedBudget => (budget.totalMs === undefined || !budget.now ? budget
    : { ...budget, ms: Math.max(0, budget.totalMs - (budget.now() - t0)) / Math.max(1, searchesLeft--) });
  const lines = cells.map(({ era, arch }, i): AffectedLine => {
    const [a, b] = results[i]!.map((x) => (typeof x === 'function' ? x() : x));
    const withV = variants.length ? a! : null;
    const without = variants.length ? b! : a!;
    let known: string | null = null;
    let fix: string | null = null;
    if (without.t === 'reproduces') {
      const pair = [race.used.actor, ...(race.changed ? [race.changed.actor] : [])].filter((x) => x !== 'rcu');
      known = knownRace(era, arch, pair, race.kind, r.spec.actors.map((a) => a.actor));
      fix = known ? fixOf(known) : null;
    } else if (withV?.t === 'reproduces') {
      fix = variants.map((id) => allVariants().find((v) => v.id === id)?.fix).filter((f): f is string => !!f).join('; ') || null;
    }
    return { era, arch, with: withV, without, known, fix };
  });
  return { race, variants, lines };
}

function says(r: SearchResult): string {
  switch (r.t) {
    case 'reproduces':
      return r.how === 'same-schedule' ? 'reproduces (same schedule)'
        : `reproduces (${r.how}: after ${r.executions} runs, ${r.preemptions} preemption${r.preemptions === 1 ? '' : 's'})`;
    case 'not-found':
      return r.proven !== null
        ? `not found (${r.executions} runs: none within ${r.proven} preemption${r.proven === 1 ? '' : 's'}, nor in ${r.sampled} samples)`
        : `not found (${r.executions} runs: ${r.sampled} samples; 0 preemptions not covered)`;
    case 'cannot-run':
      return `cannot run: ${r.why}`;
  }
}

/** A fix as the table names it: its commit id. */
const commitOf = (fix: string): string => fix.split(/[ ;]/)[0] ?? fix;

/** The table as text: a line per era and architecture. */
export function renderAffected(t: AffectedTable): string {
  const tags = t.variants.map((id) => allVariants().find((v) => v.id === id)?.tag ?? id);
  const rows = t.lines.map((l) => {
    const note = l.without.t === 'reproduces'
      ? l.known ? `known race ${l.known}${l.fix ? `, fixed by ${commitOf(l.fix)}` : ''}` : 'NOT a known race'
      : l.fix ? `the era has ${l.fix.split('; ').map(commitOf).join(', ')}` : '';
    return [l.era, l.arch, ...(l.with ? [says(l.with)] : []), says(l.without), note];
  });
  const head = ['era', 'arch', ...(t.variants.length ? [`with ${tags.join(',')}`] : []), t.variants.length ? 'without' : 'as is', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const fixes = [...new Set(t.lines.map((l) => l.fix).filter((f): f is string => f !== null).flatMap((f) => f.split('; ')))];
  return [`affected: ${describeRace(t.race)}`, '', fmt(head), ...rows.map(fmt), ...(fixes.length ? ['', ...fixes.map((f) => `fix ${f}`)] : [])].join('\n');
}
