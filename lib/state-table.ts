import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/**
 * DynamoDB actions each handler's use of the state store needs, read off
 * `DynamoDbStateStore` (every write is a single-item write; no Scan, no batch
 * write, no transaction) and held to what the bundled functions really call by the bundle smoke test:
 * - dispatcher: `syncInventory` (Query, PutItem, DeleteItem), `createRun` (PutItem) and
 *   `recordDispatchShard` (UpdateItem);
 * - checker: `getEndpoint`/`getAddressState` (GetItem), `listAddressStates` (Query),
 *   `saveAddressState`/`appendHistory` (PutItem), `recordCheckCompleted` (UpdateItem),
 *   `deleteAddressState` (DeleteItem, retiring addresses that left DNS);
 * - watchdog: `listRuns`/`listAllAddressStates` (Query), `getRun` (GetItem), `finishRun` (UpdateItem),
 *   `getRunProgress` (BatchGetItem: the run's counter shards in one read);
 * - notifier: `listDeliveries` (Query) and `saveDelivery` (conditional PutItem), on delivery
 *   records only (see `STATE_TABLE_PARTITIONS`).
 */
export const STATE_TABLE_ACCESS = {
  dispatcher: ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
  checker: [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
  watchdog: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  notifier: ['dynamodb:Query', 'dynamodb:PutItem'],
} as const satisfies Record<string, readonly string[]>;

export type StateTableUser = keyof typeof STATE_TABLE_ACCESS;

/**
 * Partition keys a user is held to (`dynamodb:LeadingKeys`), for a user that touches one kind of
 * item only: the notifier, which reads and writes delivery records (`DELIVERY#<alertId>`, see
 * `itemKeys.deliveryPartition`) and nothing else. Absent: the whole table.
 */
export const STATE_TABLE_PARTITIONS: Partial<Record<StateTableUser, readonly string[]>> = {
  notifier: ['DELIVERY#*'],
};

/**
 * The ticket records (`TICKET#<channel>`, see `itemKeys.ticketPartition`): the notifier's partitions
 * also include them when a channel keeps tickets (GitHub, Jira), and only then.
 */
export const TICKET_PARTITIONS: readonly string[] = ['TICKET#*'];

/** Props of the state table. */
export interface StateTableProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN (the state and alert bookkeeping must survive a bad deploy)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Refuse DeleteTable calls.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Server-side encryption.
   * @default dynamodb.TableEncryption.AWS_MANAGED
   */
  readonly encryption?: dynamodb.TableEncryption;
}

/**
 * The single certwatch table: inventory, address states, history and runs,
 * keyed `pk`/`sk` (strings), on-demand, with point-in-time recovery and TTL on
 * `expiresAt` (epoch seconds; history and runs expire, state does not).
 */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      encryption: props.encryption ?? dynamodb.TableEncryption.AWS_MANAGED,
    });
  }

  /**
   * Grants `user` exactly the item actions its handler performs, on the table only (no indexes
   * exist), and on its partitions only when `STATE_TABLE_PARTITIONS` names them (plus
   * `alsoPartitions`: the notifier's ticket records, when a channel keeps tickets).
   */
  grantStoreAccess(
    grantee: iam.IGrantable,
    user: StateTableUser,
    opts: { readonly alsoPartitions?: readonly string[] } = {},
  ): void {
    const held = STATE_TABLE_PARTITIONS[user];
    const partitions = held ? [...held, ...(opts.alsoPartitions ?? [])] : undefined;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'StateTable',
        actions: [...STATE_TABLE_ACCESS[user]],
        resources: [this.table.tableArn],
        ...(partitions
          ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...partitions] } } }
          : {}),
      }),
    );
  }
}
