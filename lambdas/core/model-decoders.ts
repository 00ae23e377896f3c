/**
 * Runtime decoders of the model types that are stored or passed between
 * processes (address state, endpoint, check result, alert), for the
 * boundaries that read them back: the state store, the dispatcher's bundled
 * inventory, the Lambda environment.
 *
 * Each decoder is checked against its model type in both directions
 * (`SameShape`): a field added to, removed from or retyped in `model.ts`
 * fails to compile here until the decoder follows, so decoding can never
 * silently drop a field.
 */
import * as d from './decode';
import {
  type AddressState,
  type Alert,
  type AlertKind,
  type CheckResult,
  type DeliveryRecord,
  type DeliveryStatus,
  type Endpoint,
  FINDING_CODES,
  type Finding,
  PROBE_PROTOCOL_NAMES,
  REVOCATION_MODES,
  SEVERITY_RANK,
  STATUS_RANK,
  type Severity,
  type Status,
  type SuppressorKind,
  type TrustProfile,
} from './model';

// Enumerations come from the model's exhaustive records, so a new value cannot be forgotten here.
export const severity = d.oneOf(Object.keys(SEVERITY_RANK) as Severity[]);
export const status = d.oneOf(Object.keys(STATUS_RANK) as Status[]);
const ALERT_KINDS = {
  threshold: true,
  renotify: true,
  renewed: true,
  resolved: true,
  problem: true,
  error: true,
  divergent: true,
  monitor: true,
  test: true,
  announcement: true,
} satisfies Record<AlertKind, true>;
export const alertKind = d.oneOf(Object.keys(ALERT_KINDS) as AlertKind[]);
export const findingCode = d.oneOf(FINDING_CODES);
const probeProtocol = d.oneOf(PROBE_PROTOCOL_NAMES);

const text = d.string;
const textOrNull = d.nullable(d.string);
const numberOrNull = d.nullable(d.number);
const texts = d.array(d.string);

export const finding = d.object({
  code: findingCode,
  severity,
  message: text,
  certIndex: d.optional(d.index),
});

export const alert = d.object({
  // The id is the delivery's idempotency key, and days left are whole days (floored).
  id: d.nonEmptyString,
  kind: alertKind,
  severity,
  endpoint: text,
  endpointId: text,
  address: textOrNull,
  status,
  daysLeft: d.nullable(d.integer),
  notAfter: textOrNull,
  issuer: textOrNull,
  findings: d.array(finding),
  summary: text,
  detail: text,
  action: text,
  occurredAt: text,
  owner: textOrNull,
  channels: texts,
});

const thresholds = d.array(d.number);

const suppressionRefShape = {
  kind: d.oneOf(['maintenance', 'silence'] as const satisfies readonly SuppressorKind[]),
  id: text,
  name: text,
  until: text,
};

export const addressState = d.object({
  key: text,
  endpointId: text,
  endpointName: text,
  host: text,
  port: d.number,
  address: textOrNull,
  status,
  daysLeft: numberOrNull,
  notAfter: textOrNull,
  fingerprint: textOrNull,
  issuer: textOrNull,
  findings: d.array(finding),
  lastCheckedAt: text,
  lastSuccessAt: textOrNull,
  consecutiveFailures: d.number,
  failingSince: textOrNull,
  alerting: d.object({
    fingerprint: textOrNull,
    thresholdsSent: thresholds,
    lastNotifiedAt: textOrNull,
    errorAlerted: d.boolean,
    openProblems: d.array(findingCode),
    divergenceKey: textOrNull,
    recentFingerprints: d.optional(d.array(d.object({ fingerprint: text, thresholdsSent: thresholds }))),
  }),
  lastRunId: textOrNull,
  outbox: d.optional(
    d.nullable(
      d.object({
        entries: d.array(
          d.object({ alert, channels: d.nullable(texts), attempts: d.number, lastError: textOrNull }),
        ),
        claimedAt: text,
      }),
    ),
  ),
  retiredAt: d.optional(textOrNull),
  suppressedBy: d.optional(
    d.nullable(d.object({ ...suppressionRefShape, since: text, quietedSince: textOrNull })),
  ),
  quieted: d.optional(
    d.array(
      d.object({
        id: text,
        kind: alertKind,
        severity,
        summary: text,
        at: text,
        by: d.object(suppressionRefShape),
      }),
    ),
  ),
});

export const endpoint = d.object({
  id: text,
  host: text,
  port: d.number,
  name: text,
  owner: textOrNull,
  tags: texts,
  channels: texts,
  policy: d.object({
    thresholdsDays: thresholds,
    expiry: d.object({ warnDays: d.number, criticalDays: d.number }),
    failuresBeforeAlert: d.number,
    renotifyIntervalMs: d.number,
  }),
  // ProbeSettings: an Endpoint is one (see core/probe-settings.ts).
  timeoutMs: d.number,
  protocol: d.optional(probeProtocol),
  servername: d.optional(textOrNull),
  address: d.optional(text),
  connectPort: d.optional(d.number),
  proxy: d.optional(text),
  clientCertificate: d.optional(d.object({ certPem: text, keyRef: text })),
  trust: d.optional(text),
  revocation: d.optional(d.oneOf(REVOCATION_MODES)),
});

export const trustProfile = d.object({
  id: text,
  systemRoots: d.boolean,
  caCertificates: texts,
});

export const checkResult = d.object({
  target: text,
  host: text,
  port: d.number,
  address: textOrNull,
  servername: textOrNull,
  status,
  daysLeft: numberOrNull,
  notAfter: textOrNull,
  findings: d.array(finding),
  chain: d.array(
    d.object({
      subject: text,
      issuer: text,
      notBefore: textOrNull,
      notAfter: textOrNull,
      serialNumber: textOrNull,
      fingerprintSha256: text,
      keyType: text,
      keyBits: numberOrNull,
      signatureAlgorithm: textOrNull,
      selfSigned: d.boolean,
    }),
  ),
  protocol: textOrNull,
  cipher: textOrNull,
  scheme: d.optional(probeProtocol),
  durationMs: d.number,
  checkedAt: text,
});

const DELIVERY_STATUSES = {
  sending: true,
  failed: true,
  delivered: true,
  'maybe-delivered': true,
  'given-up': true,
} satisfies Record<DeliveryStatus, true>;

export const deliveryRecord = d.object({
  alertId: d.nonEmptyString,
  channel: d.nonEmptyString,
  status: d.oneOf(Object.keys(DELIVERY_STATUSES) as DeliveryStatus[]),
  holder: text,
  leaseUntil: textOrNull,
  retryAt: textOrNull,
  sends: d.integer,
  unknownOutcomes: d.integer,
  lastError: textOrNull,
  updatedAt: text,
});

/** Compile-time: every decoder above has exactly its model type's shape. */
export type ModelDecodersMatchTheModel = [
  d.Assert<d.SameShape<d.Decoded<typeof finding>, Finding>>,
  d.Assert<d.SameShape<d.Decoded<typeof alert>, Alert>>,
  d.Assert<d.SameShape<d.Decoded<typeof addressState>, AddressState>>,
  d.Assert<d.SameShape<d.Decoded<typeof endpoint>, Endpoint>>,
  d.Assert<d.SameShape<d.Decoded<typeof trustProfile>, TrustProfile>>,
  d.Assert<d.SameShape<d.Decoded<typeof checkResult>, CheckResult>>,
  d.Assert<d.SameShape<d.Decoded<typeof deliveryRecord>, DeliveryRecord>>,
];
