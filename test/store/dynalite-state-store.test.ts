import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';
import { defineStateStoreContract } from './state-store.contract';

defineStateStoreContract('DynamoDbStateStore on dynalite (embedded)', () => startEmbeddedDynamo());
