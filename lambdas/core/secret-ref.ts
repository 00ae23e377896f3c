/**
 * The syntax of secret references (`env:NAME`, `secretsmanager:ID[#jsonKey]`, a literal), in one
 * place for the config and for the hosts that read them (the deployed checker reads client keys
 * with it, without the config's schema). Pure: resolving is the host's business.
 */

/** A parsed secret reference. */
export type SecretRef =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'secretsmanager'; readonly id: string; readonly jsonKey?: string }
  | { readonly kind: 'literal'; readonly value: string };

/**
 * Turns a reference into its value. `field` is the config path being resolved
 * (e.g. `channels[1].url`), for error messages. Rejects with a `ConfigError`
 * (or any error) whose message says what is wrong, without the field.
 */
export type SecretResolver = (ref: SecretRef, field: string) => Promise<string>;

/** A reference that is not well-formed (`env:` with no name, `secretsmanager:#key`, …). */
export class SecretRefError extends Error {
  override readonly name = 'SecretRefError';
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Secret names allow letters, digits and /_+=.@-; ARNs add ':'. '#' can separate the JSON key because names cannot contain it.
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]+$/;

/** Parse `env:NAME`, `secretsmanager:ID[#jsonKey]` or a literal. Throws `SecretRefError` on a malformed reference. */
export function parseSecretRef(value: string): SecretRef {
  if (value.startsWith('env:')) {
    const name = value.slice('env:'.length);
    if (!ENV_NAME.test(name)) {
      throw new SecretRefError(
        `expected env:NAME with an environment variable name (letters, digits, _), got ${JSON.stringify(value)}`,
      );
    }
    return { kind: 'env', name };
  }
  if (value.startsWith('secretsmanager:')) {
    const rest = value.slice('secretsmanager:'.length);
    const hash = rest.indexOf('#');
    const id = hash === -1 ? rest : rest.slice(0, hash);
    const jsonKey = hash === -1 ? undefined : rest.slice(hash + 1);
    if (!SECRET_ID.test(id)) {
      throw new SecretRefError(
        `expected secretsmanager:NAME_OR_ARN[#jsonKey] with a secret name or ARN, got ${JSON.stringify(value)}`,
      );
    }
    if (jsonKey !== undefined && jsonKey === '') {
      throw new SecretRefError(`expected a JSON key after '#', got ${JSON.stringify(value)}`);
    }
    return jsonKey === undefined ? { kind: 'secretsmanager', id } : { kind: 'secretsmanager', id, jsonKey };
  }
  return { kind: 'literal', value };
}

/** The reference as written in the config (never the resolved value). */
export function formatSecretRef(ref: SecretRef): string {
  switch (ref.kind) {
    case 'env':
      return `env:${ref.name}`;
    case 'secretsmanager':
      return `secretsmanager:${ref.id}${ref.jsonKey === undefined ? '' : `#${ref.jsonKey}`}`;
    case 'literal':
      return ref.value;
  }
}

/**
 * The `clientKey` reader a host hands to the check (`CheckOptions.clientKey`): `env:` and
 * `secretsmanager:` references go through the host's `resolver`; a plain value is a file path
 * (`check --client-key FILE`), read with `readFile`, which the deployed checker does not offer.
 */
export function clientKeyReader(
  resolver: SecretResolver,
  readFile?: (path: string) => string,
): (keyRef: string) => Promise<string> {
  return async (keyRef) => {
    const ref = parseSecretRef(keyRef);
    if (ref.kind !== 'literal') return resolver(ref, 'clientKey');
    if (readFile === undefined)
      throw new Error('a client key must be an env: or secretsmanager: reference here');
    return readFile(ref.value);
  };
}
