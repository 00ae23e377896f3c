/**
 * The zod schema of `certwatch.config.yaml`: structure (unknown keys are
 * errors, so a typo is never silently ignored) and the rules for each field,
 * with messages written for people: `expected an integer 1-65535, got "https"`.
 *
 * Rules that involve several fields (duplicates, references, criticalDays ≤
 * warnDays) live in `parse-config.ts`, so they are reported even when other
 * fields are invalid.
 */
import { z } from 'zod';
import { CHANNEL_TYPES, type ChannelType } from '../channels/registry';
import { ConnectRouteError, formatProxy, parseProxyUrl } from '../core/connect-route';
import { isProbeProtocolName, PROBE_PROTOCOL_NAMES, type ProbeProtocolName } from '../core/model';
import { parseTarget } from '../core/parse-target';
import { ScheduleExpressionError, scheduleIntervalMs } from '../core/schedule-interval';
import { REVOCATION_MODES, type RevocationMode, type Severity } from '../core/model';
import { formatDuration, parseDuration } from './duration';
import { alertUrl, describeValue, field, Invalid, invalid, mapping, shapeError } from './schema-fields';
import { parseSecretRef, type SecretRef, SecretRefError } from './secret-ref';

export { checkAlertUrl, describeValue } from './schema-fields';

const int = (min: number, max: number, expected: string) =>
  field((v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : invalid(expected, v),
  );

const text = (expected: string) =>
  field((v) => (typeof v === 'string' && v.trim() !== '' ? v : invalid(expected, v)));

const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
const severity = field((v) =>
  SEVERITIES.includes(v as Severity) ? (v as Severity) : invalid('one of info, warning, critical', v),
);

const duration = (min: number, max: number) =>
  field((v) => {
    const ms = parseDuration(v);
    if (ms === null) return invalid('a duration like "10s", "500ms", "24h" or a number of milliseconds', v);
    if (ms < min || ms > max) {
      return invalid(`a duration from ${formatDuration(min)} to ${formatDuration(max)}`, v);
    }
    return ms;
  });

const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const channelName = field((v) =>
  typeof v === 'string' && CHANNEL_NAME.test(v)
    ? v
    : invalid('a channel name of letters, digits, "_", "." or "-" (at most 64)', v),
);

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const email = field((v) =>
  typeof v === 'string' && EMAIL.test(v) ? v : invalid('an email address like ops@example.com', v),
);

const E164 = /^\+[1-9]\d{6,14}$/;
const phone = field((v) => {
  if (typeof v === 'string' && E164.test(v)) return v;
  // Unquoted +15551234567 is a YAML integer: the "+" is gone before we see it.
  if (typeof v === 'number') {
    return new Invalid(`expected an E.164 phone number in quotes, like "+15551234567", got the number ${v}`);
  }
  return invalid('an E.164 phone number like "+15551234567"', v);
});

const host = field((v) => {
  if (typeof v !== 'string' || v.trim() === '')
    return invalid('a host name like "example.com" or "example.com:8443"', v);
  try {
    parseTarget(v);
    return v;
  } catch (error) {
    return targetProblem(error);
  }
});

/** The part of a target message after `Invalid target "…": `, lower-cased, for a field's own message. */
function targetProblem(error: unknown): Invalid {
  if (error instanceof Error && error.name === 'TargetParseError') {
    return new Invalid(error.message.charAt(0).toLowerCase() + error.message.slice(1));
  }
  throw error;
}

const protocol = field((v) =>
  typeof v === 'string' && isProbeProtocolName(v)
    ? (v as ProbeProtocolName)
    : invalid(`a protocol, one of ${PROBE_PROTOCOL_NAMES.join(', ')}`, v),
);

/** `address:` an IP literal or host name to connect to instead of the host's addresses, with an optional port. */
const connectAddress = field((v) => {
  if (typeof v !== 'string' || v.trim() === '') {
    return invalid('an IP address or host name to connect to, like "10.0.0.5" or "10.0.0.5:8443"', v);
  }
  try {
    const { host, port } = parseTarget(v, 0);
    return port === 0 ? { address: host } : { address: host, connectPort: port };
  } catch (error) {
    return targetProblem(error);
  }
});

/** `sni:` the name to send, or false to send none. */
const sni = field((v) => {
  if (v === false) return null;
  if (typeof v !== 'string' || v.trim() === '')
    return invalid('a host name to send as SNI, or false for none', v);
  try {
    const { host } = parseTarget(v);
    return host;
  } catch (error) {
    return targetProblem(error);
  }
});

/** `proxy:` an HTTP CONNECT proxy URL, or false for a direct connection. */
const proxy = field((v) => {
  if (v === false) return null;
  if (typeof v !== 'string')
    return invalid('an HTTP proxy URL like "http://proxy.internal:3128", or false', v);
  try {
    return formatProxy(parseProxyUrl(v.trim()));
  } catch (error) {
    if (error instanceof ConnectRouteError)
      return new Invalid(error.message.charAt(0).toLowerCase() + error.message.slice(1));
    throw error;
  }
});

/** `clientKey:` a reference to the client certificate's private key; the key itself never goes in the config. */
const clientKey = field((v): SecretRef | Invalid => {
  const expected =
    'a reference to the private key, env:NAME or secretsmanager:NAME_OR_ARN[#jsonKey] (never the key itself)';
  if (typeof v !== 'string') return invalid(expected, v);
  let ref: SecretRef;
  try {
    ref = parseSecretRef(v.trim());
  } catch (error) {
    if (error instanceof SecretRefError) return new Invalid(error.message);
    throw error;
  }
  return ref.kind === 'literal' ? invalid(expected, v.startsWith('-----BEGIN') ? '(a PEM key)' : v) : ref;
});

const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const awsIds = (pattern: RegExp, expected: string) =>
  z
    .array(
      field((v) => (typeof v === 'string' && pattern.test(v) ? v : invalid(expected, v))),
      { error: shapeError(`a list of ${expected}s`) },
    )
    .min(1, { error: `expected at least one ${expected}` });

const vpcShape = {
  subnetIds: awsIds(SUBNET_ID, 'subnet id like "subnet-0123456789abcdef0"'),
  securityGroupIds: awsIds(SECURITY_GROUP_ID, 'security group id like "sg-0123456789abcdef0"'),
};

const RATE_OR_CRON = 'rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)';
const schedule = field((v) => {
  if (typeof v !== 'string') return invalid(RATE_OR_CRON, v);
  try {
    scheduleIntervalMs(v);
  } catch (error) {
    if (!(error instanceof ScheduleExpressionError)) throw error;
    const reason = error.message.startsWith(`${v}: `) ? error.message.slice(v.length + 2) : error.message;
    return new Invalid(`${reason}, got ${describeValue(v)}`);
  }
  const cron = /^cron\((.*)\)$/.exec(v.trim());
  if (cron) {
    const [, , dom, , dow] = (cron[1] ?? '').trim().split(/\s+/);
    if ((dom === '?') === (dow === '?')) {
      return new Invalid(
        `exactly one of day-of-month and day-of-week must be "?" in a cron expression, got ${describeValue(v)}`,
      );
    }
  }
  return v.trim();
});

const timezone = field((v) => {
  if (typeof v !== 'string' || v === '') return invalid('an IANA time zone like "UTC" or "Europe/Berlin"', v);
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return v;
  } catch {
    return invalid('an IANA time zone like "UTC" or "Europe/Berlin"', v);
  }
});

const revocationMode = field((v) =>
  REVOCATION_MODES.includes(v as RevocationMode)
    ? (v as RevocationMode)
    : invalid(`one of ${REVOCATION_MODES.join(', ')}`, v),
);

const days = (min: number) => int(min, 3650, `a whole number of days from ${min} to 3650`);

const thresholds = z
  .array(days(1), { error: shapeError('a list of whole numbers of days, like [30, 14, 7, 3, 1]') })
  .optional();

const trustShape = {
  caFiles: z
    .array(text('a path to a PEM file of CA certificates'), {
      error: shapeError('a list of PEM file paths, like [ca/corp-root.pem]'),
    })
    .optional(),
  systemRoots: z.boolean({ error: shapeError('true or false') }).optional(),
};

/** Alert policy settings an endpoint may override; the same keys as `defaults` (minus historyTtlDays). */
const policyShape = {
  thresholdsDays: thresholds,
  warnDays: days(0).optional(),
  criticalDays: days(0).optional(),
  timeout: duration(1, 120_000).optional(),
  failuresBeforeAlert: int(1, 100, 'an integer 1-100').optional(),
  renotifyInterval: duration(60_000, 365 * 86_400_000).optional(),
  trust: mapping(trustShape, 'a mapping with caFiles and systemRoots').optional(),
  proxy: proxy.optional(),
  revocation: revocationMode.optional(),
};

const defaultsShape = { ...policyShape, historyTtlDays: days(1).optional() };

const checkerShape = {
  concurrency: int(1, 1000, 'an integer 1-1000').optional(),
  perEndpointMetrics: z.boolean({ error: shapeError('true or false') }).optional(),
};

const channelBaseShape = { name: channelName, minSeverity: severity.optional() };

/** Each registered channel type's keys: `type`, the base keys, then the type's own (the order hints list them in). */
const channelShapes = Object.values(CHANNEL_TYPES).map((module) => ({
  type: z.literal(module.type),
  ...channelBaseShape,
  ...module.fields,
}));

const subscriptionShape = {
  email: email.optional(),
  sms: phone.optional(),
  minSeverity: severity.optional(),
};

const endpointShape = {
  host,
  port: int(1, 65535, 'an integer 1-65535').optional(),
  protocol: protocol.optional(),
  address: connectAddress.optional(),
  sni: sni.optional(),
  clientCert: text('a path to a PEM file with the client certificate chain').optional(),
  clientKey: clientKey.optional(),
  name: text('a display name').optional(),
  owner: text('an owner (team or person)').optional(),
  tags: z.array(text('a tag'), { error: shapeError('a list of tags') }).optional(),
  ...policyShape,
  channels: z
    .array(text('a channel name'), { error: shapeError('a list of channel names') })
    .min(1, { error: 'expected at least one channel name (leave the field out to alert every channel)' })
    .optional(),
};

const channelMappings = channelShapes.map((shape) => mapping(shape, 'a channel mapping'));
type ChannelMapping = (typeof channelMappings)[number];
// The registry is never empty, so there is always a first option.
const channelSchema = z.discriminatedUnion('type', channelMappings as [ChannelMapping, ...ChannelMapping[]]);

/** A wall-clock time (`2026-12-03T02:00`, read in the window's `timeZone`) or an instant with an offset. */
const wallTime = field((v) => {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString();
  if (
    typeof v === 'string' &&
    /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?$/i.test(v.trim())
  )
    return v.trim();
  return invalid('a time like "2026-12-03T02:00" (in the window\'s timeZone) or "2026-12-03T01:00Z"', v);
});

const WINDOW_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const windowShape = {
  id: field((v) =>
    typeof v === 'string' && WINDOW_ID.test(v)
      ? v
      : invalid('a window id of letters, digits, "_", "." or "-" (at most 64)', v),
  ),
  name: text('a window name'),
  endpoints: z
    .array(text('an endpoint id or name'), { error: shapeError('a list of endpoint ids or names') })
    .optional(),
  tags: z.array(text('a tag'), { error: shapeError('a list of tags') }).optional(),
  start: wallTime,
  end: wallTime,
  timeZone: timezone.optional(),
  message: z.string({ error: shapeError('a message') }).optional(),
  leadTime: duration(0, 30 * 86_400_000).optional(),
};

const maintenanceShape = {
  /** Default lead time of the windows' reminder. */
  leadTime: duration(0, 30 * 86_400_000).optional(),
  /** Longest silence `certwatch silence add` accepts. */
  maxSilence: duration(60_000, 365 * 86_400_000).optional(),
  windows: z
    .array(mapping(windowShape, 'a maintenance window mapping'), {
      error: shapeError('a list of maintenance windows'),
    })
    .optional(),
};

const rootShape = {
  schedule: schedule.optional(),
  timezone: timezone.optional(),
  defaults: mapping(defaultsShape, 'a mapping of default settings').optional(),
  checker: mapping(checkerShape, 'a mapping of checker settings').optional(),
  vpc: mapping(vpcShape, 'a mapping with subnetIds and securityGroupIds').optional(),
  dashboard: z.boolean({ error: shapeError('true or false') }).optional(),
  heartbeatUrl: alertUrl.optional(),
  channels: z.array(channelSchema, { error: shapeError('a list of channels') }).optional(),
  subscriptions: z
    .array(mapping(subscriptionShape, 'a subscription mapping'), {
      error: shapeError('a list of subscriptions'),
    })
    .optional(),
  endpoints: z
    .array(mapping(endpointShape, 'an endpoint mapping'), { error: shapeError('a list of endpoints') })
    .min(1, { error: 'expected at least one endpoint' }),
  maintenance: mapping(maintenanceShape, 'a mapping with leadTime, maxSilence and windows').optional(),
};

/** The schema of the whole file. */
export const configFileSchema = mapping(
  rootShape,
  'a mapping with schedule, defaults, channels, endpoints, … (see certwatch.config.yaml)',
);

/** The file as validated, before defaults are applied. */
export type ConfigFile = z.output<typeof configFileSchema>;
/** One validated channel entry: the base keys and its type's own keys (see the type's module). */
export type ChannelFile = {
  readonly type: ChannelType;
  readonly name: string;
  readonly minSeverity?: Severity;
};
export type EndpointFile = ConfigFile['endpoints'][number];

/** Keys allowed in each mapping, for "did you mean" hints on unknown keys. */
export const ALLOWED_KEYS = {
  root: Object.keys(rootShape),
  defaults: Object.keys(defaultsShape),
  checker: Object.keys(checkerShape),
  subscription: Object.keys(subscriptionShape),
  endpoint: Object.keys(endpointShape),
  trust: Object.keys(trustShape),
  vpc: Object.keys(vpcShape),
  maintenance: Object.keys(maintenanceShape),
  window: Object.keys(windowShape),
  channel: Object.fromEntries(channelShapes.map((shape) => [shape.type.value, Object.keys(shape)])),
} as const;
