// Spinlocks and rwsems. Taking a lock is one step; waiting for it is no step at all (the actor is
// blocked and the scheduler runs someone else). No fairness is modelled: a waiting writer does not
// hold off new readers, which only widens the set of schedules.

import { blockUntil, step, type ActorGen, type Ctx } from './step.js';
import { NOBODY, type RwSem, type SpinLock } from './types.js';
import { traceOnly } from './events.js';

/** `${op}(${name})` for a lock's name, made once per name: taking a lock is a step of nearly every
 *  path, and most executions keep no trace. (Lock names are a world's few; the bound is for names
 *  a user actor makes up.) */
function lockLabels(op: string): (name: string) => string {
  const made = new Map<string, string>();
  return (name) => {
    let label = made.get(name);
    if (label === undefined) {
      if (made.size >= 4096) made.clear();
      made.set(name, (label = `${op}(${name})`));
    }
    return label;
  };
}
export const spinLockLabel = lockLabels('spin_lock');
const mmapReadLockLabel = lockLabels('mmap_read_lock');
const downReadLabel = lockLabels('down_read');
const mmapWriteLockLabel = lockLabels('mmap_write_lock');
const downWriteLabel = lockLabels('down_write');

export function* spin_lock(c: Ctx, l: SpinLock): ActorGen {
  if (l.owner !== NOBODY) yield* blockUntil(spinLockLabel(l.name), () => l.owner === NOBODY);
  spin_take(c, l);
  yield step(spinLockLabel(l.name));
}

/** The acquisition itself, for a caller that has waited for the lock and yields its own step. */
export function spin_take(c: Ctx, l: SpinLock): void {
  l.owner = c.id;
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: l.name, mode: 'spin' });
}

export function spin_unlock(c: Ctx, l: SpinLock): void {
  if (l.owner !== c.id) c.m.events.push({ e: 'bug', msg: `spin_unlock(${l.name}) by a CPU that does not hold it` });
  l.owner = NOBODY;
  if (traceOnly(c.m)) c.m.events.push({ e: 'unlock', lock: l.name, mode: 'spin' });
}

/** Readers are kept in ascending order (what the trace and lock-held audits print). */
function addReader(s: RwSem, id: number): void {
  const r = s.readers;
  let i = r.length;
  r.push(id);
  while (i > 0 && r[i - 1]! > id) {
    r[i] = r[i - 1]!;
    i--;
  }
  r[i] = id;
}

export function* down_read(c: Ctx, s: RwSem): ActorGen {
  if (s.writer !== NOBODY) yield* blockUntil(`down_read(${s.name})`, () => s.writer === NOBODY);
  addReader(s, c.id);
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: s.name, mode: 'read' });
  yield step(s.name === 'mmap_lock' ? mmapReadLockLabel(s.name) : downReadLabel(s.name));
}

export function* down_write(c: Ctx, s: RwSem): ActorGen {
  if (s.writer !== NOBODY || s.readers.length > 0) yield* blockUntil(`down_write(${s.name})`, () => s.writer === NOBODY && s.readers.length === 0);
  s.writer = c.id;
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: s.name, mode: 'write' });
  yield step(s.name === 'mmap_lock' ? mmapWriteLockLabel(s.name) : downWriteLabel(s.name));
}

/** down_read_trylock() (mmap_read_trylock(), the per-VMA lock's vm_lock): the caller yields the
 *  step. No fairness: it fails only while a writer holds the lock. */
export function down_read_trylock(c: Ctx, s: RwSem): boolean {
  if (s.writer !== NOBODY) {
    if (traceOnly(c.m)) c.m.events.push({ e: 'trylock-failed', lock: s.name });
    return false;
  }
  addReader(s, c.id);
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: s.name, mode: 'read' });
  return true;
}

/** down_write_trylock(): the caller yields the step (its label says what it does on failure). */
export function down_write_trylock(c: Ctx, s: RwSem): boolean {
  if (s.writer !== NOBODY || s.readers.length > 0) {
    if (traceOnly(c.m)) c.m.events.push({ e: 'trylock-failed', lock: s.name });
    return false;
  }
  s.writer = c.id;
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: s.name, mode: 'write' });
  return true;
}

export function up_read(c: Ctx, s: RwSem): void {
  const i = s.readers.indexOf(c.id);
  if (i < 0) c.m.events.push({ e: 'bug', msg: `up_read(${s.name}) by a task that does not hold it` });
  else s.readers.splice(i, 1);
  if (traceOnly(c.m)) c.m.events.push({ e: 'unlock', lock: s.name, mode: 'read' });
}

export function up_write(c: Ctx, s: RwSem): void {
  if (s.writer !== c.id) c.m.events.push({ e: 'bug', msg: `up_write(${s.name}) by a task that does not hold it` });
  s.writer = NOBODY;
  if (traceOnly(c.m)) c.m.events.push({ e: 'unlock', lock: s.name, mode: 'write' });
}

/** downgrade_write(): write to read without letting a writer in between. */
export function downgrade_write(c: Ctx, s: RwSem): void {
  if (s.writer !== c.id) c.m.events.push({ e: 'bug', msg: `downgrade_write(${s.name}) without holding it for write` });
  s.writer = NOBODY;
  addReader(s, c.id);
  if (traceOnly(c.m)) c.m.events.push({ e: 'lock', lock: s.name, mode: 'downgrade' });
}

export function holdsWrite(c: Ctx, s: RwSem): boolean { return s.writer === c.id; }
export function holdsRead(c: Ctx, s: RwSem): boolean { return s.readers.includes(c.id); }

/** mmap_read_unlock() as the last step of a path; `label` says which way the path ended. */
export function* mmap_read_unlock_step(c: Ctx, label: string): ActorGen {
  up_read(c, c.mm.mmap_lock);
  yield step(`${label}: mmap_read_unlock(mm)`);
}
