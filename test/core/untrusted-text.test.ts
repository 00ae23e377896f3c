import { describe, expect, it } from 'vitest';
import {
  boundIdentifier,
  type CharRuleName,
  cleanUntrusted,
  displaySafe,
  escapeCodePoint,
  escapeDiscordMarkdown,
  escapeGoogleChatHtml,
  escapeMattermostMarkdown,
  escapeTeamsMarkdown,
  googleChatPlainText,
  fitRendered,
  graphemes,
  jsonLine,
  MAX_QUOTE,
  oneLine,
  quoteUntrusted,
  type TextLayout,
  UNTRUSTED_CHAR_RULES,
  UNTRUSTED_TARGETS,
  type UntrustedTarget,
} from '../../lambdas/core/untrusted-text';
import { HOSTILE, hasLoneSurrogate, randomHostileString, seededRandom } from '../notify/alert-fixtures';

const LAYOUTS: readonly TextLayout[] = ['line', 'lines', 'verbatim'];
const TARGETS = Object.keys(UNTRUSTED_TARGETS) as UntrustedTarget[];

/** Characters no cleaned text may contain, whatever the target or layout (`\n` is checked per layout). */
const NEVER_SHOWN =
  /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF\uFFFE\uFFFF]/;

function plain(text: string, layout: TextLayout = 'line', maxLength?: number): string {
  return cleanUntrusted(text, { target: 'plain', layout, maxLength });
}

describe('UNTRUSTED_CHAR_RULES', () => {
  // One row per rule (the compiler rejects a rule without one): a sample and what each layout makes of it.
  const rows: Record<CharRuleName, { sample: string; expected: Record<TextLayout, string> }> = {
    invalid: {
      sample: 'a\uD83Db\uDE00c\uFFFEd\uFFFF',
      expected: {
        line: 'a\uFFFDb\uFFFDc\uFFFDd\uFFFD',
        lines: 'a\uFFFDb\uFFFDc\uFFFDd\uFFFD',
        verbatim: 'a\uFFFDb\uFFFDc\uFFFDd\uFFFD',
      },
    },
    lineBreak: {
      sample: 'a\r\nb\rc\nd\u0085e\u2028f\u2029g',
      expected: {
        line: 'a b c d e f g',
        lines: 'a\nb\nc\nd\ne\nf\ng',
        verbatim: 'a\\x0d\\x0ab\\x0dc\\x0ad\\x85e\\u2028f\\u2029g',
      },
    },
    tab: {
      sample: 'a\tb',
      expected: { line: 'a b', lines: 'a b', verbatim: 'a\\x09b' },
    },
    control: {
      sample: 'a\u0000b\u0007c\u001b[31md\u007fe\u009bf\u000b\u000c',
      expected: {
        line: 'a\\x00b\\x07c\\x1b[31md\\x7fe\\x9bf\\x0b\\x0c',
        lines: 'a\\x00b\\x07c\\x1b[31md\\x7fe\\x9bf\\x0b\\x0c',
        verbatim: 'a\\x00b\\x07c\\x1b[31md\\x7fe\\x9bf\\x0b\\x0c',
      },
    },
    bidi: {
      sample: 'invoice\u202Egnp.exe \u2066x\u2069 \u200Ey\u200F \u061Cz \u202A\u202B\u202C\u202D\u2067\u2068',
      expected: {
        line: 'invoice\\u202egnp.exe \\u2066x\\u2069 \\u200ey\\u200f \\u061cz \\u202a\\u202b\\u202c\\u202d\\u2067\\u2068',
        lines:
          'invoice\\u202egnp.exe \\u2066x\\u2069 \\u200ey\\u200f \\u061cz \\u202a\\u202b\\u202c\\u202d\\u2067\\u2068',
        verbatim:
          'invoice\\u202egnp.exe \\u2066x\\u2069 \\u200ey\\u200f \\u061cz \\u202a\\u202b\\u202c\\u202d\\u2067\\u2068',
      },
    },
    invisible: {
      sample: 'pay\u200Bpal\u2060.com\uFEFF',
      expected: {
        line: 'pay\\u200bpal\\u2060.com\\ufeff',
        lines: 'pay\\u200bpal\\u2060.com\\ufeff',
        verbatim: 'pay\\u200bpal\\u2060.com\\ufeff',
      },
    },
  };

  it('has a test row for every rule, in table order', () => {
    expect(Object.keys(rows)).toEqual(Object.keys(UNTRUSTED_CHAR_RULES));
  });

  for (const [name, row] of Object.entries(rows)) {
    it.each(LAYOUTS)(`${name} in layout %s`, (layout) => {
      // Act
      const out = plain(row.sample, layout);
      // Assess
      expect(out).toBe(row.expected[layout]);
      expect(out).not.toMatch(NEVER_SHOWN);
    });
  }

  it('leaves letters, emoji, ZWJ/ZWNJ sequences and visible spaces alone', () => {
    // Prepare: ZWJ joins the emoji, ZWNJ is required in Persian; a no-break space is visible.
    const text =
      'Zertifizierungsstelle \u00C4 \u{1F468}\u200D\u{1F4BB} \u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645 a\u00A0b';
    // Act & Assess
    for (const layout of LAYOUTS) expect(plain(text, layout)).toBe(text);
  });
});

describe('escapeCodePoint', () => {
  it.each([
    [0x00, '\\x00'],
    [0x1b, '\\x1b'],
    [0xe9, '\\xe9'],
    [0x202e, '\\u202e'],
    [0xfffd, '\\ufffd'],
    [0x1f600, '\\u{1f600}'],
  ])('U+%s', (codePoint, expected) => {
    expect(escapeCodePoint(codePoint)).toBe(expected);
  });
});

describe('cleanUntrusted, layout line (one line of prose)', () => {
  it.each([
    ['plain', 'example.com', 'example.com'],
    ['CRLF injection', 'evil\r\nBcc: victim@example.com', 'evil Bcc: victim@example.com'],
    [
      'NUL, BEL, ESC and DEL show as escapes',
      'a\u0000b\u0007c\u001b[31md\u007f',
      'a\\x00b\\x07c\\x1b[31md\\x7f',
    ],
    ['NEL is a line break, CSI an escape', 'a\u0085b\u009bc', 'a b\\x9bc'],
    ['noncharacters SNS rejects', 'a\uFFFEb\uFFFFc', 'a\uFFFDb\uFFFDc'],
    ['Unicode line separators', 'a\u2028b\u2029c', 'a b c'],
    ['bidi override shows as an escape', 'invoice\u202Egnp.exe', 'invoice\\u202egnp.exe'],
    ['bidi isolates show as escapes', '\u2066abc\u2069', '\\u2066abc\\u2069'],
    ['tabs and runs of spaces collapse', ' a\t\t b   c ', 'a b c'],
    ['lone high surrogate', 'a\uD83Db', 'a\uFFFDb'],
    ['lone low surrogate', 'a\uDE00b', 'a\uFFFDb'],
    ['a valid pair is kept', 'a\u{1F600}b', 'a\u{1F600}b'],
  ])('%s', (_name, input, expected) => {
    // Act
    const out = plain(input);
    // Assess
    expect(out).toBe(expected);
  });
});

describe('cleanUntrusted, layout lines (prose over several lines)', () => {
  it.each([
    ['keeps line breaks, normalised', 'a\r\nb\rc\u2028d', 'a\nb\nc\nd'],
    ['at most one blank line', 'a\n\n\n\n\nb', 'a\n\nb'],
    ['controls inside lines show as escapes', 'a\u0000b\nc\u0007', 'a\\x00b\nc\\x07'],
    ['tidies each line', '  a  b \n\t c', 'a b\nc'],
    ['trims the whole text', '\n\n  a  \n\n', 'a'],
  ])('%s', (_name, input, expected) => {
    expect(plain(input, 'lines')).toBe(expected);
  });
});

describe('cleanUntrusted, layout verbatim (an exact field)', () => {
  it.each([
    ['spaces are kept as they are', '  lead  and trail ', '  lead  and trail '],
    ['line breaks and tabs are escaped', 'a\nb\tc', 'a\\x0ab\\x09c'],
    ['controls and bidi are escaped', '\u001b[2J\u202E', '\\x1b[2J\\u202e'],
  ])('%s', (_name, input, expected) => {
    expect(plain(input, 'verbatim')).toBe(expected);
  });
});

describe('cleanUntrusted targets', () => {
  it.each<[string, UntrustedTarget, string, string]>([
    ['plain has no markup', 'plain', '<b>*x*</b> [a](b)', '<b>*x*</b> [a](b)'],
    [
      'terminal: a title-setting OSC shows literally',
      'terminal',
      '\u001b]0;pwned\u0007ok',
      '\\x1b]0;pwned\\x07ok',
    ],
    ['terminal: a C1 CSI shows literally', 'terminal', 'a\u009b2Jb', 'a\\x9b2Jb'],
    [
      'slack escapes its control characters',
      'slack',
      '<!channel> & <@U1>',
      '&lt;!channel&gt; &amp; &lt;@U1&gt;',
    ],
    ['slack leaves the backslash of an escape alone (not Slack markup)', 'slack', 'a\u001bb', 'a\\x1bb'],
    ['slackCode wraps in a code span', 'slackCode', 'a`*b*`c <x>', "`a'*b*'c &lt;x&gt;`"],
    ['slackCode of nothing is a dash', 'slackCode', '', '\u2014'],
    [
      'teams escapes Markdown',
      'teams',
      '[click](https://evil.example) *b*',
      '\\[click\\]\\(https://evil.example\\) \\*b\\*',
    ],
    ['teams escapes the backslash of an escape', 'teams', 'a\u001bb', 'a\\\\x1bb'],
    [
      'discord escapes Markdown, mentions and the scheme of a URL',
      'discord',
      '[click](https://evil.example) <@123> @everyone ||s||',
      '\\[click\\]\\(https\\://evil.example\\) \\<\\@123\\> \\@everyone \\|\\|s\\|\\|',
    ],
    [
      'discord keeps a DN and a time as typed',
      'discord',
      'CN=Example CA, 12:00 UTC',
      'CN=Example CA, 12:00 UTC',
    ],
    ['discord escapes a leading list marker', 'discord', '- item', '\\- item'],
    [
      'googleChat entity-escapes the HTML subset',
      'googleChat',
      '<a href="https://evil.example">x</a> &amp;',
      '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp;amp;',
    ],
    [
      'googleChatText turns angle brackets into guillemets',
      'googleChatText',
      '<users/all> <https://evil.example|x>',
      '\u2039users/all\u203A \u2039https://evil.example|x\u203A',
    ],
    [
      'mattermost escapes the Slack forms it would convert to mentions',
      'mattermost',
      '<!channel> <!here> <@U1>',
      '\\<\\!channel\\> \\<\\!here\\> \\<\uFF20U1\\>',
    ],
    ['mattermost makes @ fullwidth', 'mattermost', '@all ops@example.com', '\uFF20all ops\uFF20example.com'],
    [
      'mattermost breaks autolinks',
      'mattermost',
      'https://evil.example www.evil.example',
      'https\\://evil.example www\\.evil.example',
    ],
    ['ascii: ASCII is unchanged', 'ascii', 'Hello, World! [x] ~', 'Hello, World! [x] ~'],
    ['ascii: accents fold', 'ascii', 'café naïve Ångström', 'cafe naive Angstrom'],
    ['ascii: combining sequence folds', 'ascii', 'e\u0301', 'e'],
    [
      'ascii: typographic punctuation maps',
      'ascii',
      '\u2014 \u2018q\u2019 \u201Cd\u201D \u2026',
      '- \'q\' "d" ...',
    ],
    ['ascii: anything else becomes ?', 'ascii', '中 \u{1F600} ß', '? ? ?'],
    ['ascii: a no-break space folds and collapses', 'ascii', 'a\u00A0 b\u00A0', 'a b'],
    ['ascii: a bidi override is an escape, not a ?', 'ascii', 'x\u202Ey', 'x\\u202ey'],
    ['quote: printable ASCII is kept', 'quote', '3008011200Z', '3008011200Z'],
    [
      'quote: everything else is escaped',
      'quote',
      'é中\u{1F600}\n\u202E',
      '\\xe9\\u4e2d\\u{1f600}\\x0a\\u202e',
    ],
    ['quote: spaces are exact', 'quote', ' 30 ', ' 30 '],
    ['quote: a lone surrogate is replaced, then escaped', 'quote', 'a\uD800', 'a\\ufffd'],
  ])('%s', (_name, target, input, expected) => {
    // Act
    const out = cleanUntrusted(input, { target });
    // Assess
    expect(out).toBe(expected);
  });

  it('quote and ascii produce printable ASCII only', () => {
    const text = `${HOSTILE.controls} \u4E2D\u{1F600}\u00A0\u2026`;
    expect(cleanUntrusted(text, { target: 'ascii' })).toMatch(/^[\x20-\x7E]*$/);
    expect(cleanUntrusted(text, { target: 'quote' })).toMatch(/^[\x20-\x7E]*$/);
  });
});

describe('escapeTeamsMarkdown', () => {
  it.each([
    ['a Markdown link shows literally', HOSTILE.markdownLink, '\\[click\\]\\(https://evil.example\\)'],
    ['an image', '![x](https://evil.example/p.png)', '!\\[x\\]\\(https://evil.example/p.png\\)'],
    ['bold', HOSTILE.bold, '\\*bold\\*'],
    ['italic, strike and code', '_i_ ~s~ `c`', '\\_i\\_ \\~s\\~ \\`c\\`'],
    ['a heading', '# Title', '\\# Title'],
    ['HTML and autolinks', '<b>x</b> <https://evil.example>', '\\<b\\>x\\</b\\> \\<https://evil.example\\>'],
    ['an entity', '&lt;', '\\&lt;'],
    ['a backslash', 'a\\*b', 'a\\\\\\*b'],
    ['a bullet at line start', '- item\n+ item', '\\- item\n\\+ item'],
    ['a numbered list at line start', '1. first\n2) second', '1\\. first\n2\\) second'],
    ['a version number is not a list', '192.0.2.10 and v1.2', '192.0.2.10 and v1.2'],
    ['a thematic break', '---', '\\---'],
  ])('%s', (_name, input, expected) => {
    expect(escapeTeamsMarkdown(input)).toBe(expected);
  });
});

describe('escapeDiscordMarkdown', () => {
  it.each([
    ['a masked link shows literally', HOSTILE.markdownLink, '\\[click\\]\\(https\\://evil.example\\)'],
    [
      'emphasis, strike, spoiler and code',
      '*b* _i_ ~~s~~ ||x|| `c`',
      '\\*b\\* \\_i\\_ \\~\\~s\\~\\~ \\|\\|x\\|\\| \\`c\\`',
    ],
    ['a user, role and channel mention', '<@1> <@&2> <#3>', '\\<\\@1\\> \\<\\@&2\\> \\<\\#3\\>'],
    ['a timestamp and a custom emoji', '<t:0:R> <:x:1>', '\\<t:0:R\\> \\<:x:1\\>'],
    ['@everyone and @here', '@everyone @here', '\\@everyone \\@here'],
    ['a heading, a quote and subtext', '# h\n> q\n-# s', '\\# h\n\\> q\n\\-\\# s'],
    ['a numbered list at line start', '1. first', '1\\. first'],
    ['a backslash', 'a\\*', 'a\\\\\\*'],
    ['a URL stays text', 'http://ca.example/x.crt', 'http\\://ca.example/x.crt'],
    ['plain punctuation is left alone', 'CN=a, O=b; 1.2.3 (not a link)', 'CN=a, O=b; 1.2.3 \\(not a link\\)'],
  ])('%s', (_name, input, expected) => {
    expect(escapeDiscordMarkdown(input)).toBe(expected);
  });
});

describe('escapeMattermostMarkdown', () => {
  it.each([
    ['a Markdown link', HOSTILE.markdownLink, '\\[click\\]\\(https\\://evil.example\\)'],
    ['the Slack broadcast Mattermost converts', HOSTILE.slackBroadcast, '\\<\\!channel\\>'],
    ['the Slack user mention Mattermost converts', HOSTILE.slackMention, '\\<\uFF20U123\\>'],
    [
      '@channel, @all, @here and a user',
      '@channel @all @here @alice',
      '\uFF20channel \uFF20all \uFF20here \uFF20alice',
    ],
    ['an e-mail address is no mailto link', 'admin@example.com', 'admin\uFF20example.com'],
    ['emphasis, strike, code and a table pipe', '*b* _i_ ~s~ `c` |', '\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` \\|'],
    ['an image, an entity and inline LaTeX', '![x](y) &lt; $x$', '\\!\\[x\\]\\(y\\) \\&lt; \\$x\\$'],
    ['www. and :// links', 'WWW.evil.example ftp://x', 'WWW\\.evil.example ftp\\://x'],
    [
      'a heading and list markers at line start',
      '# h\n- a\n+ b\n= c\n2) d',
      '\\# h\n\\- a\n\\+ b\n\\= c\n2\\) d',
    ],
    ['a version number is not a list', 'v1.2 and 192.0.2.10', 'v1.2 and 192.0.2.10'],
  ])('%s', (_name, input, expected) => {
    expect(escapeMattermostMarkdown(input)).toBe(expected);
  });
});

describe('escapeGoogleChatHtml and googleChatPlainText', () => {
  it.each([
    ['a link', '<a href="https://evil.example">x</a>', '&lt;a href="https://evil.example"&gt;x&lt;/a&gt;'],
    ['formatting and a line break', '<b>x</b><br>', '&lt;b&gt;x&lt;/b&gt;&lt;br&gt;'],
    ['an entity shows as typed', '&amp; &#60;', '&amp;amp; &amp;#60;'],
  ])('escapeGoogleChatHtml: %s', (_name, input, expected) => {
    expect(escapeGoogleChatHtml(input)).toBe(expected);
  });

  it.each([
    ['a mention of everyone', '<users/all>', '\u2039users/all\u203A'],
    ['a link', '<https://evil.example|click>', '\u2039https://evil.example|click\u203A'],
    [
      'text without brackets is unchanged',
      'example.com: expires in 3 days',
      'example.com: expires in 3 days',
    ],
  ])('googleChatPlainText: %s', (_name, input, expected) => {
    expect(googleChatPlainText(input)).toBe(expected);
  });
});

describe('cleanUntrusted length limit', () => {
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
    // "ab\x1bcd" is 8 units; "ab\x1b…" would be 7.
    ['never splits an escape (limit 6)', 'ab\u001bcd', 6, 'ab\u2026'],
    ['keeps an escape that fits (limit 7)', 'ab\u001bcd', 7, 'ab\\x1b\u2026'],
    // "a\u202e…" is 8 units.
    ['a \\u escape is one unit of cutting (limit 8)', 'a\u202Ebc', 8, 'a\\u202e\u2026'],
    ['one unit short of the escape (limit 7)', 'a\u202Ebc', 7, 'a\u2026'],
    ['the limit counts the text after cleaning', '  a  b  ', 3, 'a b'],
  ])('%s', (_name, input, max, expected) => {
    // Act
    const out = plain(input, 'line', max);
    // Assess
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
    expect(hasLoneSurrogate(out)).toBe(false);
  });

  it.each<[string, UntrustedTarget, string, number, string]>([
    ['teams counts its backslashes', 'teams', '[[[', 5, '\\[\\[\u2026'],
    ['teams never splits an escaped escape', 'teams', 'a\u001b', 5, 'a\u2026'],
    ['slack never splits an entity', 'slack', '&&&&&&&&&&', 12, '&amp;&amp;\u2026'],
    ['slackCode keeps the span closed', 'slackCode', 'abcdefghij', 8, '`abcde\u2026`'],
    ['discord counts its backslashes', 'discord', '<<<', 5, '\\<\\<\u2026'],
    ['mattermost never splits an escape', 'mattermost', '[[[[', 6, '\\[\\[\u2026'],
    ['googleChat never splits an entity', 'googleChat', '<<<<', 8, '&lt;\u2026'],
    ['ascii cuts with three dots', 'ascii', 'abcdefghij', 6, 'abc...'],
    ['ascii cuts after folding', 'ascii', '\u{1F600}\u{1F600}\u{1F600}\u{1F600}x', 4, '?...'],
    ['quote never splits an escape', 'quote', '\u00E9'.repeat(10), 9, '\\xe9\\xe9\u2026'],
  ])('%s', (_name, target, input, max, expected) => {
    // Act
    const out = cleanUntrusted(input, { target, maxLength: max });
    // Assess
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
  });

  it('bounds work on a huge input and still cuts on a boundary', () => {
    // Prepare
    const huge = '\u{1F600}'.repeat(500_000);
    // Act
    const out = plain(huge, 'line', 101);
    // Assess
    expect(out).toBe(`${'\u{1F600}'.repeat(50)}\u2026`);
  });

  it('a caller-given ellipsis replaces the target one', () => {
    expect(cleanUntrusted('abcdefgh', { target: 'plain', maxLength: 6, ellipsis: '...' })).toBe('abc...');
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

describe('graphemes and boundIdentifier', () => {
  it('segments user-perceived characters', () => {
    expect(graphemes('a\u{1F1EB}\u{1F1F7}e\u0301')).toEqual(['a', '\u{1F1EB}\u{1F1F7}', 'e\u0301']);
  });

  it('replaces only lone surrogates and noncharacters in an identifier, and keeps the rest exact', () => {
    expect(boundIdentifier('\uDE00\u{1F600}\uD83D', 100)).toBe('\uFFFD\u{1F600}\uFFFD');
    expect(boundIdentifier('id|a  b\u202E\uFFFF', 100)).toBe('id|a  b\u202E\uFFFD');
  });

  it('bounds an identifier on a grapheme boundary', () => {
    expect(boundIdentifier('abcd\u{1F600}xyz', 6)).toBe('abcd\u2026');
  });
});

describe('oneLine (the alert-text rule)', () => {
  it.each([
    // The two cases alert-text has always had: unchanged.
    { input: 'CN=evil\nBCC: everyone\r\n\u2028x', expected: 'CN=evil BCC: everyone x' },
    { input: '  spaced\t\tout  ', expected: 'spaced out' },
    // Kept by the old oneLine: now neutralised like everywhere else.
    { input: 'pay invoice\u202Egnp.exe', expected: 'pay invoice\\u202egnp.exe' },
    { input: 'red \u001b[31malert', expected: 'red \\x1b[31malert' },
    { input: 'a\uD800b', expected: 'a\uFFFDb' },
  ])('oneLine($input)', ({ input, expected }) => {
    expect(oneLine(input)).toBe(expected);
  });
});

describe('quoteUntrusted (certificate fields in messages)', () => {
  it.each([
    ['an ASCII time string as it was', '3008011200Z', MAX_QUOTE, '3008011200Z'],
    ['a time with a zone', '300101120000+0100', MAX_QUOTE, '300101120000+0100'],
    ['bytes outside printable ASCII', 'ab\u0000\u00FF', MAX_QUOTE, 'ab\\x00\\xff'],
    ['spaces are kept exactly', ' 3008011200Z ', MAX_QUOTE, ' 3008011200Z '],
    ['a long value: max units, then the ellipsis', 'a'.repeat(60), MAX_QUOTE, `${'a'.repeat(48)}\u2026`],
    ['exactly max units: no ellipsis', 'a'.repeat(48), MAX_QUOTE, 'a'.repeat(48)],
    ['max + 1 units fit in place of the ellipsis', 'a'.repeat(49), MAX_QUOTE, 'a'.repeat(49)],
    ['a custom max', 'http://ca.example/issuer.crt', 10, 'http://ca.\u2026'],
    ['an escape is never split at the cut', `abc${'\u0001'.repeat(20)}`, 10, 'abc\\x01\u2026'],
  ])('%s', (_name, input, max, expected) => {
    // Act
    const out = quoteUntrusted(input, max);
    // Assess
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max + 1);
  });

  it('defaults to MAX_QUOTE', () => {
    expect(quoteUntrusted('x'.repeat(100))).toBe(`${'x'.repeat(MAX_QUOTE)}\u2026`);
  });
});

describe('displaySafe (certificate names)', () => {
  it.each([
    ['an ordinary DN value', 'Beispiel, GmbH', 'Beispiel, GmbH'],
    ['spaces are kept exactly', ' lead  and trail ', ' lead  and trail '],
    ['a forged line and a bell', 'evil\nInjected: yes\u0007', 'evil\\x0aInjected: yes\\x07'],
    ['a bidi override', 'invoice\u202Egnp.exe', 'invoice\\u202egnp.exe'],
    // The old displaySafe kept these three.
    ['bidi marks', 'a\u200Eb\u200Fc\u061Cd', 'a\\u200eb\\u200fc\\u061cd'],
    [
      'Unicode text is kept',
      'Zertifizierungsstelle \u00C4\u00D6\u00DC \u{1F512}',
      'Zertifizierungsstelle \u00C4\u00D6\u00DC \u{1F512}',
    ],
  ])('%s', (_name, input, expected) => {
    expect(displaySafe(input)).toBe(expected);
  });
});

describe('jsonLine', () => {
  it('escapes what JSON leaves raw, and parses back to the same value', () => {
    // Prepare
    const value = { subject: 'a\u007f\u0085\u2028\u202E\u200B\u2066z', n: 1, bell: '\u0007' };
    // Act
    const line = jsonLine(value);
    // Assess
    expect(line).toBe('{"subject":"a\\u007f\\u0085\\u2028\\u202e\\u200b\\u2066z","n":1,"bell":"\\u0007"}');
    expect(line).not.toMatch(NEVER_SHOWN);
    expect(JSON.parse(line)).toEqual(value);
  });

  it('is JSON.stringify for ordinary values', () => {
    const value = { target: 'example.com:443', issuer: 'CN=Zertifizierungsstelle \u00C4', days: [1, 2] };
    expect(jsonLine(value)).toBe(JSON.stringify(value));
  });
});

describe('every target is safe for the same hostile string', () => {
  // ANSI (CSI and OSC), a bidi override, an isolate, a zero-width space, a line break, a lone surrogate, and markup.
  const hostile =
    '\u001b[2J\u001b]0;owned\u0007 <!channel> [click](https://evil.example) *b* `c` #h\r\n' +
    `- invoice\u202Egnp.exe \u2066x\u2069 pay\u200Bpal \uD800 & \u009b31m ${HOSTILE.slackLink}\n` +
    '@everyone <@123> ||spoiler|| www.evil.example <users/all> $x$ ![i](https://evil.example/i.png)';

  // One check per target: adding a target without deciding what "safe" means for it fails to compile.
  const markupIsInert: Record<UntrustedTarget, (out: string) => void> = {
    plain: (out) => expect(out).toContain('\\x1b[2J'),
    terminal: (out) => expect(out).toContain('\\x1b]0;owned\\x07'),
    slack: (out) => {
      expect(out).not.toMatch(/[<>]/);
      expect(out).not.toMatch(/&(?!amp;|lt;|gt;)/);
    },
    slackCode: (out) => {
      expect(out).toMatch(/^`[^`]*`$/);
      expect(out).not.toMatch(/[<>]/);
    },
    teams: (out) => {
      // Every Markdown character is preceded by an odd run of backslashes, i.e. escaped.
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])[[\]()<>*_`#&~]/);
      expect(out).not.toMatch(/^\s*[-+]/m);
    },
    discord: (out) => {
      // Every Markdown character is escaped, no URL can autolink and no line starts a list or quote.
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])[[\]()<>*_`#~|@]/);
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\]):\/\//);
      expect(out).not.toMatch(/^\s*[-+]/m);
    },
    googleChat: (out) => {
      expect(out).not.toMatch(/[<>]/);
      expect(out).not.toMatch(/&(?!amp;|lt;|gt;)/);
    },
    googleChatText: (out) => expect(out).not.toMatch(/[<>]/),
    mattermost: (out) => {
      // No @ at all (mentions are found after Markdown), no Slack form it converts, no autolink.
      expect(out).not.toContain('@');
      expect(out).not.toMatch(/<[!@]/);
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])[[\]()<>*_`#~|!&$]/);
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\]):\/\/|www\./i);
      expect(out).not.toMatch(/^\s*[-+=]/m);
    },
    github: (out) => {
      // No @ or # at all (mentions and issue references are found after Markdown), no HTML, no autolink.
      expect(out).not.toMatch(/[@#]/);
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])[[\]()<>*_`~|!&$]/);
      expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\]):\/\/|www\./i);
      expect(out).not.toMatch(/^\s*[-+=]/m);
    },
    html: (out) => {
      // No tag can open and no quoted attribute can end; every & starts one of the five entities.
      expect(out).not.toMatch(/[<>"']/);
      expect(out).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
    },
    ascii: (out) => expect(out).toMatch(/^[\x20-\x7E]*$/),
    quote: (out) => expect(out).toMatch(/^[\x20-\x7E]*$/),
  };

  for (const target of TARGETS) {
    it.each(LAYOUTS)(`${target} in layout %s`, (layout) => {
      // Act
      const out = cleanUntrusted(hostile, { target, layout });
      // Assess
      expect(out).not.toMatch(NEVER_SHOWN);
      expect(hasLoneSurrogate(out)).toBe(false);
      if (layout !== 'lines') expect(out).not.toMatch(/[\n\r\u2028\u2029]/);
      markupIsInert[target](out);
    });
  }
});

describe('cleanUntrusted for any input (seeded property loop)', () => {
  it('bounded, well-formed, free of neutralised characters, idempotent, and a cut keeps a prefix', () => {
    const random = seededRandom(0x7e47);
    for (let i = 0; i < 300; i++) {
      // Prepare
      const text = randomHostileString(random, 40);
      const layout = LAYOUTS[i % LAYOUTS.length]!;
      const max = Math.floor(random() * 80);
      for (const target of TARGETS) {
        // Act
        const out = cleanUntrusted(text, { target, layout, maxLength: max });
        // Assess
        expect(out.length).toBeLessThanOrEqual(max);
        expect(hasLoneSurrogate(out)).toBe(false);
        expect(out).not.toMatch(NEVER_SHOWN);
      }
      const full = plain(text, layout);
      expect(plain(full, layout)).toBe(full);
      const cut = plain(text, layout, max);
      if (cut !== full && cut !== '') expect(full.startsWith(cut.slice(0, -1))).toBe(true);
    }
  });
});
