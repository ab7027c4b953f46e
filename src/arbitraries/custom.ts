// An arbitrary with its own generator and shrinker, made without a class: fast-check's combinators
// (map, filter, chain) live on Arbitrary's prototype, so an object with that prototype and the three
// methods is an arbitrary like any other.

import fc from 'fast-check';

export interface CustomArbitrary<T> {
  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T>;
  canShrinkWithoutContext(value: unknown): value is T;
  shrink(value: T, context: unknown): fc.Stream<fc.Value<T>>;
}

export function customArbitrary<T>(methods: CustomArbitrary<T>): fc.Arbitrary<T> {
  const arb: unknown = Object.assign(Object.create(fc.Arbitrary.prototype) as object, methods);
  return arb as fc.Arbitrary<T>;
}

/** A lazy stream of values from a generator. */
export function streamOf<T>(g: Iterable<T>): fc.Stream<T> {
  return new fc.Stream(g[Symbol.iterator]() as IterableIterator<T>);
}
