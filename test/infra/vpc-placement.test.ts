import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lambdas/config';
import { settingsFromConfig } from '../../lib/deploy-settings';
import { makePki } from '../support/cert-factory';
import {
  logicalIdOf,
  MINIMAL_CONFIG_YAML,
  policyStatementsOfRole,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

const tmp = tempDir('certwatch-vpc-');
afterAll(() => tmp.cleanup());

const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const GROUPS = ['sg-0a1b2c3d4e5f60718'];

const VPC_CONFIG_YAML = `vpc:
  subnetIds: [${SUBNETS.join(', ')}]
  securityGroupIds: [${GROUPS.join(', ')}]
endpoints:
  - host: intranet.corp.internal
  - host: smtp://mail.corp.internal
  - { host: db.corp.internal, protocol: postgres, address: 10.0.3.7 }
`;

function synth(name: string, yaml: string) {
  return synthFromConfig(writeConfig(tmp.dir, name, yaml), join(tmp.dir, `out-${name}`));
}

/** The Lambda function whose logical id starts with `prefix`. */
function functionProps(template: ReturnType<typeof synth>['template'], prefix: string) {
  const id = logicalIdOf(template, 'AWS::Lambda::Function', prefix);
  return template.toJSON().Resources[id] as { Properties: Record<string, unknown>; DependsOn?: string[] };
}

const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

describe('placement of the checker and the dispatcher', () => {
  it('without vpc: no function is in a VPC and no role may manage network interfaces', () => {
    // Act
    const { template, json } = synth('public.yaml', MINIMAL_CONFIG_YAML);

    // Assess
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
    expect(json).not.toContain('ec2:CreateNetworkInterface');
  });

  it('with vpc: the checker and the dispatcher run in the given subnets and security groups', () => {
    // Act
    const { template } = synth('private.yaml', VPC_CONFIG_YAML);

    // Assess
    for (const prefix of ['PipelineChecker', 'PipelineDispatcher']) {
      expect(functionProps(template, prefix).Properties.VpcConfig).toEqual({
        SubnetIds: SUBNETS,
        SecurityGroupIds: GROUPS,
      });
    }
  });

  it('with vpc: the other functions stay outside it', () => {
    // Act
    const { template } = synth('private-others.yaml', VPC_CONFIG_YAML);

    // Assess
    const outside = Object.entries(template.findResources('AWS::Lambda::Function')).filter(
      ([id]) => !id.startsWith('PipelineChecker') && !id.startsWith('PipelineDispatcher'),
    );
    expect(outside.length).toBeGreaterThan(0);
    for (const [, fn] of outside) expect(fn.Properties.VpcConfig).toBeUndefined();
  });

  it('with vpc: both roles may manage their network interfaces, and the functions wait for that policy', () => {
    // Act
    const { template } = synth('private-iam.yaml', VPC_CONFIG_YAML);

    // Assess
    const policyId = logicalIdOf(template, 'AWS::IAM::Policy', 'PipelineVpcAccess');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          { Sid: 'ManageVpcNetworkInterfaces', Effect: 'Allow', Action: ENI_ACTIONS, Resource: '*' },
        ],
      },
      Roles: Match.arrayWith([
        { Ref: logicalIdOf(template, 'AWS::IAM::Role', 'PipelineDispatcherRole') },
        { Ref: logicalIdOf(template, 'AWS::IAM::Role', 'PipelineCheckerRole') },
      ]),
    });
    for (const prefix of ['PipelineChecker', 'PipelineDispatcher']) {
      expect(functionProps(template, prefix).DependsOn).toContain(policyId);
    }
  });

  it('synthesizes offline: subnets and groups are referenced by id, nothing is looked up', () => {
    // Act
    const { stack, json } = synth('private-offline.yaml', VPC_CONFIG_YAML);

    // Assess
    expect(stack.node.tryGetContext('vpc-provider:account=unknown-account')).toBeUndefined();
    expect(json).not.toMatch(/AWS::EC2::(VPC|Subnet|SecurityGroup)"/);
    expect(json).toContain(SUBNETS[0]);
  });
});

/** Every acknowledgement recorded on the tree, as `path: rule`. */
function acknowledgements(root: IConstruct): { path: string; rule: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([rule, reason]) => ({
          path: c.node.path,
          rule: rule.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('the VPC placement under cdk-nag AwsSolutions', () => {
  it('has no unacknowledged finding, and acknowledges only IAM5 on the network-interface policy', () => {
    // Prepare
    const { stack } = synth('private-nag.yaml', VPC_CONFIG_YAML);
    const app = stack.node.root;

    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assess
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    const vpcAcks = acknowledgements(app).filter((a) => a.rule.startsWith('AwsSolutions-IAM5'));
    expect(vpcAcks.map((a) => a.path)).toEqual(['Certwatch/Pipeline/VpcAccess']);
    expect(vpcAcks[0]!.reason.length).toBeGreaterThan(20);
  });
});

describe('client keys in the deployed stack', () => {
  const pki = makePki();
  writeFileSync(join(tmp.dir, 'client.pem'), pki.leaf.certPem);

  it('lets only the checker read the Secrets Manager secret that holds a client key', () => {
    // Act
    const { template } = synth(
      'mtls.yaml',
      'endpoints:\n  - { host: mtls.corp.internal, clientCert: client.pem, clientKey: "secretsmanager:certwatch/client-key#pem" }\n',
    );

    // Assess
    const statements = policyStatementsOfRole(template, 'PipelineCheckerRole');
    expect(statements).toContainEqual(
      expect.objectContaining({ Sid: 'ReadClientKeys', Action: 'secretsmanager:GetSecretValue' }),
    );
    expect(JSON.stringify(statements.find((s) => s['Sid'] === 'ReadClientKeys'))).toContain(
      'secret:certwatch/client-key-??????',
    );
    expect(policyStatementsOfRole(template, 'PipelineDispatcherRole')).not.toContainEqual(
      expect.objectContaining({ Sid: 'ReadClientKeys' }),
    );
  });

  it('refuses an env: client key with one line: the deployed checker reads Secrets Manager', () => {
    // Prepare
    const path = writeConfig(
      tmp.dir,
      'mtls-env.yaml',
      'endpoints:\n  - { host: mtls.corp.internal, clientCert: client.pem, clientKey: env:CLIENT_KEY }\n',
    );

    // Act
    const act = () => settingsFromConfig(loadConfig(path));

    // Assess
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(
      'endpoints[0].clientKey: env:CLIENT_KEY cannot be read by the deployed checker; keep the key in Secrets Manager and write secretsmanager:NAME_OR_ARN[#jsonKey]',
    );
  });
});
