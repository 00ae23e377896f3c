import { describe, expect, it } from 'vitest';
import {
  formatIp,
  ipAddressBytes,
  isIpLiteral,
  parseIp,
  parseIpv4,
  parseIpv6,
} from '../../lambdas/core/ip-address';

/** Bytes as hex groups, so a failure reads as an address rather than 16 numbers. */
function hex(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

describe('ip-address', () => {
  // One table for both former parsers: certificate matching (cert/ip-address.ts) and targets
  // (parse-target.ts). `canonical` is formatIp's hex form, `display` the dotted-mapped one targets use.
  const cases: [text: string, canonical: string | null, display: string | null][] = [
    // IPv4: dotted quad, decimal, no leading zeros
    ['127.0.0.1', '127.0.0.1', '127.0.0.1'],
    ['255.255.255.255', '255.255.255.255', '255.255.255.255'],
    ['0.0.0.0', '0.0.0.0', '0.0.0.0'],
    ['256.0.0.1', null, null],
    ['1.2.3', null, null],
    ['1.2.3.4.5', null, null],
    ['01.2.3.4', null, null],
    ['1.2.3.04', null, null],
    // IPv6: RFC 4291 text, RFC 5952 canonical form
    ['::', '::', '::'],
    ['::1', '::1', '::1'],
    ['0:0:0:0:0:0:0:0', '::', '::'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1', '2001:db8::2:1'],
    ['2001:db8::1:0:0:0', '2001:db8:0:0:1::', '2001:db8:0:0:1::'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1', '2001:db8:0:1::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:192.0.2.1', '::ffff:c000:201', '::ffff:192.0.2.1'],
    ['::FFFF:C000:0201', '::ffff:c000:201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', '64:ff9b::c000:201'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', '1:2:3:4:5:6:102:304'],
    ['1:2:3:4:5:6:7:8:9', null, null],
    ['1:2:3:4:5:6:7', null, null],
    ['1::2::3', null, null],
    ['1:::2', null, null],
    [':1:2:3:4:5:6:7', null, null],
    ['12345::', null, null],
    ['12345::1', null, null],
    ['1::2:3:4:5:6:7:8', null, null],
    ['::ffff:010.0.0.1', null, null],
    // An IPv4 tail only as the last 32 bits
    ['1.2.3.4::', null, null],
    ['::1.2.3.4:1', null, null],
    ['[::1]', null, null],
    ['', null, null],
    [':', null, null],
    ['example.com', null, null],
    ['localhost', null, null],
    [`${'1:'.repeat(22)}1`, null, null],
  ];

  it.each(cases)('%j → %j (display %j)', (text, canonical, display) => {
    // Act
    const bytes = ipAddressBytes(text);

    // Assess
    expect(bytes === null ? null : formatIp(bytes)).toBe(canonical);
    expect(bytes === null ? null : formatIp(bytes, { dottedMappedIpv4: true })).toBe(display);
    expect(isIpLiteral(text)).toBe(canonical !== null);
    expect(parseIp(text) === null ? null : formatIp(parseIp(text)!)).toBe(canonical);
  });

  it.each([
    ['fe80::1%eth0', 'fe80::1'],
    ['fe80::1%', 'fe80::1'],
    ['::1%lo%x', '::1'],
    ['%eth0', null],
  ])('parseIp drops a zone id: %j → %j; targets and resolved addresses never have one', (text, canonical) => {
    // Act
    const certificateSide = parseIp(text);
    const targetSide = ipAddressBytes(text);

    // Assess
    expect(certificateSide === null ? null : formatIp(certificateSide)).toBe(canonical);
    expect(targetSide).toBeNull();
  });

  it.each([
    ['10.1.2.3', '0a010203'],
    ['::1', '00000000000000000000000000000001'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
  ])('ipAddressBytes(%j) is %s', (text, bytes) => {
    // Act / Assess
    expect(hex(ipAddressBytes(text))).toBe(bytes);
  });

  it.each([
    ['10.1.2.3', [10, 1, 2, 3], null],
    ['::1', null, [0, 0, 0, 0, 0, 0, 0, 1]],
    ['1.2.3.4', [1, 2, 3, 4], null],
    ['::1.2.3.4', null, [0, 0, 0, 0, 0, 0, 0x102, 0x304]],
  ])('parseIpv4 / parseIpv6 of %j', (text, v4, v6) => {
    // Act / Assess
    expect(parseIpv4(text)).toEqual(v4);
    expect(parseIpv6(text)).toEqual(v6);
  });

  it.each([
    [Uint8Array.from([1, 2, 3]), 'invalid(010203)'],
    [new Uint8Array(0), 'invalid()'],
  ])('formatIp marks bytes of the wrong length: %j', (bytes, text) => {
    // Act / Assess
    expect(formatIp(bytes)).toBe(text);
  });
});
