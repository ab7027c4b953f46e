// Replay tokens: one line of text that holds everything an execution needs, so that a failure comes
// back exactly on any machine. `mmfz1:` + base64url(JSON) + `.` + a CRC-32 of the payload, so that a
// truncated or mangled token is refused with a clear message rather than misread. Actors are named,
// never numbered by registration order.
//
// The world (`w`) and each actor's mm (a third element of its entry) are written only when they are
// not the default (world `default`, mm 0), so a token of the default world is the same as before
// worlds existed, and every `mmfz1:` token written before keeps replaying byte for byte.

import type { ScenarioSpec } from '../mm/scenario.js';
import type { Schedule } from './schedule.js';

export const TOKEN_VERSION = 1;
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
  /** Each actor: its name, its arguments, and its mm when that is not 0. */
  s: ([string, Record<string, number>] | [string, Record<string, number>, number])[];
  p: [number, number, number][];
  c: number[];
}

export function encodeToken(r: Replay): string {
  const world = r.spec.world ?? DEFAULT_WORLD_NAME;
  const wire: Wire = {
    a: r.spec.arch,
    e: r.spec.era ?? '',
    v: [...(r.spec.variants ?? [])],
    ...(world !== DEFAULT_WORLD_NAME ? { w: world } : {}),
    s: r.spec.actors.map((a) => {
      const args = Object.fromEntries(Object.entries(a.args ?? {}).sort(([x], [y]) => (x < y ? -1 : 1)));
      return a.mm ? [a.actor, args, a.mm] : [a.actor, args];
    }),
    p: r.schedule.preemptions.map((p) => [p.after, p.steps, p.to]),
    c: [...r.schedule.choices],
  };
  const payload = Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
  return `${PREFIX}${TOKEN_VERSION}:${payload}.${crc32(payload).toString(16).padStart(8, '0')}`;
}

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;

export function decodeToken(token: string): Replay {
  const t = token.trim();
  const m = /^mmfz(\d+):/.exec(t);
  if (!m) throw new TokenError(`not a replay token: it must start with '${PREFIX}${TOKEN_VERSION}:'`);
  const version = Number(m[1]);
  if (version !== TOKEN_VERSION) {
    throw new TokenError(`replay token format version ${version} is not known to this mmfuzz, which reads version ${TOKEN_VERSION}`);
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
    && Array.isArray(w.s) && w.s.every((x) => Array.isArray(x) && (x.length === 2 || (x.length === 3 && isInt(x[2])))
      && typeof x[0] === 'string' && typeof x[1] === 'object' && x[1] !== null && Object.values(x[1]).every(isInt))
    && Array.isArray(w.p) && w.p.every((x) => Array.isArray(x) && x.length === 3 && Number.isInteger(x[0]) && x[0] >= -1 && isInt(x[1]) && isInt(x[2]))
    && Array.isArray(w.c) && w.c.every(isInt);
  if (!ok) throw new TokenError('replay token is malformed: a field is missing or of the wrong type');
  const v = w as Wire;
  return {
    spec: {
      arch: v.a, ...(v.e ? { era: v.e } : {}), variants: v.v,
      ...(v.w !== undefined && v.w !== DEFAULT_WORLD_NAME ? { world: v.w } : {}),
      actors: v.s.map(([actor, args, mm]) => (mm ? { actor, args, mm } : { actor, args })),
    },
    schedule: { preemptions: v.p.map(([after, steps, to]) => ({ after, steps, to })), choices: v.c },
  };
}
