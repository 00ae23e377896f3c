import { describe, expect, it } from 'vitest';
import {
  fitRendered,
  graphemes,
  multiLine,
  singleLine,
  toPrintableAscii,
  truncate,
  wellFormed,
} from '../../lambdas/notify/text-safety';
import { hasLoneSurrogate } from './alert-fixtures';

describe('singleLine', () => {
  it.each([
    ['plain', 'example.com', 'example.com'],
    ['CRLF injection', 'evil\r\nBcc: victim@example.com', 'evil Bcc: victim@example.com'],
    ['NUL, BEL, ESC and DEL', 'a\u0000b\u0007c\u001b[31md\u007f', 'a b c [31md'],
    ['C1 controls and NEL', 'a\u0085b\u009bc', 'a b c'],
    ['noncharacters SNS rejects', 'a\uFFFEb\uFFFFc', 'a b c'],
    ['Unicode line separators', 'a\u2028b\u2029c', 'a b c'],
    ['bidi override is dropped', 'invoice\u202Egnp.exe', 'invoicegnp.exe'],
    ['bidi isolates are dropped', '\u2066abc\u2069', 'abc'],
    ['tabs and runs of spaces collapse', ' a\t\t b   c ', 'a b c'],
    ['lone high surrogate', 'a\uD83Db', 'a\uFFFDb'],
    ['lone low surrogate', 'a\uDE00b', 'a\uFFFDb'],
    ['a valid pair is kept', 'a\u{1F600}b', 'a\u{1F600}b'],
  ])('%s', (_name, input, expected) => {
    // Act
    const out = singleLine(input);
    // Assess
    expect(out).toBe(expected);
  });
});

describe('multiLine', () => {
  it.each([
    ['keeps line breaks, normalised', 'a\r\nb\rc\u2028d', 'a\nb\nc\nd'],
    ['at most one blank line', 'a\n\n\n\n\nb', 'a\n\nb'],
    ['controls inside lines become spaces', 'a\u0000b\nc\u0007', 'a b\nc'],
    ['trims the whole text', '\n\n  a  \n\n', 'a'],
  ])('%s', (_name, input, expected) => {
    expect(multiLine(input)).toBe(expected);
  });
});

describe('toPrintableAscii', () => {
  it.each([
    ['ASCII is unchanged', 'Hello, World! [x] ~', 'Hello, World! [x] ~'],
    ['accents fold', 'café naïve Ångström', 'cafe naive Angstrom'],
    ['combining sequence folds', 'e\u0301', 'e'],
    ['typographic punctuation maps', '\u2014 \u2018q\u2019 \u201Cd\u201D \u2026', '- \'q\' "d" ...'],
    ['anything else becomes ?', '中 \u{1F600} ß', '? ? ?'],
  ])('%s', (_name, input, expected) => {
    const out = toPrintableAscii(input);
    expect(out).toBe(expected);
    expect(out).toMatch(/^[\x20-\x7E]*$/);
  });
});

describe('truncate', () => {
  it.each([
    ['fits: unchanged', 'abcdef', 6, 'abcdef'],
    ['cut with ellipsis', 'abcdefgh', 6, 'abcde\u2026'],
    // "abcd" + 😀 (2 code units) would be 6 + ellipsis: the pair is dropped whole, never split.
    ['never splits a surrogate pair', 'abcd\u{1F600}xyz', 6, 'abcd\u2026'],
    ['keeps a pair that fits', 'ab\u{1F600}xyz', 5, 'ab\u{1F600}\u2026'],
    // A flag is two regional indicators (4 code units); it stays together.
    ['never splits a flag', 'ab\u{1F1EB}\u{1F1F7}cd', 5, 'ab\u2026'],
    ['never splits a ZWJ sequence', 'a\u{1F468}\u200D\u{1F4BB}b', 6, 'a\u2026'],
    ['max below the ellipsis gives empty', 'abcdef', 0, ''],
  ])('%s', (_name, input, max, expected) => {
    // Act
    const out = truncate(input, max);
    // Assess
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
    expect(hasLoneSurrogate(out)).toBe(false);
  });

  it('bounds work on a huge input and still cuts on a boundary', () => {
    // Prepare
    const huge = '\u{1F600}'.repeat(500_000);
    // Act
    const out = truncate(huge, 101);
    // Assess
    expect(out).toBe(`${'\u{1F600}'.repeat(50)}\u2026`);
  });
});

describe('fitRendered', () => {
  const entities = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

  it('never cuts an escape sequence in half', () => {
    // Prepare: 10 raw chars, 40 rendered.
    const raw = '&&&&&&&&&&';
    // Act
    const out = fitRendered(raw, 12, entities);
    // Assess: "&amp;&amp;…" is 11 units; a third "&amp;" would not fit.
    expect(out).toBe('&amp;&amp;\u2026');
  });

  it('applies wrapping to the cut text too', () => {
    const wrap = (s: string) => `\`${s}\``;
    expect(fitRendered('abcdefghij', 8, wrap)).toBe('`abcde\u2026`');
  });

  it('returns the whole rendering when it fits', () => {
    expect(fitRendered('<a>', 20, entities)).toBe('&lt;a>');
  });
});

describe('graphemes and wellFormed', () => {
  it('segments user-perceived characters', () => {
    expect(graphemes('a\u{1F1EB}\u{1F1F7}e\u0301')).toEqual(['a', '\u{1F1EB}\u{1F1F7}', 'e\u0301']);
  });

  it('replaces only lone surrogates', () => {
    expect(wellFormed('\uDE00\u{1F600}\uD83D')).toBe('\uFFFD\u{1F600}\uFFFD');
  });
});
