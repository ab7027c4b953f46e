// Replay tokens: the round trip, and every way a token can be bad.

import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { actorsArb } from '../src/arbitraries/scenario.js';
import { scheduleArb } from '../src/arbitraries/schedule.js';
import { switchesArb } from '../src/arbitraries/switches.js';
import { archArb } from '../src/arbitraries/arch.js';
import { crc32, decodeToken, encodeToken, TokenError } from '../src/explore/token.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { ARCH_IDS } from '../src/mm/arch.js';
import { ERA_IDS, VARIANT_IDS } from '../src/mm/switches.js';

const replayArb = fc.record({ arch: archArb(ARCH_IDS), sw: switchesArb(ERA_IDS, VARIANT_IDS), actors: actorsArb(ACTORS), schedule: scheduleArb(4) })
  .map(({ arch, sw, actors, schedule }) => ({ spec: { arch, era: sw.era, variants: [...sw.variants], actors }, schedule }));

testProp('a token decodes to what was encoded', [replayArb], (t, r) => {
  const token = encodeToken(r);
  t.regex(token, /^mmfz1:[A-Za-z0-9_-]+\.[0-9a-f]{8}$/);
  t.deepEqual(decodeToken(token), r);
  t.is(encodeToken(decodeToken(token)), token);
}, { numRuns: 200, seed: 3 });

testProp('a token cut short anywhere is refused', [replayArb, fc.nat()], (t, r, cut) => {
  const token = encodeToken(r);
  const n = 1 + (cut % (token.length - 1));
  const e = t.throws(() => decodeToken(token.slice(0, n)), { instanceOf: TokenError });
  t.false(e.message.includes('\n'));
}, { numRuns: 200, seed: 4 });

const good = encodeToken({ spec: { arch: 'x86-ipi', era: 'v6.6', variants: [], actors: [{ actor: 'gup_fast', args: { addr: 0, write: 1 } }] }, schedule: { preemptions: [{ after: 0, steps: 2, to: 1 }], choices: [] } });

test('bad tokens each get their own one-line reason', (t) => {
  const reason = (s: string) => t.throws(() => decodeToken(s), { instanceOf: TokenError }).message;
  t.regex(reason('hello'), /not a replay token: it must start with 'mmfz1:'/);
  t.regex(reason(good.replace('mmfz1:', 'mmfz2:')), /format version 2 is not known to this mmfuzz, which reads version 1/);
  t.regex(reason(good.slice(0, good.lastIndexOf('.'))), /truncated: its checksum is missing/);
  const flipped = good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11);
  t.regex(reason(flipped), /damaged or truncated: its checksum does not match/);
  const junk = Buffer.from('{not json').toString('base64url');
  t.regex(reason(`mmfz1:${junk}.${crc32(junk).toString(16).padStart(8, '0')}`), /malformed: its payload is not valid/);
  const wrong = Buffer.from(JSON.stringify({ a: 'x86-ipi', e: '', v: [], s: [['gup_fast', { addr: 'zero' }]], p: [], c: [] })).toString('base64url');
  t.regex(reason(`mmfz1:${wrong}.${crc32(wrong).toString(16).padStart(8, '0')}`), /malformed: a field is missing or of the wrong type/);
});

test('a token does not depend on the order actors were registered in: it names them', (t) => {
  const json = Buffer.from(good.slice(6, good.lastIndexOf('.')), 'base64url').toString('utf8');
  t.true(json.includes('"gup_fast"'));
});
