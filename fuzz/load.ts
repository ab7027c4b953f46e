// --load FILE[,FILE...]: user modules. A module is built JavaScript (an ES module) that exports any of
// `actors` (ActorDef[]), `variants` (switches its actors test with has(): { id, summary, eras? }) and
// `arches` (Arch[]), or a default export holding them. Each problem is one line that names the file:
// it does not exist, it throws when imported, it exports none of these, a definition lacks a field or
// takes a name that is taken.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelError } from '../src/mm/errors.js';
import type { ActorDef } from '../src/mm/actor.js';
import { registerArch, type Arch } from '../src/mm/arch.js';
import { registerActor } from '../src/mm/registry.js';
import { registerVariant, type UserVariantDef } from '../src/mm/switches.js';
import { inputProblem } from './files.js';
import { UsageError } from './options.js';
import { echo, echoPath } from './text.js';

const loaded = new Set<string>();

/** The --load files of a command line, as absolute paths (before the other options are parsed,
 *  since --actors may name what they define). */
export function loadArgs(argv: readonly string[]): string[] {
  const files: string[] = [];
  argv.forEach((a, i) => {
    const v = a === '--load' ? argv[i + 1] : a.startsWith('--load=') ? a.slice(7) : undefined;
    if (v !== undefined && !v.startsWith('--')) for (const f of v.split(',')) if (f) files.push(resolve(f));
  });
  return files;
}

/** Every module loaded in this process, in order: workers load them all, since the actors,
 *  variants and architectures a campaign may use are those of every loaded module. */
export function loadedModules(): readonly string[] {
  return [...loaded];
}

export async function loadModules(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (loaded.has(file)) continue;
    if (/\.m?tsx?$/.test(file)) {
      throw new UsageError(`--load '${echoPath(file)}': a TypeScript module must be built to JavaScript first (npx tsc)`);
    }
    const bad = inputProblem(file, null);
    if (bad) throw new UsageError(`--load '${echoPath(file)}': ${bad}`);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--load '${echoPath(file)}': the module failed to load: ${echo(e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e), 100)}`);
    }
    const field = (name: string): unknown[] => {
      const v = mod[name] ?? (mod['default'] as Record<string, unknown> | undefined)?.[name];
      return Array.isArray(v) ? v : [];
    };
    const [actors, variants, arches] = [field('actors'), field('variants'), field('arches')];
    if (actors.length + variants.length + arches.length === 0) {
      throw new UsageError(`--load '${echoPath(file)}': the module exports no actors, variants or arches (export const actors = [ ... ])`);
    }
    try {
      // Switches and architectures first: the module's actors may be run with them.
      for (const v of variants) registerVariant(v as UserVariantDef, file);
      for (const a of arches) registerArch(a as Arch, file);
      for (const def of actors) registerActor(def as ActorDef, file);
    } catch (e) {
      throw new UsageError(`--load '${echoPath(file)}': ${e instanceof ModelError ? e.message : String(e)}`);
    }
    loaded.add(file);
  }
}
