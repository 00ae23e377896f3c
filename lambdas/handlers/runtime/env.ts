/**
 * The handlers' environment, read once when the module loads (cold start): a
 * missing or malformed variable fails the cold start loudly, naming the
 * variable, rather than a later invocation somewhere deep in the pipeline.
 */
import { type Decoder, decode } from '../../core/decode';

/** A variable is missing or malformed. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '')
    throw new ConfigurationError(`environment variable ${name} is required`);
  return value;
}

export function optionalEnv(name: string): string | null {
  const value = process.env[name];
  return value === undefined || value === '' ? null : value;
}

export function numberEnv(name: string, fallback: number): number {
  const raw = optionalEnv(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new ConfigurationError(`environment variable ${name} must be a positive number, got '${raw}'`);
  return n;
}

/**
 * A JSON variable, decoded with `decoder` (the stack writes these; the decoder proves the shape).
 * @throws ConfigurationError naming the variable and the first bad field
 */
export function jsonEnv<T>(name: string, decoder: Decoder<T>, fallback: T): T {
  const raw = optionalEnv(name);
  if (raw === null) return fallback;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(`environment variable ${name} is not valid JSON`);
  }
  const decoded = decode(decoder, json);
  if (decoded.ok) return decoded.value;
  throw new ConfigurationError(
    `environment variable ${name}: ${decoded.failure.field}: ${decoded.failure.problem}`,
  );
}
