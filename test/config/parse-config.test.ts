import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CertwatchConfig, ConfigError, loadConfig, parseConfig } from '../../lambdas/config';
import { SYSTEM_TRUST_PROFILE } from '../../lambdas/core/model';

const FULL_EXAMPLE = `# every section, every field
schedule: cron(0 */6 * * ? *)
timezone: Europe/Berlin
defaults:
  thresholdsDays: [7, 30, 14]
  warnDays: 21
  criticalDays: 5
  timeout: 500ms
  failuresBeforeAlert: 3
  renotifyInterval: 12h
  historyTtlDays: 30
checker: { concurrency: 4 }
heartbeatUrl: env:HEARTBEAT_URL
channels:
  - { name: ops-sns, type: sns, topicArn: arn:aws:sns:eu-west-1:123456789012:ops, minSeverity: warning }
  - { name: slack-ops, type: slack, url: env:SLACK_WEBHOOK_URL }
  - { name: teams, type: teams, url: "secretsmanager:certwatch/teams#url", minSeverity: critical }
  - name: pager-hook
    type: webhook
    url: http://127.0.0.1:8080/hook
    secret: env:HOOK_SECRET
    signatureHeader: X-Hub-Signature
subscriptions:
  - { email: ops@example.com }
  - { sms: "+15551234567", minSeverity: critical }
endpoints:
  - host: example.com
  - host: Api.Example.com:8443
    name: API
    owner: api-team
    tags: [prod, api]
    thresholdsDays: [10, 2]
    criticalDays: 2
    timeout: 2s
    failuresBeforeAlert: 1
    renotifyInterval: 6h
    channels: [slack-ops, pager-hook]
  - host: 10.0.0.12
    port: 8443
dashboard: true
`;

/** The message of the ConfigError that parsing `text` as c.yaml throws, one line per issue. */
function errorLines(text: string): string[] {
  try {
    parseConfig(text, 'c.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split('\n');
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig: valid files', () => {
  it('parses every section of a full example', () => {
    // Act
    const config = parseConfig(FULL_EXAMPLE, 'certwatch.config.yaml');

    // Assess
    const expected: CertwatchConfig = {
      source: 'certwatch.config.yaml',
      schedule: 'cron(0 */6 * * ? *)',
      timezone: 'Europe/Berlin',
      defaults: {
        thresholdsDays: [30, 14, 7],
        warnDays: 21,
        criticalDays: 5,
        timeoutMs: 500,
        failuresBeforeAlert: 3,
        renotifyIntervalMs: 12 * 3_600_000,
        trust: SYSTEM_TRUST_PROFILE,
        proxy: null,
        revocation: 'check',
        historyTtlDays: 30,
      },
      checker: { concurrency: 4, concurrencyGiven: true, perEndpointMetrics: false },
      vpc: null,
      dashboard: true,
      heartbeatUrl: { kind: 'env', name: 'HEARTBEAT_URL' },
      channels: [
        {
          name: 'ops-sns',
          type: 'sns',
          topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
          minSeverity: 'warning',
        },
        {
          name: 'slack-ops',
          type: 'slack',
          url: { kind: 'env', name: 'SLACK_WEBHOOK_URL' },
          minSeverity: 'info',
        },
        {
          name: 'teams',
          type: 'teams',
          url: { kind: 'secretsmanager', id: 'certwatch/teams', jsonKey: 'url' },
          minSeverity: 'critical',
        },
        {
          name: 'pager-hook',
          type: 'webhook',
          url: { kind: 'literal', value: 'http://127.0.0.1:8080/hook' },
          secret: { kind: 'env', name: 'HOOK_SECRET' },
          signatureHeader: 'X-Hub-Signature',
          minSeverity: 'info',
        },
      ],
      subscriptions: [
        { protocol: 'email', endpoint: 'ops@example.com', minSeverity: 'info' },
        { protocol: 'sms', endpoint: '+15551234567', minSeverity: 'critical' },
      ],
      endpoints: [
        {
          id: 'example.com:443',
          host: 'example.com',
          port: 443,
          name: null,
          owner: null,
          tags: [],
          channels: [],
          overrides: {},
          probe: {},
        },
        {
          id: 'api.example.com:8443',
          host: 'api.example.com',
          port: 8443,
          name: 'API',
          owner: 'api-team',
          tags: ['prod', 'api'],
          channels: ['slack-ops', 'pager-hook'],
          overrides: {
            thresholdsDays: [10, 2],
            criticalDays: 2,
            timeoutMs: 2_000,
            failuresBeforeAlert: 1,
            renotifyIntervalMs: 6 * 3_600_000,
          },
          probe: {},
        },
        {
          id: '10.0.0.12:8443',
          host: '10.0.0.12',
          port: 8443,
          name: null,
          owner: null,
          tags: [],
          channels: [],
          overrides: {},
          probe: {},
        },
      ],
      maintenance: { leadTimeMs: 86_400_000, maxSilenceMs: 30 * 86_400_000, windows: [] },
      locations: {
        heartbeatUrl: { line: 13, column: 15 },
        'channels[1].url': { line: 16, column: 42 },
        'channels[2].url': { line: 17, column: 38 },
        'channels[3].url': { line: 20, column: 10 },
        'channels[3].secret': { line: 21, column: 13 },
      },
    };
    expect(config).toEqual(expected);
  });

  it('fills in the built-in defaults for a minimal file', () => {
    // Act
    const config = parseConfig('endpoints:\n  - host: example.com\n', 'min.yaml');

    // Assess
    expect(config).toMatchObject({
      schedule: 'rate(6 hours)',
      timezone: 'UTC',
      defaults: {
        thresholdsDays: [30, 14, 7, 3, 1],
        warnDays: 30,
        criticalDays: 7,
        timeoutMs: 10_000,
        failuresBeforeAlert: 2,
        renotifyIntervalMs: 86_400_000,
        historyTtlDays: 90,
      },
      checker: { concurrency: 10 },
      dashboard: false,
      heartbeatUrl: null,
      channels: [],
      subscriptions: [],
    });
  });

  it.each([
    { value: '10s', ms: 10_000 },
    { value: '500ms', ms: 500 },
    { value: '1m30s', ms: 90_000 },
    { value: '2500', ms: 2_500 },
  ])('reads timeout $value as $ms ms', ({ value, ms }) => {
    // Act
    const config = parseConfig(
      `defaults: { timeout: ${value} }\nendpoints: [{ host: a.example }]\n`,
      'c.yaml',
    );

    // Assess
    expect(config.defaults.timeoutMs).toBe(ms);
  });

  it('parses the default certwatch.config.yaml that `npm start` uses', () => {
    // Act
    const config = loadConfig('certwatch.config.yaml');

    // Assess
    expect(config.endpoints.map((e) => e.id)).toEqual([
      'sha256.badssl.com:443',
      'github.com:443',
      'expired.badssl.com:443',
      'wrong.host.badssl.com:443',
      'self-signed.badssl.com:443',
      'untrusted-root.badssl.com:443',
      'incomplete-chain.badssl.com:443',
    ]);
    expect(config.channels).toEqual([]);
    expect(config.subscriptions).toEqual([]);
    expect(config.heartbeatUrl).toBeNull();
    expect(config.schedule).toBe('rate(6 hours)');
  });
});

describe('parseConfig: errors name file, line, column and field', () => {
  it.each([
    {
      name: 'a port that is not a number',
      yaml: 'endpoints:\n  - host: example.com\n    port: https\n',
      expected: ['c.yaml:3:11: endpoints[0].port: expected an integer 1-65535, got "https"'],
    },
    {
      name: 'a port out of range',
      yaml: 'endpoints:\n  - { host: example.com, port: 70000 }\n',
      expected: ['c.yaml:2:32: endpoints[0].port: expected an integer 1-65535, got 70000'],
    },
    {
      name: 'a typo in a top-level key',
      yaml: 'endpoints: [{ host: a.example }]\nchanels: []\n',
      expected: ['c.yaml:2:1: chanels: unknown key "chanels" (did you mean "channels"?)'],
    },
    {
      name: 'a typo in an endpoint key',
      yaml: 'endpoints:\n  - host: a.example\n    criticalDay: 3\n',
      expected: [
        'c.yaml:3:5: endpoints[0].criticalDay: unknown key "criticalDay" (did you mean "criticalDays"?)',
      ],
    },
    {
      name: 'an unknown key with no close match',
      yaml: 'checker: { concurrency: 2, color: blue }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:28: checker.color: unknown key "color" (expected one of: concurrency, perEndpointMetrics)',
      ],
    },
    {
      name: 'a key that belongs to another channel type',
      yaml: 'channels:\n  - { name: s, type: slack, url: "https://hooks.example/x", topicArn: x }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:61: channels[0].topicArn: unknown key "topicArn" (expected one of: type, name, minSeverity, url)',
      ],
    },
    {
      name: 'a missing host',
      yaml: 'endpoints:\n  - port: 443\n',
      expected: [
        'c.yaml:2:5: endpoints[0].host: required: expected a host name like "example.com" or "example.com:8443"',
      ],
    },
    {
      name: 'a host that is not a target',
      yaml: 'endpoints:\n  - host: "exa mple.com"\n',
      expected: [
        'c.yaml:2:11: endpoints[0].host: invalid target "exa mple.com": contains whitespace at position 3',
      ],
    },
    {
      name: 'a port in host and a different port field',
      yaml: 'endpoints:\n  - host: example.com:8443\n    port: 443\n',
      expected: ['c.yaml:3:11: endpoints[0].port: 443 conflicts with port 8443 in host "example.com:8443"'],
    },
    {
      name: 'the same endpoint twice, written differently',
      yaml: 'endpoints:\n  - host: example.com\n  - host: EXAMPLE.com.:443\n',
      expected: ['c.yaml:3:11: endpoints[1].host: duplicate endpoint example.com:443 (also endpoints[0])'],
    },
    {
      name: 'no endpoints',
      yaml: 'endpoints: []\n',
      expected: ['c.yaml:1:12: endpoints: expected at least one endpoint'],
    },
    {
      name: 'no endpoints key',
      yaml: 'schedule: rate(1 day)\n',
      expected: ['c.yaml:1:1: endpoints: required: expected a list of endpoints'],
    },
    {
      name: 'an empty file',
      yaml: '# nothing yet\n',
      expected: ['c.yaml:1:1: the config is empty: expected at least an endpoints list'],
    },
    {
      name: 'a threshold of zero days',
      yaml: 'defaults: { thresholdsDays: [30, 0] }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:34: defaults.thresholdsDays[1]: expected a whole number of days from 1 to 3650, got 0',
      ],
    },
    {
      name: 'a fractional threshold',
      yaml: 'endpoints:\n  - { host: a.example, thresholdsDays: [7.5] }\n',
      expected: [
        'c.yaml:2:41: endpoints[0].thresholdsDays[0]: expected a whole number of days from 1 to 3650, got 7.5',
      ],
    },
    {
      name: 'a duplicate threshold',
      yaml: 'defaults: { thresholdsDays: [14, 7, 14] }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:1:37: defaults.thresholdsDays[2]: duplicate threshold 14'],
    },
    {
      name: 'criticalDays above warnDays in the defaults',
      yaml: 'defaults: { warnDays: 5, criticalDays: 10 }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:1:40: defaults.criticalDays: criticalDays (10) must not be more than warnDays (5)'],
    },
    {
      name: 'an endpoint criticalDays above the default warnDays',
      yaml: 'endpoints:\n  - { host: a.example, criticalDays: 31 }\n',
      expected: [
        'c.yaml:2:38: endpoints[0].criticalDays: criticalDays (31) must not be more than warnDays (30)',
      ],
    },
    {
      name: 'an endpoint warnDays below the default criticalDays',
      yaml: 'endpoints:\n  - { host: a.example, warnDays: 3 }\n',
      expected: ['c.yaml:2:34: endpoints[0].warnDays: criticalDays (7) must not be more than warnDays (3)'],
    },
    {
      name: 'a duration without a unit it knows',
      yaml: 'defaults: { renotifyInterval: 1 week }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:31: defaults.renotifyInterval: expected a duration like "10s", "500ms", "24h" or a number of milliseconds, got "1 week"',
      ],
    },
    {
      name: 'a timeout too long',
      yaml: 'endpoints:\n  - { host: a.example, timeout: 5m }\n',
      expected: ['c.yaml:2:33: endpoints[0].timeout: expected a duration from 1ms to 2m, got "5m"'],
    },
    {
      name: 'failuresBeforeAlert of zero',
      yaml: 'defaults: { failuresBeforeAlert: 0 }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:1:34: defaults.failuresBeforeAlert: expected an integer 1-100, got 0'],
    },
    {
      name: 'an unknown channel type',
      yaml: 'channels:\n  - { name: x, type: email }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:22: channels[0].type: expected a channel type, one of sns, slack, teams, webhook, pagerduty, opsgenie, discord, googlechat, mattermost, smtp, github, jira, got "email"',
      ],
    },
    {
      name: 'a duplicate channel name',
      yaml: 'channels:\n  - { name: ops, type: slack, url: "https://h.example/1" }\n  - { name: ops, type: teams, url: "https://h.example/2" }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:3:13: channels[1].name: duplicate channel name "ops" (also channels[0])'],
    },
    {
      name: 'an endpoint naming a channel that does not exist',
      yaml: 'channels:\n  - { name: slack-ops, type: slack, url: "https://h.example/1" }\nendpoints:\n  - { host: a.example, channels: [slak-ops] }\n',
      expected: [
        'c.yaml:4:35: endpoints[0].channels[0]: unknown channel "slak-ops" (did you mean "slack-ops"?); defined: slack-ops',
      ],
    },
    {
      name: 'an endpoint naming a channel when none are defined',
      yaml: 'endpoints:\n  - { host: a.example, channels: [ops] }\n',
      expected: ['c.yaml:2:35: endpoints[0].channels[0]: unknown channel "ops"; no channels are defined'],
    },
    {
      name: 'an empty channel list on an endpoint',
      yaml: 'endpoints:\n  - { host: a.example, channels: [] }\n',
      expected: [
        'c.yaml:2:34: endpoints[0].channels: expected at least one channel name (leave the field out to alert every channel)',
      ],
    },
    {
      name: 'a malformed SNS topic ARN',
      yaml: 'channels:\n  - { name: s, type: sns, topicArn: "arn:aws:sns:eu-west-1:12345:ops" }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:37: channels[0].topicArn: expected an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:alerts, got "arn:aws:sns:eu-west-1:12345:ops"',
      ],
    },
    {
      name: 'a plain http URL to a remote host',
      yaml: 'channels:\n  - { name: s, type: slack, url: "http://hooks.example/x" }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:34: channels[0].url: expected an https URL (plain http only for localhost, 127.0.0.1 or [::1]), got "http://hooks.example/x"',
      ],
    },
    {
      name: 'a URL that is not one',
      yaml: 'heartbeatUrl: hooks.example/x\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:1:15: heartbeatUrl: expected an https URL, got "hooks.example/x"'],
    },
    {
      name: 'an env reference without a name',
      yaml: 'channels:\n  - { name: s, type: slack, url: "env:" }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:34: channels[0].url: expected env:NAME with an environment variable name (letters, digits, _), got "env:"',
      ],
    },
    {
      name: 'a secretsmanager reference with an empty JSON key',
      yaml: 'channels:\n  - { name: w, type: webhook, url: "https://h.example/", secret: "secretsmanager:hook#" }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:66: channels[0].secret: expected a JSON key after \'#\', got "secretsmanager:hook#"',
      ],
    },
    {
      name: 'a phone number YAML read as a number',
      yaml: 'subscriptions:\n  - sms: +15551234567\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:10: subscriptions[0].sms: expected an E.164 phone number in quotes, like "+15551234567", got the number 15551234567',
      ],
    },
    {
      name: 'a phone number without the country prefix',
      yaml: 'subscriptions:\n  - sms: "555-1234"\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:10: subscriptions[0].sms: expected an E.164 phone number like "+15551234567", got "555-1234"',
      ],
    },
    {
      name: 'an implausible email address',
      yaml: 'subscriptions:\n  - email: ops@localhost\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:12: subscriptions[0].email: expected an email address like ops@example.com, got "ops@localhost"',
      ],
    },
    {
      name: 'a subscription with both email and sms',
      yaml: 'subscriptions:\n  - { email: ops@example.com, sms: "+15551234567" }\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:2:36: subscriptions[0].sms: give either email or sms, not both (one per subscription)',
      ],
    },
    {
      name: 'a subscription with neither',
      yaml: 'subscriptions:\n  - { minSeverity: critical }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:2:5: subscriptions[0]: required: expected email or sms'],
    },
    {
      name: 'a severity that does not exist',
      yaml: 'channels:\n  - { name: s, type: slack, url: "https://h.example/", minSeverity: high }\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:2:69: channels[0].minSeverity: expected one of info, warning, critical, got "high"'],
    },
    {
      name: 'a rate with the wrong plural',
      yaml: 'schedule: rate(1 hours)\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:11: schedule: use the singular unit for 1 and the plural otherwise (rate(1 hour), rate(6 hours)), got "rate(1 hours)"',
      ],
    },
    {
      name: 'a cron with both day fields set',
      yaml: 'schedule: cron(0 6 * * MON *)\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:11: schedule: one of day-of-month and day-of-week must be ?, got "cron(0 6 * * MON *)"',
      ],
    },
    {
      name: 'an unknown time zone',
      yaml: 'timezone: Europe/Atlantis\nendpoints: [{ host: a.example }]\n',
      expected: [
        'c.yaml:1:11: timezone: expected an IANA time zone like "UTC" or "Europe/Berlin", got "Europe/Atlantis"',
      ],
    },
    {
      name: 'an empty value',
      yaml: 'endpoints:\n  - host: a.example\n    tags:\n',
      expected: ['c.yaml:3:5: endpoints[0].tags: expected a list of tags, got an empty value'],
    },
    {
      name: 'a list where a mapping belongs',
      yaml: 'defaults: [30]\nendpoints: [{ host: a.example }]\n',
      expected: ['c.yaml:1:11: defaults: expected a mapping of default settings, got a list'],
    },
    {
      name: 'a key given twice',
      yaml: 'endpoints: [{ host: a.example }]\nschedule: rate(1 day)\nschedule: rate(2 days)\n',
      expected: ['c.yaml:3:1: invalid YAML: Map keys must be unique'],
    },
    {
      name: 'broken YAML',
      yaml: 'endpoints: [{ host: a.example }\n',
      expected: [
        'c.yaml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
      ],
    },
  ])('$name', ({ yaml, expected }) => {
    // Act
    const lines = errorLines(yaml);

    // Assess
    expect(lines).toEqual(expected);
  });

  it('reports every problem at once, in file order', () => {
    // Prepare
    const yaml = [
      'schedule: every day',
      'defaults:',
      '  warnDays: soon',
      'endpoints:',
      '  - host: example.com',
      '    port: https',
      '    tagz: [x]',
      '  - host: example.com',
    ].join('\n');

    // Act
    const lines = errorLines(yaml);

    // Assess
    expect(lines).toEqual([
      'c.yaml:1:11: schedule: expected a recurring schedule, rate(N minutes|hours|days) or cron(min hour dom month dow year), got "every day"',
      'c.yaml:3:13: defaults.warnDays: expected a whole number of days from 0 to 3650, got "soon"',
      'c.yaml:6:11: endpoints[0].port: expected an integer 1-65535, got "https"',
      'c.yaml:7:5: endpoints[0].tagz: unknown key "tagz" (did you mean "tags"?)',
    ]);
  });

  it('throws a ConfigError that carries each issue', () => {
    // Act
    let caught: unknown;
    try {
      parseConfig('endpoints:\n  - host: example.com\n    port: 0\n', 'c.yaml');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({
      name: 'ConfigError',
      issues: [
        {
          source: 'c.yaml',
          line: 3,
          column: 11,
          path: 'endpoints[0].port',
          message: 'expected an integer 1-65535, got 0',
        },
      ],
    });
  });
});

describe('loadConfig', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('reads and parses a file, naming it in errors', () => {
    // Prepare
    dir = mkdtempSync(join(tmpdir(), 'certwatch-config-'));
    const path = join(dir, 'mine.yaml');
    writeFileSync(path, 'endpoints:\n  - host: example.com\n    port: https\n');

    // Act & Assess
    expect(() => loadConfig(path)).toThrow(
      `${path}:3:11: endpoints[0].port: expected an integer 1-65535, got "https"`,
    );
  });

  it('names the path of a file it cannot read', () => {
    // Prepare
    dir = mkdtempSync(join(tmpdir(), 'certwatch-config-'));
    const path = join(dir, 'missing.yaml');

    // Act & Assess
    expect(() => loadConfig(path)).toThrow(
      new ConfigError([
        {
          source: path,
          line: null,
          column: null,
          path: '',
          message: 'cannot read the config: file not found',
        },
      ]),
    );
    expect(() => loadConfig(path)).toThrow(`${path}: cannot read the config: file not found`);
  });
});

describe('parseConfig: checker.concurrency', () => {
  it.each([
    // head, concurrency, given
    ['checker: { concurrency: 3 }\n', 3, true],
    ['checker: { perEndpointMetrics: true }\n', 10, false],
    ['', 10, false],
  ])('reads %j', (head, concurrency, given) => {
    // Act
    const config = parseConfig(`${head}endpoints: [{ host: a.example }]\n`, 'c.yaml');
    // Assess
    expect(config.checker).toMatchObject({ concurrency, concurrencyGiven: given });
  });
});

describe('parseConfig: dashboard', () => {
  it.each([
    ['dashboard: true\n', true],
    ['dashboard: false\n', false],
    // Off unless asked for: a dashboard costs $3 a month beyond the account's first 3.
    ['', false],
  ])('reads %j', (head, expected) => {
    // Act
    const config = parseConfig(`${head}endpoints: [{ host: a.example }]\n`, 'c.yaml');
    // Assess
    expect(config.dashboard).toBe(expected);
  });

  it('rejects a value that is not a boolean, naming the field', () => {
    expect(() => parseConfig('dashboard: yes please\nendpoints: [{ host: a.example }]\n', 'c.yaml')).toThrow(
      /c\.yaml:1:12: dashboard: expected true or false/,
    );
  });
});

describe('parseConfig: checker.perEndpointMetrics', () => {
  it.each([
    ['checker: { perEndpointMetrics: false }\n', false],
    ['checker: { perEndpointMetrics: true }\n', true],
    // Off unless asked for: one custom metric per endpoint costs $0.30 a month each.
    ['checker: { concurrency: 3 }\n', false],
    ['', false],
  ])('reads %j', (head, expected) => {
    // Act
    const config = parseConfig(`${head}endpoints: [{ host: a.example }]\n`, 'c.yaml');
    // Assess
    expect(config.checker.perEndpointMetrics).toBe(expected);
  });

  it('rejects a value that is not a boolean, naming the field', () => {
    expect(() =>
      parseConfig('checker: { perEndpointMetrics: sometimes }\nendpoints: [{ host: a.example }]\n', 'c.yaml'),
    ).toThrow(/c\.yaml:1:32: checker\.perEndpointMetrics: expected true or false/);
  });
});
