// --load FILE[,FILE...]: user modules. A module is built JavaScript (an ES module) that exports any of
// `actors` (ActorDef[]), `variants` (switches its actors test with has(): { id, summary, eras? }),
// `arches` (Arch[]) and `worlds` (World[]), or a default export holding them. Worker threads load the
// same modules before they run, so what a module registers reaches them too. Each problem is one line that names the file:
// it does not exist, it throws when imported, it exports none of these, a definition lacks a field or
// takes a name that is taken.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelError } from '../src/mm/errors.js';
import type { ActorDef } from '../src/mm/actor.js';
import { registerArch, type Arch } from '../src/mm/arch.js';
import { registerActor } from '../src/mm/registry.js';
import { registerVariant, type UserVariantDef } from '../src/mm/switches.js';
import { registerWorld } from '../src/mm/world/registry.js';
import type { World } from '../src/mm/world/types.js';
import { inputProblem } from './files.js';
import { UsageError } from './options.js';
import { resolveMmfuzzFromAnywhere } from './resolve.js';
import { echo, echoPath } from './text.js';

const loaded = new Set<string>();
const worldFiles = new Map<string, string>();

/** The module a world was loaded from, or undefined for a shipped world. */
export function worldOrigin(name: string): string | undefined {
  return worldFiles.get(name);
}

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
  if (files.length > 0) resolveMmfuzzFromAnywhere();
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
    const [actors, variants, arches, worlds] = [field('actors'), field('variants'), field('arches'), field('worlds')];
    if (actors.length + variants.length + arches.length + worlds.length === 0) {
      throw new UsageError(`--load '${echoPath(file)}': the module exports no actors, variants, arches or worlds (export const actors = [ ... ])`);
    }
    try {
      // Switches and architectures first: the module's actors may be run with them.
      for (const v of variants) registerVariant(v as UserVariantDef, file);
      for (const a of arches) registerArch(a as Arch, file);
      for (const w of worlds) {
        registerWorld(w as World, file);
        worldFiles.set((w as World).name, file);
      }
      for (const def of actors) registerActor(def as ActorDef, file);
    } catch (e) {
      throw new UsageError(`--load '${echoPath(file)}': ${e instanceof ModelError ? e.message : String(e)}`);
    }
    loaded.add(file);
  }
}
