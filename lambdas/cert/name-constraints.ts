/**
 * Name constraints (RFC 5280 §4.2.1.10) on DNS names and IP addresses, the way
 * Chromium, NSS, Go and rustls apply them to TLS server certificates:
 *
 * - a dNSName constraint `example.com` covers `example.com` and every name
 *   below it; `.example.com` (the leading-period form Go and NSS accept) only
 *   the names below it; an empty one covers every name;
 * - an iPAddress constraint is an address and a mask; IPv4 and IPv6 are one
 *   name type, so an IPv6 name under IPv4-only permitted subtrees is refused;
 * - a name type without permitted subtrees is not restricted by them;
 * - a wildcard name `*.example.com` is excluded when the wildcard could stand
 *   for an excluded name (`a.example.com`), as Chromium does.
 *
 * Other name forms (directoryName, rfc822Name, URI) are not host identities
 * and are not checked. Pure; the work is bounded by a comparison budget.
 */
import type { IpSubtree, NameConstraints } from './certificate-extensions';
import { parseIp } from './ip-address';

/** The host identities of one certificate a CA's name constraints apply to. */
export interface ConstrainedNames {
  /** DNS names, lower-case. */
  readonly dns: readonly string[];
  /** IP addresses in text form. */
  readonly ip: readonly string[];
}

/** Why a name is refused. */
export interface NameConstraintViolation {
  readonly name: string;
  /** `excluded`: inside an excluded subtree; `notPermitted`: outside every permitted one; `tooMany`: too costly to check. */
  readonly rule: 'excluded' | 'notPermitted' | 'tooMany';
  /** The subtree(s) concerned, for the message. */
  readonly subtrees: readonly string[];
  /** Further refused names of the same certificate. */
  readonly more: number;
}

/**
 * Comparisons left for one analysis. Go stops at 250 000 per chain; a name-
 * constrained CA with hundreds of subtrees over a leaf with hundreds of names
 * is the only way to get near it.
 */
export interface ComparisonBudget {
  remaining: number;
}

/** Comparisons one analysis may spend on name constraints (Go: 250 000 per chain). */
export const MAX_NAME_CONSTRAINT_COMPARISONS = 250_000;

const MAX_SUBTREES_SHOWN = 3;

/** Whether DNS name `name` lies in the subtree `constraint`. */
export function dnsNameWithin(name: string, constraint: string): boolean {
  if (constraint.length === 0) return true;
  if (constraint.startsWith('.')) return name.length > constraint.length && name.endsWith(constraint);
  return (
    name === constraint || (name.endsWith(constraint) && name[name.length - constraint.length - 1] === '.')
  );
}

/** Whether the wildcard in `*.rest` could stand for a name in `constraint` (Chromium's partial match for exclusions). */
function wildcardMayCover(name: string, constraint: string): boolean {
  if (!name.startsWith('*.')) return false;
  const base = constraint.startsWith('.') ? constraint.slice(1) : constraint;
  const dot = base.indexOf('.');
  return dot > 0 && base.slice(dot + 1) === name.slice(2);
}

/** Whether `address` lies in `subtree` (same family and equal under the mask). */
export function ipWithin(address: Uint8Array, subtree: IpSubtree): boolean {
  if (address.length !== subtree.address.length) return false;
  for (let i = 0; i < address.length; i++) {
    const m = subtree.mask[i] ?? 0;
    if (((address[i] ?? 0) & m) !== ((subtree.address[i] ?? 0) & m)) return false;
  }
  return true;
}

function normaliseDns(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function shown(list: readonly string[]): string[] {
  const head = list.slice(0, MAX_SUBTREES_SHOWN).map((s) => (s === '' ? '(any name)' : s));
  return list.length > MAX_SUBTREES_SHOWN ? [...head, `+${list.length - MAX_SUBTREES_SHOWN} more`] : head;
}

/** The reason one name is refused, or null. Spends from `budget`; when it runs out the name is refused as `tooMany`. */
function checkOne(
  kind: 'dns' | 'ip',
  name: string,
  constraints: NameConstraints,
  budget: ComparisonBudget,
): Omit<NameConstraintViolation, 'more'> | null {
  const excluded = kind === 'dns' ? constraints.excluded.dns : constraints.excluded.ip;
  const permitted = kind === 'dns' ? constraints.permitted.dns : constraints.permitted.ip;
  budget.remaining -= excluded.length + permitted.length;
  if (budget.remaining < 0) return { name, rule: 'tooMany', subtrees: [] };
  if (kind === 'dns') {
    const dns = normaliseDns(name);
    const hit = constraints.excluded.dns.find((c) => dnsNameWithin(dns, c) || wildcardMayCover(dns, c));
    if (hit !== undefined) return { name, rule: 'excluded', subtrees: shown([hit]) };
    if (permitted.length > 0 && !constraints.permitted.dns.some((c) => dnsNameWithin(dns, c))) {
      return { name, rule: 'notPermitted', subtrees: shown(constraints.permitted.dns) };
    }
    return null;
  }
  const bytes = parseIp(name);
  if (!bytes) return null;
  const hit = constraints.excluded.ip.find((s) => ipWithin(bytes, s));
  if (hit) return { name, rule: 'excluded', subtrees: [hit.text] };
  if (permitted.length > 0 && !constraints.permitted.ip.some((s) => ipWithin(bytes, s))) {
    return { name, rule: 'notPermitted', subtrees: shown(constraints.permitted.ip.map((s) => s.text)) };
  }
  return null;
}

/**
 * The first name of `names` that `constraints` refuse (and how many more are
 * refused), or null when every name is allowed.
 */
export function findNameConstraintViolation(
  constraints: NameConstraints,
  names: ConstrainedNames,
  budget: ComparisonBudget,
): NameConstraintViolation | null {
  let first: Omit<NameConstraintViolation, 'more'> | null = null;
  let more = 0;
  const all: ['dns' | 'ip', string][] = [
    ...names.dns.map((n): ['dns', string] => ['dns', n]),
    ...names.ip.map((n): ['ip', string] => ['ip', n]),
  ];
  for (const [kind, name] of all) {
    const refused = checkOne(kind, name, constraints, budget);
    if (!refused) continue;
    if (refused.rule === 'tooMany') return { ...refused, more: 0 };
    if (first) more++;
    else first = refused;
  }
  return first ? { ...first, more } : null;
}
