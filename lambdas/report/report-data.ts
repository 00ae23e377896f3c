/**
 * What the HTML report shows, and how it is read from the state store: one row
 * per stored address (its state, its endpoint's owner and tags, the chain of
 * its newest check) with a short history of days left and failures. The CLI
 * (`certwatch report`) and the watchdog Lambda gather it the same way and hand
 * it to the pure renderer.
 */
import { isFailedCheck } from '../core/alert-policy';
import { mapWithConcurrency } from '../core/concurrency';
import type {
  AddressState,
  ChainCertificate,
  Endpoint,
  Finding,
  Status,
  SuppressionRef,
} from '../core/model';
import { STATUS_RANK } from '../core/model';
import type { StateStore } from '../store/state-store';

/** One stored check of an address, as the sparkline draws it. */
export interface ReportHistoryPoint {
  readonly checkedAt: string;
  readonly daysLeft: number | null;
  readonly status: Status;
  /** No certificate was obtained (the alert policy's failed check). */
  readonly failed: boolean;
}

/** One address of one endpoint. */
export interface ReportRow {
  readonly key: string;
  readonly endpointId: string;
  readonly endpointName: string;
  readonly address: string | null;
  readonly owner: string | null;
  readonly tags: readonly string[];
  readonly status: Status;
  readonly daysLeft: number | null;
  readonly notAfter: string | null;
  readonly issuer: string | null;
  readonly lastCheckedAt: string;
  readonly consecutiveFailures: number;
  readonly findings: readonly Finding[];
  /** The chain of the newest stored check that obtained one, leaf first; empty when none is stored. */
  readonly chain: readonly ChainCertificate[];
  /** When that chain was seen (ISO); null when none is stored. */
  readonly chainCheckedAt: string | null;
  /** Stored checks, oldest first. */
  readonly history: readonly ReportHistoryPoint[];
  /** The maintenance window or silence covering the address at its last check; absent when none. */
  readonly suppressedBy?: SuppressionRef;
}

/** Everything one report page shows. */
export interface ReportData {
  /** When the data was read (ISO); the timeline starts here. */
  readonly generatedAt: string;
  /** Where the state was read, e.g. `embedded DynamoDB in .certwatch`. */
  readonly source: string;
  /** Rows, most urgent first (see {@link byReportUrgency}). */
  readonly rows: readonly ReportRow[];
  /** Stored addresses left out beyond {@link GatherOptions.maxRows}. */
  readonly omitted: number;
}

export interface GatherOptions {
  /** Where the state lives, for the page's footer. */
  readonly source: string;
  readonly now: Date;
  /**
   * Most rows on the page; the least urgent beyond it are counted, not shown.
   * @default 2000
   */
  readonly maxRows?: number;
  /**
   * Stored checks read per address for the sparkline.
   * @default 60
   */
  readonly historyLimit?: number;
  /**
   * History reads in flight at once.
   * @default 8
   */
  readonly concurrency?: number;
  /**
   * Read only the `maxRows` soonest-expiring states (from the store's expiry index) and their
   * endpoints, instead of every state and endpoint: O(maxRows) reads at any table size. The
   * watchdog Lambda sets it; the CLI reads everything (a local store is small, and one written
   * before the index existed has no index items until its addresses are checked again).
   * The page then shows the soonest by certificate expiry, ordered by urgency; a state made
   * urgent by a finding alone but expiring late may be among the omitted.
   * @default false
   */
  readonly bounded?: boolean;
}

/** Fewest days left first (unknown last), worst status first, then by key: the table's order. */
export function byReportUrgency(
  a: Pick<AddressState, 'daysLeft' | 'status' | 'key'>,
  b: Pick<AddressState, 'daysLeft' | 'status' | 'key'>,
): number {
  const da = a.daysLeft ?? Number.POSITIVE_INFINITY;
  const db = b.daysLeft ?? Number.POSITIVE_INFINITY;
  if (da !== db) return da - db;
  return STATUS_RANK[b.status] - STATUS_RANK[a.status] || a.key.localeCompare(b.key);
}

/** Reads the report's data from the store: every address state, its endpoint and its recent history. */
export async function gatherReport(store: StateStore, opts: GatherOptions): Promise<ReportData> {
  const maxRows = opts.maxRows ?? 2000;
  const { endpoints, states, total } = opts.bounded
    ? await readSoonest(store, maxRows)
    : await readAll(store);
  const byId = new Map(endpoints.map((e) => [e.id, e]));
  const shown = states.slice(0, maxRows);
  const limit = opts.historyLimit ?? 60;
  const histories = await mapWithConcurrency(
    shown,
    opts.concurrency ?? 8,
    (state) => store.listHistory(state.key, limit),
    (error) => {
      throw error;
    },
  );
  const rows = shown.map((state, i): ReportRow => {
    const endpoint = byId.get(state.endpointId);
    const newestFirst = histories[i] ?? [];
    const withChain = newestFirst.find((r) => r.chain.length > 0);
    return {
      key: state.key,
      endpointId: state.endpointId,
      endpointName: state.endpointName,
      address: state.address,
      owner: endpoint?.owner ?? null,
      tags: endpoint?.tags ?? [],
      status: state.status,
      daysLeft: state.daysLeft,
      notAfter: state.notAfter,
      issuer: state.issuer,
      lastCheckedAt: state.lastCheckedAt,
      consecutiveFailures: state.consecutiveFailures,
      findings: state.findings,
      chain: withChain?.chain ?? [],
      chainCheckedAt: withChain?.checkedAt ?? null,
      ...(state.suppressedBy
        ? {
            suppressedBy: {
              kind: state.suppressedBy.kind,
              id: state.suppressedBy.id,
              name: state.suppressedBy.name,
              until: state.suppressedBy.until,
            },
          }
        : {}),
      history: newestFirst
        .map((r) => ({
          checkedAt: r.checkedAt,
          daysLeft: r.daysLeft,
          status: r.status,
          failed: isFailedCheck(r),
        }))
        .reverse(),
    };
  });
  return {
    generatedAt: opts.now.toISOString(),
    source: opts.source,
    rows,
    omitted: Math.max(0, total - shown.length),
  };
}

type ReadStates = { endpoints: Endpoint[]; states: AddressState[]; total: number };

async function readAll(store: StateStore): Promise<ReadStates> {
  const [endpoints, stored] = await Promise.all([store.listEndpoints(), store.listAllAddressStates()]);
  const states = stored.map((s) => s.state).sort(byReportUrgency);
  return { endpoints, states, total: states.length };
}

/** The `maxRows` soonest states, their endpoints, and (only when the page is full) the number of states. */
async function readSoonest(store: StateStore, maxRows: number): Promise<ReadStates> {
  const states = (await store.listSoonestAddressStates(maxRows)).map((s) => s.state).sort(byReportUrgency);
  const ids = [...new Set(states.map((s) => s.endpointId))];
  const endpoints = await mapWithConcurrency(
    ids,
    16,
    (id) => store.getEndpoint(id),
    (error) => {
      throw error;
    },
  );
  const total = states.length < maxRows ? states.length : await store.countAddressStates();
  return { endpoints: endpoints.filter((e): e is Endpoint => e !== null), states, total };
}
