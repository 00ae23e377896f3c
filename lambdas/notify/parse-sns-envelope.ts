/**
 * Recovers the structured Alert from the SNS envelope `renderSnsPublish`
 * writes. Kept apart from the renderer so the checker Lambda, which only
 * publishes, does not bundle the schema library.
 */
import { z } from 'zod';
import {
  type Alert,
  type AlertKind,
  FINDING_CODES,
  SEVERITY_RANK,
  STATUS_RANK,
  type Severity,
  type Status,
} from '../core/model';
import { KIND_LABEL } from './alert-view';
import { SNS_ENVELOPE_VERSION } from './render-sns';

// Enumerations come from the model's exhaustive records, so a new kind or status cannot be forgotten here.
const severities = z.enum(Object.keys(SEVERITY_RANK) as [Severity, ...Severity[]]);
const statuses = z.enum(Object.keys(STATUS_RANK) as [Status, ...Status[]]);
const kinds = z.enum(Object.keys(KIND_LABEL) as [AlertKind, ...AlertKind[]]);

const findingSchema = z.object({
  code: z.enum(FINDING_CODES),
  severity: severities,
  message: z.string(),
  certIndex: z.number().int().nonnegative().optional(),
});

const alertSchema = z.object({
  id: z.string().min(1),
  kind: kinds,
  severity: severities,
  endpoint: z.string(),
  endpointId: z.string(),
  address: z.string().nullable(),
  status: statuses,
  daysLeft: z.number().int().nullable(),
  notAfter: z.string().nullable(),
  issuer: z.string().nullable(),
  findings: z.array(findingSchema),
  summary: z.string(),
  detail: z.string(),
  action: z.string(),
  occurredAt: z.string(),
  owner: z.string().nullable(),
  channels: z.array(z.string()),
});

const envelopeSchema = z.object({ certwatch: z.literal(SNS_ENVELOPE_VERSION), alert: alertSchema });

/**
 * Recovers the Alert from the message the notifier Lambda receives
 * (`event.Records[i].Sns.Message`). Returns null for anything that is not a
 * valid version-1 envelope; the caller must treat null as a failure (so the
 * record is retried or dead-lettered), never as "nothing to do".
 */
export function parseSnsAlertEnvelope(message: string): Alert | null {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return null;
  }
  const parsed = envelopeSchema.safeParse(json);
  return parsed.success ? parsed.data.alert : null;
}
