/** Configuration read once at cold start; a missing variable fails the cold start loudly, not a later invocation. */
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

export function jsonEnv<T>(name: string, fallback: T): T {
  const raw = optionalEnv(name);
  if (raw === null) return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new ConfigurationError(`environment variable ${name} is not valid JSON`);
  }
}
