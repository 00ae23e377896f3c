/**
 * RFC 6125 host name verification against a parsed leaf certificate.
 *
 * Implemented here rather than with X509Certificate.checkHost so the rules are
 * explicit and tested: wildcard only as the whole left-most label, never on a
 * public suffix-like single label, no partial wildcards, IP literals only
 * against iPAddress entries, and the CN only when there is no SAN extension.
 */
import { domainToASCII } from 'node:url';
import { formatIp, parseIp } from './ip-address';
import type { ParsedCertificate } from './parse-certificate';

/** The names a certificate presents, as hostname checks see them. */
export type PresentedIdentities = Pick<
  ParsedCertificate,
  'dnsNames' | 'ipAddresses' | 'hasSubjectAltName' | 'commonNames'
>;

/** Lower-case ASCII (A-label) form of a host; null when it cannot be a DNS name. */
export function normaliseHost(host: string): string | null {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h.length === 0) return null;
  if (/[^\x00-\x7f]/.test(h)) {
    const ascii = domainToASCII(h);
    if (!ascii) return null;
    h = ascii;
  }
  return h;
}

/** Whether one presented DNS identifier (possibly `*.x.y`) covers the normalised host. */
export function dnsNameMatches(pattern: string, host: string): boolean {
  let p = pattern.toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (p.length === 0) return false;
  if (!p.includes('*')) return p === host;
  // Only a whole left-most label may be a wildcard, and it must leave at least two labels fixed.
  if (!p.startsWith('*.')) return false;
  const suffix = p.slice(1);
  if (suffix.includes('*') || suffix.split('.').length < 3) return false;
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, host.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

/** Whether the certificate covers `host` (DNS name or IP literal). */
export function certificateMatchesHost(cert: PresentedIdentities, host: string): boolean {
  const unbracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const ip = parseIp(unbracketed);
  if (ip) {
    const wanted = formatIp(ip);
    return cert.ipAddresses.includes(wanted);
  }
  const name = normaliseHost(host);
  if (!name) return false;
  if (cert.hasSubjectAltName) return cert.dnsNames.some((pattern) => dnsNameMatches(pattern, name));
  // Legacy fallback: the most specific CN, only when the certificate has no SAN at all.
  const cn = cert.commonNames[cert.commonNames.length - 1];
  return cn !== undefined && parseIp(cn) === null && dnsNameMatches(cn, name);
}

const MAX_LISTED = 8;

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
