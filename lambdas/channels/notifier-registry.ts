/**
 * How each channel type delivers: the runtime half of `registry.ts`, kept
 * apart so that code which only sends alerts (the checker Lambda) never loads
 * the config schema. The `satisfies` clause makes a type registered there
 * without a notifier here, or a notifier for an unknown type, a compile error.
 */
import type { NotifierFactory } from './channel-notifier';
import { opsgenieNotifier } from './opsgenie-notifier';
import { pagerDutyNotifier } from './pagerduty-notifier';
import { discordNotifier } from './discord-notifier';
import { gitHubNotifier } from './github-notifier';
import { jiraNotifier } from './jira-notifier';
import { googleChatNotifier } from './google-chat-notifier';
import { mattermostNotifier } from './mattermost-notifier';
import type { Channel, ChannelType } from './registry';
import { slackNotifier } from './slack-notifier';
import { smtpNotifier } from './smtp-notifier';
import { snsNotifier } from './sns-notifier';
import { teamsNotifier } from './teams-notifier';
import { webhookNotifier } from './webhook-notifier';

/** The notifier factory of every channel type. */
export const NOTIFIER_FACTORIES = {
  sns: snsNotifier,
  slack: slackNotifier,
  teams: teamsNotifier,
  webhook: webhookNotifier,
  pagerduty: pagerDutyNotifier,
  opsgenie: opsgenieNotifier,
  discord: discordNotifier,
  googlechat: googleChatNotifier,
  mattermost: mattermostNotifier,
  smtp: smtpNotifier,
  github: gitHubNotifier,
  jira: jiraNotifier,
} as const satisfies { readonly [T in ChannelType]: NotifierFactory<Extract<Channel, { readonly type: T }>> };
