import { oldPct as pct } from './old-pct.js';
let wAbove = 0, kGoesOn = 0;
for (let seed = 0; seed < 50; seed++) {
  if (pct(seed, 2, 1, 2).pick([0, 1], -1) !== 0) continue;
  wAbove++;
  const s = pct(seed, 2, 2, 2); const f = s.pick([1], -1); s.observe?.(f, 'unlock', []); if (s.pick([0, 1], f) === 1) kGoesOn++;
}
console.log({ wAbove, kGoesOn });
