/**
 * The announcements of maintenance windows and silences: their words and their
 * alerts. Pure. Each announcement is an alert of kind `announcement` whose id
 * names the window or silence and the phase (`announcement:maintenance:<id>:<phase>`),
 * so a tick that repeats or crashes sends each one at most once (the delivery
 * records of `outbox-delivery.ts` key on the id).
 */
import type { AlertText } from './alert-text';
import { bareSubject, buildAlert } from './build-alert';
import {
  formatInZone,
  type MaintenanceWindow,
  type Silence,
  silenceEffectiveEnd,
  type SilencePhase,
  windowEffectiveEnd,
  type WindowPhase,
} from './maintenance';
import type { Alert } from './model';
import { oneLine } from './untrusted-text';

/** How the endpoints of a window stood after the re-check at its end. */
export interface WindowEndOutcome {
  /** Endpoints found fine. */
  readonly fine: readonly string[];
  /** Endpoints still broken (each paged on its own), with since when. */
  readonly broken: readonly { readonly name: string; readonly since: string }[];
  /** Endpoints still covered by another window or a silence, by its name. */
  readonly stillCovered: readonly { readonly name: string; readonly by: string }[];
  /** Endpoints the re-check did not reach in time. */
  readonly unchecked: readonly string[];
}

/** Where an announcement goes: the channels of the endpoints in scope ([] = every channel). */
export interface AnnouncementAudience {
  readonly channels: readonly string[];
  /** Names of the endpoints in scope, for the text. */
  readonly endpoints: readonly string[];
}

/**
 * The channels of endpoints in scope: their union, or every channel when one of them uses
 * every channel (or none is in scope: an announcement nobody would hear is worse than one too many).
 */
export function audienceChannels(endpoints: readonly { readonly channels: readonly string[] }[]): string[] {
  if (endpoints.length === 0 || endpoints.some((e) => e.channels.length === 0)) return [];
  return [...new Set(endpoints.flatMap((e) => e.channels))].sort();
}

function scopeWords(w: MaintenanceWindow, audience: AnnouncementAudience): string {
  const named = audience.endpoints.length === 0 ? 'no endpoint yet' : list(audience.endpoints);
  const tags = w.tags.length === 0 ? '' : ` (tags ${w.tags.join(', ')})`;
  return `${named}${tags}`;
}

function list(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

function period(w: MaintenanceWindow): string {
  return `${formatInZone(w.start, w.timeZone)} to ${formatInZone(w.end, w.timeZone)}`;
}

const QUIET_RULE =
  'Connection, handshake and hostname failures of these endpoints do not page during the window; expiry and revocation alerts still do.';

/** The words of one window announcement. */
export function windowAnnouncementText(
  w: MaintenanceWindow,
  phase: WindowPhase,
  audience: AnnouncementAudience,
  opts: { readonly rescheduled?: boolean; readonly end?: WindowEndOutcome } = {},
): AlertText {
  const name = oneLine(w.name);
  const message = w.message === '' ? '' : `${oneLine(w.message)} `;
  const scope = scopeWords(w, audience);
  switch (phase) {
    case 'scheduled':
      return {
        summary: `maintenance ${opts.rescheduled ? 'rescheduled' : 'scheduled'}: ${name}, ${period(w)}`,
        detail: `${message}Endpoints: ${scope}. ${QUIET_RULE}`,
        action:
          'Nothing to do; certwatch announces the window again before it starts, when it starts and when it ends',
      };
    case 'lead':
      return {
        summary: `maintenance ${name} starts ${formatInZone(w.start, w.timeZone)}`,
        detail: `${message}Endpoints: ${scope}. It ends ${formatInZone(w.end, w.timeZone)}. ${QUIET_RULE}`,
        action: 'Nothing to do unless the window should not go ahead (certwatch maintenance cancel)',
      };
    case 'start':
      return {
        summary: `maintenance started: ${name}, until ${formatInZone(windowEffectiveEnd(w), w.timeZone)}`,
        detail: `${message}Endpoints: ${scope}. ${QUIET_RULE}`,
        action:
          'Nothing to do; failures are recorded as "in maintenance" and re-checked when the window ends',
      };
    case 'end':
      return endText(w, name, scope, opts.end ?? { fine: [], broken: [], stillCovered: [], unchecked: [] });
    case 'cancelled':
      return {
        summary: `maintenance cancelled: ${name} (was ${period(w)})`,
        detail: `${message}Endpoints: ${scope}. Their failures page as usual.`,
        action: 'Nothing to do',
      };
    default:
      return phase satisfies never;
  }
}

function endText(w: MaintenanceWindow, name: string, scope: string, end: WindowEndOutcome): AlertText {
  const early =
    w.cancelledAt !== null && Date.parse(w.cancelledAt) < Date.parse(w.end) ? ' (ended early)' : '';
  const parts: string[] = [];
  if (end.fine.length > 0) parts.push(`All clear: ${list(end.fine)}.`);
  if (end.broken.length > 0) {
    const broken = end.broken.map((b) => `${b.name} (broken since ${b.since})`);
    parts.push(`Still broken, paged: ${list(broken)}.`);
  }
  if (end.stillCovered.length > 0) {
    parts.push(`Still covered: ${list(end.stillCovered.map((c) => `${c.name} by ${c.by}`))}.`);
  }
  if (end.unchecked.length > 0) parts.push(`Not re-checked yet: ${list(end.unchecked)}.`);
  const total = end.fine.length + end.broken.length + end.stillCovered.length + end.unchecked.length;
  const verdict =
    end.broken.length > 0
      ? `${end.broken.length} of ${total} endpoints still broken`
      : end.unchecked.length > 0
        ? `${end.unchecked.length} of ${total} endpoints not re-checked`
        : `all clear (${end.fine.length} of ${total} endpoints fine)`;
  return {
    summary: `maintenance ended${early}: ${name}: ${verdict}`,
    detail: `${parts.join(' ') || `Endpoints: ${scope}.`} Failures page as usual again.`,
    action:
      end.broken.length === 0 ? 'Nothing to do' : 'Fix the endpoints still broken: each has paged on its own',
  };
}

/** The alert of one window announcement. */
export function windowAnnouncement(
  w: MaintenanceWindow,
  phase: WindowPhase,
  phaseKey: string,
  audience: AnnouncementAudience,
  now: Date,
  opts: { readonly rescheduled?: boolean; readonly end?: WindowEndOutcome } = {},
): Alert {
  return buildAlert({
    kind: 'announcement',
    severity: 'info',
    scope: null,
    event: `maintenance:${w.id}:${phaseKey}`,
    audience: {
      name: `maintenance ${w.name}`,
      id: `maintenance:${w.id}`,
      owner: null,
      channels: audience.channels,
    },
    subject: bareSubject('ok'),
    text: windowAnnouncementText(w, phase, audience, opts),
    now,
  });
}

function silenceScope(s: Silence): string {
  return s.endpoint !== null ? oneLine(s.endpoint) : `tag ${oneLine(s.tag ?? '')}`;
}

/** The words of one silence announcement. */
export function silenceAnnouncementText(s: Silence, phase: SilencePhase): AlertText {
  const scope = silenceScope(s);
  const reason = oneLine(s.reason);
  const until = new Date(silenceEffectiveEnd(s)).toISOString();
  if (phase === 'start') {
    return {
      summary: `silenced: ${scope} until ${until}: ${reason}`,
      detail:
        `Alerts of ${scope} are recorded as "silenced" and not sent until ${until}. ` +
        'Revocation, and expiry inside the critical window, still page.',
      action: `Fix the problem before ${until}, or end the silence early (certwatch silence expire ${s.id})`,
    };
  }
  const early = s.expiredAt !== null && Date.parse(s.expiredAt) < Date.parse(s.until) ? ' early' : '';
  return {
    summary: `silence ended${early}: ${scope} (${reason})`,
    detail: `Alerts of ${scope} page as usual again; anything still wrong alerts on its next check.`,
    action: 'Nothing to do',
  };
}

/** The alert of one silence announcement. */
export function silenceAnnouncement(
  s: Silence,
  phase: SilencePhase,
  channels: readonly string[],
  now: Date,
): Alert {
  return buildAlert({
    kind: 'announcement',
    severity: 'info',
    scope: null,
    event: `silence:${s.id}:${phase}`,
    audience: { name: `silence ${silenceScope(s)}`, id: `silence:${s.id}`, owner: null, channels },
    subject: bareSubject('ok'),
    text: silenceAnnouncementText(s, phase),
    now,
  });
}
