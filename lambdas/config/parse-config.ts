/**
 * Reads `certwatch.config.yaml`: YAML with source positions, validated with
 * zod, plus the rules that span fields. Every problem is reported at once, as
 * `file:line:col: path: message`, so one edit-and-retry fixes them all.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { CaFileError, readCaPem, trustProfileOf } from '../cert/trust-store';
import type { ChannelBase, ChannelModule } from '../channels/channel-module';
import { CHANNEL_TYPES, channelModule, secretFields } from '../channels/registry';
import type { TrustProfile } from '../core/model';
import { isProbeProtocolName, type ProbeProtocolName } from '../core/model';
import { parseProbeTarget, parseTarget } from '../core/parse-target';
import {
  DEFAULT_LEAD_TIME_MS,
  DEFAULT_MAX_SILENCE_MS,
  type MaintenanceWindow,
  parseZonedTime,
  timeZoneProblem,
} from '../core/maintenance';
import {
  BUILTIN_DEFAULTS,
  type CertwatchConfig,
  type ChannelConfig,
  type EndpointConfig,
  type EndpointProbeConfig,
  type MaintenanceConfig,
  type PolicySettings,
  type SourcePosition,
  type SubscriptionConfig,
} from './certwatch-config';
import { ConfigError, type ConfigIssue, formatPath } from './config-error';
import { formatSecretRef } from './secret-ref';
import {
  ALLOWED_KEYS,
  type ChannelFile,
  type ConfigFile,
  configFileSchema,
  describeValue,
  type EndpointFile,
} from './config-schema';

type Path = readonly (string | number)[];

/** A problem found before positions are attached. */
interface PathIssue {
  readonly path: Path;
  readonly message: string;
  /** Point at the key rather than the value (unknown keys). */
  readonly atKey?: boolean;
}

/** How {@link parseConfig} reads the files a config names (`trust.caFiles`). */
export interface ParseConfigOptions {
  /** Directory relative paths are resolved against. @default the directory of `source` (the config file's) */
  readonly baseDir?: string;
  /** Reads a file as text. @default readFileSync(path, 'utf8') */
  readonly readFile?: (path: string) => string;
}

/**
 * Parse and validate a config file's text. `source` names the file in messages. The CA files
 * that `trust.caFiles` lists are read (relative to the config file's directory) and checked here,
 * so every host (`check --config`, `run`, `cdk synth`) refuses a bad one the same way.
 * @throws ConfigError listing every problem.
 */
export function parseConfig(text: string, source: string, options: ParseConfigOptions = {}): CertwatchConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => ({
        source,
        line: error.linePos?.[0].line ?? null,
        column: error.linePos?.[0].col ?? null,
        path: '',
        message: `invalid YAML: ${yamlMessage(error.message)}`,
      })),
    );
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    throw new ConfigError([
      {
        source,
        line: 1,
        column: 1,
        path: '',
        message: 'the config is empty: expected at least an endpoints list',
      },
    ]);
  }
  const locate = (issue: PathIssue): ConfigIssue => ({
    source,
    ...position(doc, lineCounter, issue.path, issue.atKey ?? false),
    path: formatPath(issue.path),
    message: issue.message,
  });

  const caFiles = caFileLoader(options.baseDir ?? dirname(source), options.readFile ?? readUtf8);
  const parsed = configFileSchema.safeParse(raw);
  const problems: PathIssue[] = [
    ...(parsed.success ? [] : parsed.error.issues.flatMap((issue) => fromZodIssue(issue, raw))),
    ...crossFieldIssues(raw, caFiles),
  ];
  if (!parsed.success || problems.length > 0) {
    throw new ConfigError(dedupe(problems.map(locate)).sort(byPosition));
  }

  return build(parsed.data, source, caFiles, (path) => {
    const at = position(doc, lineCounter, path, false);
    return at.line === null || at.column === null ? null : { line: at.line, column: at.column };
  });
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

/** A CA file's certificates (DER), or the one line that says why it cannot be used. */
type CaFileResult = { readonly ders: readonly Uint8Array[] } | { readonly problem: string };

/** Reads each CA file once (several endpoints may name the same file). */
function caFileLoader(baseDir: string, readFile: (path: string) => string): (file: string) => CaFileResult {
  const cache = new Map<string, CaFileResult>();
  return (file) => {
    const path = resolve(baseDir, file);
    let result = cache.get(path);
    if (result === undefined) {
      result = loadCaFile(file, path, readFile);
      cache.set(path, result);
    }
    return result;
  };
}

function loadCaFile(file: string, path: string, readFile: (path: string) => string): CaFileResult {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'file not found'
        : code === 'EISDIR'
          ? 'is a directory'
          : error instanceof Error
            ? error.message
            : String(error);
    const shown = path === file ? file : `${file} (${path})`;
    return { problem: `cannot read the CA file ${shown}: ${reason}` };
  }
  try {
    return { ders: readCaPem(text, file).map((cert) => cert.der) };
  } catch (error) {
    if (error instanceof CaFileError) return { problem: error.message };
    throw error;
  }
}

/**
 * Read and parse a config file.
 * @throws ConfigError naming the path when it cannot be read or is invalid.
 */
export function loadConfig(path: string): CertwatchConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'file not found'
        : error instanceof Error
          ? error.message
          : String(error);
    throw new ConfigError([
      { source: path, line: null, column: null, path: '', message: `cannot read the config: ${reason}` },
    ]);
  }
  return parseConfig(text, path);
}

type TrustFile = NonNullable<EndpointFile['trust']>;

/** The profile of a `trust:` mapping; undefined when there is none. Only called once every CA file has loaded. */
function trustOf(
  trust: TrustFile | undefined,
  caFiles: (file: string) => CaFileResult,
): TrustProfile | undefined {
  if (trust === undefined) return undefined;
  const ders = (trust.caFiles ?? []).flatMap((file) => {
    const loaded = caFiles(file);
    return 'ders' in loaded ? loaded.ders : [];
  });
  return trustProfileOf(trust.systemRoots ?? true, ders);
}

function build(
  file: ConfigFile,
  source: string,
  caFiles: (file: string) => CaFileResult,
  positionOf: (path: Path) => SourcePosition | null,
): CertwatchConfig {
  const locations: Record<string, SourcePosition> = {};
  const remember = (path: Path) => {
    const at = positionOf(path);
    if (at !== null) locations[formatPath(path)] = at;
  };
  const d = BUILTIN_DEFAULTS.defaults;
  const fd = file.defaults ?? {};
  const defaults = {
    thresholdsDays: descending(fd.thresholdsDays ?? d.thresholdsDays),
    warnDays: fd.warnDays ?? d.warnDays,
    criticalDays: fd.criticalDays ?? d.criticalDays,
    timeoutMs: fd.timeout ?? d.timeoutMs,
    failuresBeforeAlert: fd.failuresBeforeAlert ?? d.failuresBeforeAlert,
    renotifyIntervalMs: fd.renotifyInterval ?? d.renotifyIntervalMs,
    trust: trustOf(fd.trust, caFiles) ?? d.trust,
    proxy: fd.proxy === undefined ? d.proxy : fd.proxy,
    revocation: fd.revocation ?? d.revocation,
    historyTtlDays: fd.historyTtlDays ?? d.historyTtlDays,
  };
  if (file.heartbeatUrl !== undefined) remember(['heartbeatUrl']);
  const channels = (file.channels ?? []).map((channel, i) => buildChannel(channel, i, remember));
  const subscriptions: SubscriptionConfig[] = (file.subscriptions ?? []).map((s) => ({
    protocol: s.email !== undefined ? 'email' : 'sms',
    endpoint: (s.email ?? s.sms) as string,
    minSeverity: s.minSeverity ?? BUILTIN_DEFAULTS.minSeverity,
  }));
  return {
    source,
    schedule: file.schedule ?? BUILTIN_DEFAULTS.schedule,
    timezone: file.timezone ?? BUILTIN_DEFAULTS.timezone,
    defaults,
    checker: {
      concurrency: file.checker?.concurrency ?? BUILTIN_DEFAULTS.concurrency,
      concurrencyGiven: file.checker?.concurrency !== undefined,
      perEndpointMetrics: file.checker?.perEndpointMetrics ?? false,
    },
    vpc:
      file.vpc === undefined
        ? null
        : { subnetIds: file.vpc.subnetIds, securityGroupIds: file.vpc.securityGroupIds },
    dashboard: file.dashboard ?? false,
    heartbeatUrl: file.heartbeatUrl ?? null,
    channels,
    subscriptions,
    endpoints: file.endpoints.map((endpoint) => buildEndpoint(endpoint, caFiles)),
    maintenance: buildMaintenance(file.maintenance, file.timezone ?? BUILTIN_DEFAULTS.timezone),
    locations,
  };
}

function buildMaintenance(file: ConfigFile['maintenance'], defaultZone: string): MaintenanceConfig {
  const leadTimeMs = file?.leadTime ?? DEFAULT_LEAD_TIME_MS;
  const windows = (file?.windows ?? []).map((w): MaintenanceWindow => {
    const timeZone = w.timeZone ?? defaultZone;
    const instant = (value: string) => (windowInstant(value, timeZone) as Date).toISOString();
    return {
      id: w.id,
      name: w.name,
      endpoints: w.endpoints ?? [],
      tags: w.tags ?? [],
      start: instant(w.start),
      end: instant(w.end),
      timeZone,
      message: w.message ?? '',
      leadTimeMs: w.leadTime ?? leadTimeMs,
      // Set when the window is first stored (`syncConfigWindows`).
      createdAt: new Date(0).toISOString(),
      cancelledAt: null,
      source: 'config',
    };
  });
  return { leadTimeMs, maxSilenceMs: file?.maxSilence ?? DEFAULT_MAX_SILENCE_MS, windows };
}

function buildChannel(file: ChannelFile, index: number, remember: (path: Path) => void): ChannelConfig {
  // zod accepted `file` as an entry of its type, so the module's `configure` gets what its fields validated.
  const module = channelModule(file.type) as ChannelModule<ChannelBase>;
  const channel = {
    name: file.name,
    type: file.type,
    minSeverity: file.minSeverity ?? BUILTIN_DEFAULTS.minSeverity,
    ...module.configure(file),
  } as ChannelConfig;
  for (const secret of secretFields(channel)) {
    if (secret.value !== null) remember(['channels', index, secret.field]);
  }
  return channel;
}

function buildEndpoint(endpoint: EndpointFile, caFiles: (file: string) => CaFileResult): EndpointConfig {
  const { target, protocol } = parseProbeTarget(endpoint.host, {
    ...(endpoint.protocol === undefined ? {} : { protocol: endpoint.protocol }),
    ...(endpoint.port === undefined ? {} : { port: endpoint.port }),
  });
  const overrides: { -readonly [K in keyof PolicySettings]?: PolicySettings[K] } = {};
  if (endpoint.thresholdsDays !== undefined) overrides.thresholdsDays = descending(endpoint.thresholdsDays);
  if (endpoint.warnDays !== undefined) overrides.warnDays = endpoint.warnDays;
  if (endpoint.criticalDays !== undefined) overrides.criticalDays = endpoint.criticalDays;
  if (endpoint.timeout !== undefined) overrides.timeoutMs = endpoint.timeout;
  if (endpoint.failuresBeforeAlert !== undefined)
    overrides.failuresBeforeAlert = endpoint.failuresBeforeAlert;
  if (endpoint.renotifyInterval !== undefined) overrides.renotifyIntervalMs = endpoint.renotifyInterval;
  const trust = trustOf(endpoint.trust, caFiles);
  if (trust !== undefined) overrides.trust = trust;
  if (endpoint.proxy !== undefined) overrides.proxy = endpoint.proxy;
  const probe: { -readonly [K in keyof EndpointProbeConfig]: EndpointProbeConfig[K] } = {};
  if (protocol !== undefined) probe.protocol = protocol;
  if (endpoint.address !== undefined) Object.assign(probe, endpoint.address);
  if (endpoint.sni !== undefined) probe.servername = endpoint.sni;
  if (endpoint.clientCert !== undefined && endpoint.clientKey !== undefined) {
    const loaded = caFiles(endpoint.clientCert);
    // A file that failed to load was reported by crossFieldIssues, so this only runs for good ones.
    if ('ders' in loaded) {
      probe.clientCertificate = {
        certPem: loaded.ders.map(pem).join(''),
        keyRef: formatSecretRef(endpoint.clientKey),
      };
    }
  }
  if (endpoint.revocation !== undefined) overrides.revocation = endpoint.revocation;
  return {
    id: target.id,
    host: target.host,
    port: target.port,
    name: endpoint.name?.trim() ?? null,
    owner: endpoint.owner?.trim() ?? null,
    tags: endpoint.tags ?? [],
    channels: endpoint.channels ?? [],
    overrides,
    probe,
  };
}

function pem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

function descending(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => b - a);
}

// ---------------------------------------------------------------------------
// Rules that span fields. They read the raw YAML values defensively, so they
// run (and report) even when zod found problems elsewhere.
// ---------------------------------------------------------------------------

type Raw = Record<string, unknown>;

function record(value: unknown): Raw | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : null;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function wholeNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}

function crossFieldIssues(raw: unknown, caFiles: (file: string) => CaFileResult): PathIssue[] {
  const root = record(raw);
  if (root === null) return [];
  const issues: PathIssue[] = [];
  const defaults = record(root['defaults']) ?? {};
  issues.push(...trustIssues(defaults, ['defaults'], caFiles));
  issues.push(...duplicateThresholds(defaults['thresholdsDays'], ['defaults', 'thresholdsDays']));
  const defaultWarn = wholeNumber(defaults['warnDays']) ?? BUILTIN_DEFAULTS.defaults.warnDays;
  const defaultCritical = wholeNumber(defaults['criticalDays']) ?? BUILTIN_DEFAULTS.defaults.criticalDays;
  issues.push(...criticalAboveWarn(defaults, ['defaults'], defaultWarn, defaultCritical));

  const channelNames = new Map<string, number>();
  list(root['channels']).forEach((item, i) => {
    const name = record(item)?.['name'];
    if (typeof name !== 'string') return;
    const first = channelNames.get(name);
    if (first !== undefined) {
      issues.push({
        path: ['channels', i, 'name'],
        message: `duplicate channel name "${name}" (also channels[${first}])`,
      });
    } else {
      channelNames.set(name, i);
    }
  });

  list(root['subscriptions']).forEach((item, i) => {
    const sub = record(item);
    if (sub === null) return;
    if ('email' in sub && 'sms' in sub) {
      issues.push({
        path: ['subscriptions', i, 'sms'],
        message: 'give either email or sms, not both (one per subscription)',
      });
    } else if (!('email' in sub) && !('sms' in sub)) {
      issues.push({ path: ['subscriptions', i], message: 'required: expected email or sms' });
    }
  });

  const ids = new Map<string, number>();
  list(root['endpoints']).forEach((item, i) => {
    const endpoint = record(item);
    if (endpoint === null) return;
    issues.push(...duplicateThresholds(endpoint['thresholdsDays'], ['endpoints', i, 'thresholdsDays']));
    const warn = wholeNumber(endpoint['warnDays']) ?? defaultWarn;
    const critical = wholeNumber(endpoint['criticalDays']) ?? defaultCritical;
    issues.push(...criticalAboveWarn(endpoint, ['endpoints', i], warn, critical));
    issues.push(...unknownChannels(endpoint['channels'], ['endpoints', i, 'channels'], channelNames));
    issues.push(...trustIssues(endpoint, ['endpoints', i], caFiles));
    issues.push(...clientCertificateIssues(endpoint, ['endpoints', i], caFiles));

    const id = endpointId(endpoint, i, issues);
    if (id === null) return;
    const first = ids.get(id);
    if (first !== undefined) {
      issues.push({
        path: ['endpoints', i, 'host'],
        message: `duplicate endpoint ${id} (also endpoints[${first}])`,
      });
    } else {
      ids.set(id, i);
    }
  });
  issues.push(...maintenanceWindowIssues(record(root['maintenance'])));
  return issues;
}

/** Windows: ids unique, start and end readable in the window's time zone, end after start. */
function maintenanceWindowIssues(maintenance: Raw | null): PathIssue[] {
  if (maintenance === null) return [];
  const issues: PathIssue[] = [];
  const seen = new Map<string, number>();
  list(maintenance['windows']).forEach((item, i) => {
    const w = record(item);
    if (w === null) return;
    const path: Path = ['maintenance', 'windows', i];
    const id = w['id'];
    if (typeof id === 'string') {
      const first = seen.get(id);
      if (first !== undefined) {
        issues.push({
          path: [...path, 'id'],
          message: `duplicate window id "${id}" (also maintenance.windows[${first}])`,
        });
      } else seen.set(id, i);
    }
    const zone = typeof w['timeZone'] === 'string' ? w['timeZone'] : 'UTC';
    if (timeZoneProblem(zone) !== null) return;
    const start = windowInstant(w['start'], zone);
    const end = windowInstant(w['end'], zone);
    if (start !== null && end !== null && end.getTime() <= start.getTime()) {
      issues.push({ path: [...path, 'end'], message: 'expected a time after start' });
    }
  });
  return issues;
}

/** A window time as the schema reads it (a wall time in `zone`, or an instant), or null. */
export function windowInstant(value: unknown, zone: string): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  return typeof value === 'string' ? parseZonedTime(value.trim(), zone) : null;
}

/** The endpoint's canonical id, or null when host/port/protocol are invalid (zod reports those). */
function endpointId(endpoint: Raw, index: number, issues: PathIssue[]): string | null {
  const host = endpoint['host'];
  const port = endpoint['port'];
  const protocol = endpoint['protocol'];
  if (typeof host !== 'string') return null;
  if (
    port !== undefined &&
    !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)
  ) {
    return null;
  }
  if (protocol !== undefined && !(typeof protocol === 'string' && isProbeProtocolName(protocol))) return null;
  try {
    // Default port 0 never survives parsing of a bare host, so a non-zero port means the host named one itself.
    const own = parseTarget(host, 0).port;
    const scheme = parseProbeTarget(host, { defaultPort: 0 }).protocol;
    const explicit = own !== 0 && (scheme === undefined || hasPort(host));
    if (explicit && port !== undefined && port !== own) {
      issues.push({
        path: ['endpoints', index, 'port'],
        message: `${port} conflicts with port ${own} in host ${JSON.stringify(host)}`,
      });
      return null;
    }
    if (scheme !== undefined && protocol !== undefined && scheme !== protocol) {
      issues.push({
        path: ['endpoints', index, 'protocol'],
        message: `${protocol} conflicts with the scheme ${scheme}:// of host ${JSON.stringify(host)}`,
      });
      return null;
    }
    return parseProbeTarget(host, {
      ...(protocol === undefined ? {} : { protocol: protocol as ProbeProtocolName }),
      ...(typeof port === 'number' ? { port } : {}),
    }).target.id;
  } catch {
    return null;
  }
}

/** Whether a URL host names its port (`smtp://mail.example.com:2525`), as opposed to taking its scheme's. */
function hasPort(url: string): boolean {
  const authority = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split(/[/?#]/)[0] ?? '';
  return /:\d*$/.test(authority.replace(/^\[[^\]]*\]/, ''));
}

/** `clientCert` and `clientKey` come together, and the certificate file must be usable. */
function clientCertificateIssues(
  endpoint: Raw,
  path: Path,
  caFiles: (file: string) => CaFileResult,
): PathIssue[] {
  const cert = endpoint['clientCert'];
  const key = endpoint['clientKey'];
  if (cert === undefined && key === undefined) return [];
  if (cert === undefined)
    return [
      {
        path: [...path, 'clientKey'],
        message: 'clientKey needs clientCert (the certificate chain it belongs to)',
      },
    ];
  if (key === undefined)
    return [
      {
        path: [...path, 'clientCert'],
        message: 'clientCert needs clientKey (env:NAME or secretsmanager:NAME_OR_ARN[#jsonKey])',
      },
    ];
  if (typeof cert !== 'string' || cert.trim() === '') return [];
  const loaded = caFiles(cert);
  return 'problem' in loaded
    ? [{ path: [...path, 'clientCert'], message: loaded.problem.replace('CA file', 'certificate file') }]
    : [];
}

/** Each CA file of a `trust:` mapping that cannot be used, and a mapping that trusts nothing. */
function trustIssues(section: Raw, path: Path, caFiles: (file: string) => CaFileResult): PathIssue[] {
  const trust = record(section['trust']);
  if (trust === null) return [];
  const issues: PathIssue[] = [];
  const files = list(trust['caFiles']);
  files.forEach((file, i) => {
    if (typeof file !== 'string' || file.trim() === '') return;
    const loaded = caFiles(file);
    if ('problem' in loaded) issues.push({ path: [...path, 'trust', 'caFiles', i], message: loaded.problem });
  });
  if (trust['systemRoots'] === false && files.length === 0) {
    issues.push({
      path: [...path, 'trust', 'systemRoots'],
      message: 'false without caFiles trusts no certificate at all: list your CA files in caFiles',
    });
  }
  return issues;
}

function duplicateThresholds(value: unknown, path: Path): PathIssue[] {
  const seen = new Set<unknown>();
  const issues: PathIssue[] = [];
  list(value).forEach((t, i) => {
    if (seen.has(t)) issues.push({ path: [...path, i], message: `duplicate threshold ${describeValue(t)}` });
    seen.add(t);
  });
  return issues;
}

function criticalAboveWarn(section: Raw, path: Path, warn: number, critical: number): PathIssue[] {
  const own = wholeNumber(section['criticalDays']) !== null || wholeNumber(section['warnDays']) !== null;
  if (!own || critical <= warn) return [];
  const at = wholeNumber(section['criticalDays']) !== null ? 'criticalDays' : 'warnDays';
  return [
    { path: [...path, at], message: `criticalDays (${critical}) must not be more than warnDays (${warn})` },
  ];
}

function unknownChannels(value: unknown, path: Path, defined: ReadonlyMap<string, number>): PathIssue[] {
  const names = [...defined.keys()];
  const issues: PathIssue[] = [];
  list(value).forEach((name, i) => {
    if (typeof name !== 'string' || defined.has(name)) return;
    const hint = suggestion(name, names);
    const known = names.length === 0 ? 'no channels are defined' : `defined: ${names.join(', ')}`;
    issues.push({
      path: [...path, i],
      message: `unknown channel "${name}"${hint === null ? '' : ` (did you mean "${hint}"?)`}; ${known}`,
    });
  });
  return issues;
}

// ---------------------------------------------------------------------------
// zod issues → messages
// ---------------------------------------------------------------------------

function fromZodIssue(
  issue: { code: string; path: PropertyKey[]; message: string; keys?: string[]; discriminator?: string },
  raw: unknown,
): PathIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(path, raw);
    return (issue.keys ?? []).map((key) => {
      const hint = suggestion(key, allowed);
      const help = hint !== null ? `did you mean "${hint}"?` : `expected one of: ${allowed.join(', ')}`;
      return { path: [...path, key], message: `unknown key "${key}" (${help})`, atKey: true };
    });
  }
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
    const value = valueAt(raw, path);
    const expected = `a channel type, one of ${Object.keys(CHANNEL_TYPES).join(', ')}`;
    return [
      {
        path,
        message:
          value === undefined
            ? `required: expected ${expected}`
            : `expected ${expected}, got ${describeValue(value)}`,
      },
    ];
  }
  return [{ path, message: issue.message }];
}

function allowedKeys(path: Path, raw: unknown): readonly string[] {
  const [section] = path;
  if (path.length === 0) return ALLOWED_KEYS.root;
  if (path.at(-1) === 'trust') return ALLOWED_KEYS.trust;
  if (section === 'vpc') return ALLOWED_KEYS.vpc;
  if (section === 'defaults') return ALLOWED_KEYS.defaults;
  if (section === 'checker') return ALLOWED_KEYS.checker;
  if (section === 'subscriptions') return ALLOWED_KEYS.subscription;
  if (section === 'endpoints') return ALLOWED_KEYS.endpoint;
  if (section === 'maintenance') return path.length > 2 ? ALLOWED_KEYS.window : ALLOWED_KEYS.maintenance;
  if (section === 'channels') {
    const type = record(valueAt(raw, path))?.['type'];
    return ALLOWED_KEYS.channel[typeof type === 'string' ? type : ''] ?? [];
  }
  return [];
}

function valueAt(raw: unknown, path: Path): unknown {
  let value = raw;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (record(value) !== null && typeof segment === 'string') value = (value as Raw)[segment];
    else return undefined;
  }
  return value;
}

/** The closest allowed word within a small edit distance, for typos. */
function suggestion(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

// ---------------------------------------------------------------------------
// Source positions
// ---------------------------------------------------------------------------

/**
 * Line and column of the value at `path` (or of its key). A missing field points
 * at the nearest enclosing mapping; an empty value (`port:`) at its key.
 */
function position(
  doc: Document,
  lineCounter: LineCounter,
  path: Path,
  atKey: boolean,
): { line: number | null; column: number | null } {
  let node: unknown = doc.contents;
  let keyNode: Node | null = null;
  let found: Node | null = isNode(node) ? node : null;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === segment);
      if (pair === undefined) break;
      keyNode = isNode(pair.key) ? pair.key : null;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      keyNode = null;
      node = node.items[segment];
    } else {
      break;
    }
    const empty = node === null || (isScalar(node) && node.value === null && node.source === '');
    found = atKey || empty ? (keyNode ?? (isNode(node) ? node : found)) : isNode(node) ? node : found;
  }
  const offset = found?.range?.[0];
  if (offset === undefined) return { line: 1, column: 1 };
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && 'range' in value;
}

function yamlMessage(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}
