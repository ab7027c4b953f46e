// Replay tokens: one line of text that holds everything an execution needs, so that a failure comes
// back exactly on any machine. `mmfz1:` + base64url(JSON) + `.` + a CRC-32 of the payload, so that a
// truncated or mangled token is refused with a clear message rather than misread. Actors are named,
// never numbered by registration order.
//
// The world (`w`) and each actor's mm (a third element of its entry) are written only when they are
// not the default (world `default`, mm 0), so a token of the default world is the same as before
// worlds existed, and every `mmfz1:` token written before keeps replaying byte for byte.
//
// Version 2 (`mmfz2:`) carries programs: an entry may have a fourth element, the operations its
// thread runs after the first ([name, args] each; the mm element is then always written). A scenario
// of one operation per thread is still written as version 1, byte for byte as before programs.

import type { ScenarioSpec } from '../mm/scenario.js';
import type { Schedule } from './schedule.js';

/** The newest format: what a token of programs is written in. */
export const TOKEN_VERSION = 2;
/** The formats read: version 1 (one operation per thread) and version 2 (programs). */
export const TOKEN_VERSIONS: readonly number[] = [1, 2];
/** The world a token means when it names none. */
export const DEFAULT_WORLD_NAME = 'default';
const PREFIX = 'mmfz';

export interface Replay {
  readonly spec: ScenarioSpec;
  readonly schedule: Schedule;
}

/** Why a token was refused: one line each. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

const CRC_TABLE = (() => {
  const t: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t.push(c >>> 0);
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(s, 'utf8')) c = (CRC_TABLE[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

interface Wire {
  a: string;
  e: string;
  v: string[];
  /** The world, when it is not `default`. */
  w?: string;
  /** Each actor: its name, its arguments, and its mm when that is not 0; in version 2, also the
   *  operations its thread runs next. */
  s: ([string, Record<string, number>] | [string, Record<string, number>, number] | [string, Record<string, number>, number, [string, Record<string, number>][]])[];
  p: [number, number, number][];
  c: number[];
}

const sortedArgs = (args: Readonly<Record<string, number>> | undefined) => Object.fromEntries(Object.entries(args ?? {}).sort(([x], [y]) => (x < y ? -1 : 1)));

export function encodeToken(r: Replay): string {
  const world = r.spec.world ?? DEFAULT_WORLD_NAME;
  const programs = r.spec.actors.some((a) => (a.then?.length ?? 0) > 0);
  const wire: Wire = {
    a: r.spec.arch,
    e: r.spec.era ?? '',
    v: [...(r.spec.variants ?? [])],
    ...(world !== DEFAULT_WORLD_NAME ? { w: world } : {}),
    s: r.spec.actors.map((a): Wire['s'][number] => {
      const args = sortedArgs(a.args);
      if (a.then && a.then.length > 0) return [a.actor, args, a.mm ?? 0, a.then.map((o): [string, Record<string, number>] => [o.actor, sortedArgs(o.args)])];
      return a.mm ? [a.actor, args, a.mm] : [a.actor, args];
    }),
    p: r.schedule.preemptions.map((p) => [p.after, p.steps, p.to]),
    c: [...r.schedule.choices],
  };
  const payload = Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
  return `${PREFIX}${programs ? 2 : 1}:${payload}.${crc32(payload).toString(16).padStart(8, '0')}`;
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isOp = (x: unknown): boolean => Array.isArray(x) && x.length === 2 && typeof x[0] === 'string'
  && typeof x[1] === 'object' && x[1] !== null && !Array.isArray(x[1]) && Object.values(x[1] as object).every(isInt);

export function decodeToken(token: string): Replay {
  const t = token.trim();
  const m = /^mmfz(\d+):/.exec(t);
  if (!m) throw new TokenError(`not a replay token: it must start with ${TOKEN_VERSIONS.map((v) => `'${PREFIX}${v}:'`).join(' or ')}`);
  const version = Number(m[1]);
  if (!TOKEN_VERSIONS.includes(version)) {
    throw new TokenError(`replay token format version ${version} is not known to this mmfuzz, which reads versions ${TOKEN_VERSIONS.join(' and ')}`);
  }
  const body = t.slice(m[0].length);
  const dot = body.lastIndexOf('.');
  if (dot < 0) throw new TokenError('replay token is truncated: its checksum is missing');
  const payload = body.slice(0, dot);
  const sum = body.slice(dot + 1);
  if (!/^[0-9a-f]{8}$/.test(sum) || parseInt(sum, 16) !== crc32(payload)) {
    throw new TokenError('replay token is damaged or truncated: its checksum does not match');
  }
  let wire: unknown;
  try {
    wire = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('replay token is malformed: its payload is not valid');
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw new TokenError('replay token is malformed: its payload is not a record');
  const w = wire as Partial<Wire>;
  const ok = typeof w.a === 'string' && typeof w.e === 'string' && Array.isArray(w.v) && w.v.every((x) => typeof x === 'string')
    && (w.w === undefined || (typeof w.w === 'string' && w.w !== ''))
    && Array.isArray(w.s) && w.s.every((x) => Array.isArray(x) && (x.length === 2 || (x.length === 3 && isInt(x[2]))
      || (version >= 2 && x.length === 4 && isInt(x[2]) && Array.isArray(x[3]) && x[3].length > 0 && x[3].every(isOp)))
      && isOp(x.slice(0, 2)))
    && Array.isArray(w.p) && w.p.every((x) => Array.isArray(x) && x.length === 3 && Number.isInteger(x[0]) && x[0] >= -1 && isInt(x[1]) && isInt(x[2]))
    && Array.isArray(w.c) && w.c.every(isInt);
  if (!ok) throw new TokenError('replay token is malformed: a field is missing or of the wrong type');
  const v = w as Wire;
  return {
    spec: {
      arch: v.a, ...(v.e ? { era: v.e } : {}), variants: v.v,
      ...(v.w !== undefined && v.w !== DEFAULT_WORLD_NAME ? { world: v.w } : {}),
      actors: v.s.map(([actor, args, mm, then]) => {
        const ops = then ? { then: then.map(([a, g]) => ({ actor: a, args: g })) } : {};
        return mm ? { actor, args, mm, ...ops } : { actor, args, ...ops };
      }),
    },
    schedule: { preemptions: v.p.map(([after, steps, to]) => ({ after, steps, to })), choices: v.c },
  };
}
