// mmfuzz/arbitraries: mmfuzz from a fast-check suite. Each arbitrary is one file; execution() puts
// them together, and assertSafe() is the property.
//
//   fc.assert(fc.property(execution({ era: 'v6.2', variants: ['V2'], arch: ['rcu-table-free'],
//     actors: ['gup_fast', 'collapse_file', 'fault'], strategy: 'pct' }), assertSafe));

export { world } from './world.js';
export { program, type Count, type Program, type ProgramOptions } from './program.js';
export { arch } from './arch.js';
export { switches, type SwitchChoice } from './switches.js';
export { schedule, scheduleValue, type ScheduleOptions, type ScheduleStrategy, type ScheduleValue } from './schedule.js';
export { execution, runExecution, type ExecutionOptions, type ExecutionValue } from './execution.js';
export { assertSafe } from './assert-safe.js';
export type { PoolEntry } from './scenario.js';
export type { ActorCall, OpCall, ScenarioSpec } from '../mm/scenario.js';
export type { Schedule } from '../explore/schedule.js';
export { registerActor } from '../mm/registry.js';
