// The diagram for a commit message: only the steps that make the race, in the "CPU 0 / CPU 1" form of
// kernel commit messages, with the kernel's function names and the values that matter, and each run
// of steps left out drawn as one `...` line. It is derived from the trace (slice.ts), never written:
//
// - the step where it goes wrong, and the step that changed what it used;
// - every step that wrote (changed, freed) the entries or frames involved, and the reads of them by
//   the CPUs involved (a read the same CPU repeats before anyone writes is shown once, the later);
// - the lock steps of the involved CPUs for the locks that order them (taken by two of them, held by
//   the walker when it goes wrong, or the split lock of a table involved), and their IRQ, RCU, IPI and
//   flush steps, up to each CPU's last step shown.
//
// The check that it hides nothing the race needs (reorder.ts): the schedule that runs the shown steps
// in order, each hidden step delayed to just before its CPU's next shown step, reaches the same
// violation. `diagramOf` checks it on the scenario, and should the check fail (an actor whose steps
// these rules misjudge), shows hidden steps again, earliest first, until it holds.

import { note, printable, columnHead } from './trace.js';
import type { Execution, TraceStep } from './executor.js';
import type { Scenario } from '../mm/scenario.js';
import type { Schedule } from './schedule.js';
import type { Violation } from '../oracle/violations.js';
import type { MmEvent } from '../mm/events.js';
import { sliceRace, type Slice } from './slice.js';
import { replayKept } from './reorder.js';

const COL = 42;

/** A label without the model's annotations ("[pmd 2]", "[no exit test]"). */
export function kernelLine(label: string): string {
  return label.replace(/\s*\[[^\]]*\]/g, '').trim();
}

/** The same violation: its kind, and the same actor going wrong at the same kernel line. */
export function sameViolation(a: Violation | null, b: Violation | null): boolean {
  if (!a || !b) return false;
  return a.kind === b.kind && a.usedBy.actor === b.usedBy.actor && kernelLine(a.usedBy.label) === kernelLine(b.usedBy.label);
}

/** Whether the steps `kept` of `exec`'s trace suffice (see reorder.ts). */
export function keptSuffice(scn: Scenario, schedule: Schedule, exec: Execution, kept: readonly number[]): boolean {
  const r = replayKept(scn, schedule, exec.trace, kept);
  return r.feasible && sameViolation(r.exec.violation, exec.violation);
}

export interface Diagram {
  readonly slice: Slice;
  /** The trace positions shown. */
  readonly kept: readonly number[];
  /** Hidden steps the check made us show again (0 when the rules were enough). */
  readonly restored: number;
  readonly text: string;
}

/** `kept`, with hidden steps shown again, earliest first, until they suffice (at worst every step up
 *  to the violation, which is the trace itself). */
export function repairKept(scn: Scenario, schedule: Schedule, exec: Execution, kept: readonly number[]): { kept: number[]; restored: number } {
  let out = [...kept].sort((a, b) => a - b);
  let restored = 0;
  const last = out[out.length - 1] ?? exec.trace.length - 1;
  while (!keptSuffice(scn, schedule, exec, out)) {
    const hidden = exec.trace.findIndex((_, i) => i <= last && !out.includes(i));
    if (hidden < 0) break;
    out = [...out, hidden].sort((a, b) => a - b);
    restored++;
  }
  return { kept: out, restored };
}

/** The diagram of `exec` (run with the trace on, ending in a violation), checked as the header says. */
export function diagramOf(scn: Scenario, schedule: Schedule, exec: Execution): Diagram {
  const v = exec.violation;
  if (!v || exec.trace.length === 0) throw new Error('diagramOf: needs an execution with a violation, run with the trace on');
  const slice = sliceRace(exec.trace, v);
  const { kept, restored } = repairKept(scn, schedule, exec, slice.kept);
  return { slice, kept, restored, text: renderDiagram(scn, exec, kept, slice) };
}

/** Whether an event's note belongs in the diagram: sync and lock facts, values read and written, and
 *  frames only when they are involved. */
function shown(ev: MmEvent, objects: ReadonlySet<string>): boolean {
  switch (ev.e) {
    case 'alloc': case 'free': return objects.has(`l:${ev.pfn}`) || objects.has(`f:${ev.pfn}`);
    case 'pin': case 'unpin': return objects.has(`f:${ev.pfn}`);
    case 'copy': return objects.has(`f:${ev.from}`) || objects.has(`f:${ev.to}`);
    case 'pte-store': return objects.has(`e:${ev.pfn}:${ev.idx}`);
    case 'mm-users': return false;
    default: return true;
  }
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) { out.push(line); line = `    ${word}`; } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.flatMap((l) => (l.length <= width ? [l] : l.match(new RegExp(`.{1,${width}}`, 'g')) ?? [l]));
}

/** The text: a column per CPU involved, a line per step shown, `...` for each run of hidden steps. */
export function renderDiagram(scn: Scenario, exec: Execution, kept: readonly number[], slice: Slice): string {
  const trace: readonly TraceStep[] = exec.trace;
  const keep = new Set(kept);
  const cols = [...new Set(kept.map((i) => trace[i]!.actor))].sort((a, b) => a - b);
  const col = new Map(cols.map((a, i) => [a, i]));
  const width = COL;
  const row = (c: number, text: string) => `${' '.repeat(c * (width + 2))}${text}`.trimEnd();
  const out: string[] = [];
  out.push(cols.map((a) => columnHead(scn, a, exec.names[a] ?? '?', width).padEnd(width)).join('  ').trimEnd());
  out.push(cols.map(() => '-'.repeat(width)).join('  '));
  const last = kept[kept.length - 1] ?? -1;
  let hidden = new Set<number>();
  const flush = () => {
    if (hidden.size === 0) return;
    const where = [...hidden].map((a) => col.get(a)).filter((c): c is number => c !== undefined);
    const line = (where.length ? where : [0]).sort((a, b) => a - b);
    let text = '';
    for (const c of line) text = `${text.padEnd(c * (width + 2))}...`;
    out.push(text);
    hidden = new Set();
  };
  for (let i = 0; i <= last; i++) {
    const s = trace[i]!;
    if (!keep.has(i)) { hidden.add(s.actor); continue; }
    flush();
    const c = col.get(s.actor) ?? 0;
    const marked = i === last && exec.violation !== null;
    const lines = wrap(printable(kernelLine(s.label)), width - (marked ? 4 : 0));
    lines.forEach((t, j) => out.push(row(c, j === 0 && marked ? `${t.padEnd(width - 4)} <==` : t)));
    for (const ev of s.events) {
      const n = shown(ev, slice.objects) ? note(ev) : null;
      if (n) for (const t of wrap(printable(n), width - 2)) out.push(row(c, `  ${t}`));
    }
  }
  const v = exec.violation;
  if (v) out.push('', `${v.kind}: ${printable(v.message)}`);
  return out.join('\n');
}
