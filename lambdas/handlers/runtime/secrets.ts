/** Resolves Secrets Manager references at cold start; values are cached for the life of the execution environment. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as d from '../../core/decode';
import { ConfigurationError } from './env';

/** A reference to a secret value, as the stack passes it in the environment: never the value itself. */
export interface SecretReference {
  readonly secretArn: string;
  /** Key inside a JSON secret; absent = the whole SecretString. */
  readonly jsonKey?: string;
}

/** Decodes a `SecretReference` from the environment (see `jsonEnv`). */
export const secretReference = d.object({ secretArn: d.string, jsonKey: d.optional(d.string) });
export type SecretReferenceDecoderMatches = d.Assert<
  d.SameShape<d.Decoded<typeof secretReference>, SecretReference>
>;

let client: SecretsManagerClient | undefined;
const cache = new Map<string, Promise<string>>();

export function resolveSecret(ref: SecretReference, what: string): Promise<string> {
  const id = `${ref.secretArn}#${ref.jsonKey ?? ''}`;
  let value = cache.get(id);
  if (!value) {
    client ??= new SecretsManagerClient({});
    value = client.send(new GetSecretValueCommand({ SecretId: ref.secretArn })).then((out) => {
      const raw = out.SecretString;
      if (raw === undefined)
        throw new ConfigurationError(`${what}: secret ${ref.secretArn} has no string value`);
      if (ref.jsonKey === undefined) return raw.trim();
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new ConfigurationError(
          `${what}: secret ${ref.secretArn} is not JSON, cannot read key '${ref.jsonKey}'`,
        );
      }
      const v = parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, ref.jsonKey) : undefined;
      if (typeof v !== 'string')
        throw new ConfigurationError(`${what}: key '${ref.jsonKey}' missing in secret ${ref.secretArn}`);
      return v.trim();
    });
    // A failed lookup is retried on the next invocation rather than cached forever.
    value.catch(() => cache.delete(id));
    cache.set(id, value);
  }
  return value;
}
