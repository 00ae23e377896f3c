/**
 * CDK app: `npx cdk synth|deploy [-c config=PATH] [-c stackName=NAME]`.
 *
 * Loads and validates the certwatch config (default `certwatch.config.yaml`)
 * exactly as the CLI does; an invalid config prints the same
 * `file:line:col: field: problem` lines, without a stack trace, and exits 1.
 * Synthesis makes no network calls: no lookups, no context providers, the
 * environment comes from CDK_DEFAULT_ACCOUNT/REGION only.
 */
import { App } from 'aws-cdk-lib';
import { ConfigError, loadConfig } from '../lambdas/config';
import { CertwatchStack } from '../lib/certwatch-stack';
import { settingsFromConfig } from '../lib/deploy-settings';
import { DeploymentConfigError } from '../lib/deployment-config-error';

const DEFAULT_CONFIG = 'certwatch.config.yaml';

const app = new App();
const configPath = contextString('config') ?? DEFAULT_CONFIG;
try {
  const settings = settingsFromConfig(loadConfig(configPath));
  new CertwatchStack(app, 'Certwatch', {
    stackName: contextString('stackName'),
    description: 'certwatch: scheduled TLS certificate monitoring and alerting',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    settings,
  });
} catch (error) {
  if (error instanceof ConfigError || error instanceof DeploymentConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

function contextString(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}
