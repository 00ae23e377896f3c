/**
 * GitHub Issues channel: one issue per incident (a certificate problem, an
 * expiry threshold band, an outage), labelled; reminders become comments and
 * the closing alert comments and closes it (core/incident-lifecycle.ts decides
 * which). The token is a secret, so in AWS the notifier delivers it, and the
 * notifier keeps the issue numbers in the state table (`TICKET#<channel>`).
 */
import { apiUrlField, field, type Invalid, invalid, secretRef } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** The REST API of github.com; GitHub Enterprise Server's is `https://HOST/api/v3`. */
export const GITHUB_API_URL = 'https://api.github.com';

/** A GitHub Issues channel as configured. */
export interface GitHubChannelConfig extends ChannelBase<'github'> {
  /** The repository the issues are opened in, `owner/name`. */
  readonly repo: string;
  /** A token allowed to read and write the repository's issues (fine-grained: Issues read and write). */
  readonly token: SecretRef;
  /** Labels of every issue, besides `certwatch` (which every issue carries). @default [] */
  readonly labels: readonly string[];
  /** REST API base URL. @default https://api.github.com */
  readonly apiUrl: string;
}

/** A GitHub Issues channel ready to deliver. */
export type GitHubChannel = Resolved<GitHubChannelConfig>;

// GitHub's rules: an owner is 1-39 letters, digits and hyphens; a repository name letters, digits, `.`, `-`, `_`.
const REPO = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

const repo = field((v): string | Invalid =>
  typeof v === 'string' && REPO.test(v) && !v.endsWith('/.') && !v.endsWith('/..')
    ? v
    : invalid('a repository as owner/name, e.g. acme/certificates', v),
);

/** A list of labels, each 1-50 characters without a comma (GitHub's label filter separates by commas). */
export const labelList = (what: string, pattern: RegExp) =>
  field((v): string[] | Invalid => {
    const expected = `a list of ${what}`;
    if (!Array.isArray(v) || v.length > 20) return invalid(`${expected} (at most 20)`, v);
    const bad = v.find((l) => typeof l !== 'string' || !pattern.test(l));
    return bad === undefined ? (v as string[]) : invalid(expected, bad);
  });

/** The `github` channel type. */
export const gitHubChannel = defineChannel<GitHubChannelConfig>()({
  type: 'github',
  fields: {
    repo,
    token: secretRef('a GitHub token'),
    labels: labelList('labels (1-50 characters, no comma)', /^[^,\r\n]{1,50}$/).optional(),
    apiUrl: apiUrlField({ base: true }).optional(),
  },
  configure: (file) => ({
    repo: file.repo,
    token: file.token,
    labels: file.labels ?? [],
    apiUrl: file.apiUrl ?? GITHUB_API_URL,
  }),
  secrets: { token: 'key' },
  stack: { deliveredBy: 'notifier', keepsTickets: true },
});
