import { startEmbeddedDynamo } from '../../lambdas/store/embedded-dynamodb';
import { defineDeliveryRecordsContract, sharedBackend } from './delivery-records.contract';
import { defineRunLeaseContract } from './run-lease.contract';
import { defineStateStoreContract } from './state-store.contract';
import { defineTicketRecordsContract } from './ticket-records.contract';

const backend = sharedBackend(() => startEmbeddedDynamo());
defineStateStoreContract('DynamoDbStateStore on dynalite (embedded)', backend);
defineDeliveryRecordsContract('DynamoDbStateStore on dynalite (embedded)', backend);
defineRunLeaseContract('run lease on dynalite (embedded)', backend);
defineTicketRecordsContract('DynamoDbStateStore on dynalite (embedded)', backend);
