import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Repository root: handler entries and the lock file are found relative to it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** The certwatch Lambda handlers, by entry file (the only way lib/ refers to runtime code). */
export const HANDLER_ENTRIES = {
  dispatcher: 'lambdas/handlers/dispatcher.ts',
  checker: 'lambdas/handlers/checker.ts',
  notifier: 'lambdas/handlers/notifier.ts',
  watchdog: 'lambdas/handlers/watchdog.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

/**
 * Size limits of the bundled handlers (index.js, KiB), where one is held to a limit. The checker cold-starts
 * for every scaled-out batch, so its bundle stays small; `npm run bench:bundle` reports against this and the
 * bundle smoke test fails beyond it. Raised from 150 for path validation (own rules, ~14 KiB; a
 * validation library would have added ~400 KiB) and the AIA fetcher (up to 300 would be accepted for a library).
 * Raised to 240 for the STARTTLS protocols (~18 KiB: fifteen schemes, one bounded reader, the CONNECT proxy)
 * and revocation (~20 KiB: OCSP and CRL parsing and verification, the bounded fetcher and its cache), all own
 * code; the measured cold require stays in `npm run bench:bundle`. Raised to 260 for maintenance windows and
 * silences (~19 KiB: the policy's suppression step, and the maintenance tick the scheduler runs in the checker
 * beside the canary, with its announcements and the end-of-window re-check dispatch), then to 264 for the
 * revocation fetcher's kept-alive connection pool (~2 KiB) and the trust store's lazily decoded roots. Raised
 * to 270 for the sharded dispatch's records in the state store the checker shares (~2 KiB) with the in-place
 * DER reader for revocation answers, which replaced forge trees there. Raised to 276 for the bounded
 * fetches' own HTTP/1.1 client (~8 KiB: the bounded response reader and the pool's own connections), which
 * replaced `node:http`: Node's client was never counted here (it ships with the runtime) but cost about three
 * times the CPU per OCSP request. Raised to 280 for judging whether a CRL covers the certificate asked
 * about (~3 KiB: its issuer's name, its issuing distribution point, and refusing delta, indirect and
 * critical-extension CRLs, RFC 5280 §5.2 and §6.3.3), without which an unlisted serial could be called
 * good by another shard's CRL. The next lever is forge itself (~41 KiB of the checker: its util, asn1 and
 * oids modules), which the same DER reader could replace.
 */
export const BUNDLE_LIMIT_KIB: Partial<Record<HandlerName, number>> = { checker: 280 };

/** Log level handed to the handlers (LOG_LEVEL) and to Lambda's JSON log filter. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Settings every certwatch function shares; the stack passes one instance to each construct. */
export interface FunctionDefaults {
  /**
   * Retention of each function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN (logs outlive the stack for post-mortems)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * Application log level (env LOG_LEVEL and Lambda's application log filter).
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
}

/** Props of one certwatch Lambda function. */
export interface CertwatchFunctionProps extends FunctionDefaults {
  /** Which handler this function runs. */
  readonly handler: HandlerName;
  /** One line for the console. */
  readonly description: string;
  /** Hard limit of one invocation. */
  readonly timeout: Duration;
  /** Memory (and, proportionally, CPU) in MB. */
  readonly memorySize: number;
  /**
   * Handler environment, in addition to LOG_LEVEL and NODE_OPTIONS.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Extra files to copy next to the bundled index.js: absolute source path → file name in the bundle.
   * @default - none
   */
  readonly bundledFiles?: Record<string, string>;
  /**
   * Where asynchronous invocations that failed every retry are sent.
   * @default - none (dropped after Lambda's retries)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Lambda's own log records (platform.start, platform.report, ...) at and above this level. WARN
   * leaves out the per-invocation INFO records, about 700 bytes an invocation, billed as log
   * ingestion; the function's own lines and its Duration, Errors and Throttles metrics do not depend on them.
   * @default lambda.SystemLogLevel.INFO
   */
  readonly systemLogLevel?: lambda.SystemLogLevel;
}

/**
 * The instruction set of every certwatch function: the bundles are pure JavaScript (no native
 * modules), and arm64 (Graviton) costs a fifth less per GB-second than x86_64.
 */
export const FUNCTION_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * A certwatch handler as a Node.js Lambda function with the house defaults:
 * newest Node.js runtime on arm64, minified CommonJS bundle with source maps
 * (the AWS SDK v3 comes from the runtime), JSON logs in an explicit log group
 * with retention, and an execution role that starts with nothing but write
 * access to that log group (no AWS managed policy), so each construct grants
 * exactly what its handler uses.
 */
export class CertwatchFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CertwatchFunctionProps) {
    super(scope, id);
    const logLevel = props.logLevel ?? 'INFO';

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `certwatch ${props.handler}: execution role`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const copies = Object.entries(props.bundledFiles ?? {});
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, HANDLER_ENTRIES[props.handler]),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: FUNCTION_ARCHITECTURE,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      deadLetterQueue: props.deadLetterQueue,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[logLevel],
      systemLogLevelV2: props.systemLogLevel ?? lambda.SystemLogLevel.INFO,
      environment: {
        ...props.environment,
        LOG_LEVEL: logLevel,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        externalModules: ['@aws-sdk/*'],
        // Bundle with the esbuild in node_modules; Docker is neither needed nor available.
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            copies.map(
              ([source, name]) => `cp ${shellQuote(source)} ${shellQuote(path.join(outputDir, name))}`,
            ),
        },
      },
    });
  }
}

/** Quotes a path for the POSIX shell that runs bundling command hooks. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
