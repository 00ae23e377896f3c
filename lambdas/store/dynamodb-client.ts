/**
 * Builds the DynamoDB clients the state store is given. Composition roots
 * (handlers, CLI, tests) call this; the store itself only ever receives an
 * injected client.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The low-level client (for table management) and the document client (for items) over it. */
export interface DynamoDbClients {
  readonly client: DynamoDBClient;
  readonly documentClient: DynamoDBDocumentClient;
  /** Closes the sockets of the underlying client (the document client's own destroy() is a no-op). */
  destroy(): void;
}

/** Region used for local endpoints; DynamoDB Local and dynalite accept any region name. */
export const LOCAL_REGION = 'local';

/**
 * Marshalling shared by every certwatch document client: optional fields the
 * model leaves undefined are dropped rather than rejected; `null` is stored as
 * NULL, so nulls round-trip.
 */
export const DOCUMENT_TRANSLATE_CONFIG = {
  marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  unmarshallOptions: { wrapNumbers: false },
} as const;

/** True for http(s) endpoints on 127.0.0.0/8, ::1 or localhost. */
export function isLocalEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Creates a DynamoDB client and a document client over it.
 *
 * - No endpoint: the AWS defaults (region and credentials from the Lambda
 *   environment or the usual provider chain).
 * - A loopback endpoint (dynalite, DynamoDB Local): static dummy credentials
 *   and region `local`, so nothing ever asks IMDS or a profile for credentials,
 *   and short timeouts with few retries, because a local server that does not
 *   answer within seconds is not going to.
 * - Any other endpoint: used as given, with the default credential chain.
 */
export function createDocumentClient(endpoint?: string, region?: string): DynamoDbClients {
  const config: DynamoDBClientConfig = {};
  if (endpoint !== undefined) {
    config.endpoint = endpoint;
    if (isLocalEndpoint(endpoint)) {
      config.region = region ?? LOCAL_REGION;
      config.credentials = { accessKeyId: 'certwatch', secretAccessKey: 'certwatch-local' };
      config.maxAttempts = 3;
      config.requestHandler = { connectionTimeout: 2_000, requestTimeout: 15_000 };
    } else if (region !== undefined) {
      config.region = region;
    }
  } else if (region !== undefined) {
    config.region = region;
  }
  const client = new DynamoDBClient(config);
  const documentClient = DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATE_CONFIG);
  return { client, documentClient, destroy: () => client.destroy() };
}
