import { describe, expect, it } from 'vitest';
import { displaySafe, quoteUntrusted } from '../../lambdas/cert/quote-untrusted';

describe('quoteUntrusted', () => {
  const cases: [string, string, number | undefined, string][] = [
    ['printable ASCII kept', '300101120000Z', undefined, '300101120000Z'],
    ['control byte escaped as \\x', 'a\nb\x00', undefined, 'a\\x0ab\\x00'],
    ['DEL and Latin-1 escaped as \\x', '\x7f\xe9', undefined, '\\x7f\\xe9'],
    [
      'beyond Latin-1 escaped as \\uXXXX, astral as \\u{}',
      'Ω\u202e😀',
      undefined,
      '\\u03a9\\u202e\\u{1f600}',
    ],
    ['capped at 48 by default', 'x'.repeat(60), undefined, `${'x'.repeat(48)}…`],
    ['exactly 47 is not capped', 'x'.repeat(47), undefined, 'x'.repeat(47)],
    ['custom cap', 'http://example.com/ca.der', 10, 'http://exa…'],
    // An escape that does not fit is left out whole, never cut.
    ['an escape that does not fit the cap', `${'x'.repeat(46)}\n`, undefined, `${'x'.repeat(46)}…`],
  ];
  it.each(cases)('%s', (_name, text, max, expected) => {
    // Act
    const quoted = max === undefined ? quoteUntrusted(text) : quoteUntrusted(text, max);
    // Assess
    expect(quoted).toBe(expected);
  });
});

describe('displaySafe', () => {
  const cases: [string, string, string][] = [
    ['plain text unchanged', 'Beispiel GmbH, Zürich', 'Beispiel GmbH, Zürich'],
    ['C0 controls', 'a\nb\rc\td\x00', 'a\\x0ab\\x0dc\\x09d\\x00'],
    ['DEL and C1 controls', '\x7f\x85\x9f', '\\x7f\\x85\\x9f'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['bidi embeddings and overrides', '\u202aa\u202eb', '\\u202aa\\u202eb'],
    ['bidi isolates', '\u2066x\u2069', '\\u2066x\\u2069'],
    [
      'marks and the Arabic letter mark, which the old rule let through',
      '\u200ea\u200fb\u061c',
      '\\u200ea\\u200fb\\u061c',
    ],
    ['neighbours of the ranges kept', '\u2027\u202f\u2065\u206a', '\u2027\u202f\u2065\u206a'],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    // Act
    const safe = displaySafe(text);
    // Assess
    expect(safe).toBe(expected);
  });
});
