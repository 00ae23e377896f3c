import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHANNEL_TYPES,
  checkerTopicArn,
  deliveredByNotifier,
  secretFields,
} from '../../lambdas/channels/registry';
import { loadConfig, parseConfig } from '../../lambdas/config';
import { itemKeys } from '../../lambdas/store/dynamodb-state-store';
import { CertwatchStack } from '../../lib/certwatch-stack';
import { STATE_TABLE_PARTITIONS } from '../../lib/state-table';
import { settingsFromConfig } from '../../lib/deploy-settings';
import {
  FULL_CONFIG_YAML,
  HOOK_SECRET_ARN,
  LOCAL_SECRET_VALUES,
  MINIMAL_CONFIG_YAML,
  type SynthesizedStack,
  logicalIdOf,
  policyStatementsOfRole,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

const tmp = tempDir('certwatch-stack-');
let full: SynthesizedStack;
let minimal: SynthesizedStack;

beforeAll(() => {
  // Prepare: the env references resolve to these values locally; none may reach the template.
  Object.assign(process.env, LOCAL_SECRET_VALUES);
  full = synthFromConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML), `${tmp.dir}/full.out`);
  minimal = synthFromConfig(writeConfig(tmp.dir, 'minimal.yaml', MINIMAL_CONFIG_YAML), `${tmp.dir}/min.out`);
});

afterAll(() => {
  for (const name of Object.keys(LOCAL_SECRET_VALUES)) delete process.env[name];
  tmp.cleanup();
});

describe('CertwatchStack state table', () => {
  it('is pk/sk on demand with PITR, TTL on expiresAt, deletion protection, encryption and RETAIN', () => {
    full.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    full.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
      },
    });
  });
});

describe('CertwatchStack functions', () => {
  it('runs all four handlers on nodejs24.x arm64 with source maps and JSON logs', () => {
    const functions = full.template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(4);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(fn.Properties.Environment.Variables.LOG_LEVEL).toBe('INFO');
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' });
    }
  });

  it('gives every function its own log group with one month retention, which only it can write', () => {
    full.template.resourceCountIs('AWS::Logs::LogGroup', 4);
    full.template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const [id, fn] of Object.entries(full.template.findResources('AWS::Lambda::Function'))) {
      const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
      expect(policyStatementsOfRole(full.template, roleId), id).toContainEqual({
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      });
    }
  });

  it('attaches no AWS managed policy to any role', () => {
    for (const role of Object.values(full.template.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('CertwatchStack alert topic', () => {
  it('is encrypted with a rotating customer managed key that CloudWatch alarms may use', () => {
    const keyId = logicalIdOf(full.template, 'AWS::KMS::Key', 'AlertingTopicKey');
    full.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    full.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('denies publishing without TLS and lets this account’s CloudWatch alarms publish', () => {
    const topicId = logicalIdOf(full.template, 'AWS::SNS::Topic', 'AlertingTopic');
    full.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it.each([
    ['email', 'ops@example.com', undefined],
    ['sms', '+15551234567', ['critical']],
    ['sms', '+15557654321', ['warning', 'critical']],
  ])('subscribes %s %s with severity filter %j', (protocol, endpoint, severities) => {
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: protocol,
      Endpoint: endpoint,
      FilterPolicy: severities ? { severity: severities } : Match.absent(),
    });
  });

  it('subscribes the notifier to certwatch alerts only (they carry `kind`), with a dead-letter queue', () => {
    const notifierId = logicalIdOf(full.template, 'AWS::Lambda::Function', 'AlertingNotifier');
    const dlqId = logicalIdOf(full.template, 'AWS::SQS::Queue', 'AlertingNotifierDeadLetterQueue');
    full.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [notifierId, 'Arn'] },
      FilterPolicy: { kind: [{ exists: true }] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
  });

  it("hands the notifier the state table for its delivery records, with the checker's history TTL", () => {
    const tableId = logicalIdOf(full.template, 'AWS::DynamoDB::Table', 'State');
    full.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          CHANNELS: Match.anyValue(),
          TABLE_NAME: { Ref: tableId },
          HISTORY_TTL_DAYS: '90',
          LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        },
      },
    });
  });

  it("passes a configured history TTL to the notifier too, so its delivery records expire with the checker's", () => {
    // Prepare
    const yaml = [
      'defaults:',
      '  historyTtlDays: 30',
      'channels:',
      '  - name: hook',
      '    type: webhook',
      '    url: secretsmanager:certwatch/hook#url',
      'endpoints:',
      '  - host: example.com',
      '',
    ].join('\n');

    // Act
    const s = synthFromConfig(writeConfig(tmp.dir, 'ttl.yaml', yaml), `${tmp.dir}/ttl.out`);

    // Assess
    for (const prefix of ['AlertingNotifier', 'PipelineChecker']) {
      const id = logicalIdOf(s.template, 'AWS::Lambda::Function', prefix);
      const variables = s.template.toJSON().Resources[id].Properties.Environment.Variables;
      expect(variables.HISTORY_TTL_DAYS).toBe('30');
    }
  });

  it('lets the notifier query and put delivery and ticket records only (DELIVERY#, TICKET#), nothing else in the table', () => {
    const statements = policyStatementsOfRole(full.template, 'AlertingNotifierRole');
    expect(statements.filter((st) => st.Sid === 'StateTable')).toEqual([
      {
        Sid: 'StateTable',
        Effect: 'Allow',
        Action: ['dynamodb:Query', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(full.template, 'AWS::DynamoDB::Table', 'State'), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DELIVERY#*', 'TICKET#*'] } },
      },
    ]);
  });

  it('holds the notifier to the partition key the store gives delivery records', () => {
    // The stack may not import the store (an adapter); this ties its partition pattern to the store's keys.
    const [pattern] = STATE_TABLE_PARTITIONS.notifier ?? [];
    const prefix = itemKeys.deliveryPartition('');
    expect(pattern).toBe(`${prefix}*`);
    expect(itemKeys.delivery('threshold|a:443|1.2.3.4|3', 'hook').pk.startsWith(prefix)).toBe(true);
  });
});

describe('CertwatchStack secrets', () => {
  it('never puts a webhook or heartbeat URL into the template', () => {
    for (const value of Object.values(LOCAL_SECRET_VALUES)) {
      expect(full.json).not.toContain(value);
      expect(full.json).not.toContain(new URL(value).host);
    }
  });

  it('creates one placeholder secret per env: reference and exports its ARN for ops to fill', () => {
    const placeholders = Object.keys(LOCAL_SECRET_VALUES).length;
    full.template.resourceCountIs('AWS::SecretsManager::Secret', placeholders);
    for (const name of Object.keys(LOCAL_SECRET_VALUES)) {
      full.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Description: Match.stringLikeRegexp(`env:${name} .*put-secret-value`),
        GenerateSecretString: Match.objectLike({ PasswordLength: 32 }),
      });
    }
    const outputs = full.template.findOutputs('*', {
      Description: Match.stringLikeRegexp('^Secret to fill'),
    });
    expect(Object.keys(outputs)).toHaveLength(placeholders);
  });

  it('hands the notifier secret references, never values', () => {
    const slackSecret = logicalIdOf(
      full.template,
      'AWS::SecretsManager::Secret',
      'SecretsEnvSLACKWEBHOOKURL',
    );
    const teamsSecret = logicalIdOf(
      full.template,
      'AWS::SecretsManager::Secret',
      'SecretsEnvTEAMSWEBHOOKURL',
    );
    const notifier = Object.values(full.template.findResources('AWS::Lambda::Function')).find(
      (fn) => fn.Properties.Environment.Variables.CHANNELS !== undefined,
    );
    const channels = JSON.parse(resolveJoin(notifier?.Properties.Environment.Variables.CHANNELS));
    expect(channels).toEqual([
      {
        name: 'ops-slack',
        type: 'slack',
        minSeverity: 'warning',
        url: { secretArn: `{{Ref:${slackSecret}}}` },
      },
      { name: 'ops-teams', type: 'teams', minSeverity: 'info', url: { secretArn: `{{Ref:${teamsSecret}}}` } },
      {
        name: 'hook',
        type: 'webhook',
        minSeverity: 'info',
        url: {
          secretArn:
            'arn:{{Ref:AWS::Partition}}:secretsmanager:{{Ref:AWS::Region}}:{{Ref:AWS::AccountId}}:secret:certwatch/hook',
          jsonKey: 'url',
        },
        secret: { secretArn: HOOK_SECRET_ARN },
        signatureHeader: 'X-Hook-Signature',
      },
      {
        name: 'ops-discord',
        type: 'discord',
        minSeverity: 'info',
        url: {
          secretArn: `{{Ref:${logicalIdOf(full.template, 'AWS::SecretsManager::Secret', 'SecretsEnvDISCORDWEBHOOKURL')}}}`,
        },
      },
      {
        name: 'ops-googlechat',
        type: 'googlechat',
        minSeverity: 'critical',
        url: {
          secretArn:
            'arn:{{Ref:AWS::Partition}}:secretsmanager:{{Ref:AWS::Region}}:{{Ref:AWS::AccountId}}:secret:certwatch/googlechat',
        },
      },
      {
        name: 'ops-mattermost',
        type: 'mattermost',
        minSeverity: 'info',
        url: {
          secretArn: `{{Ref:${logicalIdOf(full.template, 'AWS::SecretsManager::Secret', 'SecretsEnvMATTERMOSTWEBHOOKURL')}}}`,
        },
      },
      {
        name: 'oncall',
        type: 'pagerduty',
        minSeverity: 'info',
        routingKey: {
          secretArn:
            'arn:{{Ref:AWS::Partition}}:secretsmanager:{{Ref:AWS::Region}}:{{Ref:AWS::AccountId}}:secret:certwatch/pagerduty',
          jsonKey: 'routingKey',
        },
        url: 'https://events.eu.pagerduty.com/v2/enqueue',
      },
      {
        name: 'genie',
        type: 'opsgenie',
        minSeverity: 'info',
        apiKey: {
          secretArn:
            'arn:{{Ref:AWS::Partition}}:secretsmanager:{{Ref:AWS::Region}}:{{Ref:AWS::AccountId}}:secret:certwatch/opsgenie',
        },
        url: 'https://api.opsgenie.com',
      },
      {
        name: 'renewals',
        type: 'github',
        minSeverity: 'info',
        repo: 'acme/certificates',
        token: {
          secretArn:
            'arn:{{Ref:AWS::Partition}}:secretsmanager:{{Ref:AWS::Region}}:{{Ref:AWS::AccountId}}:secret:certwatch/github',
          jsonKey: 'token',
        },
        labels: ['tls'],
        apiUrl: 'https://api.github.com',
      },
      {
        name: 'jira',
        type: 'jira',
        minSeverity: 'info',
        baseUrl: 'https://acme.atlassian.net',
        project: 'OPS',
        issueType: 'Task',
        email: 'certwatch@example.com',
        apiToken: {
          secretArn:
            'arn:{{Ref:AWS::Partition}}:secretsmanager:{{Ref:AWS::Region}}:{{Ref:AWS::AccountId}}:secret:certwatch/jira',
        },
        resolveTransition: 'Done',
        labels: [],
      },
    ]);
  });

  it('lets the notifier read exactly its channel secrets and the watchdog only the heartbeat', () => {
    const slackSecret = logicalIdOf(
      full.template,
      'AWS::SecretsManager::Secret',
      'SecretsEnvSLACKWEBHOOKURL',
    );
    const teamsSecret = logicalIdOf(
      full.template,
      'AWS::SecretsManager::Secret',
      'SecretsEnvTEAMSWEBHOOKURL',
    );
    const heartbeat = logicalIdOf(
      full.template,
      'AWS::SecretsManager::Secret',
      'SecretsEnvCERTWATCHHEARTBEATURL',
    );
    expect(policyStatementsOfRole(full.template, 'AlertingNotifierRole')).toContainEqual({
      Sid: 'ReadChannelSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [
        { Ref: slackSecret },
        { Ref: teamsSecret },
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:certwatch/hook-??????',
            ],
          ],
        },
        HOOK_SECRET_ARN,
        { Ref: logicalIdOf(full.template, 'AWS::SecretsManager::Secret', 'SecretsEnvDISCORDWEBHOOKURL') },
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:certwatch/googlechat-??????',
            ],
          ],
        },
        { Ref: logicalIdOf(full.template, 'AWS::SecretsManager::Secret', 'SecretsEnvMATTERMOSTWEBHOOKURL') },
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:certwatch/pagerduty-??????',
            ],
          ],
        },
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:certwatch/opsgenie-??????',
            ],
          ],
        },
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:certwatch/github-??????',
            ],
          ],
        },
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:certwatch/jira-??????',
            ],
          ],
        },
      ],
    });
    expect(policyStatementsOfRole(full.template, 'WatchdogFunctionRole')).toContainEqual({
      Sid: 'ReadHeartbeat',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: { Ref: heartbeat },
    });
  });
});

describe('CertwatchStack channels (wired from the channel registry)', () => {
  it('delivers every registered type: the notifier gets those it delivers, the checker publishes the rest', () => {
    // Prepare: the full config has one channel of every type the stack delivers (it refuses the local-only ones)
    const channels = parseConfig(FULL_CONFIG_YAML, 'full.yaml').channels;
    const deployable = Object.values(CHANNEL_TYPES).filter((m) => m.stack.deliveredBy !== 'local');
    expect(new Set(channels.map((c) => c.type))).toEqual(new Set(deployable.map((m) => m.type)));
    // Act: the channel lists the template hands the notifier and the checker
    const envOf = (variable: string): Record<string, unknown>[] => {
      const fns = Object.values(full.template.findResources('AWS::Lambda::Function')).filter(
        (fn) => fn.Properties.Environment.Variables[variable] !== undefined,
      );
      expect(fns).toHaveLength(1);
      return JSON.parse(resolveJoin(fns[0]?.Properties.Environment.Variables[variable]));
    };
    const notifierChannels = envOf('CHANNELS');
    const checkerChannels = envOf('SNS_CHANNELS');
    // Assess
    for (const channel of channels) {
      if (deliveredByNotifier(channel)) {
        const entry = notifierChannels.find((c) => c.name === channel.name);
        expect(entry).toMatchObject({ type: channel.type, minSeverity: channel.minSeverity });
        for (const secret of secretFields(channel)) {
          expect(entry?.[secret.field]).toEqual(
            secret.value === null ? null : expect.objectContaining({ secretArn: expect.any(String) }),
          );
        }
      } else {
        expect(checkerChannels).toContainEqual({
          name: channel.name,
          topicArn: checkerTopicArn(channel),
          minSeverity: channel.minSeverity,
        });
      }
    }
    expect(notifierChannels.length + checkerChannels.length).toBe(channels.length);
  });
});

describe('CertwatchStack dashboard', () => {
  it('graphs expiries, run completeness, failures and alert delivery from the handler metrics', () => {
    const dashboards = Object.values(full.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.parse(resolveJoin(dashboards[0]?.Properties.DashboardBody)) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    const metrics = body.widgets.flatMap((w) => w.properties.metrics ?? []);
    const expressions = metrics.flatMap((m) =>
      m.flatMap((part) => (isExpression(part) ? [part.expression] : [])),
    );
    expect(expressions).toContain(
      `SORT(SEARCH('{Certwatch,Endpoint} MetricName="DaysToExpiry"', 'Minimum', 21600), MIN, ASC, 20)`,
    );
    const names = new Set(metrics.map((m) => `${m[0]}/${m[1]}`));
    for (const metric of [
      'Certwatch/SoonestDaysToExpiry',
      'Certwatch/RunExpected',
      'Certwatch/RunCompleted',
      'Certwatch/ChecksDispatched',
      'Certwatch/UncheckedAddresses',
      'Certwatch/StaleEndpoints',
      'Certwatch/AlertsPublished',
      'Certwatch/DeliveryFailures',
      'AWS/SNS/NumberOfNotificationsFailed',
      'AWS/SQS/ApproximateNumberOfMessagesVisible',
      'AWS/Lambda/Errors',
      'AWS/Lambda/Throttles',
    ]) {
      expect(names).toContain(metric);
    }
  });
});

function isExpression(value: unknown): value is { expression: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { expression?: unknown }).expression === 'string'
  );
}

describe('CertwatchStack without channels', () => {
  it('has no notifier, no secrets and no heartbeat', () => {
    minimal.template.resourceCountIs('AWS::Lambda::Function', 3);
    minimal.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    minimal.template.resourceCountIs('AWS::SNS::Subscription', 0);
    minimal.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ OPS_TOPIC_ARN: Match.anyValue(), HEARTBEAT: Match.absent() }),
      },
    });
  });

  it('defaults to rate(6 hours) in UTC', () => {
    minimal.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(6 hours)',
      ScheduleExpressionTimezone: 'UTC',
    });
  });
});

describe('CertwatchStack opsTopic', () => {
  it('sends alarms and watchdog pages to the given topic instead of the alert topic', () => {
    // Prepare
    const dir = tempDir('certwatch-ops-');
    try {
      const app = new App({ outdir: dir.dir, context: { 'aws:cdk:bundling-stacks': [] } });
      const opsStack = new Stack(app, 'Ops');
      const opsTopic = new sns.Topic(opsStack, 'Ops');
      const configPath = writeConfig(dir.dir, 'min.yaml', MINIMAL_CONFIG_YAML);
      // Act
      const stack = new CertwatchStack(app, 'Certwatch', {
        settings: settingsFromConfig(loadConfig(configPath)),
        opsTopic,
      });
      const template = Template.fromStack(stack);
      // Assess
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms.length).toBeGreaterThan(0);
      for (const alarm of alarms) {
        expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain('ExportsOutputRefOps');
      }
      const watchdog = Object.values(template.findResources('AWS::Lambda::Function')).find(
        (fn) => fn.Properties.Environment.Variables.OPS_TOPIC_ARN !== undefined,
      );
      expect(JSON.stringify(watchdog?.Properties.Environment.Variables.OPS_TOPIC_ARN)).toContain(
        'ExportsOutputRefOps',
      );
    } finally {
      dir.cleanup();
    }
  });
});

/** Renders an `Fn::Join` of strings and `Ref`s as text with `{{Ref:X}}` placeholders, for readable assertions. */
function resolveJoin(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`not a string or Fn::Join: ${JSON.stringify(value)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      return ref === undefined ? `{{${JSON.stringify(part).replace(/"/g, "'")}}}` : `{{Ref:${ref}}}`;
    })
    .join(join[0]);
}
