/**
 * CloudWatch metric names certwatch emits. A contract between the handlers
 * (which emit them, as embedded metric format on stdout) and the CDK alarms and
 * dashboard (which read them): renaming one silently breaks an alarm.
 *
 * Pure constants only: no SDK, no process.env.
 */

/** Namespace of every certwatch custom metric. */
export const METRIC_NAMESPACE = 'Certwatch';

/** Dimension names used with the metrics below. */
export const MetricDimensions = {
  /** Endpoint id (`host:port`); only on `DaysToExpiry`. */
  Endpoint: 'Endpoint',
} as const;

/** Metric names, keyed by themselves so call sites read `MetricNames.DispatchSucceeded`. */
export const MetricNames = {
  /** Dispatcher: 1 per run that enqueued every check (Sum). The "monitor is alive" signal. */
  DispatchSucceeded: 'DispatchSucceeded',
  /** Dispatcher: address checks enqueued by a run (Sum). */
  ChecksDispatched: 'ChecksDispatched',
  /** Checker: address checks completed (Sum). */
  ChecksCompleted: 'ChecksCompleted',
  /** Checker: days until the earliest relevant expiry, dimension `Endpoint` (Minimum). */
  DaysToExpiry: 'DaysToExpiry',
  /** Watchdog, when it judges a run: the smallest days-to-expiry across all endpoints, no dimension (Minimum). */
  SoonestDaysToExpiry: 'SoonestDaysToExpiry',
  /** Checker: alerts published to the alert topic (Sum). */
  AlertsPublished: 'AlertsPublished',
  /** Checker and notifier: deliveries that failed after retries (Sum). */
  DeliveryFailures: 'DeliveryFailures',
  /** Watchdog: checks a judged run expected (Sum). */
  RunExpected: 'RunExpected',
  /** Watchdog: checks a judged run completed (Sum). */
  RunCompleted: 'RunCompleted',
  /** Watchdog: addresses a judged run did not check (Maximum). */
  UncheckedAddresses: 'UncheckedAddresses',
  /** Watchdog: addresses whose last success is older than two schedule intervals (Maximum). */
  StaleEndpoints: 'StaleEndpoints',
  /**
   * The host that runs the canary (the watchdog, in AWS): fixtures the detector judged wrongly in
   * one canary run, 0 when all were right (Maximum). Any value above 0 means the detector is broken.
   */
  CanaryFailures: 'CanaryFailures',
} as const;

export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

/**
 * When a metric is sent. CloudWatch bills a custom metric by the hour, and only for the hours in
 * which it is sent, so its cadence is its price (`npm run bench:cost` prices each from this table):
 * - `run`: once per run (the dispatch, the canary, the watchdog's judgement of the run);
 * - `checks`: with every checker batch, for as long as a run's checks take;
 * - `tick`: on every watchdog tick (every 15 minutes), so in every hour;
 * - `endpoint`: once per run for each endpoint, one metric each (the opt-in `DaysToExpiry`).
 */
export type MetricCadence = 'run' | 'checks' | 'tick' | 'endpoint';

export const METRIC_CADENCE = {
  DispatchSucceeded: 'run',
  ChecksDispatched: 'run',
  ChecksCompleted: 'checks',
  DaysToExpiry: 'endpoint',
  SoonestDaysToExpiry: 'run',
  AlertsPublished: 'checks',
  // The notifier sends it only when a delivery failed; the checker with every batch.
  DeliveryFailures: 'checks',
  RunExpected: 'run',
  RunCompleted: 'run',
  UncheckedAddresses: 'run',
  StaleEndpoints: 'tick',
  CanaryFailures: 'run',
} as const satisfies Record<MetricName, MetricCadence>;
