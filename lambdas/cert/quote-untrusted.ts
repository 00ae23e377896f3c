/**
 * Owns how certificate parsing renders untrusted text (DN values, time strings,
 * URLs a server sent) for messages and display. Moved here verbatim from
 * parse-certificate.ts; the unified untrusted-text rule set will take it over.
 */

const MAX_QUOTE = 48;

/** Printable rendering of untrusted bytes for messages: ASCII kept, the rest escaped, length capped. */
export function quoteUntrusted(text: string, max = MAX_QUOTE): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out +=
      code >= 0x20 && code < 0x7f
        ? ch
        : code < 0x100
          ? `\\x${code.toString(16).padStart(2, '0')}`
          : `\\u{${code.toString(16)}}`;
    if (out.length >= max) return `${out.slice(0, max)}…`;
  }
  return out;
}

/** Display-safe text: control characters replaced so a DN cannot forge log lines or markup breaks. */
export function displaySafe(text: string): string {
  // C0/C1 controls, line separators and bidi overrides (which can make a name read as another).
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
}
