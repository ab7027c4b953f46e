// Text that goes back to the user in an error: one line, short, and never a raw control character.

import { printable } from '../src/explore/trace.js';

export { printable };

/** A value echoed back in an error: escaped, and cut to `max` characters with an ellipsis. */
export function echo(value: string, max = 40): string {
  const p = printable(value);
  return p.length > max ? `${p.slice(0, max - 1)}…` : p;
}

/** A whole message as one line of at most `max` characters (the last resort: messages are written
 *  short, and each echoed value is cut by echo()). */
export function oneLine(message: string, max = 199): string {
  const p = printable(message).trim();
  return p.length > max ? `${p.slice(0, max - 1)}…` : p;
}

/** A path echoed back: escaped, and when long, its end (where the file's name is) kept. */
export function echoPath(path: string, max = 80): string {
  const p = printable(path);
  return p.length > max ? `…${p.slice(p.length - max + 1)}` : p;
}
