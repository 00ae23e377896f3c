/**
 * Jira Cloud channel: one issue per incident in a project, with an issue
 * type; reminders become comments, and the closing alert comments and moves
 * the issue through the configured transition (core/incident-lifecycle.ts
 * decides which). The API token is a secret, so in AWS the notifier delivers
 * it, and the notifier keeps the issue keys in the state table (`TICKET#<channel>`).
 */
import { apiUrlField, field, type Invalid, invalid, secretRef } from '../config/schema-fields';
import type { SecretRef } from '../config/secret-ref';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';
import { labelList } from './github-channel';

/** A Jira Cloud channel as configured. */
export interface JiraChannelConfig extends ChannelBase<'jira'> {
  /** The site, e.g. `https://acme.atlassian.net`. */
  readonly baseUrl: string;
  /** The project key, e.g. `OPS`. */
  readonly project: string;
  /** The issue type, by name or id. @default 'Task' */
  readonly issueType: string;
  /** The Atlassian account's e-mail address (basic auth with the API token). */
  readonly email: string;
  /** An API token of that account. */
  readonly apiToken: SecretRef;
  /** The transition that resolves an issue, by name (any case) or id. @default 'Done' */
  readonly resolveTransition: string;
  /** Labels of every issue, besides `certwatch` and the incident's tag. @default [] */
  readonly labels: readonly string[];
}

/** A Jira Cloud channel ready to deliver. */
export type JiraChannel = Resolved<JiraChannelConfig>;

const project = field((v): string | Invalid =>
  typeof v === 'string' && /^[A-Z][A-Z0-9_]{1,99}$/.test(v) ? v : invalid('a Jira project key like OPS', v),
);

const name = (what: string) =>
  field((v): string | Invalid =>
    typeof v === 'string' && v.trim() !== '' && v.length <= 255 && !/[\r\n"\\]/.test(v)
      ? v.trim()
      : invalid(what, v),
  );

const email = field((v): string | Invalid =>
  typeof v === 'string' && /^[^\s@]+@[^\s@]+$/.test(v) && v.length <= 254
    ? v
    : invalid('the e-mail address of the Atlassian account', v),
);

/** The `jira` channel type. */
export const jiraChannel = defineChannel<JiraChannelConfig>()({
  type: 'jira',
  fields: {
    baseUrl: apiUrlField({ base: true }),
    project,
    issueType: name('an issue type name or id, e.g. Task').optional(),
    email,
    apiToken: secretRef('a Jira API token'),
    resolveTransition: name('a transition name or id, e.g. Done').optional(),
    labels: labelList('labels (1-255 characters, no spaces)', /^\S{1,255}$/).optional(),
  },
  configure: (file) => ({
    baseUrl: file.baseUrl,
    project: file.project,
    issueType: file.issueType ?? 'Task',
    email: file.email,
    apiToken: file.apiToken,
    resolveTransition: file.resolveTransition ?? 'Done',
    labels: file.labels ?? [],
  }),
  secrets: { apiToken: 'key' },
  stack: { deliveredBy: 'notifier', keepsTickets: true },
});
