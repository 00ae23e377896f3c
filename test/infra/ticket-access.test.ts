/**
 * What the notifier may touch in the state table when a channel keeps tickets
 * (GitHub, Jira): its delivery records and the ticket records, with the same
 * two actions, and nothing else; without such a channel, delivery records only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemKeys } from '../../lambdas/store/dynamodb-state-store';
import { TICKET_PARTITIONS } from '../../lib/state-table';
import {
  logicalIdOf,
  policyStatementsOfRole,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

const tmp = tempDir('certwatch-tickets-');

function configWith(channel: string): string {
  return ['channels:', `  - ${channel}`, '    name: pager', 'endpoints:', '  - host: example.com', ''].join(
    '\n',
  );
}

describe('notifier access to ticket records', () => {
  let tickets: SynthesizedStack;
  let chatOnly: SynthesizedStack;

  beforeAll(() => {
    // Prepare: one stack with a GitHub channel, one with a Discord channel only
    process.env.CERTWATCH_TEST_GH_TOKEN = 'ghp_not-in-the-template';
    tickets = synthFromConfig(
      writeConfig(
        tmp.dir,
        'tickets.yaml',
        configWith('type: github\n    repo: acme/certs\n    token: secretsmanager:certwatch/github#token'),
      ),
      `${tmp.dir}/tickets.out`,
    );
    chatOnly = synthFromConfig(
      writeConfig(
        tmp.dir,
        'chat.yaml',
        configWith('type: discord\n    url: secretsmanager:certwatch/discord'),
      ),
      `${tmp.dir}/chat.out`,
    );
  });
  afterAll(() => tmp.cleanup());

  it('adds the ticket partitions to the notifier’s one state-table statement when a channel keeps tickets', () => {
    // Act
    const statements = policyStatementsOfRole(tickets.template, 'AlertingNotifierRole');
    // Assess
    expect(statements.filter((st) => st.Sid === 'StateTable')).toEqual([
      {
        Sid: 'StateTable',
        Effect: 'Allow',
        Action: ['dynamodb:Query', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(tickets.template, 'AWS::DynamoDB::Table', 'State'), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DELIVERY#*', 'TICKET#*'] } },
      },
    ]);
  });

  it('keeps the notifier to delivery records when no channel keeps tickets', () => {
    // Act
    const statements = policyStatementsOfRole(chatOnly.template, 'AlertingNotifierRole');
    // Assess
    expect(statements.find((st) => st.Sid === 'StateTable')?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DELIVERY#*'] },
    });
  });

  it('holds the notifier to the partition key the store gives ticket records', () => {
    // The stack may not import the store (an adapter); this ties its pattern to the store's keys.
    const prefix = itemKeys.ticketPartition('');
    expect(TICKET_PARTITIONS).toEqual([`${prefix}*`]);
    expect(itemKeys.ticket('gh', 'certwatch:example.com:443|192.0.2.10:expiry').pk.startsWith(prefix)).toBe(
      true,
    );
  });
});
