// Text from a user's actor (step labels, exception messages) is printed escaped: a label cannot end
// its line, forge a "=== failure" line, or send a terminal escape sequence.

import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';
import { execute } from '../src/explore/executor.js';
import { follow } from '../src/explore/schedule.js';
import { printable, renderTrace } from '../src/explore/trace.js';
import type { ActorDef } from '../src/mm/actor.js';
import { buildScenario, findActor } from '../src/mm/scenario.js';
import { step } from '../src/mm/step.js';

const FORGED = 'mmap_read_lock()\n=== failure 9: forged-kind: nobody on x86-ipi\u001b[2J\u001b]0;pwned\u0007\r\u202e';

test('printable() escapes control characters, escape sequences, line separators and bidi overrides', (t) => {
  t.is(printable('a\nb\tc\r\u001b[31m\u0000\u007f\u2028\u202e'), 'a\\nb\\tc\\r\\x1b[31m\\x00\\x7f\\u2028\\u202e');
  t.is(printable('spin_lock(ptl(5)) → none'), 'spin_lock(ptl(5)) → none', 'ordinary text, arrows included, is left alone');
});

test('a step label with a newline and escape sequences stays on its line in the text trace', (t) => {
  const forger: ActorDef = {
    name: 'forger', summary: 's', follows: '(test)', inMm: false, daemon: 'no', params: [],
    *run() { yield step(FORGED); },
  };
  const pool = [forger, findActor('fault')];
  const scenario = buildScenario({ arch: 'x86-ipi', era: 'v6.6', variants: [], actors: [{ actor: 'forger' }, { actor: 'fault' }] }, pool);
  const schedule = { preemptions: [], choices: [] };
  const exec = execute(scenario, follow(schedule), { trace: true });
  const text = renderTrace({ scenario, schedule, exec });
  t.false(text.split('\n').some((l) => l.startsWith('=== failure')), 'no forged failure line');
  t.notRegex(text, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/, 'no raw control character');
  t.true(text.includes('mmap_read_lock()\\n=== failure 9'), text);
});

test('an exception message from a user actor is printed as one escaped line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-esc-'));
  const mod = join(dir, 'thrower.mjs');
  writeFileSync(mod, `export const actors = [{ name: 'thrower', summary: 's', follows: '(test)', inMm: false, daemon: 'no', params: [], *run() { throw new Error(${JSON.stringify(FORGED)}); } }];\n`);
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['--load', mod, '--actors', 'thrower,fault', '--runs', '50', '--workers', '1', '--quiet', '--corpus', join(dir, 'c')], (l) => out.push(l), (l) => err.push(l));
  t.is(code, 3, err.join('\n'));
  const lines = err.join('\n').split('\n');
  t.true(lines.length > 0 && lines.every((l) => l.startsWith('mmfuzz: ')), lines.join('\n'));
  t.notRegex(err.join('\n'), /[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
  t.false(out.join('\n').split('\n').some((l) => l.startsWith('=== failure')));
});
