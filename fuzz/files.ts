// Files the user names. An input is read only when it is a regular file of at most 1 MiB (a FIFO
// would block forever, /dev/zero would never end). An output path is checked before a campaign
// starts, so that a report that can't be written is bad usage, not an error after an hour of work.

import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './options.js';
import { echoPath } from './text.js';

export const MAX_INPUT_BYTES = 1 << 20;

function stat(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

const code = (e: unknown): string => (e as NodeJS.ErrnoException | null)?.code ?? String(e);

/** Why `path` cannot be read as an input file (with a size cap, or none), or null when it can. */
export function inputProblem(path: string, cap: number | null = MAX_INPUT_BYTES): string | null {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    return code(e) === 'ENOENT' ? 'no such file' : `cannot be read (${code(e)})`;
  }
  if (st.isDirectory()) return 'is a folder: give a file';
  if (!st.isFile()) return 'is not a regular file (a FIFO, device or socket): give a file';
  if (cap !== null && st.size > cap) return `holds ${st.size} bytes: at most ${cap} are read`;
  return null;
}

/** The text of an input file, or a UsageError that starts with `what` and names the file. */
export function readInput(what: string, path: string): string {
  const bad = inputProblem(path);
  if (bad) throw new UsageError(`${what} '${echoPath(path)}': ${bad}`);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`${what} '${echoPath(path)}': cannot be read (${code(e)})`);
  }
}

/** The nearest folder at or above `path` that exists (a path whose parent is a file gives that file). */
function nearestExisting(path: string): { path: string; stats: Stats } {
  for (let p = resolve(path); ; p = dirname(p)) {
    const st = stat(p);
    if (st) return { path: p, stats: st };
    if (dirname(p) === p) return { path: p, stats: statSync(p) };
  }
}

/** Check that `file` can be written, before any work: it is not a folder and its folder exists and is
 *  writable. A UsageError otherwise. */
export function checkOutput(flag: string, file: string): void {
  const st = stat(file);
  const say = (why: string) => new UsageError(`${flag} '${echoPath(file)}' ${why}`);
  if (st?.isDirectory()) throw say('is a folder: give a file to write');
  if (st && !st.isFile()) throw say('is not a regular file: give a file to write');
  const dir = dirname(resolve(file));
  const d = stat(dir);
  if (!d) throw say(`cannot be written: its folder does not exist`);
  if (!d.isDirectory()) throw say(`cannot be written: '${echoPath(nearestExisting(dir).path, 50)}' is not a folder`);
  // Try it (access(2) says yes to root even where a write fails): open an existing file without
  // truncating it, or create the file and remove it again.
  try {
    if (st) closeSync(openSync(file, 'r+'));
    else {
      closeSync(openSync(file, 'wx'));
      rmSync(file);
    }
  } catch (e) {
    throw say(`cannot be written (${code(e)})`);
  }
}

/** Why files cannot be written in folder `dir` (made if missing), or null when they can: a probe
 *  file is created and removed. */
export function folderProblem(dir: string): string | null {
  try {
    makeFolder(dir);
    const probe = join(dir, `.probe-${process.pid}-${probes++}`);
    closeSync(openSync(probe, 'wx'));
    rmSync(probe);
    return null;
  } catch (e) {
    return code(e);
  }
}

let probes = 0;

/** A folder the user names for us to write in (--corpus): an existing file, or a file where a folder
 *  of its path should be, is bad usage (found before the campaign). */
export function checkFolder(flag: string, dir: string): void {
  const near = nearestExisting(dir);
  if (!near.stats.isDirectory()) {
    throw new UsageError(`${flag} '${echoPath(dir)}' ${near.path === resolve(dir) ? 'is a file' : `lies under '${echoPath(near.path, 50)}', a file`}: give a folder`);
  }
}

/** mkdir -p, one level at a time: Node 20's recursive mkdir spins for ever under /proc. */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!stat(p)) {
    missing.unshift(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const m of missing) mkdirSync(m);
}
