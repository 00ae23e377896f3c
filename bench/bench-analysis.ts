/**
 * `npm run bench:analysis`: how long chain analysis (path building and path
 * validation) takes, for ordinary chains and for pathological ones (dozens of
 * same-subject certificates, large name-constraint sets, loops, a 500-certificate
 * hostile chain, the deepest path), with Node's bundled roots in the trust store.
 *
 * Every chain is analysed once with certificates it has never seen: the parse
 * and signature caches cannot help, so the timings are the cold cost a check
 * pays for a new certificate. A second, warm pass shows the cost once the
 * shared intermediates are cached, as in a long run.
 *
 * Goals (issue 8): ordinary p99 <= 5 ms; pathological bounded at 50 ms.
 * Usage: npm run bench:analysis -- [--ordinary 300] [--pathological 15]
 */
import { rootCertificates } from 'node:tls';
import { parseArgs } from 'node:util';
import { analyzeChain } from '../lambdas/cert/analyze-chain';
import { TrustStore } from '../lambdas/cert/trust-store';
import {
  type CertOptions,
  daysFromNow,
  ecKey,
  makeCert,
  rsaKey,
  type TestCert,
} from '../test/support/cert-factory';

const { values } = parseArgs({
  options: {
    ordinary: { type: 'string', default: '300' },
    pathological: { type: 'string', default: '15' },
  },
});
const ORDINARY = Number(values.ordinary);
const PATHOLOGICAL = Number(values.pathological);
const NOW = new Date();
const THRESHOLDS = { warnDays: 30, criticalDays: 7 };

const systemRoots = rootCertificates.map((pem) =>
  Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, ''), 'base64'),
);

const root = makeCert({ cn: 'Bench Root', isCa: true, key: rsaKey(2048, true), notAfter: daysFromNow(3650) });
const trust = new TrustStore([...systemRoots, root.der]);

function ca(cn: string, issuer: TestCert, extra: Partial<CertOptions> = {}): TestCert {
  return makeCert({
    cn,
    isCa: true,
    key: ecKey('P-256', true),
    issuer,
    notAfter: daysFromNow(1000),
    ...extra,
  });
}

function leaf(issuer: TestCert, extra: Partial<CertOptions> = {}): TestCert {
  return makeCert({
    cn: 'www.example.com',
    dnsNames: ['www.example.com'],
    issuer,
    authorityKeyId: true,
    ...extra,
  });
}

/** One scenario: builds a fresh chain (leaf first) each time it is called. */
interface Scenario {
  readonly name: string;
  readonly kind: 'ordinary' | 'pathological';
  readonly build: () => Uint8Array[];
}

const rsaInt = makeCert({
  cn: 'Bench RSA CA',
  isCa: true,
  key: rsaKey(2048, true),
  issuer: root,
  notAfter: daysFromNow(1000),
});
const ecInt = ca('Bench EC CA', root);

const scenarios: Scenario[] = [
  {
    name: 'RSA leaf + RSA intermediate',
    kind: 'ordinary',
    build: () => [leaf(rsaInt).der, rsaInt.der],
  },
  {
    name: 'EC leaf + EC intermediate + root sent',
    kind: 'ordinary',
    build: () => [leaf(ecInt, { key: ecKey('P-256') }).der, ecInt.der, root.der],
  },
  {
    name: 'fresh intermediate each time (cold CA too)',
    kind: 'ordinary',
    build: () => {
      const int = ca('Bench Fresh CA', root, { nameConstraints: { permitted: { dns: ['example.com'] } } });
      return [leaf(int, { key: ecKey('P-256') }).der, int.der];
    },
  },
  {
    name: 'unknown root (private CA not trusted)',
    kind: 'ordinary',
    build: () => {
      const privateRoot = ca('Private Root', root);
      const int = ca('Private CA', privateRoot);
      return [leaf(int).der, int.der];
    },
  },
  {
    name: '40 same-subject look-alikes before the issuer',
    kind: 'pathological',
    build: () => {
      const int = ca('Look-alike CA', root);
      const lookAlikes = Array.from({ length: 40 }, () => ca('Look-alike CA', root));
      // No AKI on the leaf: nothing tells the look-alikes apart but their signatures.
      return [leaf(int, { authorityKeyId: undefined }).der, ...lookAlikes.map((c) => c.der), int.der];
    },
  },
  {
    name: '500 certificates: 40 look-alikes repeated, no issuer',
    kind: 'pathological',
    build: () => {
      const int = ca('Hostile CA', root);
      const lookAlikes = Array.from({ length: 40 }, () => ca('Hostile CA', root));
      return [leaf(int).der, ...Array.from({ length: 499 }, (_, i) => lookAlikes[i % 40]!.der)];
    },
  },
  {
    name: 'name constraints: 200 subtrees x 1000 SANs (all permitted)',
    kind: 'pathological',
    build: () => {
      const subtrees = [...Array.from({ length: 200 }, (_, i) => `d${i}.example.org`), 'example.com'];
      const int = ca('Constrained CA', root, { nameConstraints: { permitted: { dns: subtrees } } });
      const names = [
        'www.example.com',
        ...Array.from({ length: 999 }, (_, i) => `h${i}.d${i % 200}.example.org`),
      ];
      return [leaf(int, { key: ecKey('P-256'), dnsNames: names }).der, int.der];
    },
  },
  {
    name: 'name constraints: 600 subtrees x 1000 SANs (over the limit)',
    kind: 'pathological',
    build: () => {
      const int = ca('Huge Constrained CA', root, {
        nameConstraints: { permitted: { dns: Array.from({ length: 600 }, (_, i) => `d${i}.example.org`) } },
      });
      const names = Array.from({ length: 1000 }, (_, i) => `h${i}.example.com`);
      return [leaf(int, { key: ecKey('P-256'), dnsNames: names }).der, int.der];
    },
  },
  {
    name: 'loop: two CAs cross-signing each other, twice',
    kind: 'pathological',
    build: () => {
      const keyA = ecKey('P-256', true);
      const keyB = ecKey('P-256', true);
      const seed = makeCert({ cn: 'Loop A', isCa: true, key: keyA });
      const b1 = makeCert({ cn: 'Loop B', isCa: true, key: keyB, issuer: seed });
      const a1 = makeCert({ cn: 'Loop A', isCa: true, key: keyA, issuer: b1 });
      const b2 = makeCert({ cn: 'Loop B', isCa: true, key: keyB, issuer: a1 });
      const a2 = makeCert({ cn: 'Loop A', isCa: true, key: keyA, issuer: b2 });
      return [leaf(a1).der, a1.der, b1.der, a2.der, b2.der];
    },
  },
  {
    name: 'deepest path: 9 intermediates',
    kind: 'pathological',
    build: () => {
      const chain: TestCert[] = [];
      let issuer = root;
      for (let i = 0; i < 9; i++) {
        issuer = ca(`Deep CA ${i}`, issuer);
        chain.unshift(issuer);
      }
      return [leaf(issuer).der, ...chain.map((c) => c.der)];
    },
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function time(chain: Uint8Array[]): { ms: number; codes: string } {
  const started = performance.now();
  const result = analyzeChain(chain, { host: 'www.example.com', now: NOW, thresholds: THRESHOLDS, trust });
  const ms = performance.now() - started;
  return { ms, codes: [...new Set(result.findings.map((f) => f.code))].join(',') || 'ok' };
}

// Warm up the JIT and the trust store's lazy parse of the roots the scenarios name.
for (const s of scenarios.slice(0, 2)) for (let i = 0; i < 20; i++) time(s.build());

console.log(
  `chain analysis, ms per chain (${systemRoots.length + 1} trust anchors); goal: ordinary p99 <= 5, pathological max <= 50`,
);
console.log(
  `  ${'scenario'.padEnd(60)} ${'n'.padStart(4)} ${'cold p50'.padStart(9)} ${'p99'.padStart(7)} ${'max'.padStart(7)} ${'warm p50'.padStart(9)} ${'p99'.padStart(7)}  findings`,
);
for (const scenario of scenarios) {
  const n = scenario.kind === 'ordinary' ? ORDINARY : PATHOLOGICAL;
  const chains = Array.from({ length: n }, () => scenario.build());
  const cold = chains.map(time);
  const warm = chains.map(time);
  const c = cold.map((r) => r.ms).sort((a, b) => a - b);
  const w = warm.map((r) => r.ms).sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2).padStart(7);
  console.log(
    `  ${`[${scenario.kind}] ${scenario.name}`.padEnd(60)} ${String(n).padStart(4)} ${f(percentile(c, 50)).padStart(9)} ${f(percentile(c, 99))} ${f(c.at(-1) ?? Number.NaN)} ${f(percentile(w, 50)).padStart(9)} ${f(percentile(w, 99))}  ${cold[0]?.codes}`,
  );
}
