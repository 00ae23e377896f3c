/**
 * The TLS probe of one address: connect, run the protocol's step before TLS
 * (none for implicit TLS; STARTTLS for others, see protocol-step.ts), handshake,
 * capture the chain, and always come back with a {@link ProbeOutcome} before the
 * deadline, whatever the server does.
 */
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { type Socket, connect as netConnect } from 'node:net';
import { Duplex } from 'node:stream';
import {
  DEFAULT_CIPHERS,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
  createSecureContext,
} from 'node:tls';
import { ConnectRouteError, parseProxyUrl, type ProxyAddress } from '../core/connect-route';
import type { ProbeError, ProbeOutcome, ProbeSettings } from '../core/model';
import { formatTargetId } from '../core/parse-target';
import { protocolOf, servernameFor } from '../core/probe-settings';
import {
  classifyProbeError,
  closedError,
  type FailureContext,
  type ProbePhase,
  timeoutError,
} from './classify-probe-error';
import { probeProtocol } from './protocol-registry';
import { type ProbeProtocol, ProtocolStepError } from './protocol-step';
import { openTunnel } from './proxy-tunnel';
import { monotonicMs } from './monotonic-clock';
import { ServerFlightSniffer } from './server-flight-sniffer';

/**
 * Options of {@link probeAddress}: the endpoint's probe settings, with the address pinned.
 * `timeoutMs` is one deadline for TCP connect, the protocol step, the TLS handshake and
 * everything else; `servername` defaults as in {@link servernameFor}.
 */
export interface ProbeAddressOptions extends ProbeSettings {
  /** Host name or IP literal the address belongs to (reported, not used to connect). */
  readonly host: string;
  readonly port: number;
  /** IP address to connect to. */
  readonly address: string;
  /**
   * The implementation of `protocol`, for tests and tools that bring their own.
   * @default the registry's entry for `protocol` (see protocol-registry.ts)
   */
  readonly protocolImpl?: ProbeProtocol;
  /**
   * Most bytes of the server's handshake kept to recover the chain as sent. Beyond it the
   * chain comes from Node's view instead (see {@link probeAddress}).
   * @default 262144 (256 KiB; OpenSSL itself refuses Certificate messages over 100 KiB)
   */
  readonly maxHandshakeBytes?: number;
  /**
   * The client certificate and key, resolved (see {@link ProbeSettings.clientCertificate}), sent
   * when the server asks for one.
   * @default none
   */
  readonly clientIdentity?: ClientIdentity;
}

/** A client certificate chain and its private key, PEM. */
export interface ClientIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Default of {@link ProbeAddressOptions.maxHandshakeBytes}. */
export const DEFAULT_MAX_HANDSHAKE_BYTES = 256 * 1024;

/** Most certificates taken from Node's linked view when the wire copy is unavailable. */
const MAX_LINKED_CHAIN = 32;

let sharedContext: SecureContext | undefined;

/**
 * One secure context for every probe: building one per connection would reload the CA store.
 * The CA store is deliberately empty: verification is done later by the analysis, and an empty
 * store stops Node from appending a local root to the chain it reports. Old protocols and weak
 * keys are allowed so that such servers are reported on, not merely unreachable.
 */
function probeContext(): SecureContext {
  sharedContext ??= createSecureContext({
    ca: [],
    ciphers: `${DEFAULT_CIPHERS}:@SECLEVEL=0`,
    minVersion: 'TLSv1',
  });
  return sharedContext;
}

/**
 * A context like {@link probeContext} that also presents a client certificate. Built per probe
 * (mutual TLS endpoints are few); a certificate or key OpenSSL refuses throws, and the probe
 * reports it as a failed handshake naming the reason.
 */
function identityContext(identity: ClientIdentity): SecureContext {
  try {
    // OpenSSL silently drops a key that does not match the certificate, and no certificate is sent.
    const certified = new X509Certificate(identity.certPem).publicKey.export({ type: 'spki', format: 'der' });
    const own = createPublicKey(createPrivateKey(identity.keyPem)).export({ type: 'spki', format: 'der' });
    if (!certified.equals(own)) throw new Error('the private key does not belong to the certificate');
    return createSecureContext({
      ca: [],
      ciphers: `${DEFAULT_CIPHERS}:@SECLEVEL=0`,
      minVersion: 'TLSv1',
      cert: identity.certPem,
      key: identity.keyPem,
    });
  } catch (error) {
    throw new Error(
      `client certificate or key not usable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Probe one address. Never rejects, never throws, never outlives `timeoutMs` by more than
 * the time it takes to tear the sockets down; sockets and timers are always released.
 *
 * Outcome contract:
 * - Handshake completed: `error` null; `protocol`, `cipher` set; `chainDer` is the Certificate
 *   message as sent (leaf first, wire order). Should the wire copy be unavailable (budget
 *   exceeded, a TLS 1.3 suite we cannot open, certificate compression), `chainDer` falls back
 *   to Node's issuer-linked view: leaf first, unlinked extras omitted.
 * - Handshake failed: `error` set (HANDSHAKE_FAILED, NOT_TLS, TIMEOUT, CONNECTION_REFUSED) and
 *   `protocol`/`cipher` null. `chainDer` still holds the certificates the server sent when its
 *   Certificate message was seen complete, in TLS 1.2 and 1.3 alike. This is how a certificate
 *   OpenSSL cannot parse reaches the analysis (MALFORMED_CERTIFICATE) with its raw bytes.
 *
 * Error codes:
 * - CONNECTION_REFUSED: no TCP connection at all (refused, host or network unreachable).
 * - TIMEOUT: the deadline passed first (or the kernel's own connect timeout, ETIMEDOUT).
 * - NOT_TLS: the server's first bytes are not a TLS record (HTTP, SSH banner, ...).
 * - HANDSHAKE_FAILED: TCP was up but no handshake completed: alert, reset or close (even before
 *   any byte), or an OpenSSL error, whose reason is in the message; or the protocol step before
 *   TLS failed (unless the step reported its own code with a ProtocolStepError).
 * - STARTTLS_FAILED: the protocol step's server refused the upgrade, does not offer it, answered
 *   in another protocol or sent more than a greeting has (the step's ProtocolStepError).
 * - Through a proxy (`proxy`): its failures before the tunnel is up are CONNECTION_REFUSED (the
 *   target was never reached) and TIMEOUT, each naming the proxy; the tunnel counts against the
 *   same deadline.
 */
export function probeAddress(options: ProbeAddressOptions): Promise<ProbeOutcome> {
  return new Promise((resolve) => new AddressProbe(options, resolve).start());
}

class AddressProbe {
  private readonly startedAt = monotonicMs();
  private readonly endpoint: string;
  private readonly servername: string | null;
  private readonly sniffer: ServerFlightSniffer;
  private readonly protocol: ProbeProtocol | undefined;
  private phase: ProbePhase = 'connect';
  private settled = false;
  private timer: NodeJS.Timeout | undefined;
  /** Ends a running protocol step when the probe settles. */
  private stepAbort: AbortController | undefined;
  private raw: Socket | undefined;
  private wire: Duplex | undefined;
  private tls: TLSSocket | undefined;
  /** The OCSP response the server stapled, if any (judged later by the revocation step). */
  private ocspStaple: Uint8Array | null = null;

  constructor(
    private readonly options: ProbeAddressOptions,
    private readonly resolve: (outcome: ProbeOutcome) => void,
  ) {
    this.endpoint = formatTargetId(options.address, options.connectPort ?? options.port);
    this.servername = servernameFor(options.host, options);
    this.sniffer = new ServerFlightSniffer(options.maxHandshakeBytes ?? DEFAULT_MAX_HANDSHAKE_BYTES);
    this.protocol = options.protocolImpl ?? probeProtocol(protocolOf(options));
  }

  start(): void {
    const { timeoutMs } = this.options;
    const protocol = this.protocol;
    if (protocol === undefined) {
      this.fail(() => ({
        code: 'HANDSHAKE_FAILED',
        message: `probe error: unknown protocol ${JSON.stringify(protocolOf(this.options))}`,
      }));
      return;
    }
    this.timer = setTimeout(() => this.fail((context) => timeoutError(timeoutMs, context)), timeoutMs);
    try {
      const proxy = this.proxy();
      const port = this.options.connectPort ?? this.options.port;
      const raw = netConnect({
        host: proxy?.host ?? this.options.address,
        port: proxy?.port ?? port,
        noDelay: true,
      });
      this.raw = raw;
      // Listeners stay attached after settling, so late errors from torn-down sockets are absorbed.
      raw.on('error', (error) => this.fail((context) => classifyProbeError(error, context)));
      // During the handshake a close reaches the TLS socket, which reports it with OpenSSL's view.
      raw.on('close', () => {
        if (this.phase === 'protocol' || this.phase === 'proxy') this.fail(closedError);
      });
      const afterConnect = () =>
        protocol.startTls === undefined ? this.startHandshake(raw) : this.runStep(raw, protocol);
      raw.once('connect', () =>
        this.guarded(() =>
          proxy === undefined ? afterConnect() : this.runTunnel(raw, proxy, port, afterConnect),
        ),
      );
    } catch (error) {
      this.fail((context) =>
        error instanceof ConnectRouteError
          ? { code: 'CONNECTION_REFUSED', message: error.message }
          : classifyProbeError(error, context),
      );
    }
  }

  /** The configured proxy; undefined for a direct connection. @throws ConnectRouteError */
  private proxy(): ProxyAddress | undefined {
    return this.options.proxy === undefined ? undefined : parseProxyUrl(this.options.proxy);
  }

  /**
   * The probe's deadline as a step sees it, on the `performance.now()` clock
   * (protocol-step.ts), computed only by probes with a step or a proxy.
   */
  private stepDeadline(): number {
    return performance.now() + (this.options.timeoutMs - (monotonicMs() - this.startedAt));
  }

  /** The HTTP CONNECT exchange with the proxy, under the probe's deadline; `next` runs in the tunnel. */
  private runTunnel(raw: Socket, proxy: ProxyAddress, port: number, next: () => void): void {
    if (this.settled) return;
    this.phase = 'proxy';
    const abort = new AbortController();
    this.stepAbort = abort;
    const ownListeners = listenerSnapshot(raw);
    const context = { deadline: this.stepDeadline(), signal: abort.signal };
    const request = { host: this.options.address, port, proxy: formatTargetId(proxy.host, proxy.port) };
    openTunnel(raw, request, context).then(
      () =>
        this.guarded(() => {
          if (this.settled) return;
          removeListenersSince(raw, ownListeners);
          next();
          raw.resume();
        }),
      (error: unknown) =>
        this.fail((failure) =>
          error instanceof ProtocolStepError
            ? { code: error.code, message: error.message }
            : classifyProbeError(error, failure),
        ),
    );
  }

  /** The protocol's exchange before TLS, on the plain socket, under the same deadline as the rest. */
  private runStep(raw: Socket, protocol: ProbeProtocol): void {
    if (this.settled || protocol.startTls === undefined) return;
    this.phase = 'protocol';
    const abort = new AbortController();
    this.stepAbort = abort;
    const ownListeners = listenerSnapshot(raw);
    const context = {
      host: this.options.host,
      port: this.options.port,
      servername: this.servername,
      deadline: this.stepDeadline(),
      signal: abort.signal,
    };
    const step = protocol.startTls;
    Promise.resolve()
      .then(() => step(raw, context))
      .then(
        () =>
          this.guarded(() => {
            if (this.settled) return;
            removeListenersSince(raw, ownListeners);
            this.startHandshake(raw);
            // The step may have left the socket paused; the TLS side now reads it.
            raw.resume();
          }),
        (error: unknown) =>
          this.fail((failure) =>
            error instanceof ProtocolStepError
              ? { code: error.code, message: error.message }
              : classifyProbeError(error, failure),
          ),
      );
  }

  private startHandshake(raw: Socket): void {
    if (this.settled) return;
    this.phase = 'handshake';
    const wire = tapIncoming(raw, (chunk) => this.sniffer.push(chunk));
    this.wire = wire;
    wire.on('error', (error) => this.fail((context) => classifyProbeError(error, context)));
    const tls = tlsConnect({
      socket: wire,
      secureContext: this.options.clientIdentity
        ? identityContext(this.options.clientIdentity)
        : probeContext(),
      // Omitted when null (IP literals by default): SNI must be a host name (RFC 6066 §3), and Node warns otherwise.
      ...(this.servername === null ? {} : { servername: this.servername }),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      // Ask for a stapled OCSP response; tls.connect hands this TLSSocket option on (its typings omit it).
      ...({ requestOCSP: true } as object),
    });
    this.tls = tls;
    tls.on('keylog', (line) => this.sniffer.onKeylog(line));
    // Node caps the handshake's size, so the staple is bounded already; null means none was sent.
    tls.on('OCSPResponse', (response: Buffer | null) => {
      if (response && response.length > 0) this.ocspStaple = new Uint8Array(response);
    });
    tls.on('error', (error) => this.fail((context) => classifyProbeError(error, context)));
    tls.on('close', () => this.fail(closedError));
    tls.once('secureConnect', () => this.guarded(() => this.succeed(tls)));
  }

  private succeed(tls: TLSSocket): void {
    if (this.settled) return;
    const flight = this.sniffer.finish();
    const cipher = tls.getCipher();
    this.settle({
      chainDer: flight.chainDer ?? linkedChain(tls),
      protocol: tls.getProtocol() ?? null,
      cipher: cipher.standardName || cipher.name || null,
      error: null,
      ocspStaple: this.ocspStaple,
    });
  }

  /** Settle with the error `describe` derives from what was observed up to now. */
  private fail(describe: (context: FailureContext) => ProbeError): void {
    if (this.settled) return;
    const flight = this.sniffer.finish();
    const error = describe({
      phase: this.phase,
      ...(this.options.proxy === undefined ? {} : { proxy: this.options.proxy }),
      ...(this.protocol ? { protocol: this.protocol.name } : {}),
      endpoint: this.endpoint,
      bytesReceived: flight.bytesReceived,
      looksLikeTls: flight.looksLikeTls,
      preview: flight.preview,
      certificatesReceived: flight.chainDer?.length ?? null,
      certificateRequested: flight.certificateRequested,
    });
    this.settle({ chainDer: flight.chainDer ?? [], protocol: null, cipher: null, error });
  }

  /** Event handlers must never throw into the event loop; a bug becomes a failed probe instead. */
  private guarded(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.fail(() => ({ code: 'HANDSHAKE_FAILED', message: `probe error: ${String(error)}` }));
    }
  }

  private settle(
    result: Pick<ProbeOutcome, 'chainDer' | 'protocol' | 'cipher' | 'error' | 'ocspStaple'>,
  ): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.stepAbort?.abort();
    this.tls?.destroy();
    this.wire?.destroy();
    this.raw?.destroy();
    const { host, port, address } = this.options;
    this.resolve({
      host,
      port,
      address,
      servername: this.servername,
      ...result,
      durationMs: Math.round(monotonicMs() - this.startedAt),
    });
  }
}

/** Socket events a protocol step may listen to, and so must stop listening to before TLS starts. */
const STEP_EVENTS = ['data', 'readable', 'end', 'close', 'error'] as const;

type ListenerSnapshot = ReadonlyMap<string, ReadonlySet<unknown>>;

function listenerSnapshot(socket: Socket): ListenerSnapshot {
  return new Map(STEP_EVENTS.map((event) => [event, new Set(socket.listeners(event))]));
}

/** Removes the listeners added since `before`, so a step's reader never sees TLS bytes. */
function removeListenersSince(socket: Socket, before: ListenerSnapshot): void {
  for (const event of STEP_EVENTS) {
    const kept = before.get(event);
    for (const listener of socket.listeners(event)) {
      if (!kept?.has(listener)) socket.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

/**
 * A duplex over the TCP socket that shows every incoming chunk to `observe` before TLS reads it.
 * Costs a JS hop per chunk (measured: at most ~10% of a handshake's client CPU, often within
 * noise), which buys the chain exactly as sent.
 */
function tapIncoming(raw: Socket, observe: (chunk: Buffer) => void): Duplex {
  const wire = new Duplex({
    read: () => {
      raw.resume();
    },
    // Write failures surface as the raw socket's own 'error', which is classified with better context.
    write: (chunk: Buffer, _encoding, callback) => {
      raw.write(chunk, () => callback());
    },
    final: (callback) => {
      raw.end();
      callback();
    },
    destroy: (error, callback) => {
      raw.destroy();
      callback(error);
    },
  });
  raw.on('data', (chunk: Buffer) => {
    observe(chunk);
    if (!wire.push(chunk)) raw.pause();
  });
  raw.on('end', () => wire.push(null));
  raw.on('close', () => wire.destroy());
  return wire;
}

/** Node's view of the chain: leaf, then issuers found among the certificates sent. */
function linkedChain(tls: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<object>();
  for (let cert = tls.getPeerCertificate(true); cert?.raw && !seen.has(cert); cert = cert.issuerCertificate) {
    if (chain.length >= MAX_LINKED_CHAIN) break;
    seen.add(cert);
    chain.push(new Uint8Array(cert.raw));
  }
  return chain;
}
