import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORT_OBJECT_KEY } from '../../lambdas/report/report-object';
import {
  FULL_CONFIG_YAML,
  logicalIdOf,
  policyStatementsOfRole,
  type SynthesizedStack,
  synthFromConfig,
  tempDir,
  writeConfig,
} from './infra-fixtures';

describe('ReportBucket', () => {
  const tmp = tempDir('certwatch-report-bucket-');
  let s: SynthesizedStack;
  let reportId: string;
  let logsId: string;

  beforeAll(() => {
    s = synthFromConfig(writeConfig(tmp.dir, 'full.yaml', FULL_CONFIG_YAML), `${tmp.dir}/out`);
    reportId = logicalIdOf(s.template, 'AWS::S3::Bucket', 'ReportBucket');
    logsId = logicalIdOf(s.template, 'AWS::S3::Bucket', 'ReportAccessLogs');
  });
  afterAll(() => tmp.cleanup());

  const PRIVATE = {
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    },
    BucketEncryption: {
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    },
    OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
  };

  it('keeps the report private, encrypted and versioned, replaced pages expiring after 30 days, access logged', () => {
    expect(s.template.toJSON().Resources[reportId]).toMatchObject({
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        ...PRIVATE,
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'report-bucket/' },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'ExpireOldReports',
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
          ],
        },
      },
    });
  });

  it('keeps the access logs private and encrypted for 90 days, delivered by bucket policy, not by ACL', () => {
    const logs = s.template.toJSON().Resources[logsId];
    expect(logs).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        ...PRIVATE,
        LifecycleConfiguration: {
          Rules: [{ Id: 'ExpireAccessLogs', Status: 'Enabled', ExpirationInDays: 90 }],
        },
      },
    });
    expect(logs.Properties.AccessControl).toBeUndefined();
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: Match.objectLike({
              ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [reportId, 'Arn'] } },
            }),
          }),
        ]),
      },
    });
  });

  it.each([
    ['report', () => reportId],
    ['access log', () => logsId],
  ])('denies plain HTTP and TLS below 1.2 on the %s bucket', (_name, id) => {
    const bucketId = id();
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('lets only the watchdog write, and only the one report key, nothing else in S3', () => {
    // Prepare: every statement of every role that mentions S3
    const roles = Object.keys(s.template.findResources('AWS::IAM::Role'));
    const s3Statements = roles.flatMap((role) =>
      policyStatementsOfRole(s.template, role)
        .filter((st) => JSON.stringify(st.Action).includes('s3:'))
        .map((st) => ({ role, ...st })),
    );
    // Assess
    expect(s3Statements).toEqual([
      {
        role: logicalIdOf(s.template, 'AWS::IAM::Role', 'WatchdogFunctionRole'),
        Sid: 'WriteReport',
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [reportId, 'Arn'] }, `/${REPORT_OBJECT_KEY}`]] },
      },
    ]);
  });

  it('names the bucket in a stack output, for certwatch report --aws', () => {
    s.template.hasOutput('ReportBucketName', {
      Value: { Ref: reportId },
      Description: Match.stringLikeRegexp('certwatch report --aws'),
    });
  });
});
