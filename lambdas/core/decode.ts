/**
 * Small runtime decoders for data that crosses a boundary (items read back
 * from the state table, JSON in the Lambda environment): each checks an
 * `unknown` value against a shape and returns a typed copy, or says which
 * field is wrong and why.
 *
 * Why not zod here: these decoders run in the checker Lambda, whose bundle is
 * held to 150 KB, and even `zod/mini` adds 18 KB to it (measured with an
 * esbuild metafile); this module adds about 1 KB. zod stays the tool for the
 * YAML configuration, which only the CLI and the stack read.
 *
 * A decoder keeps only the fields its shape names (extra fields are dropped),
 * so a shape must be complete: check it against its type with `SameShape`.
 */

/** Turns an unknown value into a T, or throws `DecodeFailure`. */
export type Decoder<T> = (value: unknown) => T;

/** A decoder whose field may be absent from its object (see `optional`). */
export interface OptionalDecoder<T> extends Decoder<T | undefined> {
  readonly optional: true;
}

/** The type a decoder produces. */
export type Decoded<D> = D extends Decoder<infer T> ? T : never;

type Shape = Readonly<Record<string, Decoder<unknown>>>;
type RequiredKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalDecoder<unknown> ? never : K;
}[keyof S];
type OptionalKeys<S extends Shape> = Exclude<keyof S, RequiredKeys<S>>;
/** The object type an `object(shape)` decoder produces. */
export type ObjectOf<S extends Shape> = {
  [K in RequiredKeys<S>]: Decoded<S[K]>;
} & { [K in OptionalKeys<S>]?: Decoded<S[K]> };

/** Why a value does not decode: the path to the first bad field, and what was expected there. */
export class DecodeFailure extends Error {
  override readonly name = 'DecodeFailure';
  /** Field names and array indexes from the decoded value down to the bad field. */
  readonly path: (string | number)[] = [];
  /** e.g. `expected number, got string` */
  readonly problem: string;

  constructor(problem: string) {
    super(problem);
    this.problem = problem;
  }

  /** `alerting.thresholdsSent[1]`; `(value)` for the value itself. */
  get field(): string {
    return formatPath(this.path);
  }
}

/** Result of `decode`: the value, or the failure (never throws). */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: DecodeFailure };

/** Runs a decoder without throwing. */
export function decode<T>(decoder: Decoder<T>, value: unknown): DecodeResult<T> {
  try {
    return { ok: true, value: decoder(value) };
  } catch (error) {
    if (error instanceof DecodeFailure) return { ok: false, failure: error };
    throw error;
  }
}

export const string: Decoder<string> = (value) => {
  if (typeof value !== 'string') throw mismatch('string', value);
  return value;
};

/** A finite number (NaN and the infinities are not data). */
export const number: Decoder<number> = (value) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw mismatch('number', value);
  return value;
};

export const integer: Decoder<number> = (value) => {
  if (!Number.isInteger(value)) throw mismatch('integer', value);
  return value as number;
};

/** A non-negative integer (an index, a count). */
export const index: Decoder<number> = (value) => {
  if (!Number.isInteger(value) || (value as number) < 0) throw mismatch('non-negative integer', value);
  return value as number;
};

/** A string with at least one character (an id). */
export const nonEmptyString: Decoder<string> = (value) => {
  if (typeof value !== 'string' || value === '') throw mismatch('non-empty string', value);
  return value;
};

/** Exactly `expected` (a version tag). */
export function literal<const T extends string | number | boolean>(expected: T): Decoder<T> {
  return (value) => {
    if (value !== expected)
      throw new DecodeFailure(`expected ${JSON.stringify(expected)}, got ${describeValue(value)}`);
    return expected;
  };
}

export const boolean: Decoder<boolean> = (value) => {
  if (typeof value !== 'boolean') throw mismatch('boolean', value);
  return value;
};

/** One of the given strings. */
export function oneOf<const T extends string>(values: readonly T[]): Decoder<T> {
  const allowed = new Set<string>(values);
  return (value) => {
    if (typeof value !== 'string' || !allowed.has(value)) {
      throw new DecodeFailure(
        `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`,
      );
    }
    return value as T;
  };
}

export function nullable<T>(decoder: Decoder<T>): Decoder<T | null> {
  return (value) => (value === null ? null : decoder(value));
}

/** A field that may be absent (or undefined); an absent field stays absent in the decoded object. */
export function optional<T>(decoder: Decoder<T>): OptionalDecoder<T> {
  const optionalDecoder = (value: unknown) => (value === undefined ? undefined : decoder(value));
  return Object.assign(optionalDecoder, { optional: true as const });
}

export function array<T>(decoder: Decoder<T>): Decoder<T[]> {
  return (value) => {
    if (!Array.isArray(value)) throw mismatch('array', value);
    const out = new Array<T>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = at(i, decoder, value[i]);
    return out;
  };
}

/** An object with exactly the fields of `shape` (others are dropped). */
export function object<S extends Shape>(shape: S): Decoder<ObjectOf<S>> {
  const fields = Object.entries(shape);
  return (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw mismatch('object', value);
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, decoder] of fields) {
      const decoded = at(key, decoder, input[key]);
      if (decoded !== undefined || !('optional' in decoder)) out[key] = decoded;
    }
    return out as ObjectOf<S>;
  };
}

/** `state.alerting.thresholdsSent[1]`; `(value)` for an empty path. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else out += out === '' ? step : `.${step}`;
  }
  return out === '' ? '(value)' : out;
}

function at<T>(step: string | number, decoder: Decoder<T>, value: unknown): T {
  try {
    return decoder(value);
  } catch (error) {
    if (error instanceof DecodeFailure) error.path.unshift(step);
    throw error;
  }
}

function mismatch(expected: string, value: unknown): DecodeFailure {
  return new DecodeFailure(`expected ${expected}, got ${describeValue(value)}`);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return value.length <= 40 ? `string ${JSON.stringify(value)}` : 'string';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

// ---------------------------------------------------------------------------
// Compile-time shape checks
// ---------------------------------------------------------------------------

/** Drops `readonly` everywhere, so a decoder's (mutable) output compares with a (readonly) model type. */
type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;

/**
 * True only when A and B have the same shape (same fields, optional ones included, same types),
 * not merely when one is assignable to the other. Use as `Assert<SameShape<Decoded<typeof d>, Model>>`.
 */
export type SameShape<A, B> =
  (<G>() => G extends Mutable<A> ? 1 : 2) extends <G>() => G extends Mutable<B> ? 1 : 2 ? true : false;

/** Fails to compile unless T is `true`. */
export type Assert<T extends true> = T;
