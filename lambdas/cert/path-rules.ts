/**
 * The rules a certification path must satisfy, as RFC 5280, the CA/Browser
 * Forum Baseline Requirements and the major TLS clients (Chromium, Firefox/NSS,
 * Go crypto/x509, rustls-webpki) apply them: one table, one row per rule, each
 * naming the certificates it judges, the finding code it raises and why.
 *
 * Where clients differ, a chain is refused when a major client refuses it, and
 * accepted only when they all accept it; each such choice is noted on its row.
 * Pure: no I/O, no clock (validity is judged by the caller).
 */
import type { Finding, FindingCode } from '../core/model';
import type { KeyUsageBit } from './certificate-extensions';
import type { CertPath, PathNode } from './build-paths';
import { parseIp } from './ip-address';
import {
  type ComparisonBudget,
  type ConstrainedNames,
  findNameConstraintViolation,
  MAX_NAME_CONSTRAINT_COMPARISONS,
  type NameConstraintViolation,
} from './name-constraints';
import { EKU_NAMES, OID_EKU_ANY, OID_EKU_SERVER_AUTH, WEAK_HASHES } from './oid-names';
import type { ParsedCertificate } from './parse-certificate';
import { quoteUntrusted } from './quote-untrusted';

/** What a certificate does on the path. A path of one certificate has only a leaf (which may be an anchor). */
export type NodeRole = 'leaf' | 'intermediate' | 'anchor';

/** Shared by the rules of one analysis: the name-constraint budget and its per-pair results. */
export interface RuleContext {
  readonly budget: ComparisonBudget;
  /** Name-constraint results by `<CA fingerprint>><certificate fingerprint>`, so each pair is checked once. */
  readonly nameChecks: Map<string, NameConstraintViolation | null>;
}

/** A fresh context for one analysis. */
export function newRuleContext(): RuleContext {
  return { budget: { remaining: MAX_NAME_CONSTRAINT_COMPARISONS }, nameChecks: new Map() };
}

/** One rule broken by one certificate. */
interface RuleInput {
  readonly node: PathNode;
  /** Position on the path, leaf = 0. */
  readonly index: number;
  readonly path: CertPath;
  readonly context: RuleContext;
}

/** One broken rule: the message, and the certificate it concerns when that is not the one judged. */
interface Breach {
  readonly message: string;
  readonly concerns?: PathNode;
}

/** One row of the rule table. */
interface PathRule {
  readonly code: FindingCode;
  /** The roles it judges. */
  readonly roles: readonly NodeRole[];
  /** What is wrong with `node` (one breach per problem, its message naming it); empty when the rule holds. */
  readonly check: (input: RuleInput) => readonly (Breach | string)[];
}

/** "certificate 0 (leaf)", "certificate 2", "trust anchor", "fetched issuer". */
export function nodeLabel(node: PathNode): string {
  if (node.sentIndex !== null)
    return node.sentIndex === 0 ? 'certificate 0 (leaf)' : `certificate ${node.sentIndex}`;
  return node.fetched ? 'fetched issuer' : 'trust anchor';
}

/** "certificate 1 (CN=Example CA)". */
export function describeNode(node: PathNode): string {
  return `${nodeLabel(node)} (${node.cert.info.subject})`;
}

/**
 * The role of the certificate at `index`. A self-signed root that ends an untrusted path
 * is judged as the root it claims to be (a v1 root is fine), not as an intermediate.
 */
export function roleOf(node: PathNode, index: number, path: CertPath): NodeRole {
  if (index === 0) return 'leaf';
  if (node.anchor || (path.end === 'root' && index === path.nodes.length - 1)) return 'anchor';
  return 'intermediate';
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function list(values: readonly string[]): string {
  return values.length === 0 ? 'no usage' : values.join(', ');
}

function ekuNames(ekus: readonly string[]): string {
  return list(ekus.slice(0, 6).map((oid) => EKU_NAMES.get(oid) ?? oid));
}

const isSelfIssued = (cert: ParsedCertificate) =>
  cert.subjectKey !== null && cert.subjectKey === cert.issuerKey;

/** A v1 anchor carries no extensions at all; clients accept it as a root (NSS's and Go's v1 rule). */
const isV1Anchor = (role: NodeRole, cert: ParsedCertificate) => role === 'anchor' && cert.version < 3;

/** Key usages that let a server prove its key in a TLS handshake, per key type. */
function tlsServerUsages(keyType: string): readonly KeyUsageBit[] {
  // RSA key exchange (TLS 1.2) decrypts with the key: keyEncipherment suffices, and Go and rustls
  // do not check keyUsage at all. Every other key only signs; BoringSSL (Chromium) requires
  // digitalSignature on ECDSA and EdDSA server certificates.
  return keyType === 'RSA' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

/** The host identities of `cert` that name constraints apply to: SANs, or a host-like CN when there is no SAN. */
function constrainedNames(cert: ParsedCertificate, index: number): ConstrainedNames {
  if (cert.hasSubjectAltName || index !== 0) return { dns: cert.dnsNames, ip: cert.ipAddresses };
  // Legacy, as Chromium and NSS do: a leaf without a SAN has its CN checked when it looks like a host name.
  const cn = cert.commonNames[cert.commonNames.length - 1];
  if (cn === undefined) return { dns: [], ip: [] };
  if (parseIp(cn)) return { dns: [], ip: [cn] };
  return /^(\*\.)?([a-z0-9_-]+\.)+[a-z0-9_-]+\.?$/i.test(cn)
    ? { dns: [cn.toLowerCase()], ip: [] }
    : { dns: [], ip: [] };
}

function nameConstraintMessage(ca: PathNode, subject: PathNode, v: NameConstraintViolation): string {
  const who = describeNode(subject);
  const by = describeNode(ca);
  const more = v.more > 0 ? ` (+${plural(v.more, 'more name')} refused)` : '';
  const name = quoteUntrusted(v.name, 80);
  switch (v.rule) {
    case 'excluded':
      return `${who} names "${name}", which the name constraints of ${by} exclude (excluded subtree: ${v.subtrees.join(', ')})${more}`;
    case 'notPermitted':
      return `${who} names "${name}", outside the names the name constraints of ${by} permit (permitted: ${v.subtrees.join(', ')})${more}`;
    case 'tooMany':
      return `the name constraints of ${by} are too large to check against ${who} (over ${MAX_NAME_CONSTRAINT_COMPARISONS} comparisons; Go refuses such chains)`;
  }
}

/**
 * The rule table. Row order is the order findings are reported in.
 * Anchors are judged only where clients judge them: the CA rules (Chromium and
 * NSS enforce a root's own constraints; a v1 root is allowed), extendedKeyUsage
 * (Go) and name constraints (Chromium, Go, rustls); never their key or signature.
 */
const PATH_RULES: readonly PathRule[] = [
  {
    code: 'INVALID_CA_CERTIFICATE',
    roles: ['intermediate'],
    check: ({ node }) =>
      node.cert.version < 3
        ? [
            `${describeNode(node)} may not act as a CA: it is a version ${node.cert.version} certificate, and only version 3 certificates can carry basicConstraints (RFC 5280 §4.2.1.9)`,
          ]
        : [],
  },
  {
    code: 'INVALID_CA_CERTIFICATE',
    roles: ['intermediate', 'anchor'],
    check: ({ node, index }) => {
      const { cert } = node;
      if (cert.version < 3) return [];
      if (!cert.hasBasicConstraints) {
        return [
          `${describeNode(node)} may not act as a CA: it has no basicConstraints extension (RFC 5280 §4.2.1.9)`,
        ];
      }
      if (!cert.isCa) {
        return [`${describeNode(node)} may not act as a CA: its basicConstraints has cA=FALSE`];
      }
      const below = index - 1;
      if (cert.pathLen !== null && below > cert.pathLen) {
        return [
          `${describeNode(node)} allows at most ${plural(cert.pathLen, 'intermediate certificate')} below it (pathLenConstraint ${cert.pathLen}), but the path has ${below}`,
        ];
      }
      return [];
    },
  },
  {
    code: 'INVALID_CA_CERTIFICATE',
    roles: ['intermediate', 'anchor'],
    check: ({ node, index, path }) => {
      const usage = node.cert.keyUsage;
      if (usage === null || usage.includes('keyCertSign') || isV1Anchor(roleOf(node, index, path), node.cert))
        return [];
      return [
        `${describeNode(node)} may not sign certificates: its keyUsage (${list(usage)}) lacks keyCertSign`,
      ];
    },
  },
  {
    code: 'INVALID_KEY_USAGE',
    roles: ['leaf'],
    check: ({ node }) => {
      const usage = node.cert.keyUsage;
      const keyType = node.cert.info.keyType;
      const needed = tlsServerUsages(keyType);
      if (usage === null || needed.some((u) => usage.includes(u))) return [];
      const need = keyType === 'RSA' ? 'digitalSignature (or keyEncipherment)' : 'digitalSignature';
      return [
        `${describeNode(node)} has keyUsage (${list(usage)}), which does not permit a TLS server with ${keyType === 'unknown' ? 'its' : `an ${keyType}`} key: it needs ${need}`,
      ];
    },
  },
  {
    code: 'INVALID_KEY_USAGE',
    roles: ['leaf'],
    check: ({ node }) => {
      const eku = node.cert.extKeyUsage;
      if (eku === null || eku.includes(OID_EKU_SERVER_AUTH)) return [];
      // Go and Chromium accept anyExtendedKeyUsage on a leaf; Firefox (mozilla::pkix) and rustls-webpki do not.
      const why = eku.includes(OID_EKU_ANY)
        ? 'Firefox and rustls require serverAuth itself'
        : 'clients refuse it for a TLS server';
      return [`${describeNode(node)} has extendedKeyUsage (${ekuNames(eku)}) without serverAuth: ${why}`];
    },
  },
  {
    code: 'INVALID_KEY_USAGE',
    roles: ['leaf'],
    // Firefox: MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY. A pinned (anchor) or self-issued leaf is
    // judged as self-signed instead: OpenSSL's default self-signed certificates carry cA=TRUE.
    check: ({ node }) =>
      node.cert.isCa && !node.anchor && !isSelfIssued(node.cert)
        ? [
            `${describeNode(node)} is a CA certificate (basicConstraints cA=TRUE) served as a TLS server certificate, which Firefox refuses`,
          ]
        : [],
  },
  {
    code: 'INVALID_KEY_USAGE',
    roles: ['intermediate', 'anchor'],
    // An issuer's extendedKeyUsage constrains what it issues (Chromium, NSS, Go). rustls wants
    // serverAuth itself on intermediates; Go, which also checks roots, accepts anyExtendedKeyUsage there.
    check: ({ node, index, path }) => {
      const eku = node.cert.extKeyUsage;
      if (eku === null || eku.includes(OID_EKU_SERVER_AUTH)) return [];
      if (roleOf(node, index, path) === 'anchor' && eku.includes(OID_EKU_ANY)) return [];
      const leaf = path.nodes[0]!;
      return [
        `${describeNode(node)} has extendedKeyUsage (${ekuNames(eku)}) without serverAuth, so the certificates it issues, such as ${describeNode(leaf)}, are not valid for TLS servers`,
      ];
    },
  },
  {
    code: 'NAME_CONSTRAINTS_VIOLATED',
    roles: ['intermediate', 'anchor'],
    check: ({ node, index, path, context }) => {
      const constraints = node.cert.nameConstraints;
      if (constraints === null) return [];
      const out: Breach[] = [];
      // RFC 5280 §6.1.3: the constraints bind every certificate below, except self-issued intermediates.
      for (let i = 0; i < index; i++) {
        const subject = path.nodes[i]!;
        if (i > 0 && isSelfIssued(subject.cert)) continue;
        const key = `${node.cert.info.fingerprintSha256}>${subject.cert.info.fingerprintSha256}`;
        let violation = context.nameChecks.get(key);
        if (violation === undefined) {
          violation = findNameConstraintViolation(
            constraints,
            constrainedNames(subject.cert, i),
            context.budget,
          );
          context.nameChecks.set(key, violation);
        }
        if (violation)
          out.push({ message: nameConstraintMessage(node, subject, violation), concerns: subject });
      }
      return out;
    },
  },
  {
    code: 'WEAK_KEY',
    // An untrusted root is judged too (it is no anchor); a trust anchor's own key is not.
    roles: ['leaf', 'intermediate', 'anchor'],
    check: ({ node }) => {
      if (node.anchor && node.sentIndex !== 0) return [];
      const { keyType, keyBits } = node.cert.info;
      const who = describeNode(node);
      if (keyType === 'DSA') return [`${who} has a DSA key (no longer accepted for TLS)`];
      if (keyType === 'RSA' && keyBits !== null && keyBits < 2048) {
        return [`${who} has a weak ${keyBits}-bit RSA key (minimum 2048)`];
      }
      if (node.cert.explicitCurve) {
        return [
          `${who} has an EC key with explicit curve parameters instead of a named curve (RFC 5480 forbids them)`,
        ];
      }
      if (keyType === 'EC' && keyBits !== null && keyBits < 256) {
        return [`${who} has a weak ${keyBits}-bit EC key (minimum 256)`];
      }
      return [];
    },
  },
  {
    code: 'WEAK_SIGNATURE',
    roles: ['leaf', 'intermediate', 'anchor'],
    check: ({ node }) => {
      const { info, signatureHash } = node.cert;
      // A self-signature (anchor or self-signed certificate) is never what trust rests on.
      if (node.anchor || info.selfSigned) return [];
      if (signatureHash && WEAK_HASHES.has(signatureHash)) {
        return [
          `${describeNode(node)} is signed with ${info.signatureAlgorithm} (${signatureHash.toUpperCase()} is broken)`,
        ];
      }
      if (info.signatureAlgorithm?.startsWith('dsa-')) {
        return [
          `${describeNode(node)} is signed with ${info.signatureAlgorithm} (DSA is no longer accepted for TLS)`,
        ];
      }
      return [];
    },
  },
];

/**
 * Every rule `path` breaks, in table order, each as a critical finding on the
 * certificate concerned (`certIndex` is its position as sent, when it was sent).
 */
export function judgePath(path: CertPath, context: RuleContext): Finding[] {
  const out: Finding[] = [];
  for (const rule of PATH_RULES) {
    path.nodes.forEach((node, index) => {
      if (!rule.roles.includes(roleOf(node, index, path))) return;
      for (const breach of rule.check({ node, index, path, context })) {
        const { message, concerns = node } = typeof breach === 'string' ? { message: breach } : breach;
        const finding: Finding = { code: rule.code, severity: 'critical', message };
        out.push(concerns.sentIndex === null ? finding : { ...finding, certIndex: concerns.sentIndex });
      }
    });
  }
  return out;
}
