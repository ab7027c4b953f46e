// PCT lives in strategies/pct.ts with the other strategies; this name is kept for its importers.
export { pct, pctBound } from './strategies/pct.js';
