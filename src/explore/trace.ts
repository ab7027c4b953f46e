// A trace drawn the way kernel commit messages draw a race: one column per CPU, headed by the actor,
// a line per step with the values that matter under it, the line where the oracle fired marked, and
// the violation explained in words below. And the same trace as JSON.

import { fmtPmd, fmtPte } from '../mm/entries.js';
import type { MmEvent } from '../mm/events.js';
import type { ActorCall, Scenario } from '../mm/scenario.js';
import type { Violation } from '../oracle/violations.js';
import type { Execution } from './executor.js';
import { depth, type Schedule } from './schedule.js';

const COL = 44;

/** A column's head: `CPU 1: munmap(vma=1)`, with the arguments that differ from the actor's defaults
 *  (an actor on its defaults is shown by its name alone, as before worlds), and `mm1` when the world
 *  has several mms. Kept within `width`: arguments that do not fit are cut to `…`. */
export function columnHead(scenario: Scenario, id: number, name: string, width = COL): string {
  const a = scenario.actors[id];
  // A thread of several operations is headed by their names; each shows its arguments as it starts.
  const args = a && a.ops.length === 1 ? a.def.params.filter((p) => a.args[p.name] !== undefined && a.args[p.name] !== p.default).map((p) => `${p.name}=${a.args[p.name]}`) : [];
  const tail = a && scenario.world.mms.length > 1 && a.def.daemon !== 'drain' ? ` mm${a.mm}` : '';
  for (let k = args.length; k >= 0; k--) {
    const shown = k === args.length ? args : [...args.slice(0, k), '…'];
    const text = `CPU ${id}: ${name}${shown.length ? `(${shown.join(',')})` : ''}${tail}`;
    if (text.length <= width) return text;
  }
  const plain = `CPU ${id}: ${name}${tail}`;
  return plain.length <= width ? plain : `${plain.slice(0, width - 1)}…`;
}

/** An actor call as --actors takes it: `munmap(vma=1)`, `fault(addr=5,mm=1)`, `collapse_file`. */
export function formatCall(call: ActorCall): string {
  const parts = Object.entries(call.args ?? {}).map(([k, v]) => `${k}=${v}`);
  if (call.mm !== undefined) parts.push(`mm=${call.mm}`);
  const head = parts.length ? `${call.actor}(${parts.join(',')})` : call.actor;
  // A thread of several operations: `fault(addr=4);gup_fast(addr=4)`, in order.
  return [head, ...(call.then ?? []).map((o) => formatCall({ actor: o.actor, ...(o.args ? { args: o.args } : {}) }))].join(';');
}

/** Text from an actor (a label, a message) made safe to print: control characters, terminal escape
 *  sequences, line and paragraph separators and bidirectional overrides are shown escaped (\n,
 *  \x1b, \u202e), so that a label stays on its line and cannot forge one ("=== failure") or move
 *  the cursor. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The values that matter in one event, or null for an event the label already says. */
export function note(ev: MmEvent): string | null {
  switch (ev.e) {
    case 'pmd-load': return `pmd ${ev.slot} = ${fmtPmd(ev.value)}`;
    case 'pmd-store': return `pmd ${ev.slot}: ${fmtPmd(ev.old)} → ${fmtPmd(ev.now)}`;
    case 'pte-store': return `pte ${ev.pfn}[${ev.idx}]: ${fmtPte(ev.old)} → ${fmtPte(ev.now)}`;
    case 'alloc': return `alloc ${ev.pfn} (${ev.kind})`;
    case 'free': return `free ${ev.pfn} (${ev.kind}${ev.how === 'rcu' ? ', grace period over' : ''})`;
    case 'irq': return ev.off ? 'IRQs off' : 'IRQs on';
    case 'ipi-send': return ev.pending.length ? `IPI pending on CPU ${ev.pending.join(', ')} (IRQs off): wait` : null;
    case 'ipi-take': return `CPU ${ev.cpu} takes the IPI`;
    case 'call-rcu': return ev.waitFor.length ? `grace period waits for CPU ${ev.waitFor.join(', ')}` : 'grace period: no reader to wait for';
    case 'pin': return `GUP returns page ${ev.pfn} for address ${ev.addr}`;
    case 'unpin': return `unpin page ${ev.pfn}`;
    case 'copy': return `copy page ${ev.from} → ${ev.to}`;
    case 'cow-share': return `page ${ev.pfn} COW-shared with mm ${ev.child}`;
    case 'ref-get': return ev.ok ? null : `page ${ev.pfn} has refcount 0: no reference`;
    case 'mm-users': return `mm_users = ${ev.now}`;
    case 'trylock-failed': return `${ev.lock} is taken`;
    case 'pmd-clear-bad': return `pmd ${ev.slot} judged bad: was ${fmtPmd(ev.old)}`;
    case 'bug': return ev.msg;
    default: return null;
  }
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out.flatMap((l) => (l.length <= width ? [l] : l.match(new RegExp(`.{1,${width}}`, 'g')) ?? [l]));
}

function describeViolation(v: Violation): string[] {
  const lines = [`${v.kind}: ${printable(v.message)}`];
  lines.push(`  used at step ${v.usedBy.step} by ${v.usedBy.name}: ${printable(v.usedBy.label)}`);
  if (v.changedBy) lines.push(`  changed at step ${v.changedBy.step} by ${v.changedBy.name}: ${printable(v.changedBy.label)}`);
  return lines;
}

export interface RenderInput {
  readonly scenario: Scenario;
  readonly schedule: Schedule;
  readonly exec: Execution;
}

/** The text form. `exec` must have been run with `trace: true`. */
export function renderTrace({ scenario, schedule, exec }: RenderInput): string {
  const used = [...new Set(exec.trace.map((s) => s.actor))].sort((a, b) => a - b);
  const col = new Map(used.map((id, i) => [id, i]));
  const width = COL;
  const pad = (s: string) => s.padEnd(width);
  const row = (c: number, text: string, num: string) => `${num.padStart(4)}  ${' '.repeat(c * (width + 2))}${text}`.trimEnd();
  const out: string[] = [];
  out.push(`      ${used.map((id) => pad(columnHead(scenario, id, exec.names[id] ?? '?', width))).join('  ')}`.trimEnd());
  out.push(`      ${used.map(() => '-'.repeat(width)).join('  ')}`);
  const vStep = exec.violation?.usedBy.step ?? -1;
  const fired = exec.violation && exec.violation.usedBy.step === exec.trace[exec.trace.length - 1]?.step;
  for (const s of exec.trace) {
    const c = col.get(s.actor) ?? 0;
    const marked = s.step === vStep && fired;
    const text = wrap(printable(s.label), width - (marked ? 4 : 0));
    text.forEach((t, i) => out.push(row(c, i === 0 && marked ? `${t.padEnd(width - 4)} <==` : t, i === 0 ? String(s.step) : '')));
    for (const ev of s.events) {
      const n = note(ev);
      if (n) for (const t of wrap(`  ${printable(n)}`, width)) out.push(row(c, t, ''));
    }
  }
  const head = `${scenario.archId}, era ${scenario.sw.era}${scenario.sw.variants.length ? `, variants ${scenario.sw.variants.join(', ')}` : ''}${scenario.world.name === 'default' ? '' : `, world ${scenario.world.name}`}; depth ${depth(schedule)} (${schedule.preemptions.length} preemption${schedule.preemptions.length === 1 ? '' : 's'})`;
  out.unshift(head, '');
  if (exec.violation) {
    out.push('', ...describeViolation(exec.violation));
    if (!fired) out.push('  (found by the audit at the end of the execution)');
  } else {
    out.push('', `no violation (${exec.outcome}, ${exec.steps} steps)`);
  }
  return out.join('\n');
}

export interface JsonTrace {
  readonly version: 1;
  readonly arch: string;
  readonly era: string;
  readonly variants: readonly string[];
  readonly world: string;
  /** Every actor with all its arguments (defaults included) and the mm it runs in or works on. */
  readonly actors: readonly {
    readonly cpu: number; readonly name: string; readonly args: Readonly<Record<string, number>>; readonly mm: number;
    /** A thread of several operations: each, with all its arguments (absent for a thread of one). */
    readonly ops?: readonly { readonly actor: string; readonly args: Readonly<Record<string, number>> }[];
  }[];
  readonly depth: number;
  readonly schedule: Schedule;
  readonly steps: readonly { readonly step: number; readonly cpu: number; readonly actor: string; readonly label: string; readonly notes: readonly string[] }[];
  readonly outcome: string;
  readonly violation: Violation | null;
}

/** The JSON form of the same trace. */
export function traceJson({ scenario, schedule, exec }: RenderInput): JsonTrace {
  return {
    version: 1,
    arch: scenario.archId,
    era: scenario.sw.era,
    variants: scenario.sw.variants,
    world: scenario.world.name,
    actors: scenario.actors.map((a, cpu) => ({
      cpu, name: a.name, args: a.args, mm: a.mm, ...(a.ops.length > 1 ? { ops: a.ops.map((o) => ({ actor: o.def.name, args: o.args })) } : {}),
    })),
    depth: depth(schedule),
    schedule,
    steps: exec.trace.map((s) => ({
      step: s.step, cpu: s.actor, actor: exec.names[s.actor] ?? '?', label: s.label,
      notes: s.events.map(note).filter((n): n is string => n !== null),
    })),
    outcome: exec.outcome,
    violation: exec.violation,
  };
}
