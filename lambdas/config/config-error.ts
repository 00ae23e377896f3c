/**
 * Errors in the config file (or in what it refers to), reported all at once,
 * one per line, each naming the file, line, column and field path:
 * `certwatch.config.yaml:14:7: endpoints[2].port: expected an integer 1-65535, got "https"`.
 */

/** One thing wrong with the config. */
export interface ConfigIssue {
  /** The file (as given to `parseConfig` / `loadConfig`), or what was being resolved. */
  readonly source: string;
  /** 1-based line; null when no position is known (e.g. an unreadable file). */
  readonly line: number | null;
  /** 1-based column; null when no position is known. */
  readonly column: number | null;
  /** Field path, e.g. `endpoints[2].port`; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
}

/** The config is invalid; `message` lists every issue, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.issues = issues;
  }
}

/** `file:line:col: path: message`, leaving out the parts that are unknown. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const position =
    issue.line === null
      ? issue.source
      : `${issue.source}:${issue.line}${issue.column === null ? '' : `:${issue.column}`}`;
  return issue.path === '' ? `${position}: ${issue.message}` : `${position}: ${issue.path}: ${issue.message}`;
}

/** `endpoints[2].port` from `['endpoints', 2, 'port']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
