// Registers fuzz/resolve-hooks.ts once per thread (the main thread and each worker load user
// modules), so that a module loaded with --load can import 'mmfuzz' from any folder. A module that
// has its own node_modules/mmfuzz (npm install, npm link) gets that one.

import { register } from 'node:module';

let done = false;

export function resolveMmfuzzFromAnywhere(): void {
  if (done) return;
  done = true;
  const target = new URL('../src/index.js', import.meta.url).href;
  register(new URL('./resolve-hooks.js', import.meta.url).href, { data: { target } });
}
