/**
 * The building blocks of the config schema: a field rule is a plain function
 * that returns the value or an {@link Invalid} with the message to report, so
 * messages are written for people (`expected an integer 1-65535, got "https"`).
 * Kept apart from `config-schema.ts` because the channel modules
 * (lambdas/channels) declare their own fields with them, and the schema lists
 * those modules.
 */
import { z } from 'zod';
import { parseSecretRef, type SecretRef, SecretRefError } from './secret-ref';

/** A field value that failed its rule, with the message to report. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** How a value is quoted in a message: strings in JSON quotes, collections by kind. */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 80 ? `${quoted.slice(0, 77)}…"` : quoted;
  }
  return String(value);
}

/** `required: expected …` for a missing value, `expected …, got …` otherwise. */
export function invalid(expected: string, value: unknown): Invalid {
  return new Invalid(
    value === undefined
      ? `required: expected ${expected}`
      : `expected ${expected}, got ${describeValue(value)}`,
  );
}

/** A zod schema over one field, checked by a plain function that returns the value or an `Invalid`. */
export function field<T>(parse: (value: unknown) => T | Invalid) {
  return z.unknown().transform((value, ctx): T => {
    const result = parse(value);
    if (result instanceof Invalid) {
      ctx.issues.push({ code: 'custom', message: result.message, input: value });
      return z.NEVER;
    }
    return result;
  });
}

/** Error map for lists and mappings: says what was expected instead. */
export function shapeError(expected: string) {
  return (issue: { code?: string; input?: unknown }) =>
    issue.code === 'unrecognized_keys' ? undefined : invalid(expected, issue.input).message;
}

/** A mapping that allows only the keys of `shape` (a typo is an error, never silently ignored). */
export const mapping = <S extends z.ZodRawShape>(shape: S, expected: string) =>
  z.strictObject(shape, { error: shapeError(expected) });

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** Null when `value` is an acceptable alert URL, else what is wrong with it. */
export function checkAlertUrl(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an https URL';
  }
  if (url.protocol === 'https:') return null;
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(url.hostname);
  if (url.protocol === 'http:' && loopback) return null;
  return 'expected an https URL (plain http only for localhost, 127.0.0.1 or [::1])';
}

const SECRET_REF_HINT = 'env:NAME, secretsmanager:NAME_OR_ARN[#jsonKey] or a literal';

/** A possibly-secret value: parsed into a reference; literals checked with `checkLiteral`. */
export const secretRef = (expected: string, checkLiteral?: (value: string) => string | null) =>
  field((v): SecretRef | Invalid => {
    if (typeof v !== 'string' || v.trim() === '') return invalid(`${expected} (${SECRET_REF_HINT})`, v);
    let ref: SecretRef;
    try {
      ref = parseSecretRef(v);
    } catch (error) {
      if (error instanceof SecretRefError) return new Invalid(error.message);
      throw error;
    }
    if (ref.kind === 'literal' && checkLiteral) {
      const problem = checkLiteral(ref.value);
      if (problem !== null) return new Invalid(`${problem}, got ${describeValue(v)}`);
    }
    return ref;
  });

/** An alert URL (https, or http on loopback), possibly a secret reference. */
export const alertUrl = secretRef('an https URL', checkAlertUrl);

/** A vendor region: one of the keys of `urls`, the region's API URL. */
export function regionField<R extends string>(urls: Readonly<Record<R, string>>) {
  const names = Object.keys(urls).join(', ');
  return field((v) =>
    typeof v === 'string' && Object.hasOwn(urls, v) ? (v as R) : invalid(`one of ${names}`, v),
  );
}

/**
 * A vendor API URL given instead of a region's (tests and proxies reach another receiver this
 * way): https, or http on loopback. `base`: paths are appended to it, so a trailing slash goes.
 */
export function apiUrlField(options: { readonly base?: boolean } = {}) {
  return field((v) => {
    if (typeof v !== 'string') return invalid('an https URL', v);
    const problem = checkAlertUrl(v);
    if (problem !== null) return new Invalid(`${problem}, got ${describeValue(v)}`);
    return options.base ? v.replace(/\/+$/, '') : v;
  });
}
