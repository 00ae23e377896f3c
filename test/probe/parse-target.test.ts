import { describe, expect, it } from 'vitest';
import {
  formatTargetId,
  ipAddressBytes,
  isIpLiteral,
  parseProbeTarget,
  parseTarget,
  TargetParseError,
} from '../../lambdas/core/parse-target';

describe('parseTarget', () => {
  it.each([
    ['example.com', 'example.com', 443, 'example.com:443'],
    ['Example.COM', 'example.com', 443, 'example.com:443'],
    ['example.com.', 'example.com', 443, 'example.com:443'],
    ['example.com:8443', 'example.com', 8443, 'example.com:8443'],
    ['localhost', 'localhost', 443, 'localhost:443'],
    ['a-b.c_d.example', 'a-b.c_d.example', 443, 'a-b.c_d.example:443'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example', 443, 'xn--bcher-kva.example:443'],
    ['127.0.0.1', '127.0.0.1', 443, '127.0.0.1:443'],
    ['10.0.0.1:65535', '10.0.0.1', 65535, '10.0.0.1:65535'],
    ['::1', '::1', 443, '[::1]:443'],
    ['[::1]:8443', '::1', 8443, '[::1]:8443'],
    ['[::1]', '::1', 443, '[::1]:443'],
    ['[2001:DB8:0:0:0:0:0:1]:443', '2001:db8::1', 443, '[2001:db8::1]:443'],
    ['2001:db8::1', '2001:db8::1', 443, '[2001:db8::1]:443'],
    ['0:0:0:0:0:0:0:0', '::', 443, '[::]:443'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1', 443, '[2001:db8:0:1::1]:443'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', 443, '[2001:0:0:1::1]:443'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', 443, '[1:2:3:4:5:6:7:8]:443'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1', 443, '[::ffff:192.0.2.1]:443'],
    ['[64:ff9b::192.0.2.1]:443', '64:ff9b::c000:201', 443, '[64:ff9b::c000:201]:443'],
    ['https://example.com', 'example.com', 443, 'example.com:443'],
    ['HTTPS://Example.com:8443/path?q=1#frag', 'example.com', 8443, 'example.com:8443'],
    ['https://[::1]:9443/', '::1', 9443, '[::1]:9443'],
    ['https://example.com?x', 'example.com', 443, 'example.com:443'],
  ])('parses %j', (input, host, port, id) => {
    // Act
    const target = parseTarget(input);

    // Assess
    expect(target).toEqual({ host, port, id });
  });

  it('uses the default port for bare hosts but 443 for https URLs', () => {
    // Act
    const bare = parseTarget('example.com', 8443);
    const url = parseTarget('https://example.com', 8443);

    // Assess
    expect(bare.port).toBe(8443);
    expect(url.port).toBe(443);
  });

  it.each([
    ['', 'target is empty'],
    [' example.com', 'whitespace at position 0'],
    ['exa mple.com', 'whitespace at position 3'],
    ['example.com\t', 'whitespace at position 11'],
    ['example.com:0', 'port 0 is out of range (1-65535)'],
    ['example.com:65536', 'port 65536 is out of range (1-65535)'],
    ['example.com:99999999', 'port 99999999 is out of range'],
    ['example.com:https', 'port "https" is not a number'],
    ['example.com:-1', 'port "-1" is not a number'],
    ['example.com:', 'port is empty'],
    [':443', 'host is empty before ":"'],
    ['http://example.com', 'scheme "http://" is not supported'],
    ['gopher://example.com', 'scheme "gopher://" is not supported'],
    ['smtp+tls://example.com', 'URL with one of: tls, https, smtps, smtp, submission'],
    ['https://', 'URL has no host'],
    ['https:///path', 'URL has no host'],
    ['example.com/path', 'invalid character "/"'],
    ['user@example.com', 'invalid character "@"'],
    ['*.example.com', 'invalid character "*"'],
    ['bücher.example', 'invalid character "ü" (use the punycode xn-- form'],
    ['a..b', 'has an empty label'],
    ['.example.com', 'has an empty label'],
    ['example.com..', 'has an empty label'],
    ['.', 'host "." is empty'],
    ['-a.example.com', 'label "-a" must not start or end with "-"'],
    ['a-.example.com', 'label "a-" must not start or end with "-"'],
    [`${'a'.repeat(64)}.example.com`, 'is 64 characters long (max 63)'],
    [Array.from({ length: 5 }, () => 'a'.repeat(63)).join('.'), 'host name is 319 characters long (max 253)'],
    ['256.1.1.1', '"256.1.1.1" is not a valid IPv4 address'],
    ['1.2.3', '"1.2.3" is not a valid IPv4 address'],
    ['01.2.3.4', '"01.2.3.4" is not a valid IPv4 address'],
    ['::1:443:x', 'with a port, IPv6 must be bracketed, e.g. [::1]:8443'],
    ['1:2:3:4:5:6:7:8:9', 'with a port, IPv6 must be bracketed'],
    ['1::2::3', 'with a port, IPv6 must be bracketed'],
    ['[::1', 'missing "]" after IPv6 address'],
    ['[127.0.0.1]:443', '"127.0.0.1" in brackets is not an IPv6 address'],
    ['[::1]8443', 'unexpected "8443" after "]"; expected ":port"'],
    ['[::1]:', 'port is empty'],
    ['[::1]:70000', 'port 70000 is out of range'],
    ['fe80::1%eth0', 'IPv6 zone ids (%) are not supported'],
  ])('rejects %j', (input, problem) => {
    // Act
    const act = () => parseTarget(input);

    // Assess
    expect(act).toThrow(TargetParseError);
    expect(act).toThrow(`Invalid target ${JSON.stringify(input)}: `);
    expect(act).toThrow(problem);
  });

  it('names its error class and keeps the input', () => {
    // Act
    let caught: unknown;
    try {
      parseTarget('bad host');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(TargetParseError);
    expect((caught as TargetParseError).name).toBe('TargetParseError');
    expect((caught as TargetParseError).input).toBe('bad host');
  });

  it('accepts a host name of exactly 253 characters and labels of 63', () => {
    // Prepare
    const host = [...Array.from({ length: 3 }, () => 'a'.repeat(63)), 'b'.repeat(61)].join('.');

    // Act
    const target = parseTarget(host);

    // Assess
    expect(host).toHaveLength(253);
    expect(target.host).toBe(host);
  });
});

describe('parseProbeTarget', () => {
  it.each([
    ['https://example.com', 'https', 'example.com:443'],
    ['smtps://mail.example.com', 'smtps', 'mail.example.com:465'],
    ['smtp://mail.example.com', 'smtp', 'mail.example.com:25'],
    ['SMTP://Mail.Example.com:2525', 'smtp', 'mail.example.com:2525'],
    ['submission://mail.example.com', 'submission', 'mail.example.com:587'],
    ['imaps://mail.example.com', 'imaps', 'mail.example.com:993'],
    ['imap://mail.example.com', 'imap', 'mail.example.com:143'],
    ['pop3s://mail.example.com', 'pop3s', 'mail.example.com:995'],
    ['pop3://mail.example.com', 'pop3', 'mail.example.com:110'],
    ['ftp://files.example.com', 'ftp', 'files.example.com:21'],
    ['ldaps://dir.example.com', 'ldaps', 'dir.example.com:636'],
    ['ldap://dir.example.com:389/dc=example,dc=com', 'ldap', 'dir.example.com:389'],
    ['postgres://db.example.com', 'postgres', 'db.example.com:5432'],
    ['mysql://[::1]', 'mysql', '[::1]:3306'],
    ['xmpp://chat.example.com', 'xmpp', 'chat.example.com:5222'],
    ['xmpp-server://chat.example.com', 'xmpp-server', 'chat.example.com:5269'],
    ['tls://example.com:8443', 'tls', 'example.com:8443'],
    ['example.com', undefined, 'example.com:443'],
  ])('%j → protocol %j, %s', (input, protocol, id) => {
    // Act
    const parsed = parseProbeTarget(input);

    // Assess
    expect(parsed.protocol).toBe(protocol);
    expect(parsed.target.id).toBe(id);
  });

  it.each([
    [{ protocol: 'smtp' as const }, 'mail.example.com', 'smtp', 'mail.example.com:25'],
    [{ protocol: 'smtp' as const }, 'mail.example.com:587', 'smtp', 'mail.example.com:587'],
    [{ protocol: 'ldap' as const }, 'ldap://dir.example.com', 'ldap', 'dir.example.com:389'],
    [{ protocol: 'ldap' as const, defaultPort: 10389 }, 'dir.example.com', 'ldap', 'dir.example.com:10389'],
    [{ defaultPort: 8443 }, 'example.com', undefined, 'example.com:8443'],
  ])('with %j parses %j as %j, %s', (options, input, protocol, id) => {
    // Act
    const parsed = parseProbeTarget(input, options);

    // Assess
    expect(parsed).toEqual({ target: parseTarget(id), protocol });
  });

  it('refuses a scheme that names another protocol than the one asked for', () => {
    // Act
    const act = () => parseProbeTarget('smtp://mail.example.com', { protocol: 'imap' });

    // Assess
    expect(act).toThrow(TargetParseError);
    expect(act).toThrow(
      'Invalid target "smtp://mail.example.com": scheme "smtp://" conflicts with protocol "imap"',
    );
  });
});

describe('isIpLiteral', () => {
  it.each([
    ['127.0.0.1', true],
    ['255.255.255.255', true],
    ['::1', true],
    ['::', true],
    ['2001:db8::1', true],
    ['::ffff:10.0.0.1', true],
    ['[::1]', false],
    ['256.0.0.1', false],
    ['1.2.3', false],
    ['example.com', false],
    ['localhost', false],
    ['1:2:3:4:5:6:7:8:9', false],
    ['12345::1', false],
    ['', false],
  ])('%j → %s', (host, expected) => {
    // Act / Assess
    expect(isIpLiteral(host)).toBe(expected);
  });
});

describe('ipAddressBytes', () => {
  it.each([
    ['10.1.2.3', [10, 1, 2, 3]],
    ['::1', [...new Array(15).fill(0), 1]],
    ['::ffff:1.2.3.4', [...new Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4]],
    ['example.com', null],
  ])('%j', (host, expected) => {
    // Act
    const bytes = ipAddressBytes(host);

    // Assess
    expect(bytes === null ? null : [...bytes]).toEqual(expected);
  });
});

describe('formatTargetId', () => {
  it.each([
    ['example.com', 443, 'example.com:443'],
    ['127.0.0.1', 8443, '127.0.0.1:8443'],
    ['::1', 443, '[::1]:443'],
  ])('%s %d → %s', (host, port, id) => {
    // Act / Assess
    expect(formatTargetId(host, port)).toBe(id);
  });
});
