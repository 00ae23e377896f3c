import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  METRIC_NAMESPACE,
  MetricDimensions,
  type MetricName,
  MetricNames,
} from '../lambdas/core/metric-names';

/**
 * Factory for the custom metrics the handlers emit (namespace `Certwatch`),
 * each with the statistic that answers its question. Kept apart from the
 * alarms and the dashboard, which only choose periods.
 */
export class CertwatchMetrics {
  /** Runs that enqueued every check (the "monitor is alive" signal). */
  dispatchSucceeded(period = Duration.minutes(5)): cloudwatch.Metric {
    return this.#metric(MetricNames.DispatchSucceeded, 'Sum', period);
  }

  checksDispatched(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.ChecksDispatched, 'Sum', period);
  }

  checksCompleted(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.ChecksCompleted, 'Sum', period);
  }

  /** Smallest days-to-expiry over all endpoints (MIN, as for any expiry). */
  soonestDaysToExpiry(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.SoonestDaysToExpiry, 'Minimum', period);
  }

  /** Days to expiry of every endpoint, the 20 soonest first. */
  daysToExpiryByEndpoint(period = Duration.hours(1)): cloudwatch.MathExpression {
    const search = `SEARCH('{${METRIC_NAMESPACE},${MetricDimensions.Endpoint}} MetricName="${MetricNames.DaysToExpiry}"', 'Minimum', ${period.toSeconds()})`;
    return new cloudwatch.MathExpression({
      expression: `SORT(${search}, MIN, ASC, 20)`,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudWatch dynamic label (one series per endpoint), not JS.
      label: "${PROP('Dim.Endpoint')}",
      period,
      usingMetrics: {},
    });
  }

  alertsPublished(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.AlertsPublished, 'Sum', period);
  }

  deliveryFailures(period = Duration.minutes(5)): cloudwatch.Metric {
    return this.#metric(MetricNames.DeliveryFailures, 'Sum', period);
  }

  runExpected(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.RunExpected, 'Sum', period);
  }

  runCompleted(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.RunCompleted, 'Sum', period);
  }

  uncheckedAddresses(period = Duration.minutes(15)): cloudwatch.Metric {
    return this.#metric(MetricNames.UncheckedAddresses, 'Maximum', period);
  }

  staleEndpoints(period = Duration.minutes(30)): cloudwatch.Metric {
    return this.#metric(MetricNames.StaleEndpoints, 'Maximum', period);
  }

  /** Canary fixtures the detector judged wrongly in one canary run (0 when all were right). */
  canaryFailures(period = Duration.hours(1)): cloudwatch.Metric {
    return this.#metric(MetricNames.CanaryFailures, 'Maximum', period);
  }

  #metric(metricName: MetricName, statistic: string, period: Duration): cloudwatch.Metric {
    // No label: an alarm on a labelled metric renders as metric math, which hides the metric name.
    return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName, statistic, period });
  }
}
