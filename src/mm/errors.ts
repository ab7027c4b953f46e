// Bad input to the model (an unknown name, a variant in an era that lacks its code). A typed error
// whose message is one line that says what was wrong and what is accepted.

export type ModelErrorKind = 'unknown-actor' | 'unknown-variant' | 'unknown-arch' | 'unknown-era' | 'unknown-world' | 'variant-not-in-era' | 'bad-argument';

export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly accepted: readonly string[];
  constructor(kind: ModelErrorKind, message: string, accepted: readonly string[]) {
    super(message);
    this.name = 'ModelError';
    this.kind = kind;
    this.accepted = accepted;
  }
}

export function unknownName(kind: ModelErrorKind, what: string, name: string, accepted: readonly string[]): ModelError {
  return new ModelError(kind, `unknown ${what} '${name}': accepted are ${accepted.join(', ')}`, accepted);
}
