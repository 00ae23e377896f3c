import {
  type CertwatchConfig,
  ConfigError,
  type ConfigIssue,
  resolveEndpoints,
  resolveTrustProfiles,
  type SecretRef,
} from '../lambdas/config';
import {
  checkerTopicArn,
  deliveredByNotifier,
  localOnlyReason,
  secretFields,
} from '../lambdas/channels/registry';
import type { ChatChannelSpec } from './alerting';
import type { CertwatchSettings } from './certwatch-stack';
import type { SnsChannelSpec } from './check-pipeline';
import { ScheduleExpressionError, scheduleIntervalMs } from '../lambdas/core/schedule-interval';

/**
 * The deployable settings of a validated config. Refuses, as a `ConfigError`
 * in the CLI's `file:line:col: field: problem` form, what the CLI accepts but
 * AWS must not get: plain-text secrets (they would be stored in the
 * CloudFormation template; use `env:` or `secretsmanager:`), channels only the
 * local CLI delivers (see `localOnlyReason`) and schedules whose run interval
 * cannot be derived. A CA file `loadConfig` could not use was refused before
 * this (the same line `run` prints); the trust profiles the endpoints name are
 * bundled with the checker.
 */
export function settingsFromConfig(config: CertwatchConfig): CertwatchSettings {
  const issues: ConfigIssue[] = [];
  const issue = (path: string, message: string) => {
    const at = config.locations[path];
    issues.push({ source: config.source, line: at?.line ?? null, column: at?.column ?? null, path, message });
  };
  const deployable = (ref: SecretRef | null, path: string) => {
    if (ref?.kind !== 'literal') return;
    issue(
      path,
      'a plain value cannot be deployed (it would be stored in the CloudFormation template); ' +
        'use env:NAME (the stack creates a secret to fill in) or secretsmanager:NAME_OR_ARN[#jsonKey]',
    );
  };

  try {
    scheduleIntervalMs(config.schedule);
  } catch (error) {
    if (!(error instanceof ScheduleExpressionError)) throw error;
    issue('schedule', error.message);
  }
  const snsChannels: SnsChannelSpec[] = [];
  const chatChannels: ChatChannelSpec[] = [];
  for (const [i, channel] of config.channels.entries()) {
    const localOnly = localOnlyReason(channel);
    if (localOnly !== null) {
      issue(`channels[${i}].type`, localOnly);
      continue;
    }
    if (!deliveredByNotifier(channel)) {
      snsChannels.push({
        name: channel.name,
        topicArn: checkerTopicArn(channel),
        minSeverity: channel.minSeverity,
      });
      continue;
    }
    for (const secret of secretFields(channel)) deployable(secret.value, `channels[${i}].${secret.field}`);
    chatChannels.push(channel);
  }
  deployable(config.heartbeatUrl, 'heartbeatUrl');
  for (const [i, endpoint] of config.endpoints.entries()) {
    const keyRef = endpoint.probe.clientCertificate?.keyRef;
    if (keyRef !== undefined && !keyRef.startsWith('secretsmanager:')) {
      issue(
        `endpoints[${i}].clientKey`,
        `${keyRef} cannot be read by the deployed checker; keep the key in Secrets Manager and write secretsmanager:NAME_OR_ARN[#jsonKey]`,
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);

  return {
    schedule: config.schedule,
    timeZone: config.timezone,
    endpoints: resolveEndpoints(config),
    trustProfiles: resolveTrustProfiles(config),
    // Left out, the stack derives it from the inventory and the schedule (lambdas/core/run-capacity.ts).
    ...(config.checker.concurrencyGiven ? { checkerConcurrency: config.checker.concurrency } : {}),
    historyTtlDays: config.defaults.historyTtlDays,
    perEndpointMetrics: config.checker.perEndpointMetrics,
    dashboard: config.dashboard,
    defaultTimeoutMs: config.defaults.timeoutMs,
    subscriptions: config.subscriptions,
    snsChannels,
    chatChannels,
    heartbeatUrl: config.heartbeatUrl ?? undefined,
    ...(config.vpc === null ? {} : { vpc: config.vpc }),
  };
}
