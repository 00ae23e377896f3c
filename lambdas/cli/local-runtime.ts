/**
 * Local composition root: wires the same pipeline the Lambdas run to local
 * adapters — the embedded DynamoDB (or one given by URL), channels delivered
 * directly, and an in-memory queue.
 */
import { resolve } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { nodemailerTransport } from '../channels/smtp-transport';
import {
  type CertwatchConfig,
  envSecretResolver,
  loadConfig,
  resolveChannels,
  resolveEndpoints,
  resolveTrustProfiles,
} from '../config';
import type { TicketStore } from '../core/incident-lifecycle';
import type { Alert, Channel, DeliveryResult, Endpoint, TrustProfile } from '../core/model';
import { createNotifier, deliverAlerts, type Notifier, routesTo } from '../notify';
import type { AlertSink } from '../pipeline/process-check';
import { createDocumentClient } from '../store/dynamodb-client';
import { DynamoDbStateStore, ensureTable } from '../store/dynamodb-state-store';
import { openEmbeddedStateStore } from '../store/embedded-dynamodb';
import type { StateStore } from '../store/state-store';
import type { SuppressionStore } from '../store/suppression-store';
import type { CliIo } from './cli-io';

export const DEFAULT_CONFIG = 'certwatch.config.yaml';
export const DEFAULT_STATE_DIR = '.certwatch';
export const DEFAULT_TABLE = 'certwatch';

export interface StoreOptions {
  readonly stateDir: string;
  readonly dynamodbEndpoint: string | null;
  readonly table: string;
  readonly historyTtlDays?: number;
}

export interface OpenedStore {
  readonly store: StateStore;
  /** The same store, as the ticket channels' port. */
  readonly tickets: TicketStore;
  /** Maintenance windows and silences, in the same table. */
  readonly suppressions: SuppressionStore;
  /** Where the state lives, for messages. */
  readonly location: string;
  close(): Promise<void>;
}

/** The embedded store under `stateDir`, or the DynamoDB at `dynamodbEndpoint` (DynamoDB Local or AWS). */
export async function openStore(opts: StoreOptions): Promise<OpenedStore> {
  const ttl = opts.historyTtlDays === undefined ? {} : { historyTtlDays: opts.historyTtlDays };
  if (opts.dynamodbEndpoint === null) {
    const embedded = await openEmbeddedStateStore({ stateDir: opts.stateDir, tableName: opts.table, ...ttl });
    return {
      store: embedded.store,
      tickets: embedded.store,
      suppressions: embedded.store.suppressions(),
      location: `embedded DynamoDB in ${opts.stateDir}`,
      close: embedded.close,
    };
  }
  const endpoint = opts.dynamodbEndpoint === 'aws' ? undefined : opts.dynamodbEndpoint;
  const clients = createDocumentClient(endpoint);
  if (endpoint !== undefined) await ensureTable(clients.client, opts.table);
  const store = new DynamoDbStateStore({ client: clients.documentClient, tableName: opts.table, ...ttl });
  return {
    store,
    tickets: store,
    suppressions: store.suppressions(),
    location: `table ${opts.table} at ${endpoint ?? 'AWS'}`,
    close: async () => clients.destroy(),
  };
}

export interface LoadedConfig {
  readonly path: string;
  readonly config: CertwatchConfig;
  readonly endpoints: Endpoint[];
  /** The trust profiles the endpoints name (their CA files read and checked by `loadConfig`). */
  readonly trustProfiles: TrustProfile[];
  readonly channels: Channel[];
}

/** Loads and validates the config; `env:` references resolve from the CLI's environment. */
export async function loadLocalConfig(path: string, io: CliIo): Promise<LoadedConfig> {
  const full = resolve(io.cwd ?? process.cwd(), path);
  const config = loadConfig(full);
  const channels = await resolveChannels(config, envSecretResolver(io.env));
  return {
    path: full,
    config,
    endpoints: resolveEndpoints(config),
    trustProfiles: resolveTrustProfiles(config),
    channels,
  };
}

/**
 * Notifiers for every configured channel; SNS uses the default AWS credential chain, e-mail
 * nodemailer. `tickets` keeps the ticket channels' incident → ticket mapping (the run's state
 * store); without it (`notify --test`) they find their tickets by marker alone.
 */
export function createLocalNotifiers(
  channels: readonly Channel[],
  tickets?: TicketStore,
): { notifiers: Notifier[]; close(): void } {
  const sns = channels.some((c) => c.type === 'sns') ? new SNSClient({}) : undefined;
  const notifiers = channels.map((channel) =>
    createNotifier(channel, {
      ...(sns ? { sns } : {}),
      smtp: nodemailerTransport,
      ...(tickets ? { tickets } : {}),
    }),
  );
  return { notifiers, close: () => sns?.destroy() };
}

/**
 * Delivers alerts straight to the channels (locally there is no SNS-to-notifier hop). Each
 * configured channel is one delivery (one record) per alert; `onDelivered` hears every alert
 * sent, with the results of the channels it went to.
 */
export function localSink(
  notifiers: readonly Notifier[],
  onDelivered?: (alert: Alert, r: DeliveryResult[]) => void,
): AlertSink {
  return {
    channelsFor(alert, only) {
      return notifiers
        .filter((n) => routesTo(alert, n) && (only === null || only.includes(n.channel.name)))
        .map((n) => n.channel.name);
    },
    async deliver(alert, channels, opts = {}) {
      const targets =
        channels === null ? notifiers : notifiers.filter((n) => channels.includes(n.channel.name));
      const results = await deliverAlerts([alert], targets, opts);
      onDelivered?.(alert, results);
      return results;
    },
  };
}
