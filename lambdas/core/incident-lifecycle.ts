/**
 * The alert → incident lifecycle: what each alert does to the incident it is
 * about (opens it, updates it or closes it) and that incident's stable key.
 * Channels that keep state on their side (PagerDuty, Opsgenie, tickets) map
 * these changes to their own calls; chat and email send one message per alert
 * and need none of it. One table, {@link ALERT_LIFECYCLE}, with a row per alert
 * kind: a new kind without a row does not compile.
 *
 * An incident is one condition of one subject:
 * - per address (`<endpointId>|<address or dns>`): `expiry` (threshold,
 *   reminder, renewed), `problems` (the address's open problem codes, as one
 *   set: a 'problem' alert opens it, a 'resolved' alert closes it once no
 *   problem is left), `unreachable` (an alerted failure streak);
 * - per endpoint: `divergence` (its addresses serve different certificates);
 * - about certwatch itself: `monitor:<what>` (never closed by certwatch: a
 *   person closes it) and `test` (opened and closed at once).
 *
 * Why the problems of an address are one incident and not one per code: the
 * policy's 'resolved' alert names the codes it clears only in its id, and the
 * alert that closes a retired address names none at all. One incident per
 * address's problem set is closed exactly when the policy's `openProblems`
 * becomes empty, which every closing alert can tell from its own findings.
 *
 * The alert id (`scope:kind:event`, see build-alert.ts) is what tells the
 * closing alerts apart (a failure streak ended, problems cleared, an address
 * retired, an endpoint converged): the events below are the ones the alert
 * policy and the divergence check write, and the lifecycle tests run those
 * producers, so a change of event there fails here.
 *
 * Pure: no I/O.
 */
import { problemCodes } from './alert-policy';
import { FINDINGS } from './findings';
import { type Alert, type AlertKind, addressKey, type Severity } from './model';

/** What an alert does to its incident. */
export type IncidentAction = 'open' | 'update' | 'close';

/** The conditions with a fixed name; monitor pages add `monitor:<what>`. */
export type FixedCondition = 'expiry' | 'problems' | 'unreachable' | 'divergence' | 'test' | 'announcement';

/** Which condition of its subject an incident is about. */
export type IncidentCondition = FixedCondition | `monitor:${string}`;

/** Whose condition it is: one address, one endpoint, or certwatch itself. */
export type IncidentScope = 'address' | 'endpoint' | 'certwatch';

/** The subject of each condition: it decides the key. */
export const CONDITION_SCOPE = {
  expiry: 'address',
  problems: 'address',
  unreachable: 'address',
  divergence: 'endpoint',
  test: 'certwatch',
  announcement: 'endpoint',
} as const satisfies Record<FixedCondition, IncidentScope>;

/** One change an alert makes to one incident. */
export interface IncidentChange {
  readonly action: IncidentAction;
  readonly condition: IncidentCondition;
  /** The incident's stable key, the same for every alert about it (see {@link incidentKey}). */
  readonly key: string;
}

/** How an alert kind moves incidents, in words (the docs table) and as a function. */
export interface KindLifecycle {
  /** What the kind does, as docs/channels.md says it. */
  readonly effect: string;
  /** Which incident it is about, as docs/channels.md says it. */
  readonly incident: string;
  /** The changes, in the order a channel must apply them; never empty. */
  readonly changes: (alert: Alert) => readonly IncidentChange[];
}

/** Key prefix: tells certwatch's incidents from other tools' on a shared service. */
export const INCIDENT_KEY_PREFIX = 'certwatch';

function conditionScope(condition: IncidentCondition): IncidentScope {
  return condition.startsWith('monitor:') ? 'certwatch' : CONDITION_SCOPE[condition as FixedCondition];
}

/**
 * The stable key of the incident `condition` of the alert's subject:
 * `certwatch:<endpointId>|<address or dns>:<condition>` for an address,
 * `certwatch:<endpointId>:<condition>` for an endpoint, `certwatch:<condition>`
 * for certwatch itself. Endpoint ids are `host:port` and address keys hold a
 * `|`, so the three forms never meet.
 */
export function incidentKey(
  alert: Pick<Alert, 'endpointId' | 'address'>,
  condition: IncidentCondition,
): string {
  switch (conditionScope(condition)) {
    case 'address':
      return `${INCIDENT_KEY_PREFIX}:${addressKey(alert.endpointId, alert.address)}:${condition}`;
    case 'endpoint':
      return `${INCIDENT_KEY_PREFIX}:${alert.endpointId}:${condition}`;
    case 'certwatch':
      return `${INCIDENT_KEY_PREFIX}:${condition}`;
  }
}

function change(alert: Alert, action: IncidentAction, condition: IncidentCondition): IncidentChange {
  return { action, condition, key: incidentKey(alert, condition) };
}

/**
 * The event part of the alert id (`scope:kind:event`). The scope is the
 * address key or the endpoint id (none for monitor and test alerts); neither
 * holds `:<kind>:`, because what follows a colon in them is a port or IPv6 hex.
 */
export function alertEvent(alert: Pick<Alert, 'id' | 'kind' | 'endpointId' | 'address'>): string {
  const tail = `${alert.kind}:`;
  for (const scope of [addressKey(alert.endpointId, alert.address), alert.endpointId]) {
    if (alert.id.startsWith(`${scope}:${tail}`)) return alert.id.slice(scope.length + 1 + tail.length);
  }
  if (alert.kind === 'monitor' || alert.kind === 'test') {
    if (alert.id.startsWith(tail)) return alert.id.slice(tail.length);
  }
  const at = alert.id.indexOf(`:${tail}`);
  return at === -1 ? '' : alert.id.slice(at + 1 + tail.length);
}

/** Whether the certificate's own expiry is what makes the address critical (expired, or inside the critical window). */
function expiryIsCritical(alert: Alert): boolean {
  return (
    alert.status === 'expired' ||
    alert.findings.some((f) => FINDINGS[f.code]?.alerts === 'expiry' && f.severity === 'critical')
  );
}

/** What a reminder is about: as the policy's reminder text decides it, failure first, then expiry and problems. */
function reminderChanges(alert: Alert): IncidentChange[] {
  if (alert.status === 'error') return [change(alert, 'update', 'unreachable')];
  const problems = problemCodes(alert.findings).length > 0;
  const changes: IncidentChange[] = [];
  // A critical address with neither expiry nor a problem finding still counts down to its expiry.
  if (expiryIsCritical(alert) || !problems) changes.push(change(alert, 'update', 'expiry'));
  if (problems) changes.push(change(alert, 'update', 'problems'));
  return changes;
}

const ADDRESS_CONDITIONS: readonly IncidentCondition[] = ['unreachable', 'problems', 'expiry'];
const PROBLEM_EVENT = /^[A-Z][A-Z0-9_]*(\+[A-Z][A-Z0-9_]*)*:/;

/**
 * What a 'resolved' alert closes, by its event:
 * - `error:<since>`: the failure streak ended → `unreachable`;
 * - `<CODE+CODE>:<run>`: problems cleared → `problems`, closed when none is left in its
 *   findings (the check's), else updated;
 * - `divergent:<run>` (endpoint scope): the addresses converged → `divergence`;
 * - `retired:<at>`: the address is no longer checked → everything it may have open
 *   (`unreachable` only for the DNS-failure state, which had nothing else).
 * Anything else closes every address condition, so nothing is left open by a new event.
 */
function resolvedChanges(alert: Alert): IncidentChange[] {
  const event = alertEvent(alert);
  if (event.startsWith('error:')) return [change(alert, 'close', 'unreachable')];
  if (event.startsWith('divergent:') && alert.id.startsWith(`${alert.endpointId}:resolved:`))
    return [change(alert, 'close', 'divergence')];
  if (PROBLEM_EVENT.test(event)) {
    const left = problemCodes(alert.findings).length > 0;
    return [change(alert, left ? 'update' : 'close', 'problems')];
  }
  if (event.startsWith('retired:') && alert.address === null) return [change(alert, 'close', 'unreachable')];
  return ADDRESS_CONDITIONS.map((condition) => change(alert, 'close', condition));
}

/** The monitor page's condition: the first word of its event (`run`, `stale`), so repeats update one incident. */
function monitorCondition(alert: Alert): IncidentCondition {
  const head = alertEvent(alert).split(':')[0] ?? '';
  return `monitor:${head === '' ? 'page' : head}`;
}

/**
 * The lifecycle of every alert kind. `effect` and `incident` are the docs
 * table's cells (test/core/incident-lifecycle.test.ts holds docs/channels.md to them).
 */
export const ALERT_LIFECYCLE = {
  threshold: {
    effect: 'opens',
    incident: '`expiry` of the address',
    changes: (alert) => [change(alert, 'open', 'expiry')],
  },
  renotify: {
    effect: 'updates',
    incident:
      '`unreachable` while the address fails; otherwise `expiry` and/or `problems`, whichever keeps it critical',
    changes: reminderChanges,
  },
  renewed: {
    effect: 'closes',
    incident: '`expiry` of the address',
    changes: (alert) => [change(alert, 'close', 'expiry')],
  },
  resolved: {
    effect: 'closes (updates `problems` while some remain)',
    incident:
      '`unreachable` (reachable again), `problems` (cleared), `divergence` (converged), or all three address conditions (address retired)',
    changes: resolvedChanges,
  },
  problem: {
    effect: 'opens',
    incident: '`problems` of the address',
    changes: (alert) => [change(alert, 'open', 'problems')],
  },
  error: {
    effect: 'opens',
    incident: '`unreachable` of the address',
    changes: (alert) => [change(alert, 'open', 'unreachable')],
  },
  divergent: {
    effect: 'opens',
    incident: '`divergence` of the endpoint',
    changes: (alert) => [change(alert, 'open', 'divergence')],
  },
  monitor: {
    effect: 'opens',
    incident: '`monitor:<what>` of certwatch (`run`, `stale`, `canary`); closed by a person',
    changes: (alert) => [change(alert, 'open', monitorCondition(alert))],
  },
  test: {
    effect: 'opens, then closes',
    incident: '`test` of certwatch',
    changes: (alert) => [change(alert, 'open', 'test'), change(alert, 'close', 'test')],
  },
  announcement: {
    effect: 'opens, then closes',
    incident: '`announcement` of the maintenance window or silence',
    changes: (alert) => [change(alert, 'open', 'announcement'), change(alert, 'close', 'announcement')],
  },
} as const satisfies Record<AlertKind, KindLifecycle>;

/** The incident changes of one alert, in the order to apply them (never empty). */
export function incidentChanges(alert: Alert): readonly IncidentChange[] {
  const lifecycle: KindLifecycle | undefined = Object.hasOwn(ALERT_LIFECYCLE, alert.kind)
    ? ALERT_LIFECYCLE[alert.kind]
    : undefined;
  // An alert decoded from an older or newer sender may carry a kind this build does not know.
  return lifecycle?.changes(alert) ?? [change(alert, 'open', `monitor:${alert.kind}`)];
}

/**
 * The severity an incident is raised with: the alert's, except that an expired
 * certificate is always critical (clients already reject it).
 */
export function incidentSeverity(alert: Pick<Alert, 'severity' | 'status'>): Severity {
  return alert.status === 'expired' ? 'critical' : alert.severity;
}

/** FNV-1a, 64 bits, as 16 hex digits: a stable fingerprint of a key for `fitIncidentKey`. */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * `key` within a vendor's length limit (PagerDuty `dedup_key`: 255, Opsgenie
 * `alias`: 512): as it is when it fits, else its head, `~` and a hash of the
 * whole, so two long keys never share a fitted form by sharing a head.
 */
export function fitIncidentKey(key: string, max: number): string {
  if (key.length <= max) return key;
  const hash = fnv1a64(key);
  return `${key.slice(0, Math.max(0, max - hash.length - 1))}~${hash}`;
}

/**
 * A short stable tag of an incident key, `certwatch-<16 hex digits>`: what a ticket carries where
 * the whole key does not fit or is not allowed (a Jira label: no spaces, at most 255 characters).
 */
export function incidentTag(key: string): string {
  return `${INCIDENT_KEY_PREFIX}-${fnv1a64(key)}`;
}

/** Whether a ticket channel's ticket for an incident is open or was closed by certwatch. */
export type TicketState = 'open' | 'closed';

/**
 * The ticket a ticket channel (GitHub Issues, Jira) keeps for one incident: which ticket it
 * opened, so that reminders comment on it and the closing alert closes it.
 */
export interface TicketRecord {
  /** The channel's name (two channels on one repository keep their own tickets). */
  readonly channel: string;
  /** The incident's key ({@link incidentKey}). */
  readonly incidentKey: string;
  /** The vendor's id of the ticket: a GitHub issue number, a Jira issue key (`OPS-42`). */
  readonly ticketId: string;
  readonly state: TicketState;
  /** When certwatch last changed the record (ISO). */
  readonly updatedAt: string;
}

/** A ticket record as stored, with its optimistic-concurrency version. */
export interface StoredTicket {
  readonly record: TicketRecord;
  /** Pass it back to `saveTicket`. */
  readonly version: number;
}

/**
 * Port: where ticket channels keep their incident → ticket mapping (the state store). Single-item
 * conditional writes only. The mapping is a shortcut, not the truth: every ticket also carries a
 * marker of its incident, so a lost record costs a search, never a duplicate ticket.
 */
export interface TicketStore {
  /** The record of `channel`'s ticket for the incident `incidentKey`, or null when none was kept. */
  getTicket(channel: string, incidentKey: string): Promise<StoredTicket | null>;
  /**
   * Conditional write: succeeds only if the stored version still equals `expectedVersion`
   * (null = no record may exist yet); 'conflict' otherwise.
   */
  saveTicket(record: TicketRecord, expectedVersion: number | null): Promise<'saved' | 'conflict'>;
}
