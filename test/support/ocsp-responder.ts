/**
 * Revocation fixtures made at test time: a real OCSP responder (`openssl ocsp` on 127.0.0.1, fed an
 * OpenSSL CA index), one-shot OCSP responses from the same tool, CRLs built and signed here, and a
 * TLS server that staples a given OCSP response. Every process and server started is stopped by
 * its `close()`, by PID.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import forge from 'node-forge';
import type { TestCert } from './cert-factory';

const { asn1 } = forge;

/** One certificate the CA knows about, and whether (when, why) it revoked it. */
export interface IndexEntry {
  readonly cert: TestCert;
  readonly revoked?: { readonly at: Date; readonly reason?: string };
}

/** OpenSSL's index time form, YYMMDDHHMMSSZ. */
function indexTime(date: Date): string {
  return `${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`;
}

function certFacts(cert: TestCert): { serial: string; notAfter: Date; subject: string } {
  const parsed = new X509Certificate(cert.der);
  return {
    serial: String(parsed.serialNumber).toUpperCase(),
    notAfter: new Date(parsed.validTo),
    subject: `/${String(parsed.subject).split('\n').join('/')}`,
  };
}

/** An OpenSSL CA database (index.txt) listing `entries`. */
export function ocspIndex(entries: readonly IndexEntry[]): string {
  return entries
    .map(({ cert, revoked }) => {
      const { serial, notAfter, subject } = certFacts(cert);
      const when = revoked ? `${indexTime(revoked.at)}${revoked.reason ? `,${revoked.reason}` : ''}` : '';
      return `${revoked ? 'R' : 'V'}\t${indexTime(notAfter)}\t${when}\t${serial}\tunknown\t${subject}\n`;
    })
    .join('');
}

/** Who answers: the CA (`issuer`) and the certificate and key that sign (the CA itself, or a delegate). */
export interface ResponderSetup {
  readonly issuer: TestCert;
  /** @default the issuer */
  readonly signer?: TestCert;
  readonly entries: readonly IndexEntry[];
  /** Minutes until nextUpdate. @default 60 */
  readonly nextUpdateMinutes?: number;
  /** Leave the signer's certificate out of responses (then the signature is their last bytes). */
  readonly noCerts?: boolean;
}

function writeSetup(dir: string, setup: ResponderSetup): string[] {
  const signer = setup.signer ?? setup.issuer;
  writeFileSync(join(dir, 'index.txt'), ocspIndex(setup.entries));
  writeFileSync(join(dir, 'ca.pem'), setup.issuer.certPem);
  writeFileSync(join(dir, 'signer.pem'), signer.certPem);
  writeFileSync(join(dir, 'signer.key'), signer.key.privateKeyPem);
  return [
    '-index',
    join(dir, 'index.txt'),
    '-CA',
    join(dir, 'ca.pem'),
    '-rsigner',
    join(dir, 'signer.pem'),
    '-rkey',
    join(dir, 'signer.key'),
    '-nmin',
    String(setup.nextUpdateMinutes ?? 60),
    ...(setup.noCerts ? ['-resp_no_certs'] : []),
  ];
}

/** The responder's answer (DER) to `request`, from `openssl ocsp` run once on files. */
export function opensslOcspResponse(request: Uint8Array, setup: ResponderSetup): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-ocsp-'));
  try {
    writeFileSync(join(dir, 'req.der'), request);
    execFileSync(
      'openssl',
      ['ocsp', ...writeSetup(dir, setup), '-reqin', join(dir, 'req.der'), '-respout', join(dir, 'resp.der')],
      { stdio: 'pipe', timeout: 10_000 },
    );
    return readFileSync(join(dir, 'resp.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A running `openssl ocsp` responder. */
export interface OcspResponder {
  readonly url: string;
  readonly pid: number;
  close(): Promise<void>;
}

/** A port on 127.0.0.1 that was free a moment ago (to name in certificates before the responder starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      resolve();
      return;
    }
    // SIGTERM, then SIGKILL should it linger: a responder must never outlive its test.
    const pid = child.pid;
    const force = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    }, 2_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    process.kill(pid, 'SIGTERM');
  });
}

/**
 * Starts `openssl ocsp` as an HTTP OCSP responder on 127.0.0.1 and waits (at most 10 s) until it
 * says it is listening. (Not by connecting: the responder serves one connection at a time and
 * would wait on a probe connection's request.) One process: `-multi` forks children that a
 * SIGTERM to the parent leaves running.
 */
export async function startOcspResponder(
  setup: ResponderSetup & { readonly port?: number },
): Promise<OcspResponder> {
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-ocspd-'));
  const port = setup.port ?? (await freePort());
  // OpenSSL 3.0 takes a bare port (it listens on every interface); the tests only ever connect to 127.0.0.1.
  const args = ['ocsp', ...writeSetup(dir, setup), '-port', String(port), '-ignore_err'];
  const child = spawn('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  const close = async () => {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!stderr.includes('waiting for OCSP client connections')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await close();
      throw new Error(`openssl ocsp did not start on port ${port}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}/`, pid: child.pid!, close };
}

/** One revoked serial of a CRL. */
export interface CrlRevocation {
  readonly cert: TestCert;
  readonly at: Date;
  /** CRLReason code, e.g. 1 keyCompromise. */
  readonly reasonCode?: number;
  /** Further entry extensions (after the reasonCode). */
  readonly extensions?: readonly CrlExtension[];
}

/** One extension of a CRL or of a CRL entry: its value is DER-encoded into the OCTET STRING. */
export interface CrlExtension {
  readonly oid: string;
  readonly critical?: boolean;
  readonly value: forge.asn1.Asn1;
}

/** What {@link makeCrl} builds. */
export interface CrlSpec {
  readonly issuer: TestCert;
  /** Signs instead of the issuer's key (a forged CRL). */
  readonly signingKeyPem?: string;
  readonly revoked: readonly CrlRevocation[];
  readonly thisUpdate: Date;
  readonly nextUpdate: Date;
  /** crlExtensions ([0] of TBSCertList); none when absent. */
  readonly extensions?: readonly CrlExtension[];
  /** The issuer Name as DER, instead of the issuer certificate's subject (a CRL naming another issuer). */
  readonly issuerNameDer?: Buffer;
}

const seq = (value: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, value);
const oid = (dotted: string) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
const time = (date: Date) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date));

const contextBoolean = (tagNumber: number) =>
  asn1.create(asn1.Class.CONTEXT_SPECIFIC, tagNumber, false, '\xff');

/** What an issuing distribution point says (RFC 5280 §5.2.5): which certificates the CRL covers. */
export interface IssuingDistributionPointSpec {
  /** distributionPoint fullName URIs. */
  readonly uris?: readonly string[];
  readonly user?: boolean;
  readonly ca?: boolean;
  /** onlySomeReasons: keyCompromise only. */
  readonly someReasons?: boolean;
  readonly indirect?: boolean;
  readonly attributes?: boolean;
}

/** A critical issuingDistributionPoint CRL extension. */
export function issuingDistributionPoint(spec: IssuingDistributionPointSpec): CrlExtension {
  const fields: forge.asn1.Asn1[] = [];
  if (spec.uris) {
    const names = spec.uris.map((uri) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, uri));
    fields.push(
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
        asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, names),
      ]),
    );
  }
  if (spec.user) fields.push(contextBoolean(1));
  if (spec.ca) fields.push(contextBoolean(2));
  // ReasonFlags BIT STRING: 6 unused bits, keyCompromise (bit 1) set.
  if (spec.someReasons) fields.push(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, false, '\x06\x40'));
  if (spec.indirect) fields.push(contextBoolean(4));
  if (spec.attributes) fields.push(contextBoolean(5));
  return { oid: '2.5.29.28', critical: true, value: seq(fields) };
}

/** Extension { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }. */
function extension(ext: CrlExtension): forge.asn1.Asn1 {
  return seq([
    oid(ext.oid),
    ...(ext.critical ? [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff')] : []),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, asn1.toDer(ext.value).getBytes()),
  ]);
}

/** A v2 CRL (DER) signed sha256WithRSAEncryption by the issuer's (RSA) key. */
export function makeCrl(spec: CrlSpec): Buffer {
  const tbsCert = (asn1.fromDer(spec.issuer.der.toString('latin1')).value as forge.asn1.Asn1[])[0]!;
  const fields = tbsCert.value as forge.asn1.Asn1[];
  // version [0] is present in v3: serial, signature, issuer, validity, subject follow it.
  const subject = fields[fields[0]!.tagClass === asn1.Class.CONTEXT_SPECIFIC ? 5 : 4]!;
  const alg = seq([
    oid('1.2.840.113549.1.1.11'),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
  ]);
  const entries = spec.revoked.map((r) => {
    const serialHex = certFacts(r.cert).serial;
    const serialBytes = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
    const entry = [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, serialBytes.toString('latin1')),
      time(r.at),
    ];
    const extensions: CrlExtension[] = [
      ...(r.reasonCode === undefined
        ? []
        : [
            {
              oid: '2.5.29.21',
              value: asn1.create(
                asn1.Class.UNIVERSAL,
                asn1.Type.ENUMERATED,
                false,
                String.fromCharCode(r.reasonCode),
              ),
            },
          ]),
      ...(r.extensions ?? []),
    ];
    if (extensions.length > 0) entry.push(seq(extensions.map(extension)));
    return seq(entry);
  });
  const issuerName =
    spec.issuerNameDer === undefined ? subject : asn1.fromDer(spec.issuerNameDer.toString('latin1'));
  const tbs = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, '\x01'),
    alg,
    issuerName,
    time(spec.thisUpdate),
    time(spec.nextUpdate),
    ...(entries.length > 0 ? [seq(entries)] : []),
    ...(spec.extensions?.length
      ? [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [seq(spec.extensions.map(extension))])]
      : []),
  ]);
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'latin1');
  const key = createPrivateKey(spec.signingKeyPem ?? spec.issuer.key.privateKeyPem);
  const signature = sign('sha256', tbsDer, key);
  const crl = seq([
    tbs,
    alg,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, `\x00${signature.toString('latin1')}`),
  ]);
  return Buffer.from(asn1.toDer(crl).getBytes(), 'latin1');
}

/** A TLS server on 127.0.0.1 that presents `chainPem` and staples `staple` when asked (none when null). */
export async function startStaplingTlsServer(options: {
  readonly chainPem: string;
  readonly keyPem: string;
  readonly staple: Uint8Array | null;
}): Promise<{ readonly port: number; readonly stapleRequests: () => number; close(): Promise<void> }> {
  let stapleRequests = 0;
  const server = createTlsServer({ cert: options.chainPem, key: options.keyPem });
  server.on(
    'OCSPRequest',
    (_cert: Buffer, _issuer: Buffer, callback: (err: Error | null, resp?: Buffer) => void) => {
      stapleRequests++;
      callback(null, options.staple ? Buffer.from(options.staple) : undefined);
    },
  );
  const sockets = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.end();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    stapleRequests: () => stapleRequests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
