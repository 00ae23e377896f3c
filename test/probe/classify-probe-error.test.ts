import { describe, expect, it } from 'vitest';
import {
  classifyProbeError,
  closedError,
  type FailureContext,
  timeoutError,
} from '../../lambdas/probe/classify-probe-error';

const handshake: FailureContext = {
  phase: 'handshake',
  endpoint: '192.0.2.1:443',
  bytesReceived: 0,
  looksLikeTls: null,
  preview: '',
  certificatesReceived: null,
};
const connect: FailureContext = { ...handshake, phase: 'connect' };

function systemError(code: string, message = `connect ${code} 192.0.2.1:443`): Error {
  return Object.assign(new Error(message), { code });
}

function opensslError(code: string, reason: string, library = 'SSL routines'): Error {
  return Object.assign(new Error(`80:error:0A000000:${library}:fn:${reason}:file.c:1:\n`), {
    code,
    reason,
    library,
  });
}

describe('classifyProbeError', () => {
  it.each([
    [
      'ECONNREFUSED',
      'CONNECTION_REFUSED',
      'cannot connect to 192.0.2.1:443: connection refused (ECONNREFUSED)',
    ],
    [
      'EHOSTUNREACH',
      'CONNECTION_REFUSED',
      'cannot connect to 192.0.2.1:443: host unreachable (EHOSTUNREACH)',
    ],
    [
      'ENETUNREACH',
      'CONNECTION_REFUSED',
      'cannot connect to 192.0.2.1:443: network unreachable (ENETUNREACH)',
    ],
    [
      'EADDRNOTAVAIL',
      'CONNECTION_REFUSED',
      'cannot connect to 192.0.2.1:443: address not available (EADDRNOTAVAIL)',
    ],
    ['ETIMEDOUT', 'TIMEOUT', 'TCP connection to 192.0.2.1:443 timed out (ETIMEDOUT)'],
    ['EWHATEVER', 'CONNECTION_REFUSED', 'cannot connect to 192.0.2.1:443: connect EWHATEVER 192.0.2.1:443'],
  ])('maps connect error %s to %s', (code, expected, message) => {
    // Act
    const error = classifyProbeError(systemError(code), connect);

    // Assess
    expect(error).toEqual({ code: expected, message });
  });

  it.each([
    [
      'reset before any byte',
      systemError('ECONNRESET', 'read ECONNRESET'),
      {},
      '192.0.2.1:443 reset the connection before sending any TLS data',
    ],
    [
      'clean close mid-handshake',
      systemError(
        'ECONNRESET',
        'Client network socket disconnected before secure TLS connection was established',
      ),
      { bytesReceived: 90, looksLikeTls: true },
      '192.0.2.1:443 closed the connection during the TLS handshake',
    ],
    [
      'an alert',
      opensslError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure'),
      { bytesReceived: 7, looksLikeTls: true },
      'TLS handshake with 192.0.2.1:443 failed: sslv3 alert handshake failure',
    ],
    [
      'an undecodable certificate',
      opensslError('ERR_SSL_TOO_LONG', 'too long', 'asn1 encoding routines'),
      { bytesReceived: 2000, looksLikeTls: true, certificatesReceived: 2 },
      'TLS handshake with 192.0.2.1:443 failed: asn1 encoding routines: too long after the server sent 2 certificates',
    ],
    [
      'a TLS server with a bad record later on',
      opensslError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'),
      { bytesReceived: 2000, looksLikeTls: true },
      'TLS handshake with 192.0.2.1:443 failed: wrong version number',
    ],
    ['a plain Error', new Error('boom\nstack'), {}, 'TLS handshake with 192.0.2.1:443 failed: boom'],
    ['a non-Error', 'string thrown', {}, 'TLS handshake with 192.0.2.1:443 failed: string thrown'],
  ])('reports %s as HANDSHAKE_FAILED', (_, thrown, overrides, message) => {
    // Act
    const error = classifyProbeError(thrown, { ...handshake, ...overrides });

    // Assess
    expect(error).toEqual({ code: 'HANDSHAKE_FAILED', message });
  });

  it.each([
    ['the first bytes are not a TLS record', opensslError('ERR_SSL_WRONG_VERSION_NUMBER', 'x'), false],
    [
      'OpenSSL says so before a whole header arrived',
      opensslError('ERR_SSL_WRONG_VERSION_NUMBER', 'x'),
      null,
    ],
    ['the record length is impossible', opensslError('ERR_SSL_PACKET_LENGTH_TOO_LONG', 'x'), null],
    ['the server closed after speaking something else', systemError('ECONNRESET'), false],
  ])('reports NOT_TLS when %s', (_, thrown, looksLikeTls) => {
    // Act
    const error = classifyProbeError(thrown, {
      ...handshake,
      looksLikeTls,
      bytesReceived: 16,
      preview: 'SSH-2.0-OpenSSH_',
    });

    // Assess
    expect(error).toEqual({
      code: 'NOT_TLS',
      message: '192.0.2.1:443 did not answer with TLS (first bytes: "SSH-2.0-OpenSSH_")',
    });
  });
});

describe('timeoutError', () => {
  it.each([
    [connect, 'TCP connection not established with 192.0.2.1:443 within 500 ms'],
    [
      { ...handshake, bytesReceived: 8 },
      'TLS handshake not complete (8 bytes received) with 192.0.2.1:443 within 500 ms',
    ],
    [
      { ...handshake, bytesReceived: 1800, certificatesReceived: 1 },
      'TLS handshake not complete (1800 bytes received) with 192.0.2.1:443 within 500 ms after the server sent 1 certificate',
    ],
  ])('describes where the probe was stuck (%#)', (context, message) => {
    // Act / Assess
    expect(timeoutError(500, context)).toEqual({ code: 'TIMEOUT', message });
  });
});

describe('closedError', () => {
  it('is a handshake failure', () => {
    // Act / Assess
    expect(closedError({ ...handshake, bytesReceived: 5 })).toEqual({
      code: 'HANDSHAKE_FAILED',
      message: '192.0.2.1:443 closed the connection during the TLS handshake',
    });
  });
});

describe('a server that asked for a client certificate', () => {
  const mutual: FailureContext = {
    ...handshake,
    bytesReceived: 2400,
    looksLikeTls: true,
    certificatesReceived: 2,
    certificateRequested: true,
  };
  const mtlsMessage = (detail: string) =>
    `192.0.2.1:443 requires a client certificate: it asked for one and ended the handshake without it (${detail}); the certificate it sent was checked`;

  it.each([
    [
      'an alert',
      opensslError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure'),
      'sslv3 alert handshake failure',
    ],
    ['a reset', systemError('ECONNRESET', 'read ECONNRESET'), 'reset the connection'],
  ])('is CLIENT_CERT_REQUIRED when it then ends the handshake with %s', (_, cause, detail) => {
    // Act / Assess
    expect(classifyProbeError(cause, mutual)).toEqual({
      code: 'CLIENT_CERT_REQUIRED',
      message: mtlsMessage(detail),
    });
  });

  it('is CLIENT_CERT_REQUIRED when it then closes the connection', () => {
    // Act / Assess
    expect(closedError(mutual)).toEqual({
      code: 'CLIENT_CERT_REQUIRED',
      message: mtlsMessage('closed the connection'),
    });
  });

  it('stays HANDSHAKE_FAILED when no certificate of the server was read', () => {
    // Act
    const error = classifyProbeError(
      opensslError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure'),
      { ...mutual, certificatesReceived: null },
    );

    // Assess
    expect(error.code).toBe('HANDSHAKE_FAILED');
  });

  it('stays TIMEOUT when the server stalls', () => {
    // Act / Assess
    expect(timeoutError(500, mutual).code).toBe('TIMEOUT');
  });
});

describe('a failure during the protocol step before TLS', () => {
  const step: FailureContext = { ...handshake, phase: 'protocol', protocol: 'smtp' };

  it.each([
    [
      'a reset',
      () => classifyProbeError(systemError('ECONNRESET', 'read ECONNRESET'), step),
      '192.0.2.1:443 reset the connection during the smtp exchange before TLS',
    ],
    [
      'a broken pipe',
      () => classifyProbeError(systemError('EPIPE', 'write EPIPE'), step),
      '192.0.2.1:443 closed the connection during the smtp exchange before TLS',
    ],
    [
      'a close',
      () => closedError(step),
      '192.0.2.1:443 closed the connection during the smtp exchange before TLS',
    ],
    [
      'any other error',
      () => classifyProbeError(new Error('unexpected reply "554 go away"\nstack'), step),
      'smtp exchange with 192.0.2.1:443 failed before TLS: unexpected reply "554 go away"',
    ],
    [
      // Bytes that are not TLS are the protocol's business before TLS starts, not NOT_TLS.
      'an OpenSSL-looking error with non-TLS bytes seen',
      () =>
        classifyProbeError(opensslError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), {
          ...step,
          looksLikeTls: false,
        }),
      'smtp exchange with 192.0.2.1:443 failed before TLS: 80:error:0A000000:SSL routines:fn:wrong version number:file.c:1:',
    ],
    [
      'an unnamed protocol',
      () => closedError({ ...handshake, phase: 'protocol' }),
      '192.0.2.1:443 closed the connection during the protocol exchange before TLS',
    ],
  ])('reports %s as HANDSHAKE_FAILED', (_, classify, message) => {
    // Act / Assess
    expect(classify()).toEqual({ code: 'HANDSHAKE_FAILED', message });
  });

  it('says which exchange the deadline interrupted', () => {
    // Act / Assess
    expect(timeoutError(500, step)).toEqual({
      code: 'TIMEOUT',
      message: 'smtp exchange before TLS not complete with 192.0.2.1:443 within 500 ms',
    });
  });
});

describe('a failure through an HTTP CONNECT proxy', () => {
  const viaProxy: FailureContext = { ...connect, proxy: 'http://10.9.9.9:3128' };
  const tunnel: FailureContext = { ...viaProxy, phase: 'proxy' };

  it.each([
    [
      'a proxy that takes no connection',
      () => classifyProbeError(systemError('ECONNREFUSED'), viaProxy),
      {
        code: 'CONNECTION_REFUSED',
        message:
          'cannot connect to proxy http://10.9.9.9:3128 (for 192.0.2.1:443): connection refused (ECONNREFUSED)',
      },
    ],
    [
      'a reset while the tunnel is opened',
      () => classifyProbeError(systemError('ECONNRESET', 'read ECONNRESET'), tunnel),
      {
        code: 'CONNECTION_REFUSED',
        message:
          'proxy http://10.9.9.9:3128 failed before opening a tunnel to 192.0.2.1:443: read ECONNRESET',
      },
    ],
    [
      'a close before the tunnel is open',
      () => closedError(tunnel),
      {
        code: 'CONNECTION_REFUSED',
        message:
          'proxy http://10.9.9.9:3128 failed before opening a tunnel to 192.0.2.1:443: closed the connection',
      },
    ],
    [
      'the deadline while connecting to the proxy',
      () => timeoutError(500, viaProxy),
      {
        code: 'TIMEOUT',
        message:
          'TCP connection to proxy http://10.9.9.9:3128 not established with 192.0.2.1:443 within 500 ms',
      },
    ],
    [
      'the deadline while the proxy says nothing',
      () => timeoutError(500, tunnel),
      {
        code: 'TIMEOUT',
        message: 'proxy http://10.9.9.9:3128 did not open a tunnel with 192.0.2.1:443 within 500 ms',
      },
    ],
  ])('reports %s, naming the proxy', (_, classify, expected) => {
    // Act / Assess
    expect(classify()).toEqual(expected);
  });
});
