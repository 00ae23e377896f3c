/**
 * Recovers the structured Alert from the SNS envelope `renderSnsPublish`
 * writes. Kept apart from the renderer so the checker Lambda, which only
 * publishes, does not bundle the parser. The alert's shape is the model's
 * one decoder (core/model-decoders), shared with the state store.
 */
import * as d from '../core/decode';
import type { Alert } from '../core/model';
import { alert } from '../core/model-decoders';
import { SNS_ENVELOPE_VERSION } from './render-sns';

const envelope = d.object({ certwatch: d.literal(SNS_ENVELOPE_VERSION), alert });

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
  const parsed = d.decode(envelope, json);
  return parsed.ok ? parsed.value.alert : null;
}
