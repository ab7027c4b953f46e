// The corpus: one JSON file per distinct failure, written atomically the moment it is found (and
// again once it is shrunk), so that a crash, Ctrl-C or kill loses none. A new campaign replays the
// corpus first and says which entries are fixed now.

import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Race } from './races.js';
import { runReplays, type ReplayOptions } from './replays.js';
import type { Stuck } from './watchdog.js';
import { folderProblem, inputProblem, makeFolder } from './files.js';

export interface CorpusEntry {
  readonly version: 1;
  readonly key: string;
  readonly kind: string;
  readonly arch: string;
  readonly actors: readonly string[];
  readonly token: string;
  /** False while only the unshrunk failure is known (the campaign may have died while shrinking). */
  readonly shrunk: boolean;
  readonly era?: string;
  readonly variants?: readonly string[];
  readonly depth?: number;
  readonly known?: string | null;
  readonly minimal?: boolean;
  readonly trace?: string;
  /** Other tokens printed for the same failure (see Failure.otherTokens). */
  readonly otherTokens?: readonly string[];
  /** The race it shows (races.ts): entries of one race share its key. */
  readonly race?: Race;
}

/** Where Hypothesis keeps its database: in the project that runs it (.mmfuzz/corpus under the
 *  current folder), so that each project replays its own failures, not every run's on the machine. */
export function defaultCorpusDir(cwd: string = process.cwd()): string {
  return join(cwd, '.mmfuzz', 'corpus');
}

export function entryFile(dir: string, key: string): string {
  return join(dir, `${key.replace(/[^A-Za-z0-9_.-]+/g, '_')}.json`);
}

let tmpCount = 0;

/** Write an entry atomically: a temporary file in the same folder, then rename(2) over the name. */
export function writeEntry(dir: string, e: CorpusEntry): string {
  makeFolder(dir);
  const file = entryFile(dir, e.key);
  const tmp = `${file}.tmp-${process.pid}-${tmpCount++}`;
  writeFileSync(tmp, `${JSON.stringify(e, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

/** Add a failure unless a shrunk entry for its key is there already. */
export function recordEntry(dir: string, e: CorpusEntry): boolean {
  const file = entryFile(dir, e.key);
  if (!e.shrunk && existsSync(file)) return false;
  writeEntry(dir, e);
  return true;
}

/** Remove the entry saved under `key` if it is still the unshrunk one (superseded by a shrunk entry
 *  under another key). */
export function dropUnshrunk(dir: string, key: string): void {
  const file = entryFile(dir, key);
  if (!existsSync(file)) return;
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as Partial<CorpusEntry>).shrunk === false) rmSync(file);
  } catch {
    // an unreadable file is left for the user to look at
  }
}

/** A file in the corpus folder that is not an entry, and why. */
export interface Skipped {
  readonly file: string;
  readonly why: string;
}

/** The entries in a corpus folder, and the .json files that are not entries (with why). Only regular
 *  files of at most 1 MiB are read: a FIFO would block, a huge file would never end. */
export function scanCorpus(dir: string): { entries: CorpusEntry[]; skipped: Skipped[] } {
  const entries: CorpusEntry[] = [];
  const skipped: Skipped[] = [];
  let st;
  try {
    st = statSync(dir);
  } catch {
    return { entries, skipped };
  }
  if (!st.isDirectory()) return { entries, skipped: [{ file: dir, why: 'is not a folder' }] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    return { entries, skipped: [{ file: dir, why: `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` }] };
  }
  for (const f of names.filter((n) => n.endsWith('.json')).sort()) {
    const path = join(dir, f);
    const bad = inputProblem(path);
    if (bad) {
      skipped.push({ file: f, why: bad });
      continue;
    }
    let e: Partial<CorpusEntry>;
    try {
      e = JSON.parse(readFileSync(path, 'utf8')) as Partial<CorpusEntry>;
    } catch (err) {
      skipped.push({ file: f, why: err instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${String(err)})` });
      continue;
    }
    if (e?.version === 1 && typeof e.token === 'string' && typeof e.key === 'string' && typeof e.kind === 'string') entries.push(e as CorpusEntry);
    else skipped.push({ file: f, why: 'is not a corpus entry (version 1, with key, kind and token)' });
  }
  return { entries, skipped };
}

export function readCorpus(dir: string): CorpusEntry[] {
  return scanCorpus(dir).entries;
}

export interface CorpusReplay {
  readonly reproduce: readonly CorpusEntry[];
  readonly fixed: readonly CorpusEntry[];
  /** Entries whose token this mmfuzz cannot read or build (another version, an unknown actor). */
  readonly unreadable: readonly { readonly entry: CorpusEntry; readonly why: string }[];
  /** Entries whose replay hung: an actor's step never returned (watchdog.ts). */
  readonly hung: readonly { readonly entry: CorpusEntry; readonly stuck: Stuck }[];
}

/** Replay every entry as it was recorded: does it still fail with the same kind? */
export async function replayCorpus(entries: readonly CorpusEntry[], o: Omit<ReplayOptions, 'trace'> = {}): Promise<CorpusReplay> {
  const reproduce: CorpusEntry[] = [];
  const fixed: CorpusEntry[] = [];
  const unreadable: { entry: CorpusEntry; why: string }[] = [];
  const hung: { entry: CorpusEntry; stuck: Stuck }[] = [];
  // In a worker under the watchdog: an entry whose actor never returns from a step is named, and the
  // rest are replayed.
  const outcomes = await runReplays(entries.map((e) => e.token), { ...o, trace: false });
  entries.forEach((entry, i) => {
    const r = outcomes[i];
    if (!r) unreadable.push({ entry, why: 'not replayed (interrupted)' });
    else if (r.t === 'hung') hung.push({ entry, stuck: r.stuck });
    else if (r.t === 'error') unreadable.push({ entry, why: r.message });
    else (r.kind === entry.kind ? reproduce : fixed).push(entry);
  });
  return { reproduce, fixed, unreadable, hung };
}

/** The corpus as a campaign writes it: the first write that fails (a read-only folder, no
 *  permission, HOME not writable) is reported once through `warn`, and the campaign goes on without
 *  it; its failures are still printed with their tokens and kept in the report. */
export interface CorpusStore {
  readonly dir: string;
  /** False once a write has failed (or the folder was found unwritable up front). */
  readonly writable: () => boolean;
  readonly write: (e: CorpusEntry) => void;
  readonly record: (e: CorpusEntry) => void;
  readonly dropUnshrunk: (key: string) => void;
}

export function corpusStore(dir: string, warn: (why: string) => void, problem: string | null = folderProblem(dir)): CorpusStore {
  let broken = problem;
  if (broken) warn(broken);
  const guard = (f: () => void) => {
    if (broken) return;
    try {
      f();
    } catch (e) {
      broken = (e as NodeJS.ErrnoException | null)?.code ?? (e instanceof Error ? e.message : String(e));
      warn(broken);
    }
  };
  return {
    dir,
    writable: () => broken === null,
    write: (e) => guard(() => { writeEntry(dir, e); }),
    record: (e) => guard(() => { recordEntry(dir, e); }),
    dropUnshrunk: (key) => guard(() => dropUnshrunk(dir, key)),
  };
}
