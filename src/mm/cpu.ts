// IRQs, RCU read side, call_rcu and IPIs, per CPU.
//
// An IPI sent to a CPU with IRQs on is taken at once; to a CPU with IRQs off it stays pending and is
// taken the moment that CPU turns IRQs back on. The sender waits until every target has taken it.
// A CPU is in an RCU quiescent state when it is outside rcu_read_lock() and has IRQs on (an IRQs-off
// region is an RCU-sched reader, and the flavours are one since v5.0).

import { blockUntil, step, type ActorGen, type Ctx } from './step.js';
import type { Cpu, Model } from './types.js';
import { traceOnly } from './events.js';

export function quiescent(cpu: Cpu): boolean {
  return cpu.rcuDepth === 0 && !cpu.irqsOff;
}

/** This CPU passed a quiescent state: no callback waits for it any more. */
function reportQs(m: Model, cpu: Cpu): void {
  for (const cb of m.rcu) {
    if (cb.waitFor[cpu.id]) {
      cb.waitFor[cpu.id] = false;
      cb.waiting--;
    }
  }
}

/** What a flush invalidates: an mm's translations in [start, end), and (freed tables, or x86's
 *  INVLPG, which drops paging-structure caches whatever the address) its walk caches. */
export interface FlushRange {
  readonly mm: number;
  readonly start: number;
  readonly end: number;
}

/** Invalidate on one CPU: its TLB entries for `r`, and every paging-structure cache entry of the mm. */
export function flushLocal(cpu: Cpu, r: FlushRange): void {
  // Loops, not a filter with a closure: every flush runs this on every CPU it reaches.
  const tlb = cpu.tlb;
  let j = 0;
  for (let i = 0; i < tlb.length; i++) {
    const t = tlb[i]!;
    if (!(t.mm === r.mm && t.addr >= r.start && t.addr < r.end)) tlb[j++] = t;
  }
  // (Setting an array's length is a runtime call: only when something was dropped.)
  if (j !== tlb.length) tlb.length = j;
  const pwc = cpu.pwc;
  j = 0;
  for (let i = 0; i < pwc.length; i++) {
    const p = pwc[i]!;
    if (p.mm !== r.mm) pwc[j++] = p;
  }
  if (j !== pwc.length) pwc.length = j;
}

/** flush_tlb_func() on a CPU: a CPU in lazy TLB mode does not flush the range but leaves lazy mode
 *  (switch_mm_irqs_off(NULL, &init_mm)): its caches of the mm go, and so does its mm_cpumask bit. */
export function flushIpi(m: Model, cpu: Cpu, r: FlushRange): void {
  if (cpu.lazy) {
    flushLocal(cpu, { mm: r.mm, start: 0, end: Infinity });
    cpu.lazy = false;
    const mm = m.mms[r.mm];
    if (mm) mm.cpumask[cpu.id] = false;
    return;
  }
  flushLocal(cpu, r);
}

function takePendingIpis(m: Model, cpu: Cpu): void {
  if (cpu.pendingIpi.length === 0) return;
  for (const ipi of cpu.pendingIpi) {
    if (ipi.flush) flushIpi(m, cpu, ipi.flush);
    if (traceOnly(m)) m.events.push({ e: 'ipi-take', cpu: cpu.id, from: ipi.from });
  }
  cpu.pendingIpi.length = 0;
}

/** local_irq_save(): returns the previous state, for local_irq_restore(). */
export function local_irq_save(c: Ctx): boolean {
  const was = c.cpu.irqsOff;
  c.cpu.irqsOff = true;
  if (traceOnly(c.m)) c.m.events.push({ e: 'irq', cpu: c.cpu.id, off: true });
  return was;
}

/** local_irq_restore(): with IRQs back on, pending IPIs are taken at once. */
export function local_irq_restore(c: Ctx, wasOff: boolean): void {
  c.cpu.irqsOff = wasOff;
  if (traceOnly(c.m)) c.m.events.push({ e: 'irq', cpu: c.cpu.id, off: wasOff });
  if (!wasOff) {
    takePendingIpis(c.m, c.cpu);
    if (quiescent(c.cpu)) reportQs(c.m, c.cpu);
  }
}

export function rcu_read_lock(c: Ctx): void {
  c.cpu.rcuDepth++;
  if (traceOnly(c.m)) c.m.events.push({ e: 'rcu', cpu: c.cpu.id, depth: c.cpu.rcuDepth });
}

export function rcu_read_unlock(c: Ctx): void {
  c.cpu.rcuDepth--;
  if (c.cpu.rcuDepth < 0) c.m.events.push({ e: 'bug', msg: 'rcu_read_unlock() without rcu_read_lock()' });
  if (traceOnly(c.m)) c.m.events.push({ e: 'rcu', cpu: c.cpu.id, depth: c.cpu.rcuDepth });
  if (quiescent(c.cpu)) reportQs(c.m, c.cpu);
}

/** call_rcu(): `fn` runs, in the RCU callback actor, once every CPU that was not quiescent now has
 *  passed a quiescent state. */
export function call_rcu(m: Model, queuedBy: number, label: string, fn: (m: Model) => void): void {
  const waitFor = m.cpus.map((cpu) => !quiescent(cpu));
  const waiting = waitFor.filter(Boolean).length;
  m.rcu.push({ label, fn, waitFor, waiting, queuedBy });
  if (traceOnly(m)) m.events.push({ e: 'call-rcu', label, waitFor: m.cpus.filter((cpu) => !quiescent(cpu)).map((cpu) => cpu.id) });
}

/** Send an IPI to `targets` (other than our own CPU) and wait until each has taken it. A flush IPI
 *  (flush_tlb_func) empties the target's TLB and paging-structure cache. */
export function* send_ipi_and_wait(c: Ctx, targets: readonly Cpu[], flush: FlushRange | null, label: string): ActorGen {
  const to: number[] = [];
  const pending: number[] = [];
  for (const t of targets) {
    if (t === c.cpu) continue;
    to.push(t.id);
    if (t.irqsOff) {
      t.pendingIpi.push({ from: c.id, flush });
      pending.push(t.id);
    } else {
      if (flush) flushIpi(c.m, t, flush);
      if (traceOnly(c.m)) c.m.events.push({ e: 'ipi-take', cpu: t.id, from: c.id });
    }
  }
  if (traceOnly(c.m)) c.m.events.push({ e: 'ipi-send', from: c.cpu.id, to, pending });
  yield step(label);
  if (pending.length > 0) {
    const cpus = c.m.cpus;
    yield* blockUntil(`${label}: wait for IPIs`, () => pending.every((id) => !cpus[id]?.pendingIpi.some((p) => p.from === c.id)));
  }
}
