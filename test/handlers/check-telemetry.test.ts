import { describe, expect, it } from 'vitest';
import type { DeliveryResult } from '../../lambdas/core/model';
import { METRIC_NAMESPACE, MetricNames } from '../../lambdas/core/metric-names';
import { CheckCounts } from '../../lambdas/handlers/runtime/check-telemetry';
import type { ProcessCheckOutcome, ProcessCheckStatus } from '../../lambdas/pipeline/process-check';

function outcome(status: ProcessCheckStatus, deliveries: readonly boolean[] = []): ProcessCheckOutcome {
  return {
    status,
    result: null,
    state: null,
    alerts: [],
    deliveries: deliveries.map(
      (ok, i): DeliveryResult => ({
        channel: 'stack:alert-topic',
        alertId: `a${i}`,
        ok,
        attempts: 1,
        error: ok ? null : 'refused',
      }),
    ),
  };
}

function emitted(counts: CheckCounts): Record<string, unknown>[] {
  const lines: string[] = [];
  counts.emit((line) => lines.push(line));
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('CheckCounts', () => {
  it.each([
    {
      name: 'an empty batch',
      outcomes: [],
      expected: { checked: 0, published: 0, failed: 0 },
    },
    {
      name: 'checked and duplicate deliveries',
      outcomes: [outcome('checked'), outcome('duplicate'), outcome('checked')],
      expected: { checked: 2, published: 0, failed: 0 },
    },
    {
      name: 'delivered and failed alerts, also from an outbox retry of a duplicate',
      outcomes: [
        outcome('checked', [true, false]),
        outcome('duplicate', [true]),
        outcome('unknown-endpoint'),
      ],
      expected: { checked: 1, published: 2, failed: 1 },
    },
  ])('writes one EMF record with the sums of $name', ({ outcomes, expected }) => {
    // Prepare
    const counts = new CheckCounts();
    for (const o of outcomes) counts.add(o);

    // Act
    const records = emitted(counts);

    // Assess
    expect(records).toHaveLength(1);
    const record = records[0]!;
    expect(record[MetricNames.ChecksCompleted]).toBe(expected.checked);
    expect(record[MetricNames.AlertsPublished]).toBe(expected.published);
    expect(record[MetricNames.DeliveryFailures]).toBe(expected.failed);
    expect(record._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[]],
          Metrics: [
            { Name: MetricNames.ChecksCompleted, Unit: 'Count' },
            { Name: MetricNames.AlertsPublished, Unit: 'Count' },
            { Name: MetricNames.DeliveryFailures, Unit: 'Count' },
          ],
        },
      ],
    });
  });
});
