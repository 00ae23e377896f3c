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
import { parseTarget } from '../core/parse-target';
import { ScheduleExpressionError, scheduleIntervalMs } from '../core/schedule-interval';
import type { Severity } from '../core/model';
import { formatDuration, parseDuration } from './duration';
import { parseSecretRef, type SecretRef, SecretRefError } from './secret-ref';

/** A field value that failed its rule, with the message to report. */
class Invalid {
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

function invalid(expected: string, value: unknown): Invalid {
  return new Invalid(
    value === undefined
      ? `required: expected ${expected}`
      : `expected ${expected}, got ${describeValue(value)}`,
  );
}

/** A zod schema over one field, checked by a plain function that returns the value or an `Invalid`. */
function field<T>(parse: (value: unknown) => T | Invalid) {
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
function shapeError(expected: string) {
  return (issue: { code?: string; input?: unknown }) =>
    issue.code === 'unrecognized_keys' ? undefined : invalid(expected, issue.input).message;
}

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
const secretRef = (expected: string, checkLiteral?: (value: string) => string | null) =>
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

const alertUrl = secretRef('an https URL', checkAlertUrl);

const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const topicArn = field((v) =>
  typeof v === 'string' && SNS_ARN.test(v)
    ? v
    : invalid('an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:alerts', v),
);

const CHANNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const channelName = field((v) =>
  typeof v === 'string' && CHANNEL_NAME.test(v)
    ? v
    : invalid('a channel name of letters, digits, "_", "." or "-" (at most 64)', v),
);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const headerName = field((v) =>
  typeof v === 'string' && HEADER_NAME.test(v) ? v : invalid('an HTTP header name', v),
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
    if (error instanceof Error && error.name === 'TargetParseError') {
      return new Invalid(error.message.charAt(0).toLowerCase() + error.message.slice(1));
    }
    throw error;
  }
});

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

const days = (min: number) => int(min, 3650, `a whole number of days from ${min} to 3650`);

const thresholds = z
  .array(days(1), { error: shapeError('a list of whole numbers of days, like [30, 14, 7, 3, 1]') })
  .optional();

/** Alert policy settings an endpoint may override; the same keys as `defaults` (minus historyTtlDays). */
const policyShape = {
  thresholdsDays: thresholds,
  warnDays: days(0).optional(),
  criticalDays: days(0).optional(),
  timeout: duration(1, 120_000).optional(),
  failuresBeforeAlert: int(1, 100, 'an integer 1-100').optional(),
  renotifyInterval: duration(60_000, 365 * 86_400_000).optional(),
};

const defaultsShape = { ...policyShape, historyTtlDays: days(1).optional() };

const checkerShape = {
  concurrency: int(1, 1000, 'an integer 1-1000').optional(),
  perEndpointMetrics: z.boolean({ error: shapeError('true or false') }).optional(),
};

const channelBaseShape = { name: channelName, minSeverity: severity.optional() };
const snsShape = { type: z.literal('sns'), ...channelBaseShape, topicArn };
const slackShape = { type: z.literal('slack'), ...channelBaseShape, url: alertUrl };
const teamsShape = { type: z.literal('teams'), ...channelBaseShape, url: alertUrl };
const webhookShape = {
  type: z.literal('webhook'),
  ...channelBaseShape,
  url: alertUrl,
  secret: secretRef('a signing key').optional(),
  signatureHeader: headerName.optional(),
};

const subscriptionShape = {
  email: email.optional(),
  sms: phone.optional(),
  minSeverity: severity.optional(),
};

const endpointShape = {
  host,
  port: int(1, 65535, 'an integer 1-65535').optional(),
  name: text('a display name').optional(),
  owner: text('an owner (team or person)').optional(),
  tags: z.array(text('a tag'), { error: shapeError('a list of tags') }).optional(),
  ...policyShape,
  channels: z
    .array(text('a channel name'), { error: shapeError('a list of channel names') })
    .min(1, { error: 'expected at least one channel name (leave the field out to alert every channel)' })
    .optional(),
};

const mapping = <S extends z.ZodRawShape>(shape: S, expected: string) =>
  z.strictObject(shape, { error: shapeError(expected) });

const channelSchema = z.discriminatedUnion('type', [
  mapping(snsShape, 'a channel mapping'),
  mapping(slackShape, 'a channel mapping'),
  mapping(teamsShape, 'a channel mapping'),
  mapping(webhookShape, 'a channel mapping'),
]);

const rootShape = {
  schedule: schedule.optional(),
  timezone: timezone.optional(),
  defaults: mapping(defaultsShape, 'a mapping of default settings').optional(),
  checker: mapping(checkerShape, 'a mapping of checker settings').optional(),
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
};

/** The schema of the whole file. */
export const configFileSchema = mapping(
  rootShape,
  'a mapping with schedule, defaults, channels, endpoints, … (see certwatch.config.yaml)',
);

/** The file as validated, before defaults are applied. */
export type ConfigFile = z.output<typeof configFileSchema>;
export type ChannelFile = z.output<typeof channelSchema>;
export type EndpointFile = ConfigFile['endpoints'][number];

/** Channel types, for messages. */
export const CHANNEL_TYPES = ['sns', 'slack', 'teams', 'webhook'] as const;

/** Keys allowed in each mapping, for "did you mean" hints on unknown keys. */
export const ALLOWED_KEYS = {
  root: Object.keys(rootShape),
  defaults: Object.keys(defaultsShape),
  checker: Object.keys(checkerShape),
  subscription: Object.keys(subscriptionShape),
  endpoint: Object.keys(endpointShape),
  channel: {
    sns: Object.keys(snsShape),
    slack: Object.keys(slackShape),
    teams: Object.keys(teamsShape),
    webhook: Object.keys(webhookShape),
  } as Record<string, string[]>,
} as const;
