/**
 * Maintenance windows and silences: what they are, which endpoints they cover
 * at a given time, and which of their announcements are due. Pure (the clock
 * is passed in): the store keeps them, the tick announces them, the policy
 * asks `suppression.ts` what they may quiet.
 *
 * The rules, in one place:
 * - A window covers the endpoints of its scope from `start` (inclusive) to its
 *   effective end (exclusive): `end`, or when it was cancelled if that is sooner.
 * - A silence covers its endpoint or tag from `createdAt` to its effective end:
 *   `until`, or when it was expired by hand if that is sooner. It always ends.
 * - Several suppressors may cover one endpoint (overlapping windows, a window and
 *   a silence). `suppressorsFor` lists them maintenance first, the one ending
 *   last first, then silences the same way: the first that may quiet an alert
 *   is the one that does, and its name is the one the "outlasted" page names.
 * - Editing a window (its start, end or scope) makes a new revision: it is
 *   announced again as rescheduled; the phases already announced (lead, start)
 *   are not repeated. Cancelling one that has not started announces the
 *   cancellation; cancelling one that is running ends it at once.
 */

/** What quiets alerts for a while: a planned maintenance window, or a silence put on a known problem. */
export type SuppressorKind = 'maintenance' | 'silence';

/** A planned maintenance window. */
export interface MaintenanceWindow {
  /** Stable id (`cli-…` for one added by hand, the config's `id` for one declared in the config). */
  readonly id: string;
  readonly name: string;
  /** Endpoint ids or names in scope. */
  readonly endpoints: readonly string[];
  /** Endpoint tags in scope (an endpoint with any of them is in scope). */
  readonly tags: readonly string[];
  /** Instant the window starts (ISO, UTC). */
  readonly start: string;
  /** Instant the window ends (ISO, UTC); after `start`. */
  readonly end: string;
  /** IANA time zone its times are shown in. */
  readonly timeZone: string;
  /** What the announcements say about it. */
  readonly message: string;
  /** How long before `start` the reminder goes out, in ms; 0 sends none. */
  readonly leadTimeMs: number;
  /** When it was scheduled (ISO). */
  readonly createdAt: string;
  /** When it was cancelled (ISO), null while it stands. */
  readonly cancelledAt: string | null;
  /** Where it was declared: the config file (synced every run) or `certwatch maintenance add`. */
  readonly source: 'config' | 'cli';
}

/** A time-boxed silence on one endpoint or one tag. */
export interface Silence {
  readonly id: string;
  /** Endpoint id or name silenced; null when a tag is. */
  readonly endpoint: string | null;
  /** Tag silenced; null when an endpoint is. */
  readonly tag: string | null;
  /** Instant it ends (ISO). Always set: a silence never lasts for ever. */
  readonly until: string;
  readonly reason: string;
  readonly createdAt: string;
  /** When it was ended by hand (`silence expire`), null otherwise. */
  readonly expiredAt: string | null;
}

/** Which suppressor quieted something, as recorded in state and shown in status, JSON and the report. */
export interface SuppressionRef {
  readonly kind: SuppressorKind;
  readonly id: string;
  /** The window's name, or the silence's reason. */
  readonly name: string;
  /** When it ends (ISO). */
  readonly until: string;
}

/** What scope matching needs of an endpoint (an `Endpoint` fits). */
export interface ScopedEndpoint {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
}

/** The announcements of a window, in order. `scheduled` is per revision. */
export const WINDOW_PHASES = ['scheduled', 'lead', 'start', 'end', 'cancelled'] as const;
export type WindowPhase = (typeof WINDOW_PHASES)[number];
export const SILENCE_PHASES = ['start', 'end'] as const;
export type SilencePhase = (typeof SILENCE_PHASES)[number];

/** Default lead time of a window's reminder: 24 h. */
export const DEFAULT_LEAD_TIME_MS = 86_400_000;
/** Default longest silence: 30 days. */
export const DEFAULT_MAX_SILENCE_MS = 30 * 86_400_000;

const ms = (iso: string) => Date.parse(iso);

/** When a window stops covering: its end, or its cancellation if sooner. */
export function windowEffectiveEnd(w: MaintenanceWindow): string {
  return w.cancelledAt !== null && ms(w.cancelledAt) < ms(w.end) ? w.cancelledAt : w.end;
}

/** Whether the window was cancelled before it started (it never covered anything). */
export function cancelledBeforeStart(w: MaintenanceWindow): boolean {
  return w.cancelledAt !== null && ms(w.cancelledAt) <= ms(w.start);
}

/** When a silence stops covering: `until`, or its manual expiry if sooner. */
export function silenceEffectiveEnd(s: Silence): string {
  return s.expiredAt !== null && ms(s.expiredAt) < ms(s.until) ? s.expiredAt : s.until;
}

/** Whether `endpoint` is in the window's scope (by id, name or tag). */
export function inWindowScope(w: MaintenanceWindow, endpoint: ScopedEndpoint): boolean {
  return (
    w.endpoints.some((e) => e === endpoint.id || e === endpoint.name) ||
    w.tags.some((t) => endpoint.tags.includes(t))
  );
}

/** Whether `endpoint` is in the silence's scope. */
export function inSilenceScope(s: Silence, endpoint: ScopedEndpoint): boolean {
  if (s.endpoint !== null) return s.endpoint === endpoint.id || s.endpoint === endpoint.name;
  return s.tag !== null && endpoint.tags.includes(s.tag);
}

/** Whether the window covers `endpoint` at `now`. */
export function windowCovers(w: MaintenanceWindow, endpoint: ScopedEndpoint, now: Date): boolean {
  const t = now.getTime();
  return inWindowScope(w, endpoint) && t >= ms(w.start) && t < ms(windowEffectiveEnd(w));
}

/** Whether the silence covers `endpoint` at `now`. */
export function silenceCovers(s: Silence, endpoint: ScopedEndpoint, now: Date): boolean {
  const t = now.getTime();
  return inSilenceScope(s, endpoint) && t >= ms(s.createdAt) && t < ms(silenceEffectiveEnd(s));
}

export function windowRef(w: MaintenanceWindow): SuppressionRef {
  return { kind: 'maintenance', id: w.id, name: w.name, until: windowEffectiveEnd(w) };
}

export function silenceRef(s: Silence): SuppressionRef {
  return { kind: 'silence', id: s.id, name: s.reason, until: silenceEffectiveEnd(s) };
}

/**
 * Every suppressor covering `endpoint` at `now`: maintenance windows first, then silences;
 * within each, the one ending last first (ties by id), so the order never depends on storage.
 */
export function suppressorsFor(
  endpoint: ScopedEndpoint,
  windows: readonly MaintenanceWindow[],
  silences: readonly Silence[],
  now: Date,
): SuppressionRef[] {
  const order = (a: SuppressionRef, b: SuppressionRef) =>
    ms(b.until) - ms(a.until) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [
    ...windows
      .filter((w) => windowCovers(w, endpoint, now))
      .map(windowRef)
      .sort(order),
    ...silences
      .filter((s) => silenceCovers(s, endpoint, now))
      .map(silenceRef)
      .sort(order),
  ];
}

/** The revision of a window: changes whenever its start, end or scope does. */
export function windowRevision(w: MaintenanceWindow): string {
  const scope = [...w.endpoints].sort().join(',') + '|' + [...w.tags].sort().join(',');
  // FNV-1a, 32 bits: short, stable, and enough to tell the revisions of one window apart.
  let hash = 0x811c9dc5;
  for (const ch of `${w.start}|${w.end}|${scope}`) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** The key an announced phase is recorded under: `scheduled@<revision>` for the schedule, the phase otherwise. */
export function phaseKey(w: MaintenanceWindow, phase: WindowPhase): string {
  return phase === 'scheduled' ? `scheduled@${windowRevision(w)}` : phase;
}

/** One phase the tick owes: `send` it, or `skip` it (record it without a word: it came too late to matter). */
export interface DuePhase<P extends string> {
  readonly phase: P;
  readonly key: string;
  readonly action: 'send' | 'skip';
}

/**
 * The window's announcements that are due at `now` and not yet recorded in `announced`, in order:
 * - `scheduled`: at once, per revision (an edit is announced as rescheduled), while the window
 *   has not ended; not for a window cancelled before it started;
 * - `lead`: `leadTimeMs` before the start, while it has not started, and only when the window
 *   was scheduled before that time (otherwise the schedule notice said it); a lead time that
 *   passed unannounced once the window started is skipped;
 * - `start`: at the start, while the window has not ended; a start only seen after the end is skipped;
 * - `end`: at the effective end of a window that started (the tick re-checks its endpoints and
 *   sends the all-clear; see `maintenance-tick.ts`); skipped for a window stored only after it
 *   ended, of which nothing was announced;
 * - `cancelled`: when a window that had not started is cancelled and its schedule was announced.
 */
export function dueWindowPhases(
  w: MaintenanceWindow,
  announced: readonly string[],
  now: Date,
): DuePhase<WindowPhase>[] {
  const t = now.getTime();
  const start = ms(w.start);
  const end = ms(windowEffectiveEnd(w));
  const cancelledEarly = cancelledBeforeStart(w);
  const scheduledKey = phaseKey(w, 'scheduled');
  const wasScheduled = announced.some((a) => a.startsWith('scheduled@'));
  const due: DuePhase<WindowPhase>[] = [];
  const add = (phase: WindowPhase, action: 'send' | 'skip') => {
    const key = phaseKey(w, phase);
    if (!announced.includes(key)) due.push({ phase, key, action });
  };
  if (cancelledEarly) {
    if (wasScheduled && !announced.includes('cancelled')) add('cancelled', 'send');
    return due;
  }
  if (t < end && !announced.includes(scheduledKey)) add('scheduled', 'send');
  const leadAt = start - w.leadTimeMs;
  if (w.leadTimeMs > 0 && t >= leadAt) {
    const worthIt = ms(w.createdAt) < leadAt && t < start;
    add('lead', worthIt ? 'send' : 'skip');
  }
  if (t >= start) add('start', t < end ? 'send' : 'skip');
  // A window nobody was told about (stored after it ended) ends without a word, and without a re-check.
  const told = wasScheduled || announced.includes('start') || due.some((d) => d.action === 'send');
  if (t >= end) add('end', told ? 'send' : 'skip');
  return due;
}

/** The silence's announcements due at `now` and not yet in `announced`: its start, then its end. */
export function dueSilencePhases(
  s: Silence,
  announced: readonly string[],
  now: Date,
): DuePhase<SilencePhase>[] {
  const t = now.getTime();
  const due: DuePhase<SilencePhase>[] = [];
  if (t >= ms(s.createdAt) && !announced.includes('start'))
    due.push({ phase: 'start', key: 'start', action: 'send' });
  if (t >= ms(silenceEffectiveEnd(s)) && !announced.includes('end'))
    due.push({ phase: 'end', key: 'end', action: 'send' });
  return due;
}

/** Whether a window is over and fully announced: the store may stop reading it. */
export function windowSettled(w: MaintenanceWindow, announced: readonly string[], now: Date): boolean {
  if (cancelledBeforeStart(w)) {
    const wasScheduled = announced.some((a) => a.startsWith('scheduled@'));
    return !wasScheduled || announced.includes('cancelled');
  }
  return now.getTime() >= ms(windowEffectiveEnd(w)) && announced.includes('end');
}

/** Whether a silence is over and its end announced. */
export function silenceSettled(s: Silence, announced: readonly string[], now: Date): boolean {
  return now.getTime() >= ms(silenceEffectiveEnd(s)) && announced.includes('end');
}

/** Why a time zone name is refused, or null when Intl knows it. */
export function timeZoneProblem(timeZone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return null;
  } catch {
    return `unknown time zone '${timeZone}' (expected an IANA name such as Europe/Berlin or UTC)`;
  }
}

/** `2026-12-03 02:00 CET` in the given time zone. */
export function formatInZone(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

/**
 * A wall-clock time in a time zone (`2026-12-03T02:00`, seconds optional) as an instant. A
 * time with an offset or `Z` is taken as given. Returns null when it does not parse.
 */
export function parseZonedTime(text: string, timeZone: string): Date | null {
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    const t = Date.parse(text);
    return Number.isNaN(t) ? null : new Date(t);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (Number.isNaN(asUtc)) return null;
  // The zone's offset at that wall time: two passes settle it also across a DST change.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) guess = asUtc - zoneOffsetMs(guess, timeZone);
  return new Date(guess);
}

function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}
