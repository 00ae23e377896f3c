/**
 * Structured JSON logs and CloudWatch embedded-metric-format (EMF) records,
 * written as single lines to stdout so CloudWatch parses them without an agent.
 */
import { METRIC_NAMESPACE } from '../../core/metric-names';

type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const LEVELS: Record<Level, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  service: string,
  write: (line: string) => void = (l) => process.stdout.write(l),
): Logger {
  const min = LEVELS[(process.env['LOG_LEVEL']?.toUpperCase() as Level) ?? 'INFO'] ?? LEVELS.INFO;
  const log = (level: Level, message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return;
    write(
      `${JSON.stringify({ timestamp: new Date().toISOString(), level, service, message, ...serialise(fields) })}\n`,
    );
  };
  return {
    debug: (m, f) => log('DEBUG', m, f),
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARN', m, f),
    error: (m, f) => log('ERROR', m, f),
  };
}

function serialise(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
  }
  return out;
}

export interface MetricDatum {
  readonly name: string;
  readonly value: number;
  readonly unit?: 'Count' | 'None' | 'Milliseconds';
}

/** One EMF record: every metric shares the dimensions given (none for service-wide metrics). */
export function emitMetrics(
  metrics: readonly MetricDatum[],
  dimensions: Readonly<Record<string, string>> = {},
  write: (line: string) => void = (l) => process.stdout.write(l),
): void {
  if (metrics.length === 0) return;
  const record: Record<string, unknown> = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: metrics.map((m) => ({ Name: m.name, Unit: m.unit ?? 'Count' })),
        },
      ],
    },
    ...dimensions,
  };
  for (const m of metrics) record[m.name] = m.value;
  write(`${JSON.stringify(record)}\n`);
}
