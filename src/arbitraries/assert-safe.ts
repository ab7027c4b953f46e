// The property most suites want: the execution found no violation. Its error is the trace, drawn the
// kernel way, and the token that replays it.

import type { ExecutionValue } from './execution.js';

export function assertSafe(e: ExecutionValue): void {
  const v = e.violation;
  if (!v) return;
  throw new Error(`${v.kind}: ${v.message}\n\n${e.trace}\n\nreplay: npm run fuzz -- --replay ${e.token}`);
}
