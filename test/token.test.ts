// Replay tokens: the round trip, and every way a token can be bad.

import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { worldActorsArb } from '../src/arbitraries/scenario.js';
import { WORLDS } from '../src/mm/world/worlds.js';
import { scheduleArb } from '../src/arbitraries/schedule.js';
import { switchesArb } from '../src/arbitraries/switches.js';
import { archArb } from '../src/arbitraries/arch.js';
import { crc32, decodeToken, encodeToken, TokenError } from '../src/explore/token.js';
import { ACTORS } from '../src/mm/actors/index.js';
import { ARCH_IDS } from '../src/mm/arch.js';
import { ERA_IDS, VARIANT_IDS } from '../src/mm/switches.js';

// Specs as a token gives them back: no world field for the default world, no mm field for mm 0.
const replayArb = fc.record({ arch: archArb(ARCH_IDS), sw: switchesArb(ERA_IDS, VARIANT_IDS), wa: worldActorsArb(WORLDS, ACTORS), schedule: scheduleArb(4) })
  .map(({ arch, sw, wa, schedule }) => ({
    spec: {
      arch, era: sw.era, variants: [...sw.variants], ...(wa.world.name === 'default' ? {} : { world: wa.world.name }),
      actors: wa.actors.map(({ mm, ...call }) => (mm ? { ...call, mm } : call)),
    },
    schedule,
  }));

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
  t.regex(reason(good.replace('mmfz1:', 'mmfz3:')), /format version 3 is not known to this mmfuzz, which reads versions 1 and 2/);
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

// Worlds and mms in tokens: absent for the default, so that every token written before still replays.
const root = new URL('../../', import.meta.url).pathname;
const payloadOf = (token: string) => Buffer.from(token.slice(token.indexOf(':') + 1, token.lastIndexOf('.')), 'base64url').toString('utf8');

test('tokens of the default world are what they were: the corpus and the README tokens re-encode byte for byte', (t) => {
  const dir = join(root, 'test/corpus');
  const tokens = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { token: string }).token);
  tokens.push(...(readFileSync(join(root, 'README.md'), 'utf8').match(/mmfz1:[A-Za-z0-9_\-.]+/g) ?? []));
  t.true(tokens.length >= 10);
  for (const token of tokens) {
    const r = decodeToken(token);
    t.is(r.spec.world, undefined, 'a token without a world field means the default world');
    t.true(r.spec.actors.every((a) => a.mm === undefined));
    t.is(encodeToken(r), token);
    t.is(encodeToken({ ...r, spec: { ...r.spec, world: 'default', actors: r.spec.actors.map((a) => ({ ...a, mm: 0 })) } }), token, 'world default and mm 0 are not written');
  }
});

test('a token names its world and each actor\'s mm, when they are not the default', (t) => {
  const r = { spec: { arch: 'x86-ipi', era: 'v6.6', variants: [], world: 'shared-file', actors: [{ actor: 'fault', args: { addr: 5 }, mm: 1 }, { actor: 'collapse_file', args: { slot: 2 } }] }, schedule: { preemptions: [], choices: [1] } };
  const token = encodeToken(r);
  t.regex(token, /^mmfz1:/);
  t.deepEqual(decodeToken(token), r);
  const json = payloadOf(token);
  t.true(json.includes('"w":"shared-file"'), json);
  t.true(json.includes('["fault",{"addr":5},1]'), json);
  t.true(json.includes('["collapse_file",{"slot":2}]'), json);
});

test('a token with a bad world or mm field is malformed', (t) => {
  const wrap = (x: object) => {
    const p = Buffer.from(JSON.stringify(x)).toString('base64url');
    return `mmfz1:${p}.${crc32(p).toString(16).padStart(8, '0')}`;
  };
  const base = { a: 'x86-ipi', e: '', v: [], s: [['fault', {}]], p: [], c: [] };
  t.notThrows(() => decodeToken(wrap(base)));
  for (const bad of [{ ...base, w: 3 }, { ...base, w: '' }, { ...base, s: [['fault', {}, -1]] }, { ...base, s: [['fault', {}, 1, 2]] }, { ...base, s: [['fault', {}, 'one']] }]) {
    t.throws(() => decodeToken(wrap(bad)), { instanceOf: TokenError, message: /malformed: a field is missing or of the wrong type/ }, JSON.stringify(bad));
  }
});
