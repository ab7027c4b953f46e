// Files the user names: inputs are read only when they are regular files of at most 1 MiB (a FIFO
// blocks for ever, /dev/zero never ends), outputs are checked before a campaign starts, and a file
// that is not what it should be is bad usage (exit 2, one line), never an internal error.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../fuzz/main.js';

const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-files-'));
const fifo = join(dir, 'fifo');
const file = join(dir, 'a-file.txt');
const folder = join(dir, 'a-folder');
const big = join(dir, 'big.txt');
const report = (failures: unknown[]) => JSON.stringify({ version: 1, options: {}, executions: 1, execsPerSec: 1, durationMs: 1, failures, internalErrors: [] });

test.before(() => {
  execFileSync('mkfifo', [fifo]);
  writeFileSync(file, 'no token here\n');
  mkdirSync(folder);
  writeFileSync(big, 'x'.repeat((1 << 20) + 1));
  writeFileSync(join(dir, 'bad-failure.json'), report([1]));
  writeFileSync(join(dir, 'no-kind.json'), report([{ arch: 'x86-ipi', actors: [], depth: 1, token: 't', trace: '', era: 'v6.6', variants: [] }]));
  writeFileSync(join(dir, 'null.json'), 'null');
  writeFileSync(join(dir, 'good.json'), report([]));
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const corpus = () => ['--corpus', join(mkdtempSync(join(tmpdir(), 'mmfuzz-files-c-')), 'corpus')];
const campaign = ['--runs', '100', '--arch', 'x86-ipi', '--workers', '1', '--quiet'];

const CASES: readonly [string, () => string[], RegExp][] = [
  ['a FIFO given to --replay', () => ['--replay', fifo], /--replay '.*fifo': is not a regular file \(a FIFO, device or socket\): give a file/],
  ['/dev/zero given to --replay', () => ['--replay', '/dev/zero'], /--replay '\/dev\/zero': is not a regular file/],
  ['a folder given to --replay', () => ['--replay', folder], /--replay '.*a-folder': is a folder: give a file/],
  ['a file over 1 MiB given to --replay', () => ['--replay', big], /--replay '.*big\.txt': holds 1048577 bytes: at most 1048576 are read/],
  ['a FIFO given to --load', () => ['--load', fifo, '--list'], /--load '.*fifo': is not a regular file/],
  ['a folder given to --load', () => ['--load', folder, '--list'], /--load '.*a-folder': is a folder/],
  ['a FIFO given to merge', () => ['merge', fifo, '--json', join(dir, 'm.json')], /merge: report '.*fifo': is not a regular file/],
  ['a folder given to merge', () => ['merge', folder, '--json', join(dir, 'm.json')], /merge: report '.*a-folder': is a folder/],
  ['a report whose failure is a number', () => ['merge', join(dir, 'bad-failure.json'), '--json', join(dir, 'm.json')], /is not an mmfuzz report: failures\[0\] is not an object/],
  ['a report whose failure has no kind', () => ['merge', join(dir, 'no-kind.json'), '--json', join(dir, 'm.json')], /failures\[0\] lacks 'kind'/],
  ['a report that is null', () => ['merge', join(dir, 'null.json'), '--json', join(dir, 'm.json')], /null\.json' is not an mmfuzz report \(version 1\)/],
  ['a token whose checksum is right over a payload of null', () => ['--replay', 'mmfz1:bnVsbA.3c3d388a'], /replay token is malformed: its payload is not a record/],
  ['a file given as --corpus', () => [...campaign, '--corpus', file], /--corpus '.*a-file\.txt' is a file: give a folder/],
  ['a --corpus under a file', () => [...campaign, '--corpus', join(file, 'corpus')], /--corpus '.*corpus' lies under '.*a-file\.txt', a file: give a folder/],
  ['a folder given as --json', () => [...campaign, ...corpus(), '--json', folder], /--json '.*a-folder' is a folder: give a file to write/],
  ['a --json under a missing folder', () => [...campaign, ...corpus(), '--json', join(dir, 'nowhere', 'r.json')], /--json '.*r\.json' cannot be written: its folder does not exist/],
  ['a --json under a file', () => [...campaign, ...corpus(), '--json', join(file, 'r.json')], /--json '.*r\.json' cannot be written: '.*a-file\.txt' is not a folder/],
  ['a --json in a folder that refuses writes (sysfs)', () => [...campaign, ...corpus(), '--json', '/sys/mmfuzz-report.json'], /--json '\/sys\/mmfuzz-report\.json' cannot be written \(E[A-Z]+\)/],
  ['a FIFO given as --json', () => [...campaign, ...corpus(), '--json', fifo], /--json '.*fifo' is not a regular file: give a file to write/],
  ['merge --json to a folder', () => ['merge', join(dir, 'good.json'), '--json', folder], /merge: --json '.*a-folder' is a folder/],
];

for (const [what, argv, why] of CASES) {
  test(`${what}: exit 2, one line, before any work`, async (t) => {
    const r = await cli(...argv());
    t.is(r.code, 2, r.out + r.err);
    t.regex(r.err, why);
    t.is(r.err.split('\n').length, 1, r.err);
    t.is(r.out, '', 'nothing ran');
  });
}

test('--replay --json to a folder is refused before the replay runs', async (t) => {
  const { encodeToken } = await import('../src/explore/token.js');
  const token = encodeToken({ spec: { arch: 'x86-ipi', era: 'v6.6', variants: [], actors: [{ actor: 'fault', args: {} }] }, schedule: { preemptions: [], choices: [] } });
  const r = await cli('--replay', token, '--json', folder);
  t.is(r.code, 2);
  t.regex(r.err, /--json '.*a-folder' is a folder: give a file to write/);
  t.is(r.out, '', 'no trace printed');
});
