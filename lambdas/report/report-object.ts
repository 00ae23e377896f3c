/**
 * Where the deployed report lives: the one object the watchdog writes in the
 * report bucket, and how it is served. The stack grants PutObject on this key
 * only; `certwatch report --aws` presigns a GET of it. Pure constants.
 */

/** Key of the report page in the report bucket (versioned: old pages become noncurrent versions). */
export const REPORT_OBJECT_KEY = 'report/certwatch-report.html';

/** Content type the page is stored with, so a browser renders it from a presigned link. */
export const REPORT_CONTENT_TYPE = 'text/html; charset=utf-8';

/** Environment variable naming the report bucket (the watchdog's, and the CLI's default for `--aws`). */
export const REPORT_BUCKET_ENV = 'REPORT_BUCKET';

/** The stack output naming the report bucket (`certwatch report --aws` reads it when given no bucket). */
export const REPORT_BUCKET_OUTPUT = 'ReportBucketName';

/** The stack `certwatch report --aws` looks in when told none (bin/app.ts's construct id). */
export const DEFAULT_STACK_NAME = 'Certwatch';
