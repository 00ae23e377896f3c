/** Alerts and hostile strings for the notify tests. */
import type { Alert } from '../../lambdas/core/model';

/** A typical critical expiry alert; override any field. */
export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'threshold|example.com:443|192.0.2.10|3',
    kind: 'threshold',
    severity: 'critical',
    endpoint: 'example.com',
    endpointId: 'example.com:443',
    address: '192.0.2.10',
    status: 'critical',
    daysLeft: 3,
    notAfter: '2026-11-25T12:00:00.000Z',
    issuer: 'CN=Example CA,O=Example Org',
    findings: [
      {
        code: 'EXPIRES_SOON',
        severity: 'critical',
        message: 'The certificate expires in 3 days.',
        certIndex: 0,
      },
    ],
    summary: 'expires in 3 days',
    detail: 'The leaf certificate served at 192.0.2.10 expires on 2026-11-25.',
    action: 'Renew the certificate and deploy it.',
    occurredAt: '2026-11-22T08:00:00.000Z',
    owner: 'team-web',
    channels: [],
    ...overrides,
  };
}

/** Text a hostile certificate or server could put in front of a reader. */
export const HOSTILE = {
  slackBroadcast: '<!channel>',
  slackMention: '<@U123>',
  slackLink: '<https://evil.example|click>',
  markdownLink: '[click](https://evil.example)',
  bold: '*bold*',
  controls: 'evil\r\nBcc: victim@example.com\u0000\u0007\u001b[31m\u202Egnp.exe',
  longCn: `${'a'.repeat(290)}.example.com`,
} as const;

/** Deterministic PRNG (mulberry32) so "random" property loops are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '9',
  ' ',
  '.',
  '-',
  '*',
  '_',
  '~',
  '`',
  '#',
  '[',
  ']',
  '(',
  ')',
  '<',
  '>',
  '&',
  '|',
  '!',
  '\\',
  '"',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u0007',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u202E',
  '\u2066',
  '\u200B',
  'é',
  'e\u0301',
  'ß',
  '\u00A0',
  '\u2014',
  '\u2026',
  '中',
  '\u{1F600}',
  '\u{1F1EB}\u{1F1F7}',
  '\u{1F468}\u200D\u{1F4BB}',
  '\uD83D',
  '\uDE00',
  '\uFFFD',
  '<!channel>',
  '<@U123>',
  '[x](https://evil.example)',
  '%s',
  '{{DATE(2020-01-01T00:00:00Z)}}',
];

/** A random string of up to `maxPieces` hostile pieces (including lone surrogates). */
export function randomHostileString(random: () => number, maxPieces: number): string {
  const n = Math.floor(random() * (maxPieces + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(random() * PIECES.length)] ?? '';
  return s;
}

/** True when `text` contains a UTF-16 surrogate that is not part of a pair. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
