import { describe, expect, it } from 'vitest';
import {
  clientKeyReader,
  ConfigError,
  envSecretResolver,
  parseConfig,
  resolveEndpoints,
} from '../../lambdas/config';
import { makePki } from '../support/cert-factory';

/** The message of the ConfigError that parsing `text` as c.yaml throws, one line per issue. */
function errorLines(text: string, files: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, 'c.yaml', { baseDir: '/cfg', readFile: readFrom(files) });
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function readFrom(files: Record<string, string>) {
  return (path: string) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return text;
  };
}

function endpointsOf(yaml: string, files: Record<string, string> = {}) {
  return resolveEndpoints(parseConfig(yaml, 'c.yaml', { baseDir: '/cfg', readFile: readFrom(files) }));
}

describe('endpoint protocols in the config', () => {
  it.each([
    ['host: smtp://mail.example.com', 'mail.example.com:25', 'smtp'],
    ['host: "submission://mail.example.com"', 'mail.example.com:587', 'submission'],
    ['{ host: mail.example.com, protocol: imap }', 'mail.example.com:143', 'imap'],
    ['{ host: mail.example.com, protocol: pop3, port: 1110 }', 'mail.example.com:1110', 'pop3'],
    ['{ host: "ldap://dir.example.com:10389" }', 'dir.example.com:10389', 'ldap'],
    ['{ host: "ldap://dir.example.com", protocol: ldap }', 'dir.example.com:389', 'ldap'],
    ['{ host: "postgres://db.example.com", port: 5433 }', 'db.example.com:5433', 'postgres'],
    ['{ host: "xmpp-server://chat.example.com" }', 'chat.example.com:5269', 'xmpp-server'],
    ['{ host: "https://www.example.com" }', 'www.example.com:443', 'https'],
    ['{ host: www.example.com }', 'www.example.com:443', undefined],
  ])('%s → %s over %j', (entry, id, protocol) => {
    // Act
    const [endpoint] = endpointsOf(`endpoints:\n  - ${entry}\n`);

    // Assess
    expect(endpoint?.id).toBe(id);
    expect(endpoint?.protocol).toBe(protocol);
  });

  it.each([
    {
      name: 'an unknown protocol',
      yaml: 'endpoints:\n  - { host: a.example, protocol: smtp-tls }\n',
      expected: [
        'c.yaml:2:34: endpoints[0].protocol: expected a protocol, one of tls, https, smtps, smtp, submission, imaps, imap, pop3s, pop3, ftp, ldaps, ldap, postgres, mysql, xmpp, xmpp-server, got "smtp-tls"',
      ],
    },
    {
      name: 'a scheme that contradicts the protocol',
      yaml: 'endpoints:\n  - { host: "smtp://a.example", protocol: imap }\n',
      expected: [
        'c.yaml:2:43: endpoints[0].protocol: imap conflicts with the scheme smtp:// of host "smtp://a.example"',
      ],
    },
    {
      name: 'a URL port that contradicts the port key',
      yaml: 'endpoints:\n  - { host: "smtp://a.example:2525", port: 25 }\n',
      expected: [
        'c.yaml:2:44: endpoints[0].port: 25 conflicts with port 2525 in host "smtp://a.example:2525"',
      ],
    },
    {
      name: 'an unsupported scheme',
      yaml: 'endpoints:\n  - host: "gopher://a.example"\n',
      expected: [
        'c.yaml:2:11: endpoints[0].host: invalid target "gopher://a.example": scheme "gopher://" is not supported; give host[:port] or a URL with one of: tls, https, smtps, smtp, submission, imaps, imap, pop3s, pop3, ftp, ldaps, ldap, postgres, mysql, xmpp, xmpp-server',
      ],
    },
  ])('refuses $name with one line', ({ yaml, expected }) => {
    // Act / Assess
    expect(errorLines(yaml)).toEqual(expected);
  });

  it('keeps two protocols of one host apart by their ports', () => {
    // Act
    const endpoints = endpointsOf(
      'endpoints:\n  - host: smtp://mail.example.com\n  - host: imap://mail.example.com\n',
    );

    // Assess
    expect(endpoints.map((e) => [e.id, e.protocol])).toEqual([
      ['mail.example.com:25', 'smtp'],
      ['mail.example.com:143', 'imap'],
    ]);
  });
});

describe('where an endpoint is reached, in the config', () => {
  it('reads address, sni and proxy, with defaults.proxy inherited and turned off per endpoint', () => {
    // Prepare
    const yaml = `defaults:
  proxy: http://proxy.internal:3128
endpoints:
  - { host: shop.example, address: "10.0.0.5" }
  - { host: shop.example, port: 8443, address: "[fd00::5]:9443", sni: false }
  - { host: api.example, sni: api-internal.example, proxy: false }
  - { host: legacy.example, proxy: "10.1.1.1:8080" }
`;

    // Act
    const endpoints = endpointsOf(yaml);

    // Assess
    expect(
      endpoints.map(({ id, address, connectPort, servername, proxy }) => ({
        id,
        address,
        connectPort,
        servername,
        proxy,
      })),
    ).toEqual([
      {
        id: 'shop.example:443',
        address: '10.0.0.5',
        connectPort: undefined,
        servername: undefined,
        proxy: 'http://proxy.internal:3128',
      },
      {
        id: 'shop.example:8443',
        address: 'fd00::5',
        connectPort: 9443,
        servername: null,
        proxy: 'http://proxy.internal:3128',
      },
      {
        id: 'api.example:443',
        address: undefined,
        connectPort: undefined,
        servername: 'api-internal.example',
        proxy: undefined,
      },
      {
        id: 'legacy.example:443',
        address: undefined,
        connectPort: undefined,
        servername: undefined,
        proxy: 'http://10.1.1.1:8080',
      },
    ]);
    expect('proxy' in endpoints[2]!).toBe(false);
  });

  it.each([
    {
      name: 'an address that is not one',
      yaml: 'endpoints:\n  - { host: a.example, address: "10.0.0.999" }\n',
      expected: [
        'c.yaml:2:33: endpoints[0].address: invalid target "10.0.0.999": "10.0.0.999" is not a valid IPv4 address',
      ],
    },
    {
      name: 'an SNI of true',
      yaml: 'endpoints:\n  - { host: a.example, sni: true }\n',
      expected: [
        'c.yaml:2:29: endpoints[0].sni: expected a host name to send as SNI, or false for none, got true',
      ],
    },
    {
      name: 'a SOCKS proxy',
      yaml: 'defaults: { proxy: "socks5://p.internal:1080" }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:20: defaults.proxy: invalid proxy "socks5://p.internal:1080": scheme "socks5://" is not supported; give http://host:port (an HTTP CONNECT proxy)',
      ],
    },
  ])('refuses $name with one line', ({ yaml, expected }) => {
    // Act / Assess
    expect(errorLines(yaml)).toEqual(expected);
  });
});

describe('client certificates in the config', () => {
  const pki = makePki();
  const files = { '/cfg/client.pem': pki.leaf.certPem + pki.intermediate.certPem };

  it('reads the certificate chain at load and keeps only a reference to the key', () => {
    // Act
    const [endpoint] = endpointsOf(
      'endpoints:\n  - { host: mtls.example, clientCert: client.pem, clientKey: "secretsmanager:certwatch/client#key" }\n',
      files,
    );

    // Assess
    expect(endpoint?.clientCertificate?.keyRef).toBe('secretsmanager:certwatch/client#key');
    const pems = endpoint?.clientCertificate?.certPem.match(
      /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
    );
    expect(pems?.map((p) => p.replace(/\s/g, ''))).toEqual(
      [pki.leaf.certPem, pki.intermediate.certPem].map((p) => p.replace(/\s/g, '')),
    );
  });

  it.each([
    {
      name: 'a key written into the config',
      yaml: 'endpoints:\n  - { host: a.example, clientCert: client.pem, clientKey: "/etc/key.pem" }\n',
      expected: [
        'c.yaml:2:59: endpoints[0].clientKey: expected a reference to the private key, env:NAME or secretsmanager:NAME_OR_ARN[#jsonKey] (never the key itself), got "/etc/key.pem"',
      ],
    },
    {
      name: 'a key without its certificate',
      yaml: 'endpoints:\n  - { host: a.example, clientKey: env:CLIENT_KEY }\n',
      expected: [
        'c.yaml:2:35: endpoints[0].clientKey: clientKey needs clientCert (the certificate chain it belongs to)',
      ],
    },
    {
      name: 'a certificate file that is missing',
      yaml: 'endpoints:\n  - { host: a.example, clientCert: nope.pem, clientKey: env:CLIENT_KEY }\n',
      expected: [
        'c.yaml:2:36: endpoints[0].clientCert: cannot read the certificate file nope.pem (/cfg/nope.pem): file not found',
      ],
    },
  ])('refuses $name with one line', ({ yaml, expected }) => {
    // Act / Assess
    expect(errorLines(yaml, files)).toEqual(expected);
  });

  it.each([
    ['env:CLIENT_KEY', 'PEM FROM ENV'],
    ['/keys/client.pem', 'PEM FROM FILE /keys/client.pem'],
  ])('clientKeyReader resolves %j', async (keyRef, expected) => {
    // Prepare
    const read = clientKeyReader(
      envSecretResolver({ CLIENT_KEY: 'PEM FROM ENV' }),
      (path) => `PEM FROM FILE ${path}`,
    );

    // Act / Assess
    await expect(read(keyRef)).resolves.toBe(expected);
  });

  it('clientKeyReader without a file reader refuses a path', async () => {
    // Act / Assess
    await expect(clientKeyReader(envSecretResolver({}))('/keys/client.pem')).rejects.toThrow(
      'a client key must be an env: or secretsmanager: reference here',
    );
  });
});

describe('vpc in the config', () => {
  it('reads subnets and security groups', () => {
    // Act
    const config = parseConfig(
      'vpc:\n  subnetIds: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]\n  securityGroupIds: [sg-0123456789abcdef0]\nendpoints: [{ host: a.example }]\n',
      'c.yaml',
    );

    // Assess
    expect(config.vpc).toEqual({
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
      securityGroupIds: ['sg-0123456789abcdef0'],
    });
  });

  it.each([
    {
      name: 'a subnet id that is not one',
      yaml: 'vpc: { subnetIds: [vpc-123], securityGroupIds: [sg-0123456789abcdef0] }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:20: vpc.subnetIds[0]: expected subnet id like "subnet-0123456789abcdef0", got "vpc-123"',
      ],
    },
    {
      name: 'no security group',
      yaml: 'vpc: { subnetIds: [subnet-0123456789abcdef0], securityGroupIds: [] }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:65: vpc.securityGroupIds: expected at least one security group id like "sg-0123456789abcdef0"',
      ],
    },
    {
      name: 'a typo in a vpc key',
      yaml: 'vpc: { subnetIds: [subnet-0123456789abcdef0], securityGroupIds: [sg-0123456789abcdef0], subnetId: x }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:1:89: vpc.subnetId: unknown key "subnetId" (did you mean "subnetIds"?)'],
    },
  ])('refuses $name with one line', ({ yaml, expected }) => {
    // Act / Assess
    expect(errorLines(yaml)).toEqual(expected);
  });
});
