import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trustProfileOf } from '../../lambdas/cert/trust-store';
import {
  ConfigError,
  loadConfig,
  parseConfig,
  resolveEndpoints,
  resolveTrustProfiles,
} from '../../lambdas/config';
import { SYSTEM_TRUST_PROFILE } from '../../lambdas/core/model';
import { makeCert, makePki } from '../support/cert-factory';
import { tempDir } from '../infra/infra-fixtures';

const tmp = tempDir('certwatch-trust-config-');
const pki = makePki();
const otherRoot = makeCert({ cn: 'Other Corp Root', isCa: true });
const KEY_LINE = 'c2VjcmV0LWtleS1ieXRlcw==';

/** Writes `yaml` as c.yaml in the temp dir (where the CA files are) and loads it. */
function load(yaml: string) {
  const path = join(tmp.dir, 'c.yaml');
  writeFileSync(path, yaml);
  return loadConfig(path);
}

/** The lines of the ConfigError that loading `yaml` throws. */
function errorLines(yaml: string): string[] {
  try {
    load(yaml);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(() => {
  mkdirSync(join(tmp.dir, 'ca'));
  writeFileSync(join(tmp.dir, 'ca', 'root.pem'), pki.root.certPem);
  writeFileSync(join(tmp.dir, 'ca', 'other.pem'), `# Other Corp\n${otherRoot.certPem}`);
  writeFileSync(join(tmp.dir, 'ca', 'both.pem'), otherRoot.certPem + pki.root.certPem);
  writeFileSync(
    join(tmp.dir, 'ca', 'broken.pem'),
    `${pki.root.certPem}-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n`,
  );
  writeFileSync(
    join(tmp.dir, 'ca', 'with-key.pem'),
    `${pki.root.certPem}-----BEGIN PRIVATE KEY-----\n${KEY_LINE}\n-----END PRIVATE KEY-----\n`,
  );
  writeFileSync(join(tmp.dir, 'ca', 'empty.pem'), '');
});
afterAll(() => tmp.cleanup());

describe('parseConfig: trust', () => {
  it('trusts the system roots alone when no trust is configured', () => {
    // Act
    const config = load('endpoints: [{ host: a.example }]\n');
    // Assess
    expect(config.defaults.trust).toBe(SYSTEM_TRUST_PROFILE);
    expect(resolveEndpoints(config)[0]).not.toHaveProperty('trust');
    expect(resolveTrustProfiles(config)).toEqual([]);
  });

  it('reads caFiles relative to the config file, and an endpoint trust replaces defaults.trust as a whole', () => {
    // Act
    const config = load(
      [
        'defaults:',
        '  trust: { caFiles: [ca/root.pem], systemRoots: false }',
        'endpoints:',
        '  - host: internal.example',
        '  - host: partner.example',
        '    trust: { caFiles: [ca/other.pem] }',
        '  - host: public.example',
        '    trust: {}',
        '',
      ].join('\n'),
    );
    // Assess
    const internal = trustProfileOf(false, [pki.root.der]);
    const partner = trustProfileOf(true, [otherRoot.der]);
    expect(config.defaults.trust).toEqual(internal);
    expect(resolveEndpoints(config).map((e) => [e.id, e.trust])).toEqual([
      ['internal.example:443', internal.id],
      ['partner.example:443', partner.id],
      ['public.example:443', undefined],
    ]);
    expect(resolveTrustProfiles(config)).toEqual([internal, partner]);
    expect(partner.systemRoots).toBe(true);
  });

  it('gives the same certificates the same profile, whichever files they come from', () => {
    // Act
    const config = load(
      [
        'endpoints:',
        '  - host: a.example',
        '    trust: { caFiles: [ca/root.pem, ca/other.pem] }',
        '  - host: b.example',
        '    trust: { caFiles: [ca/both.pem] }',
        '',
      ].join('\n'),
    );
    // Assess
    const [a, b] = resolveEndpoints(config);
    expect(a?.trust).toBeDefined();
    expect(a?.trust).toBe(b?.trust);
    expect(resolveTrustProfiles(config)).toHaveLength(1);
  });

  it('resolves caFiles against the directory of the config given to parseConfig', () => {
    // Act
    const config = parseConfig(
      'defaults: { trust: { caFiles: [ca/root.pem] } }\nendpoints: [{ host: a.example }]\n',
      join(tmp.dir, 'elsewhere.yaml'),
    );
    // Assess
    expect(config.defaults.trust.caCertificates).toEqual([pki.root.der.toString('base64')]);
  });

  it.each([
    {
      name: 'a CA file that does not exist (named as written and as resolved)',
      trust: '{ caFiles: [ca/missing.pem] }',
      expected: `c.yaml:2:26: endpoints[0].trust.caFiles[0]: cannot read the CA file ca/missing.pem (${join(tmp.dir, 'ca', 'missing.pem')}): file not found`,
    },
    {
      name: 'a directory',
      trust: '{ caFiles: [ca] }',
      expected: `c.yaml:2:26: endpoints[0].trust.caFiles[0]: cannot read the CA file ca (${join(tmp.dir, 'ca')}): is a directory`,
    },
    {
      name: 'a CA file without a certificate',
      trust: '{ caFiles: [ca/empty.pem] }',
      expected:
        'c.yaml:2:26: endpoints[0].trust.caFiles[0]: ca/empty.pem: no PEM certificate ("BEGIN CERTIFICATE") found',
    },
    {
      name: 'a bad certificate, by its position and line in the CA file',
      trust: '{ caFiles: [ca/root.pem, ca/broken.pem] }',
      expected: `c.yaml:2:39: endpoints[0].trust.caFiles[1]: ca/broken.pem: certificate 2 (line ${pemLines(pki.root.certPem) + 1}) is not valid base64`,
    },
    {
      name: 'a private key in a CA file, without printing it',
      trust: '{ caFiles: [ca/with-key.pem] }',
      expected: `c.yaml:2:26: endpoints[0].trust.caFiles[0]: ca/with-key.pem: holds a private key ("BEGIN PRIVATE KEY" at line ${pemLines(pki.root.certPem) + 1}), not only CA certificates; certwatch reads certificates only and has not printed any of the key; give a file with the certificates alone`,
    },
    {
      name: 'systemRoots: false without caFiles (trusts nothing)',
      trust: '{ systemRoots: false }',
      expected:
        'c.yaml:2:29: endpoints[0].trust.systemRoots: false without caFiles trusts no certificate at all: list your CA files in caFiles',
    },
    {
      name: 'a typo in a trust key',
      trust: '{ caFile: [ca/root.pem] }',
      expected: 'c.yaml:2:16: endpoints[0].trust.caFile: unknown key "caFile" (did you mean "caFiles"?)',
    },
    {
      name: 'an unknown trust key',
      trust: '{ pinning: true }',
      expected:
        'c.yaml:2:16: endpoints[0].trust.pinning: unknown key "pinning" (expected one of: caFiles, systemRoots)',
    },
    {
      name: 'caFiles that is not a list',
      trust: '{ caFiles: ca/root.pem }',
      expected:
        'c.yaml:2:25: endpoints[0].trust.caFiles: expected a list of PEM file paths, like [ca/corp-root.pem], got "ca/root.pem"',
    },
    {
      name: 'systemRoots that is not a boolean',
      trust: '{ caFiles: [ca/root.pem], systemRoots: no-thanks }',
      expected: 'c.yaml:2:53: endpoints[0].trust.systemRoots: expected true or false, got "no-thanks"',
    },
    {
      name: 'trust that is not a mapping',
      trust: 'ca/root.pem',
      expected:
        'c.yaml:2:14: endpoints[0].trust: expected a mapping with caFiles and systemRoots, got "ca/root.pem"',
    },
  ])('refuses $name with one line naming the field', ({ trust, expected }) => {
    // Act
    const lines = errorLines(`endpoints:\n  - { trust: ${trust}, host: a.example }\n`);
    // Assess
    expect(lines.map((l) => l.replace(`${join(tmp.dir, 'c.yaml')}:`, 'c.yaml:'))).toEqual([expected]);
    expect(lines.join('\n')).not.toContain(KEY_LINE);
  });

  it('reports a bad CA file in defaults with the other problems of the file, in file order', () => {
    // Act
    const lines = errorLines(
      'defaults:\n  trust:\n    caFiles: [ca/missing.pem]\nendpoints:\n  - { host: a.example, port: https }\n',
    );
    // Assess
    expect(lines.map((l) => l.replace(join(tmp.dir, 'c.yaml'), 'c.yaml'))).toEqual([
      `c.yaml:3:15: defaults.trust.caFiles[0]: cannot read the CA file ca/missing.pem (${join(tmp.dir, 'ca', 'missing.pem')}): file not found`,
      'c.yaml:5:30: endpoints[0].port: expected an integer 1-65535, got "https"',
    ]);
  });
});

function pemLines(pem: string): number {
  return pem.split('\n').length - 1;
}
