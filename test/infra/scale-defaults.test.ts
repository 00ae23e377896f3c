/**
 * What a deployment costs and how it keeps up by default: no per-endpoint metric (the soonest
 * expiries come from a Logs Insights table over the checker logs), a checker concurrency and a
 * watchdog grace derived from the inventory and the schedule, and a backlog alarm on the check queue.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config';
import { CertwatchStack, type CertwatchSettings } from '../../lib/certwatch-stack';
import { dashboardRange, SOONEST_EXPIRIES_QUERY } from '../../lib/dashboard';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { DeploymentConfigError } from '../../lib/deployment-config-error';
import {
  appWithoutBundling,
  logicalIdOf,
  MINIMAL_CONFIG_YAML,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

interface DashboardBody {
  start: string;
  widgets: { type: string; properties: { query?: string; metrics?: unknown[][] } }[];
}

const tmp = tempDir('certwatch-scale-');
let minimal: SynthesizedStack;
let base: CertwatchSettings;

beforeAll(() => {
  const configPath = writeConfig(tmp.dir, 'minimal.yaml', MINIMAL_CONFIG_YAML);
  minimal = synthFromConfig(configPath, `${tmp.dir}/min.out`);
  base = settingsFromConfig(loadConfig(configPath));
});
afterAll(() => tmp.cleanup());

/** `base` with `count` endpoints (copies of its one endpoint under distinct ids). */
function withEndpoints(count: number, extra: Partial<CertwatchSettings> = {}): CertwatchSettings {
  const [endpoint] = base.endpoints;
  if (!endpoint) throw new Error('the minimal config has an endpoint');
  const endpoints = Array.from({ length: count }, (_, i) => ({ ...endpoint, id: `h${i}.example:443` }));
  return { ...base, endpoints, ...extra };
}

function synth(name: string, settings: CertwatchSettings): Template {
  return Template.fromStack(
    new CertwatchStack(appWithoutBundling(`${tmp.dir}/${name}`), 'Certwatch', { settings }),
  );
}

function dashboardBody(template: Template): DashboardBody {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  // Refs sit inside JSON strings: they become `{{LogicalId}}` placeholders.
  const text = body['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `{{${Object.values(part as object)[0]}}}`))
    .join('');
  return JSON.parse(text) as DashboardBody;
}

function envOf(template: Template, variable: string): string {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter(
    (fn) => fn.Properties.Environment.Variables[variable] !== undefined,
  );
  expect(fns).toHaveLength(1);
  return fns[0]?.Properties.Environment.Variables[variable];
}

describe('CertwatchStack defaults: metrics and dashboard', () => {
  it('does not emit the per-endpoint metric unless asked', () => {
    expect(envOf(minimal.template, 'PER_ENDPOINT_METRICS')).toBe('false');
  });

  it("deploys no dashboard unless asked ($3 a month beyond the account's first 3), and every alarm either way", () => {
    // Act
    const template = synth('dashboard.out', { ...base, dashboard: true });
    // Assess
    minimal.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(Object.keys(minimal.template.findResources('AWS::CloudWatch::Alarm')).sort()).toEqual(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort(),
    );
    expect(Object.keys(minimal.template.findResources('AWS::CloudWatch::Alarm')).length).toBeGreaterThan(0);
  });

  it('shows the soonest expiries as a Logs Insights table over the checker log group, without the per-endpoint SEARCH', () => {
    // Act
    const template = synth('dashboard-default-metrics.out', { ...base, dashboard: true });
    const body = dashboardBody(template);
    // Assess
    const logWidgets = body.widgets.filter((w) => w.type === 'log');
    expect(logWidgets).toHaveLength(1);
    const checkerLogGroup = logicalIdOf(template, 'AWS::Logs::LogGroup', 'PipelineCheckerLogGroup');
    expect(logWidgets[0]?.properties.query).toBe(
      `SOURCE '{{${checkerLogGroup}}}' | ${SOONEST_EXPIRIES_QUERY.join('\n| ')}`,
    );
    expect(SOONEST_EXPIRIES_QUERY).toContain('filter message = "check processed" and ispresent(daysLeft)');
    const expressions = JSON.stringify(body.widgets.flatMap((w) => w.properties.metrics ?? []));
    expect(expressions).not.toContain('MetricName=\\"DaysToExpiry');
    expect(expressions).not.toContain('"Certwatch","DaysToExpiry"');
    const names = body.widgets.flatMap((w) => w.properties.metrics ?? []).map((m) => `${m[0]}/${m[1]}`);
    expect(names).toContain('Certwatch/SoonestDaysToExpiry');
    // A day of a 6-hourly schedule: the query scans four runs of logs per view, not a week's.
    expect(body.start).toBe('-P1D');
  });

  it('adds the per-endpoint SEARCH graph when the metric is switched on', () => {
    // Act
    const template = synth('opt-in.out', { ...base, perEndpointMetrics: true, dashboard: true });
    // Assess
    expect(envOf(template, 'PER_ENDPOINT_METRICS')).toBe('true');
    const body = dashboardBody(template);
    expect(JSON.stringify(body.widgets.flatMap((w) => w.properties.metrics ?? []))).toContain(
      JSON.stringify(
        `SORT(SEARCH('{Certwatch,Endpoint} MetricName="DaysToExpiry"', 'Minimum', 21600), MIN, ASC, 20)`,
      ),
    );
    expect(body.widgets.filter((w) => w.type === 'log')).toHaveLength(1);
  });
});

describe('dashboardRange', () => {
  it.each([
    // schedule interval → range the dashboard opens with (two runs, a day to a week)
    [Duration.minutes(15), 'P1D'],
    [Duration.hours(6), 'P1D'],
    [Duration.hours(12), 'P1D'],
    [Duration.days(1), 'P2D'],
    [Duration.days(3), 'P6D'],
    [Duration.days(4), 'P7D'],
  ])('every %s → %s', (interval, expected) => {
    expect(dashboardRange(interval).toIsoString()).toBe(expected);
  });
});

describe('CertwatchStack defaults: run time at scale', () => {
  it.each([
    // endpoints, schedule, concurrency, worst-case run s, backlog limit s
    // One endpoint (2 addresses): one round of a 10 s probe + 1 s; 3 h + 3 × 360 s of retries.
    [1, 'rate(6 hours)', 10, 11, 3 * 3_600 + 3 * 360],
    // 20,000 endpoints hourly: 40,000 checks in 30 min of 11 s rounds (163) need 25 checkers.
    [20_000, 'rate(1 hour)', 25, 160 * 11, 1_800 + 3 * 360],
  ])(
    '%i endpoints on %s: concurrency %i, grace from a %i s worst-case run, backlog alarm at %i s',
    (count, schedule, concurrency, worstRunS, backlogS) => {
      // Prepare
      const settings = withEndpoints(count, { schedule });
      // Act
      const template = count === 1 ? minimal.template : synth(`scale-${count}.out`, settings);
      // Assess
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        ScalingConfig: { MaximumConcurrency: concurrency },
      });
      expect(envOf(template, 'WATCHDOG_GRACE_MS')).toBe(String((900 + worstRunS + 3 * 360 + 900) * 1000));
      const topic = { Ref: logicalIdOf(template, 'AWS::SNS::Topic', 'AlertingTopic') };
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Certwatch-CheckQueueBacklog',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::SQS::Queue', 'PipelineQueue'), 'QueueName'] },
          },
        ],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: backlogS,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        OKActions: [topic],
      });
    },
  );

  it('refuses an explicit concurrency that cannot finish a run in time, in one line', () => {
    // Prepare
    const settings = withEndpoints(20_000, { schedule: 'rate(1 hour)', checkerConcurrency: 10 });
    // Act
    const act = () => synth('too-slow.out', settings);
    // Assess
    expect(act).toThrow(DeploymentConfigError);
    expect(act).toThrow(
      'checker.concurrency: 10 cannot finish 40000 address checks, 11 s each at worst, within 30 min (half the 1 h schedule interval); use at least 25 or leave it out to derive it',
    );
  });
});
