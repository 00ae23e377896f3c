/** `certwatch check`: probe targets now and report, like check_ssl_cert but for many targets at once. */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { TrustStores, type TrustStore } from '../cert/trust-store';
import {
  type CheckResult,
  nagiosExitCode,
  type ProbeSettings,
  type Target,
  type TrustProfile,
  worstStatus,
} from '../core/model';
import {
  ConnectRouteError,
  type ConnectToRule,
  connectToFor,
  formatProxy,
  parseConnectTo,
  parseProxyUrl,
  proxyFromEnv,
} from '../core/connect-route';
import {
  PROBE_PROTOCOLS,
  type ProbeProtocolName,
  REVOCATION_MODES,
  type RevocationMode,
} from '../core/model';
import { probeSettingsOf } from '../core/probe-settings';
import { parseProbeTarget, TargetParseError } from '../core/parse-target';
import { clientKeyReader, envSecretResolver } from '../config/secret-ref';
import { checkTargets, type TargetSettings } from '../pipeline/check-target';
import { parseCliArgs, parseDurationArg } from './args';
import { type CliIo, parseIntOption, terminalSafe, UsageError, useColour } from './cli-io';
import { type OutputArgs, OUTPUT_OPTIONS, outputUsage, outputArgs } from './output-format';
import {
  renderResultsCsv,
  renderResultsNagios,
  renderSummary,
  renderTable,
  toJsonLine,
  toJsonRecord,
} from './render-results';
import {
  cliTrustStore,
  expiryDayArgs,
  givesTrust,
  JUDGEMENT_OPTIONS,
  type JudgementArgs,
  judgementArgs,
} from './trust-options';
import { primeRootSubjectKeys } from './root-subject-keys';

/**
 * Default parallelism. Waiting on a dead endpoint costs no CPU, so the pool is
 * sized for the slow ones: with 128 slots, even dozens of tarpits time out
 * side by side in one deadline while the rest of the list keeps moving.
 */
/** The protocols `--starttls` names: every one but plain TLS. */
const STARTTLS_NAMES = (Object.keys(PROBE_PROTOCOLS) as ProbeProtocolName[])
  .filter((p) => p !== 'tls')
  .join(', ');

/** STARTTLS_NAMES folded for the help text, under the option descriptions. */
const STARTTLS_HELP = STARTTLS_NAMES.replace(/(.{1,68})(, |$)/g, '$1,\n                          ').replace(
  /,\n\s*$/,
  '',
);

export const DEFAULT_CONCURRENCY = 128;
export const DEFAULT_TIMEOUT_MS = 10_000;

export const CHECK_USAGE = `Usage: certwatch check [options] [host[:port] ...]

Checks the TLS certificate of every address of each target, now.

Options:
  -f, --file FILE         read targets from FILE (one per line, # starts a comment); repeatable
      --config FILE       validate a certwatch config and check all of its endpoints
  -t, --timeout DURATION  deadline per address, covering DNS, connect and handshake: 500ms, 10s, 2m;
                          a bare number is seconds (default 10s)
  -w, --warn-days N       warning when the earliest expiry is within N days (default 30)
  -c, --critical-days N   critical when within N days (default 7)
      --ca-file PEM       also trust the CA certificates in PEM (added to Node's bundled roots); repeatable
      --no-system-roots   trust only the --ca-file certificates, not Node's bundled roots
      --at ISO-8601       judge expiry and validity as of this instant (2027-01-15, 2027-01-15T09:00:00Z);
                          the servers are still probed now
      --first-address     check only the first resolved address of each target
      --concurrency N     addresses checked at once (default ${DEFAULT_CONCURRENCY})

Where and how to connect:
      --starttls PROTO    speak PROTO before TLS on plain host:port targets (a URL target
                          such as smtp://mail.example.com picks its own), one of:
                          ${STARTTLS_HELP}
      --connect-to H:P:A:P  connect to address A, port P instead, for host H port P (curl's form;
                          parts may be empty); SNI and the hostname check still use the name; repeatable
      --sni NAME          send NAME as the TLS server name ('' sends none); the hostname check still uses the target's name
      --proxy URL         tunnel through an HTTP CONNECT proxy (http://host:port); default
                          $HTTPS_PROXY / $ALL_PROXY, except hosts in $NO_PROXY; --proxy '' connects directly
      --client-cert PEM   present this client certificate (chain, leaf first) to servers that ask
      --client-key KEY    its private key: a PEM file, or env:NAME

Revocation:
      --revocation MODE   check (default): a revoked certificate is critical (REVOKED), from the
                          OCSP staple, the CRL or the OCSP responder; require: also warn when no
                          source answers (REVOCATION_UNKNOWN); off: do not check
${outputUsage(26)}
      --no-color          never colour the table
  -h, --help              show this help

--config endpoints are judged against their own trust (trust: in the config) unless
--ca-file or --no-system-roots is given, which then applies to every target.

To judge a certificate file rather than a server, use certwatch inspect FILE.

Exit codes (Nagios): 0 ok, 1 warning, 2 critical/expired/error, 3 usage error.
`;

export interface CheckCommandOptions {
  readonly targets: Target[];
  /** How every target is probed (`--timeout`). */
  readonly probe: ProbeSettings;
  /** What differs per target: its protocol (URL scheme, `--starttls`, config), address, SNI, proxy, client certificate. */
  readonly settingsFor: (target: Target) => TargetSettings;
  /** Reads a client key reference (`--client-key`, a config's `clientKey`). */
  readonly clientKey: (keyRef: string) => Promise<string>;
  readonly warnDays: number;
  readonly criticalDays: number;
  /** `--ca-file`, `--no-system-roots`, `--at`. */
  readonly judgement: JudgementArgs;
  /** The trust profiles of `--config` endpoints, by target id (endpoints on the system roots are absent). */
  readonly configTrust: ReadonlyMap<string, TrustProfile>;
  readonly firstAddress: boolean;
  readonly concurrency: number;
  /** `--format`/`--json` and `--tz`. */
  readonly output: OutputArgs;
  readonly colour: boolean;
}

/** Parses argv (after `check`) into options; throws UsageError naming the bad argument. */
export async function parseCheckArgs(argv: string[], io: CliIo): Promise<CheckCommandOptions | 'help'> {
  // PEM text starts with dashes, so it would read as an option: recognised before parsing.
  const pemAt = argv.findIndex((arg) => PEM_BEGIN.test(arg));
  if (pemAt >= 0)
    throw new UsageError(pemArgumentHint(argv[pemAt] as string, `argument ${pemAt + 1}`, '') ?? '');
  const parsed = parseCliArgs('check', argv, CHECK_OPTIONS, true);
  const v = parsed.values;
  if (v.help) return 'help';
  const cwd = io.cwd ?? process.cwd();
  const raw: { text: string; where: string }[] = parsed.positionals.map((text, i) => {
    const where = `argument ${i + 1}`;
    // A certificate where a host belongs (check_ssl_cert's -f habit): point at inspect.
    const pem = pemArgumentHint(text, where, cwd);
    if (pem !== null) throw new UsageError(pem);
    return { text, where };
  });
  for (const file of v.file ?? []) raw.push(...readTargetFile(resolve(cwd, file), file));
  const configTrust = new Map<string, TrustProfile>();
  const configSettings = new Map<string, TargetSettings>();
  if (v.config !== undefined) {
    // Loaded only for --config: the config's parser and schema are most of check's code.
    const { loadConfig, resolveEndpoints, resolveTrustProfiles } = await import('../config');
    const config = loadConfig(resolve(cwd, v.config));
    const profiles = new Map(resolveTrustProfiles(config).map((p) => [p.id, p]));
    for (const e of resolveEndpoints(config)) {
      raw.push({ text: e.id, where: `${v.config}: endpoint ${e.id}` });
      const { timeoutMs: _timeout, ...settings } = probeSettingsOf(e);
      configSettings.set(e.id, {
        ...settings,
        ...(e.revocation === undefined ? {} : { revocation: e.revocation }),
      });
      const profile = e.trust === undefined ? undefined : profiles.get(e.trust);
      if (profile) configTrust.set(e.id, profile);
    }
  }
  if (raw.length === 0)
    throw new UsageError('no targets: give host[:port] arguments, --file FILE or --config FILE');
  const starttls = v.starttls === undefined ? undefined : starttlsArg(v.starttls);
  const seen = new Set<string>();
  const targets: Target[] = [];
  const protocols = new Map<string, ProbeProtocolName>();
  for (const { text, where } of raw) {
    let target: Target;
    try {
      const configured = configSettings.get(text);
      // --starttls is for plain host:port targets; a URL's scheme names its own protocol.
      const plain =
        configured === undefined && starttls !== undefined && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text);
      const parsed = parseProbeTarget(text, plain ? { protocol: starttls } : {});
      target = parsed.target;
      if (parsed.protocol !== undefined && !configured) protocols.set(target.id, parsed.protocol);
    } catch (error) {
      if (error instanceof TargetParseError) throw new UsageError(`${where}: ${error.message}`);
      throw error;
    }
    if (!seen.has(target.id)) {
      seen.add(target.id);
      targets.push(target);
    }
  }
  const { warnDays, criticalDays } = expiryDayArgs(v);
  const route = routeArgs(v, io.env, cwd);
  const revocation = v.revocation === undefined ? undefined : revocationArg(v.revocation);
  return {
    targets,
    settingsFor: (target) => ({
      ...configSettings.get(target.id),
      ...optionalSetting('protocol', protocols.get(target.id)),
      ...connectToFor(route.connectTo, target),
      ...optionalSetting('servername', route.servername),
      ...optionalSetting('proxy', route.proxyFor(target, configSettings.get(target.id)?.proxy)),
      ...optionalSetting('clientCertificate', route.clientCertificate),
      ...(revocation === undefined ? {} : { revocation }),
    }),
    clientKey: clientKeyReader(envSecretResolver(io.env), (path) => readFileSync(resolve(cwd, path), 'utf8')),
    probe: {
      timeoutMs:
        v.timeout === undefined
          ? DEFAULT_TIMEOUT_MS
          : parseDurationArg(v.timeout, '--timeout', { minMs: 1, maxMs: 600_000 }),
    },
    warnDays,
    criticalDays,
    judgement: judgementArgs(v, cwd),
    configTrust,
    firstAddress: v['first-address'] === true,
    concurrency:
      v.concurrency === undefined
        ? DEFAULT_CONCURRENCY
        : parseIntOption(v.concurrency, '--concurrency', 1, 4096),
    output: outputArgs(v, io.env),
    colour: v['no-color'] === true ? false : useColour(io, io.stdout),
  };
}

const CHECK_OPTIONS = {
  file: { type: 'string', short: 'f', multiple: true },
  config: { type: 'string' },
  timeout: { type: 'string', short: 't' },
  'warn-days': { type: 'string', short: 'w' },
  'critical-days': { type: 'string', short: 'c' },
  ...JUDGEMENT_OPTIONS,
  'first-address': { type: 'boolean' },
  concurrency: { type: 'string' },
  starttls: { type: 'string' },
  'connect-to': { type: 'string', multiple: true },
  sni: { type: 'string' },
  proxy: { type: 'string' },
  'client-cert': { type: 'string' },
  'client-key': { type: 'string' },
  revocation: { type: 'string' },
  ...OUTPUT_OPTIONS,
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]+-----/;

function starttlsArg(value: string): ProbeProtocolName {
  const name = value.toLowerCase();
  if (!Object.hasOwn(PROBE_PROTOCOLS, name)) {
    throw new UsageError(
      `--starttls: unknown protocol '${terminalSafe(value, 40)}' (expected one of ${STARTTLS_NAMES})`,
    );
  }
  return name as ProbeProtocolName;
}

function revocationArg(value: string): RevocationMode {
  if (!(REVOCATION_MODES as readonly string[]).includes(value)) {
    throw new UsageError(
      `--revocation: expected one of ${REVOCATION_MODES.join(', ')}, got '${terminalSafe(value, 40)}'`,
    );
  }
  return value as RevocationMode;
}

function optionalSetting<K extends keyof ProbeSettings>(
  key: K,
  value: ProbeSettings[K] | undefined,
): Partial<ProbeSettings> {
  return value === undefined ? {} : ({ [key]: value } as Partial<ProbeSettings>);
}

/** `--connect-to`, `--sni`, `--proxy` (else the proxy environment), `--client-cert`/`--client-key`. */
function routeArgs(
  v: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
) {
  const connectTo: ConnectToRule[] = ((v['connect-to'] as string[] | undefined) ?? []).map((text) => {
    try {
      return parseConnectTo(text);
    } catch (error) {
      if (error instanceof ConnectRouteError) throw new UsageError(`--connect-to: ${error.message}`);
      throw error;
    }
  });
  const sni = v['sni'] as string | undefined;
  const proxyText = v['proxy'] as string | undefined;
  let proxy: string | undefined;
  if (proxyText !== undefined && proxyText !== '') {
    try {
      proxy = formatProxy(parseProxyUrl(proxyText));
    } catch (error) {
      if (error instanceof ConnectRouteError) throw new UsageError(`--proxy: ${error.message}`);
      throw error;
    }
  }
  const proxyFor = (target: Target, configured: string | undefined): string | undefined => {
    if (proxyText !== undefined) return proxy;
    if (configured !== undefined) return configured;
    try {
      return proxyFromEnv(env, target);
    } catch (error) {
      if (error instanceof ConnectRouteError) throw new UsageError(`HTTPS_PROXY: ${error.message}`);
      throw error;
    }
  };
  const certFile = v['client-cert'] as string | undefined;
  const keyRef = v['client-key'] as string | undefined;
  if ((certFile === undefined) !== (keyRef === undefined))
    throw new UsageError('--client-cert and --client-key go together: give both or neither');
  let clientCertificate: ProbeSettings['clientCertificate'];
  if (certFile !== undefined && keyRef !== undefined) {
    let certPem: string;
    try {
      certPem = readFileSync(resolve(cwd, certFile), 'utf8');
    } catch (error) {
      throw new UsageError(
        `--client-cert ${terminalSafe(certFile)}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(certPem))
      throw new UsageError(`--client-cert ${terminalSafe(certFile)}: no PEM certificate in it`);
    if (keyRef.startsWith('secretsmanager:'))
      throw new UsageError(
        '--client-key: secretsmanager: keys are read only in AWS; give a PEM file or env:NAME',
      );
    clientCertificate = { certPem, keyRef };
  }
  return {
    connectTo,
    servername: sni === undefined ? undefined : sni === '' ? null : sni,
    proxyFor,
    clientCertificate,
  };
}

/**
 * The line for a target that is a certificate, not a server: PEM text itself, or the path of
 * a PEM file (what check_ssl_cert's `-f` takes). Null when `text` is neither.
 */
export function pemArgumentHint(text: string, where: string, cwd: string): string | null {
  if (PEM_BEGIN.test(text)) {
    return `${where} is a PEM certificate, not a host: save it to a file and run certwatch inspect FILE`;
  }
  if (startsWithPem(resolve(cwd, text))) {
    const file = terminalSafe(text);
    return `${where} is the certificate file ${file}, not a host: to judge it, run certwatch inspect ${file}`;
  }
  return null;
}

/** Whether the file at `path` exists and starts (within its first 4 KiB) with a PEM block. */
function startsWithPem(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(4096);
      const n = readSync(fd, head, 0, head.length, 0);
      return PEM_BEGIN.test(head.subarray(0, n).toString('latin1'));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Reads a target list: one target per line, `#` starts a comment, blank lines ignored. */
export function readTargetFile(path: string, shown: string): { text: string; where: string }[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
    throw new UsageError(`--file ${shown}: cannot read target list (${why})`);
  }
  if (PEM_BEGIN.test(content)) {
    const file = terminalSafe(shown);
    throw new UsageError(
      `--file ${file} is a certificate, not a list of targets: to judge it, run certwatch inspect ${file}`,
    );
  }
  const out: { text: string; where: string }[] = [];
  content.split(/\r?\n/).forEach((line, i) => {
    const text = line.replace(/#.*$/, '').trim();
    if (text !== '') out.push({ text, where: `${shown}:${i + 1}` });
  });
  return out;
}

/** Runs `certwatch check`; returns the exit code. */
export async function runCheckCommand(argv: string[], io: CliIo): Promise<number> {
  const opts = await parseCheckArgs(argv, io);
  if (opts === 'help') {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  primeRootSubjectKeys();
  const trustFor = checkTrust(opts);
  const at = opts.judgement.at;
  // --at moves the analysis clock only; the elapsed time is still the wall clock's.
  const now = at === null ? () => new Date() : () => at;
  const started = Date.now();
  const format = opts.output.format;
  const progress = createProgress(io, opts.targets.length, format !== 'table');
  const perTarget = await checkTargets(
    opts.targets,
    {
      ...opts.probe,
      thresholds: { warnDays: opts.warnDays, criticalDays: opts.criticalDays },
      firstAddressOnly: opts.firstAddress,
      trustFor,
      now,
      concurrency: opts.concurrency,
      settingsFor: opts.settingsFor,
      clientKey: opts.clientKey,
    },
    (results) => {
      progress.tick();
      // JSON Lines stream as they complete, so a pipeline sees results before the slowest target ends.
      if (format === 'json') for (const r of results) io.stdout.write(`${toJsonLine(r)}\n`);
    },
  );
  progress.done();
  const results: CheckResult[] = perTarget.flat();
  if (format === 'table') {
    io.stdout.write(renderTable(results, { colour: opts.colour, timeZone: opts.output.timeZone }));
    io.stdout.write(`\n${renderSummary(results, Date.now() - started)}`);
  } else if (format === 'csv') io.stdout.write(renderResultsCsv(results.map(toJsonRecord)));
  else if (format === 'nagios') {
    io.stdout.write(
      renderResultsNagios(results, {
        network: true,
        warnDays: opts.warnDays,
        criticalDays: opts.criticalDays,
        timeZone: opts.output.timeZone,
      }),
    );
  }
  return nagiosExitCode(worstStatus(results.map((r) => r.status)));
}

/**
 * What each target is judged against: the command line's trust for every target when it gives
 * any; otherwise a `--config` endpoint's own profile, and the system roots for the rest.
 */
function checkTrust(opts: CheckCommandOptions): (target: Target) => TrustStore {
  if (givesTrust(opts.judgement)) {
    const store = cliTrustStore(opts.judgement);
    return () => store;
  }
  const stores = new TrustStores([...opts.configTrust.values()]);
  return (target) => stores.get(opts.configTrust.get(target.id)?.id);
}

/** Progress on stderr, only for long lists on a TTY, and only with the table (never beside machine output). */
function createProgress(io: CliIo, total: number, machine: boolean) {
  const enabled = io.stderr.isTTY === true && total > 10 && !machine;
  let done = 0;
  return {
    tick() {
      done++;
      if (enabled) io.stderr.write(`\rchecking… ${done}/${total}`);
    },
    done() {
      if (enabled) io.stderr.write('\r\x1b[K');
    },
  };
}
