/**
 * The request writer and the response reader of the bounded fetches, byte for byte: what a request
 * looks like, how each way of ending a body is read, when a connection may be reused, and the one
 * error each malformed or oversize response ends in. Each response is fed whole, and again one
 * byte at a time: the outcome may not depend on how the connection split it.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_HEAD_BYTES,
  type ResponseOutcome,
  ResponseReader,
  requestBytes,
} from '../../lambdas/probe/http1-exchange';

interface ReadOptions {
  readonly maxBytes?: number;
  readonly headRequest?: boolean;
  /** Statuses whose body is read. @default 200 only */
  readonly wantsBody?: (status: number) => boolean;
}

/** Feeds `pieces` in turn, then the connection's close if the reader still wants more. */
function readPieces(pieces: readonly Buffer[], options: ReadOptions = {}): ResponseOutcome {
  const reader = new ResponseReader(options.maxBytes ?? 1024, options.wantsBody, options.headRequest);
  for (const piece of pieces) {
    const outcome = reader.read(piece);
    if (outcome !== undefined) return outcome;
  }
  return reader.end();
}

/** The outcome of `response` read whole and read a byte at a time; the test fails if they differ. */
function read(response: string | Buffer, options: ReadOptions = {}): ResponseOutcome {
  const bytes = typeof response === 'string' ? Buffer.from(response, 'latin1') : response;
  const whole = readPieces([bytes], options);
  const bytewise = readPieces(
    Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1)),
    options,
  );
  expect(summary(bytewise)).toEqual(summary(whole));
  return whole;
}

/** An outcome as plain data: the body as text. */
function summary(outcome: ResponseOutcome) {
  if ('error' in outcome) return outcome;
  return { ...outcome, body: outcome.body?.toString('latin1') ?? null };
}

const bodyOf = (outcome: ResponseOutcome) => summary(outcome) as { body: string | null; reusable: boolean };

describe('requestBytes', () => {
  it('writes a GET as its head alone', () => {
    // Act
    const bytes = requestBytes({ path: '/a?b=1', host: 'ca.example:8080', accept: '*/*', close: false });
    // Assess
    expect(bytes.toString('latin1')).toBe(
      'GET /a?b=1 HTTP/1.1\r\nHost: ca.example:8080\r\nAccept: */*\r\nUser-Agent: certwatch\r\n\r\n',
    );
  });

  it('writes a POST as one buffer, its body after the head', () => {
    // Act
    const bytes = requestBytes({
      path: '/',
      host: '[::1]:81',
      accept: 'application/ocsp-response',
      post: { body: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]), contentType: 'application/ocsp-request' },
      close: true,
    });
    // Assess
    expect(bytes.toString('latin1')).toBe(
      'POST / HTTP/1.1\r\nHost: [::1]:81\r\nAccept: application/ocsp-response\r\nUser-Agent: certwatch\r\n' +
        'Connection: close\r\nContent-Type: application/ocsp-request\r\nContent-Length: 5\r\n\r\n0\x03\x02\x01\x00',
    );
  });

  it.each(['a\r\nX-Injected: 1', 'a\nb', 'caf\u00e9'])('refuses a header value that holds %j', (accept) => {
    // Act / Assess
    expect(() => requestBytes({ path: '/', host: 'h', accept, close: false })).toThrow(TypeError);
  });
});

describe('ResponseReader', () => {
  describe('bodies', () => {
    const cases: [string, string, string][] = [
      ['a Content-Length body', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 'hello'],
      ['an empty Content-Length body', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', ''],
      [
        'repeated equal Content-Lengths',
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok',
        'ok',
      ],
      [
        'a chunked body',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
        'hello world',
      ],
      [
        'chunk extensions and trailers, ignored',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\nA;name=value\r\n0123456789\r\n0;last\r\nX-Sum: 1\r\n\r\n',
        '0123456789',
      ],
      [
        'a body read until close',
        'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end',
        'until the end',
      ],
      [
        'after interim (1xx) responses',
        'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
        'ok',
      ],
      ['a status line without a reason', 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok', 'ok'],
    ];
    it.each(cases)('reads %s', (_name, response, body) => {
      // Act
      const outcome = read(response);
      // Assess
      expect(bodyOf(outcome).body).toBe(body);
    });

    it('reads header names in any case, and the first of several Content-Types', () => {
      // Act
      const outcome = read(
        'HTTP/1.1 200 OK\r\nCONTENT-TYPE: application/ocsp-response\r\ncontent-type: text/html\r\nCoNtEnT-lEnGtH: 2\r\n\r\nok',
      );
      // Assess
      expect(summary(outcome)).toEqual({
        head: { status: 200, minor: 1, contentType: 'application/ocsp-response', location: null },
        body: 'ok',
        reusable: true,
      });
    });

    it.each([
      ['204', 'HTTP/1.1 204 No Content\r\n\r\n', {}],
      ['304', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n', {}],
      ['a HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', { headRequest: true }],
    ])('reads no body after %s', (_name, response, options) => {
      // Act
      const outcome = read(response, { wantsBody: () => true, ...options });
      // Assess
      expect(bodyOf(outcome)).toEqual(expect.objectContaining({ body: '', reusable: true }));
    });

    it('stops at the head of a status whose body is not wanted, and the connection is not reused', () => {
      // Act
      const outcome = read('HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 99999\r\n\r\n');
      // Assess
      expect(summary(outcome)).toEqual({
        head: { status: 302, minor: 1, contentType: null, location: '/next' },
        body: null,
        reusable: false,
      });
    });
  });

  describe('reuse of the connection', () => {
    const cases: [string, string, boolean][] = [
      ['HTTP/1.1', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', true],
      [
        'HTTP/1.1 with Connection: close',
        'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
        false,
      ],
      [
        'HTTP/1.1 with a list naming close',
        'HTTP/1.1 200 OK\r\nConnection: x, Close\r\nContent-Length: 2\r\n\r\nok',
        false,
      ],
      ['HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', false],
      [
        'HTTP/1.0 with keep-alive',
        'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok',
        true,
      ],
      ['a chunked body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', true],
      ['a body read until close', 'HTTP/1.1 200 OK\r\n\r\nok', false],
      ['bytes after the body', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n', false],
    ];
    it.each(cases)('%s: reused %s', (_name, response, reusable) => {
      // Act
      const outcome = readPieces([Buffer.from(response, 'latin1')]);
      // Assess
      expect(bodyOf(outcome)).toEqual(expect.objectContaining({ body: 'ok', reusable }));
    });
  });

  describe('one clear error for', () => {
    const longLine = `HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
    const manyLines = `HTTP/1.1 200 OK\r\n${'X-A: b\r\n'.repeat(101)}\r\n`;
    const cases: [string, string, string][] = [
      [
        'a bare LF',
        'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
        'malformed response: a line ends in LF without CR',
      ],
      ['a bare CR', 'HTTP/1.1 200 OK\r\nX-A: b\rc\r\n\r\n', 'malformed response: a CR without LF'],
      ['a NUL byte', 'HTTP/1.1 200 OK\r\nX-A: b\0c\r\n\r\n', 'malformed response: a NUL byte'],
      [
        'another control byte',
        'HTTP/1.1 200 OK\r\nX-A: \x1b\r\n\r\n',
        'malformed response: the control byte 0x1b',
      ],
      [
        'obs-fold',
        'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n',
        'malformed response: a folded header line (obs-fold)',
      ],
      [
        'a space before the colon',
        'HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n',
        'malformed response: the header line "X-A : b"',
      ],
      [
        'a line without a colon',
        'HTTP/1.1 200 OK\r\nnonsense\r\n\r\n',
        'malformed response: the header line "nonsense"',
      ],
      [
        'HTTP/2 in the status line',
        'HTTP/2 200 OK\r\n\r\n',
        'malformed response: the status line "HTTP/2 200 OK"',
      ],
      [
        'not HTTP at all',
        'SSH-2.0-OpenSSH_9.6\r\n',
        'malformed response: the status line "SSH-2.0-OpenSSH_9.6"',
      ],
      [
        'a status of two digits',
        'HTTP/1.1 20 OK\r\n\r\n',
        'malformed response: the status line "HTTP/1.1 20 OK"',
      ],
      [
        'a header line longer than the head allows',
        longLine,
        'malformed response: headers longer than 16384 bytes',
      ],
      ['more than 100 header lines', manyLines, 'malformed response: more than 100 header lines'],
      [
        'differing Content-Lengths',
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
        'malformed response: differing Content-Length values',
      ],
      [
        'a Content-Length list',
        'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok',
        'malformed response: the Content-Length "2, 2"',
      ],
      [
        'a signed Content-Length',
        'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok',
        'malformed response: the Content-Length "+2"',
      ],
      [
        'Content-Length with Transfer-Encoding',
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
        'malformed response: both Content-Length and Transfer-Encoding',
      ],
      [
        'a transfer coding other than chunked',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n',
        'malformed response: the Transfer-Encoding "gzip, chunked"',
      ],
      [
        'a chunk size of 100 hex digits',
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'f'.repeat(100)}\r\n`,
        'malformed response: a chunk size of more than 8 hex digits',
      ],
      [
        'a chunk size that is not hex',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'malformed response: the chunk size "zz"',
      ],
      [
        'a chunk-size line without end',
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'x'.repeat(2000)}`,
        'malformed response: a chunk-size line longer than 1024 bytes',
      ],
      [
        'a chunk without CRLF after it',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n',
        'malformed response: a chunk does not end in CRLF',
      ],
      [
        'a folded trailer',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: b\r\n c\r\n\r\n',
        'malformed response: a folded header line (obs-fold)',
      ],
      [
        'more than 5 interim responses',
        'HTTP/1.1 100 Continue\r\n\r\n'.repeat(6),
        'malformed response: more than 5 interim (1xx) responses',
      ],
      [
        'a protocol switch',
        'HTTP/1.1 101 Switching Protocols\r\n\r\n',
        'malformed response: a protocol switch (101) not asked for',
      ],
      ['a close in the head', 'HTTP/1.1 200 OK\r\nContent-', 'the connection closed early'],
      [
        'a close in a Content-Length body',
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel',
        'the connection closed early',
      ],
      [
        'a close in a chunked body',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
        'the connection closed early',
      ],
      [
        'a declared body over maxBytes',
        'HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n',
        'the response is larger than 1024 bytes',
      ],
      [
        'a chunk over maxBytes',
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n',
        'the response is larger than 1024 bytes',
      ],
      [
        'a body read until close over maxBytes',
        `HTTP/1.1 200 OK\r\n\r\n${'a'.repeat(1025)}`,
        'the response is larger than 1024 bytes',
      ],
    ];
    it.each(cases)('%s', (_name, response, error) => {
      // Act
      const outcome = read(response);
      // Assess
      expect(outcome).toEqual({ error });
    });
  });
});
