/**
 * What the checker writes per check and per batch: the "check processed" log line (the dashboard's
 * expiry table queries it) and one EMF record of fleet counts per invocation. Kept out of the
 * handler so `npm run bench:cost` measures the very bytes the checker logs.
 */
import { MetricNames } from '../../core/metric-names';
import type { CheckMessage } from '../../pipeline/check-message';
import type { ProcessCheckOutcome } from '../../pipeline/process-check';
import { emitMetrics, type Logger } from './telemetry';

/** Logs one check (fields of SOONEST_EXPIRIES_QUERY in lib/dashboard.ts). */
export function logCheckProcessed(log: Logger, msg: CheckMessage, outcome: ProcessCheckOutcome): void {
  log.info('check processed', {
    runId: msg.runId,
    endpointId: msg.endpointId,
    address: msg.address,
    outcome: outcome.status,
    status: outcome.result?.status,
    daysLeft: outcome.result?.daysLeft,
    findings: outcome.result?.findings.map((f) => f.code),
    alerts: outcome.alerts.map((a) => ({ id: a.id, kind: a.kind, severity: a.severity })),
    failedDeliveries: outcome.deliveries.filter((d) => !d.ok),
  });
}

/**
 * The fleet counts of one checker invocation, written as one EMF record instead of one per check:
 * the metrics are read as sums, so the alarms and graphs see the same values, and the log group
 * ingests one record per batch rather than ten.
 */
export class CheckCounts {
  #checked = 0;
  #published = 0;
  #failedDeliveries = 0;

  add(outcome: ProcessCheckOutcome): void {
    if (outcome.status === 'checked') this.#checked++;
    for (const d of outcome.deliveries) {
      if (d.ok) this.#published++;
      else this.#failedDeliveries++;
    }
  }

  /** Writes the record (also when every count is 0: a zero is data, and the graphs show the batch ran). */
  emit(write?: (line: string) => void): void {
    emitMetrics(
      [
        { name: MetricNames.ChecksCompleted, value: this.#checked },
        { name: MetricNames.AlertsPublished, value: this.#published },
        { name: MetricNames.DeliveryFailures, value: this.#failedDeliveries },
      ],
      {},
      write,
    );
  }
}
