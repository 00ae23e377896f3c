import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';
import { defineRunLeaseContract } from './run-lease.contract';
import { defineStateStoreContract } from './state-store.contract';

defineStateStoreContract('DynamoDbStateStore on dynalite (embedded)', () => startEmbeddedDynamo());
defineRunLeaseContract('run lease on dynalite (embedded)', () => startEmbeddedDynamo());
