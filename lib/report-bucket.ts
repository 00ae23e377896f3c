import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

/** Props of the report bucket. */
export interface ReportBucketProps {
  /**
   * How long a replaced report page is kept as a noncurrent version.
   * @default Duration.days(30)
   */
  readonly keepOldReports?: Duration;
  /**
   * How long the bucket's server access logs are kept.
   * @default Duration.days(90)
   */
  readonly keepAccessLogs?: Duration;
}

/** Settings both buckets share: private, TLS only, encrypted at rest, ACLs off, kept when the stack goes. */
const PRIVATE_BUCKET = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  encryption: s3.BucketEncryption.S3_MANAGED,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.RETAIN,
} as const satisfies s3.BucketProps;

/**
 * Where the watchdog writes the HTML report after every complete run: a
 * private, versioned bucket (S3-managed encryption, TLS only, every public
 * access blocked) whose replaced pages expire after a while, with its server
 * access logs in a second private bucket. Nobody reads it but through a
 * presigned link (`certwatch report --aws`), signed with the reader's own
 * credentials.
 */
export class ReportBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ReportBucketProps = {}) {
    super(scope, id);
    // Log delivery by bucket policy, not by the legacy LogDeliveryWrite ACL (which needs ACLs enabled).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...PRIVATE_BUCKET,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: props.keepAccessLogs ?? Duration.days(90) }],
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...PRIVATE_BUCKET,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'report-bucket/',
      lifecycleRules: [
        {
          id: 'ExpireOldReports',
          noncurrentVersionExpiration: props.keepOldReports ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
