/**
 * Host name verification against a parsed leaf certificate, as browsers do it
 * (RFC 6125 plus the CA/Browser Forum and Chromium rules).
 *
 * Implemented here rather than with X509Certificate.checkHost so the rules are
 * explicit and tested:
 * - only subjectAltName counts: no CN fallback (deprecated by RFC 2818, dropped by Chrome 58 in 2017);
 * - a wildcard only as the whole left-most label, covering exactly one label, never directly
 *   over a public suffix (`*.com`, `*.co.uk`);
 * - names compared as lower-case A-labels: the host is converted, a Unicode dNSName never matches;
 * - an IP literal only against iPAddress entries, a DNS name only against dNSName entries.
 */
import { domainToASCII } from 'node:url';
import { formatIp, parseIp } from './ip-address';
import type { ParsedCertificate } from './parse-certificate';
import { isPublicSuffix } from './public-suffixes';

/** The names a certificate presents, as hostname checks see them. */
export type PresentedIdentities = Pick<
  ParsedCertificate,
  'dnsNames' | 'ipAddresses' | 'hasSubjectAltName' | 'commonNames'
>;

/** Lower-case ASCII (A-label) form of a host; null when it cannot be a DNS name. */
export function normaliseHost(host: string): string | null {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0 || h.includes('*')) return null;
  if (/[^\x00-\x7f]/.test(h)) {
    // UTS #46 processing, as a browser's URL parser does: U-labels (and full-width dots) to A-labels.
    const ascii = domainToASCII(h);
    if (!ascii) return null;
    h = ascii;
  }
  return h;
}

/** A presented dNSName, lower-cased and without a trailing dot. */
function presentedForm(pattern: string): string {
  const p = pattern.toLowerCase();
  return p.endsWith('.') ? p.slice(0, -1) : p;
}

/**
 * Why a presented dNSName (lower-cased, no trailing dot) can match nothing, or null when it is
 * a usable reference identifier: a plain name or a wildcard the rules allow.
 */
export function presentedNameFault(pattern: string): string | null {
  if (pattern.length === 0) return 'it is empty';
  if (/[^\x00-\x7f]/.test(pattern))
    return 'a dNSName must be ASCII, with internationalised labels as A-labels (xn--)';
  if (!pattern.includes('*')) return null;
  if (!pattern.startsWith('*.') || pattern.indexOf('*', 1) !== -1) {
    return 'a wildcard must be the whole left-most label';
  }
  const base = pattern.slice(2);
  if (isPublicSuffix(base)) return `a wildcard may not stand directly over the public suffix ${base}`;
  return null;
}

/** Whether one presented DNS identifier (possibly `*.x.y`) covers the normalised host. */
export function dnsNameMatches(pattern: string, host: string): boolean {
  const p = presentedForm(pattern);
  if (presentedNameFault(p) !== null) return false;
  if (!p.startsWith('*.')) return p === host;
  // The wildcard stands for exactly one non-empty label.
  const suffix = p.slice(1);
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** The host as an IP address, or null when it is a DNS name. IPv6 may be bracketed. */
function hostIp(host: string): Uint8Array | null {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return parseIp(unbracketed);
}

/** Whether the certificate covers `host` (DNS name or IP literal). */
export function certificateMatchesHost(cert: PresentedIdentities, host: string): boolean {
  if (!cert.hasSubjectAltName) return false;
  const ip = hostIp(host);
  if (ip) return cert.ipAddresses.includes(formatIp(ip));
  const name = normaliseHost(host);
  if (!name) return false;
  return cert.dnsNames.some((pattern) => dnsNameMatches(pattern, name));
}

const MAX_LISTED = 8;
/** SAN entries examined to explain a mismatch; the match itself looks at all of them. */
const MAX_EXPLAINED = 100;
/** Longest host quoted in a message (a DNS name has at most 253 characters). */
const MAX_HOST_QUOTE = 255;

/** "a.example.com, b.example.com, 10.0.0.1 (+12 more)" — what the certificate covers, for messages. */
export function describeCoverage(cert: PresentedIdentities): string {
  const names = cert.hasSubjectAltName
    ? [...cert.dnsNames, ...cert.ipAddresses]
    : cert.commonNames.slice(-1).map((cn) => `CN=${cn}`);
  if (names.length === 0) return cert.hasSubjectAltName ? 'no names (empty subjectAltName)' : 'no names';
  const shown = names.slice(0, MAX_LISTED).map((n) => (n.length > 80 ? `${n.slice(0, 80)}…` : n));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} (+${more} more)` : shown.join(', ');
}

/**
 * Whether `text` matches `glob`, where each `*` stands for any run of characters (dots too).
 * The classic two-pointer match: O(text × glob) at worst, and both are short.
 */
function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === text[t]) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = t;
    } else if (star !== -1) {
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/**
 * For a DNS host: the first SAN entry that a lax client would have matched (a Unicode name
 * converted, `*` as any run of characters) and the rule that refuses it, e.g. "*.co.uk is not
 * accepted: a wildcard may not stand directly over the public suffix co.uk". Null when no
 * entry comes close.
 */
function refusedNearMatch(cert: PresentedIdentities, host: string): string | null {
  for (const raw of cert.dnsNames.slice(0, MAX_EXPLAINED)) {
    const pattern = presentedForm(raw);
    const nearly = /[^\x00-\x7f]/.test(pattern)
      ? domainToASCII(pattern) === host
      : pattern.includes('*') && globMatches(pattern, host);
    if (!nearly) continue;
    const fault = presentedNameFault(pattern);
    return fault === null
      ? `${raw} does not cover it: a wildcard stands for exactly one label`
      : `${raw} is not accepted: ${fault}`;
  }
  return null;
}

/** For an IP host: a dNSName entry holding that address in text. */
function ipInDnsName(cert: PresentedIdentities, ip: Uint8Array): string | null {
  const wanted = formatIp(ip);
  const entry = cert.dnsNames.slice(0, MAX_EXPLAINED).find((name) => {
    const asIp = parseIp(presentedForm(name));
    return asIp !== null && formatIp(asIp) === wanted;
  });
  return entry === undefined
    ? null
    : `${entry} is a DNS name entry; an IP address matches only iPAddress entries`;
}

/**
 * The HOSTNAME_MISMATCH message for a leaf that does not cover `host`, or null when it does.
 * It says what the certificate covers and, when an entry was refused by a rule rather than
 * simply different, which rule.
 */
export function hostnameMismatch(cert: PresentedIdentities, host: string): string | null {
  if (certificateMatchesHost(cert, host)) return null;
  const shown = `"${host.slice(0, MAX_HOST_QUOTE)}"`;
  if (!cert.hasSubjectAltName) {
    const cn = cert.commonNames[cert.commonNames.length - 1];
    const its = cn === undefined ? '' : ` (its subject has CN=${cn})`;
    return `certificate does not cover ${shown}: the certificate has no subjectAltName; browsers ignore the subject CN since 2017${its}`;
  }
  const ip = hostIp(host);
  const name = ip ? null : normaliseHost(host);
  const why = ip ? ipInDnsName(cert, ip) : name ? refusedNearMatch(cert, name) : null;
  const base = `certificate does not cover ${shown}; it covers: ${describeCoverage(cert)}`;
  return why === null ? base : `${base} (${why})`;
}
