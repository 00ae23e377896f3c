/**
 * Values that may be secret (webhook URLs, signing keys, the heartbeat URL)
 * are written in the config as a reference rather than inline:
 * - `env:NAME`: an environment variable, resolved when the config is loaded;
 * - `secretsmanager:NAME_OR_ARN` or `secretsmanager:NAME_OR_ARN#jsonKey`: an AWS
 *   Secrets Manager secret (or one JSON key of it), resolvable only in AWS;
 * - anything else: the literal value.
 *
 * Keeping the reference (not the value) in the parsed config means the config
 * can be validated anywhere, and secrets are fetched only where they are used.
 */
import { ConfigError } from './config-error';
import { formatSecretRef, type SecretResolver } from '../core/secret-ref';

export {
  clientKeyReader,
  formatSecretRef,
  parseSecretRef,
  type SecretRef,
  SecretRefError,
  type SecretResolver,
} from '../core/secret-ref';

/**
 * Resolver for the CLI and tests: literals as they are, `env:` from `env`
 * (a missing or empty variable is an error), `secretsmanager:` refused because
 * it is only available in AWS.
 */
export function envSecretResolver(env: Readonly<Record<string, string | undefined>>): SecretResolver {
  return async (ref, field) => {
    const fail = (message: string): never => {
      throw new ConfigError([{ source: 'environment', line: null, column: null, path: field, message }]);
    };
    switch (ref.kind) {
      case 'literal':
        return ref.value;
      case 'env': {
        const value = env[ref.name];
        if (value === undefined) return fail(`environment variable ${ref.name} is not set`);
        if (value.trim() === '') return fail(`environment variable ${ref.name} is empty`);
        return value;
      }
      case 'secretsmanager':
        return fail(`${formatSecretRef(ref)} is only available in AWS (use env:NAME or a literal locally)`);
    }
  };
}
