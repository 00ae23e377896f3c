import { Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lambdas/config';
import { CertwatchStack } from '../../lib/certwatch-stack';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { appWithoutBundling, FULL_CONFIG_YAML, tempDir, writeConfig } from './infra-fixtures';

const tmp = tempDir('certwatch-nag-');
afterAll(() => tmp.cleanup());

/** A fresh app holding the stack built from FULL_CONFIG_YAML, for a test that changes or synthesizes it. */
function nagApp() {
  const app = appWithoutBundling(`${tmp.dir}/out`);
  const settings = settingsFromConfig(loadConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML)));
  const stack = new CertwatchStack(app, 'Certwatch', { settings });
  return { app, stack };
}

let readOnly: ReturnType<typeof nagApp> | undefined;
/** One app shared by the tests that only read the tree (validateScope walks it; it changes nothing). */
function readOnlyNagApp() {
  readOnly ??= nagApp();
  return readOnly;
}

/** Every acknowledgement recorded on the tree, as `path: rule → reason`. */
function acknowledgements(root: IConstruct): { path: string; rule: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
          path: c.node.path,
          rule,
          reason,
        })),
      ),
  );
}

describe('CertwatchStack under cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding', () => {
    // Prepare
    const { app } = readOnlyNagApp();
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);
    // Assess
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('synthesizes with the pack registered as a validation plugin, without errors or warnings', () => {
    // Prepare
    const { app, stack } = nagApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Act: a plugin violation would make synth throw.
    app.synth();
    // Assess
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  it('acknowledges only SQS3 on dead-letter queues and SMG4 on placeholder secrets, each with a reason', () => {
    const { app } = readOnlyNagApp();
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.trim().length, `${ack.path} ${ack.rule}`).toBeGreaterThan(20);
      const rule = ack.rule.replace(/^annotation::/i, '');
      if (rule === 'AwsSolutions-SQS3') expect(ack.path).toMatch(/DeadLetterQueue$/);
      else if (rule === 'AwsSolutions-SMG4') expect(ack.path).toMatch(/\/Secrets\/Env[A-Z0-9]+$/);
      else throw new Error(`unexpected acknowledgement ${rule} on ${ack.path}`);
    }
  });

  it('reports and fails synth on a finding nobody acknowledged (the check is live)', () => {
    // Prepare: a queue without a dead-letter queue, as the stack's own queues would be without theirs.
    const { app, stack } = nagApp();
    new sqs.Queue(stack, 'Unprotected', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);
    // Assess
    expect(
      report.violations.map((v) => [v.ruleName, v.violatingResources.map((r) => r.constructPath)]),
    ).toEqual([['AwsSolutions-SQS3', ['Certwatch/Unprotected/Resource']]]);
    expect(() => app.synth()).toThrow(/SQS queue is not used as a/);
  });
});
