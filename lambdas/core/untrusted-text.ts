/**
 * The one rule set for untrusted text: anything the network put into a string
 * that certwatch shows (certificate subjects and issuers, server replies, error
 * messages, and the alert texts that quote them). The terminal, the alert texts
 * and every channel clean text here, so a hostile name reads the same wherever
 * it appears and cannot move a cursor, forge a line, reorder what is around it
 * or turn into a link or a mention.
 *
 * Cleaning takes three steps, each driven by a table:
 * 1. {@link UNTRUSTED_CHAR_RULES}: what happens to each dangerous or invisible
 *    character. The rules are the same for every target; only the
 *    {@link TextLayout} decides what whitespace means (one line, several lines,
 *    or a verbatim quote of a certificate field).
 * 2. {@link UNTRUSTED_TARGETS}: which characters the medium can carry (Unicode,
 *    or printable ASCII by folding or by escaping) and its markup escaping.
 * 3. An optional length limit, counted in UTF-16 units of the final text with
 *    its markup and ellipsis, cut so that no surrogate pair, grapheme (such as a
 *    flag emoji) or escape sequence is ever split.
 *
 * A neutralised character is shown as a visible escape (`\x1b`, `\u202e`) rather
 * than dropped, so a reader sees that the certificate or server sent it. A
 * backslash itself is not escaped: text that already reads `\x1b` looks the
 * same, which keeps cleaning idempotent (cleaned text matches no rule).
 *
 * Pure functions, no I/O.
 */

/**
 * How the text is laid out where it is shown; decides what whitespace means.
 * - `line`: one line of prose (a summary, a table cell, a chat field): line
 *   breaks and tabs become spaces, runs of spaces collapse, ends are trimmed.
 * - `lines`: prose that may span lines (an alert detail): line breaks become
 *   `\n`, each line is tidied as in `line`, at most one blank line in a row.
 * - `verbatim`: a quote of a field that must stay exact (a DN value, the bytes
 *   of a malformed time): nothing is collapsed or trimmed, and line breaks and
 *   tabs are escaped like any other control character.
 */
export type TextLayout = 'line' | 'lines' | 'verbatim';

/** What a character rule does to a match. */
export type CharAction =
  /** One ASCII space per match (a CRLF is one match). */
  | 'space'
  /** One `\n` per match. */
  | 'newline'
  /** A visible escape per code point: `\x1b`, `\u202e`, `\u{1f600}`. */
  | 'escape'
  /** U+FFFD REPLACEMENT CHARACTER per match. */
  | 'replace';

/** One class of characters and what each layout does with it. */
export interface CharRule {
  /** Why the class is dangerous; the reason the rule exists. */
  readonly why: string;
  /** Matches one occurrence (global flag). Classes are disjoint. */
  readonly pattern: RegExp;
  readonly action: Readonly<Record<TextLayout, CharAction>>;
}

function everywhere(action: CharAction): Readonly<Record<TextLayout, CharAction>> {
  return { line: action, lines: action, verbatim: action };
}

/**
 * The character rules, applied in this order. Characters outside every class
 * (letters, digits, punctuation, emoji, ZWJ/ZWNJ which emoji and scripts need,
 * no-break and other visible spaces) are left to the target.
 */
export const UNTRUSTED_CHAR_RULES = {
  invalid: {
    why: 'lone surrogates and the noncharacters U+FFFE/U+FFFF are not text: SNS rejects them and JSON consumers mangle them',
    pattern: /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uFFFE\uFFFF]/g,
    action: everywhere('replace'),
  },
  lineBreak: {
    why: 'a line break in a one-line field forges a new line (a log entry, a mail header, a table row)',
    pattern: /\r\n|[\n\r\u0085\u2028\u2029]/g,
    action: { line: 'space', lines: 'newline', verbatim: 'escape' },
  },
  tab: {
    why: 'a tab jumps columns and breaks alignment',
    pattern: /\t/g,
    action: { line: 'space', lines: 'space', verbatim: 'escape' },
  },
  control: {
    why: 'C0/C1 controls and DEL: ESC and CSI start terminal sequences that move the cursor, recolour or retitle',
    pattern: /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F]/g,
    action: everywhere('escape'),
  },
  bidi: {
    why: 'bidi embeddings, overrides, isolates and marks make a name display as another (invoice\u202Egnp.exe)',
    pattern: /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g,
    action: everywhere('escape'),
  },
  invisible: {
    why: 'zero-width spaces and the BOM hide inside a name so two different names look the same',
    pattern: /[\u200B\u2060\uFEFF]/g,
    action: everywhere('escape'),
  },
} as const satisfies Record<string, CharRule>;

/** The name of a character rule. */
export type CharRuleName = keyof typeof UNTRUSTED_CHAR_RULES;

/** Which characters a target can carry, after the rules ran. */
export type Charset =
  /** Any well-formed Unicode. */
  | 'unicode'
  /** Printable ASCII by folding: accents dropped (é → e), common punctuation mapped, anything else `?`. */
  | 'ascii-fold'
  /** Printable ASCII by escaping every other code point, so the original can be read back. */
  | 'ascii-escape';

/** What a target needs beyond the character rules. */
export interface TargetRules {
  readonly charset: Charset;
  /** Layout when the caller names none. */
  readonly layout: TextLayout;
  /** The medium's markup escaping, applied last; it must never make text shorter. */
  readonly markup: (text: string) => string;
  /** Marks a cut; it passes through `markup` but not through the rules. */
  readonly ellipsis: string;
}

/** Entity-escapes Slack's three control characters, so `<!channel>` or `<url|label>` show literally. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A Slack mrkdwn code span showing `text` literally: `*`, `_`, `~` stay as
 * typed; backticks cannot be escaped in Slack, so they become `'`. An empty
 * value is an em dash (an empty code span would show the backticks).
 */
export function slackCode(text: string): string {
  if (text === '') return '\u2014';
  return `\`${escapeSlack(text.replace(/`/g, "'"))}\``;
}

/**
 * Backslash-escapes Markdown syntax for Teams (CommonMark escapes any ASCII
 * punctuation): emphasis, code, links, images, headings, HTML, entities, and
 * the list / thematic-break markers that only count at the start of a line.
 */
export function escapeTeamsMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~#[\]()<>&]/g, '\\$&')
    .replace(/^([ \t]*)([-+=])/gm, '$1\\$2')
    .replace(/^([ \t]*)(\d{1,9})([.)])(?=[ \t]|$)/gm, '$1$2\\$3');
}

/**
 * Backslash-escapes Discord Markdown (embed titles, descriptions, field names and values; Discord
 * reads a backslash before any ASCII punctuation as that character): emphasis, strike, spoiler and
 * code marks, masked links, headings and quotes; the `<…>` forms Discord reads as mentions,
 * channels, emoji and timestamps; `@`, so `@everyone` reads as text; the `:` of `://`, so a URL
 * stays text instead of becoming a link; and the list markers that only count at the start of a
 * line (`-`, `-#`, `+`, `1.`).
 */
export function escapeDiscordMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~|#[\]()<>@]/g, '\\$&')
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/^([ \t]*)([-+])/gm, '$1\\$2')
    .replace(/^([ \t]*)(\d{1,9})([.)])(?=[ \t]|$)/gm, '$1$2\\$3');
}

/**
 * Escapes text for Mattermost, which renders Markdown in a message, an attachment's pretext, text,
 * title and field values:
 * - Markdown syntax is backslash-escaped as for Teams, plus `|` (tables), `!` and `$` (inline
 *   LaTeX); the `:` of `://` and the `.` of `www.`, so a URL stays text instead of becoming a link.
 *   Escaping `<`, `>` and `!` also means the Slack forms Mattermost converts on arrival
 *   (`<!channel>`, `<!here>`, `<!all>`, `<@user>`) never appear.
 * - `@` becomes the fullwidth `＠` (U+FF20): Mattermost finds `@channel`, `@all`, `@here` and
 *   `@user` in the parsed text, after Markdown has removed the backslashes, so an escaped `\@all`
 *   would still notify everyone. The fullwidth sign is visible and reads the same, but starts no
 *   mention (and no e-mail link). A backslash cannot do it and an invisible joiner would be shown
 *   as an escape by the `invisible` rule.
 */
export function escapeMattermostMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~|#[\]()<>!&$]/g, '\\$&')
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/(www)\./gi, '$1\\.')
    .replace(/@/g, '\uFF20')
    .replace(/^([ \t]*)([-+=])/gm, '$1\\$2')
    .replace(/^([ \t]*)(\d{1,9})([.)])(?=[ \t]|$)/gm, '$1$2\\$3');
}

/**
 * Escapes text for GitHub-flavoured Markdown (issue bodies and comments):
 * - Markdown syntax is backslash-escaped as for Mattermost, including `|` (tables), `!` (images)
 *   and `$` (GitHub renders `$…$` as math); the `:` of `://` and the `.` of `www.`, so a URL stays
 *   text instead of becoming a link; HTML (`<img>`, `<details>`, comments) by escaping `<` and `>`.
 * - `@` becomes the fullwidth `＠` (U+FF20) and `#` the fullwidth `＃` (U+FF03): GitHub finds
 *   mentions (`@org/team` notifies a whole team) and issue references (`#1`, `owner/repo#1`, which
 *   post a back-reference into that issue) in the rendered text, after Markdown has removed the
 *   backslashes, so only a character that is not `@` or `#` starts neither. Both stay visible.
 */
export function escapeGitHubMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~|[\]()<>!&$]/g, '\\$&')
    .replace(/:(?=\/\/)/g, '\\:')
    .replace(/(www)\./gi, '$1\\.')
    .replace(/@/g, '\uFF20')
    .replace(/#/g, '\uFF03')
    .replace(/^([ \t]*)([-+=])/gm, '$1\\$2')
    .replace(/^([ \t]*)(\d{1,9})([.)])(?=[ \t]|$)/gm, '$1$2\\$3');
}

/**
 * Entity-escapes text for the HTML subset Google Chat renders in card widgets (`textParagraph`,
 * `decoratedText`): `<b>`, `<a href>`, `<font>` in a certificate name show as typed.
 */
export function escapeGoogleChatHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text for a Google Chat message's `text` field. Its syntax has no escape character, so `<` and
 * `>` become the single guillemets ‹ › (U+2039, U+203A): no `<users/all>` mention and no
 * `<url|label>` link can form. `*`, `_`, `~` and backticks can at most set a word in bold, italics
 * or monospace.
 */
export function googleChatPlainText(text: string): string {
  return text.replace(/</g, '\u2039').replace(/>/g, '\u203A');
}

/**
 * Entity-escapes text for HTML text and quoted attribute values (the HTML report): `&`, `<`, `>`,
 * `"` and `'`, so a certificate name can neither open a tag nor leave an attribute.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function noMarkup(text: string): string {
  return text;
}

/**
 * Every place untrusted text is shown, as a target of the same rule set.
 * - `plain`: text without markup: alert texts, email, SNS attributes, error messages.
 * - `terminal`: the CLI. ANSI/OSC sequences start with ESC or a C1 control,
 *   which the `control` rule escapes, so the terminal needs no markup of its own.
 * - `slack`: a Block Kit `plain_text` object (Slack parses `&<>` even there).
 * - `slackCode`: a value inside a mrkdwn code span.
 * - `teams`: an Adaptive Card TextBlock or FactSet value (a Markdown subset).
 * - `discord`: Discord embed titles, descriptions, field names and values (Markdown).
 * - `googleChat`: Google Chat card widgets (`textParagraph`, `decoratedText`: an HTML subset).
 * - `googleChatText`: a Google Chat message's `text` (Chat syntax, which has no escape).
 * - `mattermost`: a Mattermost message, attachment text, title or field value (Markdown and mentions).
 * - `github`: a GitHub issue body or comment (GitHub-flavoured Markdown, mentions and references).
 * - `html`: the HTML report's text and quoted attribute values (never script or style).
 * - `ascii`: SNS subjects and SMS: printable ASCII, folded.
 * - `quote`: a certificate field quoted in a message, escaped to printable
 *   ASCII so the exact bytes can be read back.
 */
export const UNTRUSTED_TARGETS = {
  plain: { charset: 'unicode', layout: 'line', markup: noMarkup, ellipsis: '\u2026' },
  terminal: { charset: 'unicode', layout: 'line', markup: noMarkup, ellipsis: '\u2026' },
  slack: { charset: 'unicode', layout: 'line', markup: escapeSlack, ellipsis: '\u2026' },
  slackCode: { charset: 'unicode', layout: 'line', markup: slackCode, ellipsis: '\u2026' },
  teams: { charset: 'unicode', layout: 'line', markup: escapeTeamsMarkdown, ellipsis: '\u2026' },
  discord: { charset: 'unicode', layout: 'line', markup: escapeDiscordMarkdown, ellipsis: '\u2026' },
  googleChat: { charset: 'unicode', layout: 'line', markup: escapeGoogleChatHtml, ellipsis: '\u2026' },
  googleChatText: { charset: 'unicode', layout: 'line', markup: googleChatPlainText, ellipsis: '\u2026' },
  mattermost: { charset: 'unicode', layout: 'line', markup: escapeMattermostMarkdown, ellipsis: '\u2026' },
  github: { charset: 'unicode', layout: 'line', markup: escapeGitHubMarkdown, ellipsis: '\u2026' },
  html: { charset: 'unicode', layout: 'line', markup: escapeHtml, ellipsis: '\u2026' },
  ascii: { charset: 'ascii-fold', layout: 'line', markup: noMarkup, ellipsis: '...' },
  quote: { charset: 'ascii-escape', layout: 'verbatim', markup: noMarkup, ellipsis: '\u2026' },
} as const satisfies Record<string, TargetRules>;

/** Where cleaned text is shown. */
export type UntrustedTarget = keyof typeof UNTRUSTED_TARGETS;

/** Options of {@link cleanUntrusted}. */
export interface CleanOptions {
  readonly target: UntrustedTarget;
  /** @default the target's layout (`verbatim` for `quote`, else `line`) */
  readonly layout?: TextLayout;
  /** Longest result in UTF-16 units, markup and ellipsis included. @default unlimited */
  readonly maxLength?: number;
  /** @default the target's ellipsis (`...` for `ascii`, else `…`) */
  readonly ellipsis?: string;
}

/** `\x1b` below U+0100, `\u202e` in the BMP, `\u{1f600}` beyond. */
export function escapeCodePoint(codePoint: number): string {
  const hex = codePoint.toString(16);
  if (codePoint < 0x100) return `\\x${hex.padStart(2, '0')}`;
  if (codePoint <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\u{${hex}}`;
}

function escapeEach(text: string): string {
  let out = '';
  for (const ch of text) out += escapeCodePoint(ch.codePointAt(0) ?? 0);
  return out;
}

const ACTION_TEXT: Record<Exclude<CharAction, 'escape'>, string> = {
  space: ' ',
  newline: '\n',
  replace: '\uFFFD',
};

function applyRules(text: string, layout: TextLayout): string {
  let out = text;
  for (const rule of Object.values(UNTRUSTED_CHAR_RULES) as CharRule[]) {
    const action = rule.action[layout];
    out =
      action === 'escape'
        ? out.replace(rule.pattern, escapeEach)
        : out.replace(rule.pattern, ACTION_TEXT[action]);
  }
  return out;
}

const ASCII_FOLDS: Readonly<Record<string, string>> = {
  '\u2013': '-',
  '\u2014': '-',
  '\u2212': '-',
  '\u2018': "'",
  '\u2019': "'",
  '\u201C': '"',
  '\u201D': '"',
  '\u2026': '...',
  '\u00A0': ' ',
  '\u00D7': 'x',
};

function isPrintableAscii(codePoint: number): boolean {
  return codePoint >= 0x20 && codePoint <= 0x7e;
}

function foldToAscii(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFKD')) {
    if (/^[\u0300-\u036F]$/.test(ch)) continue;
    out += isPrintableAscii(ch.codePointAt(0) ?? 0) ? ch : (ASCII_FOLDS[ch] ?? '?');
  }
  return out;
}

function escapeToAscii(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    out += isPrintableAscii(code) ? ch : escapeCodePoint(code);
  }
  return out;
}

const CHARSETS: Record<Charset, (text: string) => string> = {
  unicode: (text) => text,
  'ascii-fold': foldToAscii,
  'ascii-escape': escapeToAscii,
};

function tidyLine(text: string): string {
  return text.replace(/ {2,}/g, ' ').trim();
}

const TIDY: Record<TextLayout, (text: string) => string> = {
  line: tidyLine,
  lines: (text) =>
    text
      .split('\n')
      .map(tidyLine)
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim(),
  verbatim: (text) => text,
};

/** The cleaned text before markup and length limit: rules, then charset, then layout. */
function prepare(text: string, layout: TextLayout, charset: Charset): string {
  return TIDY[layout](CHARSETS[charset](applyRules(text, layout)));
}

/**
 * Made on first use: creating a Segmenter loads ICU's break rules (~7 ms), which a process
 * that never cuts text (`certwatch --help`, most checks) should not pay at start-up.
 */
let graphemeSegmenter: Intl.Segmenter | null | undefined;

/** User-perceived characters of `text` (code points when the runtime lacks Intl.Segmenter). */
export function graphemes(text: string): string[] {
  graphemeSegmenter ??=
    typeof Intl !== 'undefined' && 'Segmenter' in Intl
      ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
      : null;
  if (graphemeSegmenter) return Array.from(graphemeSegmenter.segment(text), (s) => s.segment);
  return Array.from(text);
}

/** The escape sequences {@link escapeCodePoint} writes; a cut never falls inside one. */
const ESCAPE_SEQUENCE = /\\x[0-9a-f]{2}|\\u\{[0-9a-f]{1,6}\}|\\u[0-9a-f]{4}/g;

/** Units a cut may fall between: graphemes, with each escape sequence whole. */
function cutUnits(text: string): string[] {
  const units: string[] = [];
  let last = 0;
  for (const m of text.matchAll(ESCAPE_SEQUENCE)) {
    if (m.index > last) units.push(...graphemes(text.slice(last, m.index)));
    units.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) units.push(...graphemes(text.slice(last)));
  return units;
}

/**
 * The longest rendering of a prefix of `text` that fits in `max` UTF-16 units.
 * `render` applies the target's markup (and any wrapping), so an escape is
 * never cut in half; `ellipsis` marks a cut. Lengths are UTF-16 code units,
 * never fewer than code points, so the result also fits limits counted in
 * characters. `render` must never make text shorter.
 */
export function fitRendered(
  text: string,
  max: number,
  render: (text: string) => string = noMarkup,
  ellipsis = '\u2026',
): string {
  const whole = render(text);
  if (whole.length <= max) return whole;
  // Only a prefix no longer than `max` can survive; bound the segmentation work for huge inputs.
  const parts = cutUnits(text.length > max + 64 ? text.slice(0, max + 64) : text);
  let lo = 0;
  let hi = parts.length - 1;
  let best = -1;
  // Binary search on the number of units kept; the rendered length grows with the prefix.
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (render(parts.slice(0, mid).join('') + ellipsis).length <= max) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (best >= 0) return render(parts.slice(0, best).join('') + ellipsis);
  const bare = render('');
  return bare.length <= max ? bare : '';
}

/**
 * Cleans untrusted text for one target: the character rules for the layout,
 * the target's charset and markup, and the length limit.
 */
export function cleanUntrusted(text: string, options: CleanOptions): string {
  const target: TargetRules = UNTRUSTED_TARGETS[options.target];
  const prepared = prepare(text, options.layout ?? target.layout, target.charset);
  if (options.maxLength === undefined) return target.markup(prepared);
  return fitRendered(prepared, options.maxLength, target.markup, options.ellipsis ?? target.ellipsis);
}

/**
 * Identifiers (alert ids, endpoint ids, channel names) are certwatch's own and
 * must round-trip exactly, so they are not cleaned: only lone surrogates and
 * noncharacters are replaced (the `invalid` rule) and the length is bounded.
 */
export function boundIdentifier(text: string, max: number): string {
  return fitRendered(text.replace(UNTRUSTED_CHAR_RULES.invalid.pattern, '\uFFFD'), max);
}

const JSON_ESCAPED = new RegExp(
  (['lineBreak', 'control', 'bidi', 'invisible'] as const)
    .map((name) => UNTRUSTED_CHAR_RULES[name].pattern.source)
    .join('|'),
  'g',
);

/**
 * `JSON.stringify` for JSON Lines: every character a rule neutralises that
 * JSON leaves raw (DEL, C1, U+2028/U+2029, bidi, zero-width) is written as a
 * `\uXXXX` escape, so the parsed value is unchanged while the line stays one
 * line and shows nothing hostile when printed.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_ESCAPED, (match) =>
    Array.from(match, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  );
}

// ---------------------------------------------------------------------------
// The functions the older call sites use, each one line over the rule set.
// ---------------------------------------------------------------------------

/** One line of plain text (alert summaries and actions). Replaces alert-text's `oneLine`. */
export function oneLine(text: string): string {
  return cleanUntrusted(text, { target: 'plain' });
}

/** Default `max` of {@link quoteUntrusted}. */
export const MAX_QUOTE = 48;

/**
 * A certificate field quoted in a message: printable ASCII kept, everything
 * else escaped, at most `max` units quoted and then `…` (so at most `max` + 1).
 */
export function quoteUntrusted(text: string, max = MAX_QUOTE): string {
  return cleanUntrusted(text, { target: 'quote', maxLength: max + 1 });
}

/** A certificate name shown as it is (no trimming or collapsing), neutralised characters escaped. */
export function displaySafe(text: string): string {
  return cleanUntrusted(text, { target: 'plain', layout: 'verbatim' });
}
