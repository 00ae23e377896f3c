import { describe, expect, it } from 'vitest';
import { createDocumentClient, isLocalEndpoint, LOCAL_REGION } from '../../lambdas/store/dynamodb-client';

describe('isLocalEndpoint', () => {
  it.each([
    ['http://127.0.0.1:8000', true],
    ['http://127.9.8.7:1', true],
    ['http://localhost:4567', true],
    ['http://[::1]:8000', true],
    ['https://dynamodb.eu-west-1.amazonaws.com', false],
    ['http://10.0.0.5:8000', false],
    ['http://127.0.0.1.example.com', false],
    ['not a url', false],
  ])('%s -> %s', (endpoint, expected) => {
    expect(isLocalEndpoint(endpoint)).toBe(expected);
  });
});

describe('createDocumentClient', () => {
  it('uses static credentials and the local region for a loopback endpoint', async () => {
    // Prepare
    const clients = createDocumentClient('http://127.0.0.1:8000');

    // Act
    const region = await clients.client.config.region();
    const credentials = await clients.client.config.credentials();
    const attempts = await clients.client.config.maxAttempts();
    clients.destroy();

    // Assess
    expect(region).toBe(LOCAL_REGION);
    expect(credentials).toMatchObject({ accessKeyId: 'certwatch', secretAccessKey: 'certwatch-local' });
    expect(attempts).toBe(3);
  });

  it('passes an explicit region through for AWS', async () => {
    // Prepare
    const clients = createDocumentClient(undefined, 'eu-central-1');

    // Act
    const region = await clients.client.config.region();
    clients.destroy();

    // Assess
    expect(region).toBe('eu-central-1');
  });
});
