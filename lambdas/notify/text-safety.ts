/**
 * Text hygiene shared by the renderers. Alert text may quote what a server or
 * a certificate said (subjects, issuers, error messages), so every renderer
 * treats it as hostile: control characters, bidi overrides and lone surrogates
 * are removed before any format-specific escaping, and truncation never splits
 * a character (or, where the runtime can tell, a grapheme such as a flag emoji).
 *
 * Pure functions, no I/O.
 */

/**
 * C0/C1 controls except tab/newline/CR (which the single/multi-line helpers
 * handle), and the noncharacters U+FFFE/U+FFFF, which SNS attribute values reject.
 */
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]/g;
/** Bidi embeddings/overrides/isolates and marks: they let a name display as something else. */
const BIDI_CHARS = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;

/** Replaces lone surrogates (invalid UTF-16, rejected by SNS and mangled by JSON consumers) with U+FFFD. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * One display line: line breaks, tabs and control characters become spaces,
 * bidi controls are dropped, runs of whitespace collapse, ends are trimmed.
 */
export function singleLine(text: string): string {
  return wellFormed(text)
    .replace(BIDI_CHARS, '')
    .replace(LINE_BREAKS, ' ')
    .replace(/\t/g, ' ')
    .replace(CONTROL_CHARS, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/**
 * Multi-line text: line breaks normalised to `\n`, everything else as in
 * {@link singleLine} per line, at most one blank line in a row.
 */
export function multiLine(text: string): string {
  return wellFormed(text)
    .replace(LINE_BREAKS, '\n')
    .split('\n')
    .map((line) => singleLine(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const ASCII_FOLDS: Record<string, string> = {
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

/**
 * Printable ASCII only (0x20-0x7E), for SNS subjects and SMS: accents are
 * folded (é → e), common punctuation is mapped, anything else becomes `?`.
 * Input should already be a single line.
 */
export function toPrintableAscii(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFKD')) {
    if (/^[\u0300-\u036F]$/.test(ch)) continue;
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x20 && code <= 0x7e) out += ch;
    else out += ASCII_FOLDS[ch] ?? '?';
  }
  return out;
}

const graphemeSegmenter =
  typeof Intl !== 'undefined' && 'Segmenter' in Intl
    ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
    : null;

/** User-perceived characters of `text` (code points when the runtime lacks Intl.Segmenter). */
export function graphemes(text: string): string[] {
  if (graphemeSegmenter) return Array.from(graphemeSegmenter.segment(text), (s) => s.segment);
  return Array.from(text);
}

/**
 * The longest rendering of a prefix of `raw` that fits in `max` UTF-16 code
 * units. `render` applies the target format's escaping (and any wrapping), so
 * an escape sequence is never cut in half; `ellipsis` marks a cut.
 *
 * Lengths are UTF-16 code units (String#length), which is never less than the
 * code-point count, so the result also fits limits counted in characters.
 * `render` must never make text shorter (escaping and wrapping only add).
 */
export function fitRendered(
  raw: string,
  max: number,
  render: (text: string) => string = (t) => t,
  ellipsis = '\u2026',
): string {
  const whole = render(raw);
  if (whole.length <= max) return whole;
  // Only a prefix no longer than `max` can survive; bound the segmentation work for huge inputs.
  const parts = graphemes(raw.length > max + 64 ? raw.slice(0, max + 64) : raw);
  let lo = 0;
  let hi = parts.length - 1;
  let best = -1;
  // Binary search on the number of graphemes kept; rendered length grows with the prefix.
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

/** Plain truncation to `max` UTF-16 code units on a grapheme boundary, marked with `ellipsis`. */
export function truncate(text: string, max: number, ellipsis = '\u2026'): string {
  return fitRendered(text, max, (t) => t, ellipsis);
}
