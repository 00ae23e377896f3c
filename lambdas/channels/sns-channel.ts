/**
 * SNS channel: alerts published to an SNS topic of the user's own (a pager
 * integration, another account's queue). In AWS the checker publishes to it
 * directly, beside the stack's alert topic; locally the CLI does.
 */
import { field, invalid } from '../config/schema-fields';
import { type ChannelBase, defineChannel, type Resolved } from './channel-module';

/** An SNS channel as configured. */
export interface SnsChannelConfig extends ChannelBase<'sns'> {
  readonly topicArn: string;
}

/** An SNS channel ready to deliver (it holds no secret: it is the configured channel). */
export type SnsChannel = Resolved<SnsChannelConfig>;

const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;
const topicArn = field((v) =>
  typeof v === 'string' && SNS_ARN.test(v)
    ? v
    : invalid('an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:alerts', v),
);

/** The `sns` channel type. */
export const snsChannel = defineChannel<SnsChannelConfig>()({
  type: 'sns',
  fields: { topicArn },
  configure: (file) => ({ topicArn: file.topicArn }),
  secrets: {},
  stack: { deliveredBy: 'checker', topicArn: (channel) => channel.topicArn },
});
