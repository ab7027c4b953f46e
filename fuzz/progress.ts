// Progress: on a terminal, one line rewritten in place; in a log (no TTY), a plain line every 10 s;
// nothing with --quiet.

export interface ProgressLine {
  readonly executions: number;
  readonly failures: number;
  readonly elapsedMs: number;
  readonly timeLeftMs: number | null;
  readonly pending?: number;
}

export interface ProgressPrinter {
  update(p: ProgressLine): void;
  /** Clear the live line before the summary. */
  finish(): void;
}

export function formatProgress(p: ProgressLine): string {
  const rate = Math.round(p.executions / Math.max(0.001, p.elapsedMs / 1000));
  const left = p.timeLeftMs !== null ? `, ${Math.max(0, Math.round(p.timeLeftMs / 1000))} s left` : '';
  const pend = p.pending !== undefined ? `, ${p.pending} schedules pending` : '';
  return `${p.executions} executions, ${rate}/s, ${p.failures} distinct failure(s)${left}${pend}`;
}

export function progressPrinter(o: { tty: boolean; quiet: boolean; write: (s: string) => void; now: () => number; logEveryMs?: number }): ProgressPrinter {
  const every = o.logEveryMs ?? 10_000;
  let last = -Infinity;
  let live = false;
  return {
    update(p) {
      if (o.quiet) return;
      const t = o.now();
      if (o.tty) {
        if (t - last < 200) return;
        last = t;
        live = true;
        o.write(`\r${formatProgress(p)}\x1b[K`);
      } else if (t - last >= every) {
        last = t;
        o.write(`${formatProgress(p)}\n`);
      }
    },
    finish() {
      if (live) o.write('\r\x1b[K');
      live = false;
    },
  };
}
