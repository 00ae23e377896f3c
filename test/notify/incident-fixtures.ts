/** Helpers for the incident channels' tests (PagerDuty, Opsgenie): what a hostile string must never leave behind. */

/** Characters the untrusted-text rules neutralise; a line feed is allowed where text may span lines. */
const NEUTRALISED =
  /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200B\u200E\u200F\u202A-\u202E\u2028\u2029\u2060\u2066-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Every string value (and key) in a parsed JSON body, with its path. */
export function stringsOf(value: unknown, path = '$'): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      [`${path}{key}`, k] as [string, string],
      ...stringsOf(v, `${path}.${k}`),
    ]);
  }
  return [];
}

/** The paths of strings in `body` that still hold a character the rules neutralise. */
export function unsafeStrings(body: unknown): string[] {
  return stringsOf(body)
    .filter(([, s]) => NEUTRALISED.test(s))
    .map(([path]) => path);
}
