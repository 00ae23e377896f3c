/**
 * The words of certwatch alerts: summary, detail and next action for every
 * alert kind, plus day/date formatting. Pure: the alert policy decides *when*
 * to alert, this module decides *what it says*.
 *
 * Summaries and actions are one line each; they may quote untrusted text
 * (certificate subjects, server messages), which is put on one line here by
 * the rule set of `untrusted-text.ts`; each channel renders it for its own markup.
 */
import { daysUntil, describeDaysLeft, formatDays } from './day-count';
import { FINDINGS } from './findings';
import type { Finding, FindingCode } from './model';
import { oneLine } from './untrusted-text';

// Alert texts and the policy clean untrusted text with the one rule set every channel uses.
export { oneLine };
// Days are counted by the one rule of `day-count.ts`; re-exported for the policy and renderers.
export { daysUntil, formatDays };

/** The three human parts of an alert. */
export interface AlertText {
  /** One line, e.g. "expires in 7 days (2026-12-01)". */
  readonly summary: string;
  /** A few sentences of explanation. */
  readonly detail: string;
  /** One line on what to do next. */
  readonly action: string;
}

/** `YYYY-MM-DD` (UTC) of an ISO time, or "an unknown date". */
export function formatDate(iso: string | null): string {
  if (iso === null) return 'an unknown date';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? 'an unknown date' : new Date(ms).toISOString().slice(0, 10);
}

/**
 * "expires in 7 days (2026-12-01)", "expires in less than a day (…)",
 * "expired 1 day ago (…)", "expired 13 days ago (…)": the day count of `day-count.ts`,
 * so the number matches the table's `daysLeft` (-13 is "13 days ago").
 */
export function describeExpiry(daysLeft: number | null, notAfter: string | null): string {
  const date = formatDate(notAfter);
  if (daysLeft === null) return notAfter === null ? 'expiry unknown' : `expires ${date}`;
  return `${describeDaysLeft(daysLeft)} (${date})`;
}

/** First 16 hex digits of a fingerprint, enough to tell certificates apart in a message. */
export function shortFingerprint(fingerprint: string | null): string {
  return fingerprint === null ? 'none' : fingerprint.slice(0, 16);
}

/** Short human label of a finding code, e.g. "incomplete chain". */
export function problemLabel(code: FindingCode): string {
  return FINDINGS[code].label;
}

/** The registry's "what to do next" line for one finding code at one address. */
export function findingAction(
  code: FindingCode,
  facts: Pick<AddressFacts, 'host' | 'port' | 'notAfter'>,
): string {
  return FINDINGS[code].action({
    host: facts.host,
    port: facts.port,
    expiryDate: formatDate(facts.notAfter),
  });
}

/**
 * What to do when an address cannot be checked, by the code of the failure. Without one
 * (no finding at all), the generic step of a refused connection: check it is reachable.
 */
function unreachableAction(code: FindingCode | null, facts: AddressFacts): string {
  return findingAction(code ?? 'CONNECTION_REFUSED', facts);
}

/** Renew now (expired) or before the expiry date: the registry's expiry rows. */
function expiryAction(facts: AddressFacts): string {
  return findingAction(facts.daysLeft !== null && facts.daysLeft < 0 ? 'EXPIRED' : 'EXPIRES_SOON', facts);
}

function issuedBy(issuer: string | null): string {
  return issuer === null ? '' : ` (issued by ${issuer})`;
}

function at(address: string | null): string {
  return address === null ? '' : ` at ${address}`;
}

/** Facts about one address that every text builder may use. */
export interface AddressFacts {
  readonly host: string;
  readonly port: number;
  readonly address: string | null;
  readonly daysLeft: number | null;
  readonly notAfter: string | null;
  readonly issuer: string | null;
  readonly fingerprint: string | null;
}

/** A days-to-expiry threshold was crossed (`threshold` null = the certificate expired). */
export function thresholdText(facts: AddressFacts, threshold: number | null): AlertText {
  const expiry = describeExpiry(facts.daysLeft, facts.notAfter);
  const why =
    threshold === null
      ? 'Clients now reject connections to it.'
      : `That is within the ${threshold}-day alert threshold.`;
  return {
    summary: oneLine(expiry),
    detail: `The certificate for ${facts.host}${at(facts.address)}${issuedBy(facts.issuer)} ${expiry}. ${why}`,
    action: oneLine(expiryAction(facts)),
  };
}

/** The leaf certificate changed: `renewed` when it now expires later, `replaced` otherwise. */
export function renewedText(
  facts: AddressFacts,
  previous: { readonly fingerprint: string | null; readonly notAfter: string | null },
): AlertText {
  const before = Date.parse(previous.notAfter ?? '');
  const after = Date.parse(facts.notAfter ?? '');
  const later = Number.isNaN(before) || Number.isNaN(after) || after > before;
  const dates = `expires ${formatDate(previous.notAfter)} → ${formatDate(facts.notAfter)}`;
  return {
    summary: later ? `renewed: ${dates}` : `certificate replaced: ${dates}`,
    detail:
      `${facts.host}${at(facts.address)} now serves certificate ${shortFingerprint(facts.fingerprint)}` +
      `${issuedBy(facts.issuer)}, ${describeExpiry(facts.daysLeft, facts.notAfter)}; ` +
      `it replaced ${shortFingerprint(previous.fingerprint)}, which expired or expires ${formatDate(previous.notAfter)}.`,
    action: later
      ? 'No action needed'
      : 'Check that this is the intended certificate: it expires earlier than the one it replaced',
  };
}

/** Certificate problems appeared (or, with `reminder`, are still open). */
export function problemText(
  facts: AddressFacts,
  codes: readonly FindingCode[],
  findings: readonly Finding[],
  reminder = false,
): AlertText {
  const labels = codes.map(problemLabel).join(', ');
  const messages = findings.filter((f) => codes.includes(f.code)).map((f) => f.message);
  return {
    summary: oneLine(`${reminder ? 'still open' : 'certificate problem'}: ${labels}`),
    detail:
      `The certificate served by ${facts.host}${at(facts.address)}${issuedBy(facts.issuer)} has ` +
      `${codes.length === 1 ? 'a problem' : 'problems'} clients will reject: ${messages.join(' ') || labels}`,
    action: oneLine(codes.map((code) => findingAction(code, facts)).join('; ')),
  };
}

/** Previously alerted certificate problems are gone. */
export function problemsResolvedText(facts: AddressFacts, codes: readonly FindingCode[]): AlertText {
  const labels = codes.map(problemLabel).join(', ');
  return {
    summary: `resolved: ${labels}`,
    detail: `${facts.host}${at(facts.address)} no longer shows: ${labels} (${codes.join(', ')}).`,
    action: 'No action needed',
  };
}

/** Failure streak reached the alert threshold (or, with `reminder`, is still going on). */
export function unreachableText(
  facts: AddressFacts,
  failures: number,
  since: string,
  failure: { readonly code: FindingCode | null; readonly message: string },
  reminder = false,
): AlertText {
  const lead = reminder ? 'still unreachable after' : 'unreachable for';
  const known =
    facts.notAfter === null
      ? 'No certificate has been obtained from it yet.'
      : `The last certificate seen there ${describeExpiry(facts.daysLeft, facts.notAfter)}.`;
  return {
    summary: oneLine(`${lead} ${failures} consecutive checks since ${since}: ${failure.message}`),
    detail: `certwatch could not obtain a certificate from ${facts.host}:${facts.port}${at(facts.address)} in ${failures} consecutive checks since ${since}. Last error: ${failure.message} ${known}`,
    action: oneLine(unreachableAction(failure.code, facts)),
  };
}

/** The address answers again after an alerted failure streak. */
export function recoveredText(facts: AddressFacts, failures: number, since: string): AlertText {
  return {
    summary: `reachable again after ${failures} failed ${failures === 1 ? 'check' : 'checks'}`,
    detail: `${facts.host}:${facts.port}${at(facts.address)} served a certificate again; it had failed every check since ${since}. The certificate ${describeExpiry(facts.daysLeft, facts.notAfter)}.`,
    action: 'No action needed',
  };
}

/** The host resolves again after a DNS failure streak that was alerted. */
export function dnsRecoveredText(facts: AddressFacts, failures: number, since: string): AlertText {
  return {
    summary: `resolves again after ${failures} failed DNS ${failures === 1 ? 'lookup' : 'lookups'}`,
    detail: `${facts.host} resolves in DNS again; every lookup had failed since ${since}. Its addresses are checked again.`,
    action: 'No action needed',
  };
}

/** An address the host no longer resolves to, whose open alerts are closed as certwatch stops checking it. */
export function addressRetiredText(facts: AddressFacts, lastCheckedAt: string): AlertText {
  return {
    summary: oneLine(`${facts.address ?? 'address'} left DNS: no longer checked`),
    detail: `${facts.host} has not resolved to ${facts.address ?? 'this address'} since ${lastCheckedAt}, so certwatch stopped checking it and closes its open alerts. Its last certificate ${describeExpiry(facts.daysLeft, facts.notAfter)}.`,
    action: oneLine(
      `No action needed, unless ${facts.address ?? 'the address'} still serves ${facts.host} to clients that resolve it differently`,
    ),
  };
}

/** Reminder that an expiring or expired certificate is still in place. */
export function expiryReminderText(facts: AddressFacts): AlertText {
  const expiry = describeExpiry(facts.daysLeft, facts.notAfter);
  return {
    summary: oneLine(`still not renewed: ${expiry}`),
    detail: `The certificate for ${facts.host}${at(facts.address)}${issuedBy(facts.issuer)} ${expiry} and has not been replaced yet.`,
    action: oneLine(expiryAction(facts)),
  };
}

/** Reminder for a critical status that is neither expiry nor an open problem (e.g. an expiring intermediate). */
export function stillCriticalText(facts: AddressFacts, findings: readonly Finding[]): AlertText {
  const worst = findings.find((f) => f.severity === 'critical') ?? findings[0];
  const what = worst === undefined ? 'critical' : worst.message;
  return {
    summary: oneLine(`still critical: ${what}`),
    detail: `${facts.host}${at(facts.address)} is still critical: ${findings.map((f) => f.message).join(' ') || what}`,
    action: oneLine(`Fix the findings reported for ${facts.host}`),
  };
}

/** One address of a divergent endpoint, for the divergence texts. */
export interface DivergentAddress {
  readonly address: string | null;
  readonly fingerprint: string;
  readonly notAfter: string | null;
}

/** Addresses of one host serve different leaf certificates. */
export function divergenceText(
  target: { readonly host: string; readonly port: number },
  addresses: readonly DivergentAddress[],
): AlertText {
  const { host } = target;
  const distinct = new Set(addresses.map((a) => a.fingerprint)).size;
  const lines = addresses.map(
    (a) =>
      `${a.address ?? 'unknown address'} → ${shortFingerprint(a.fingerprint)} → ${formatDate(a.notAfter)}`,
  );
  return {
    summary: `${distinct} different certificates across ${addresses.length} addresses of ${host}`,
    detail:
      `The addresses of ${host} do not all serve the same certificate:\n${lines.join('\n')}\n` +
      'This usually means a stale node behind a load balancer or DNS still serves an old certificate.',
    // Several certificates are concerned, and the action names no date.
    action: oneLine(findingAction('DIVERGENT_CERTIFICATES', { ...target, notAfter: null })),
  };
}

/** All addresses of a host serve the same certificate again. */
export function convergedText(host: string, count: number, fingerprint: string): AlertText {
  return {
    summary: `resolved: all ${count} addresses of ${host} serve the same certificate`,
    detail: `Every address of ${host} checked in this run now serves certificate ${shortFingerprint(fingerprint)}.`,
    action: 'No action needed',
  };
}
