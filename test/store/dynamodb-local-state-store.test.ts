import { dynamoDbLocalAvailability, startDynamoDbLocal } from '../support/dynamodb-local';
import { defineDeliveryRecordsContract, sharedBackend } from './delivery-records.contract';
import { defineRunLeaseContract } from './run-lease.contract';
import { defineStateStoreContract } from './state-store.contract';
import { defineTicketRecordsContract } from './ticket-records.contract';

// In CI a missing java or jar must fail the suite (startDynamoDbLocal throws in beforeAll);
// on a developer machine the suite is skipped, loudly.
const availability = dynamoDbLocalAvailability();
const skip = !availability.available && !process.env.CI;
if (!availability.available && skip) {
  console.warn(`DynamoDB Local suite skipped: ${availability.reason}`);
}

const backend = sharedBackend(startDynamoDbLocal);
defineStateStoreContract('DynamoDbStateStore on DynamoDB Local', backend, { skip });
defineDeliveryRecordsContract('DynamoDbStateStore on DynamoDB Local', backend, { skip });
defineRunLeaseContract('run lease on DynamoDB Local', backend, { skip });
defineTicketRecordsContract('DynamoDbStateStore on DynamoDB Local', backend, { skip });
