/**
 * What an AWS SDK failure asks the user to set, in one line. The SDK's own texts ("Region is
 * missing", "Could not load credentials from any providers") name no variable; the CLI's user
 * needs the one to set. Matched by the error's name and by its text, because a notifier's
 * failure reaches the CLI as a string (`DeliveryResult.error`). No SDK import: `--help` and
 * the error path stay light.
 */

/** The kinds of AWS failure the CLI explains, each with the line it shows. */
export const AWS_ADVICE = {
  region: 'no AWS region: set AWS_REGION (or a region in the AWS_PROFILE config)',
  credentials:
    'no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)',
  rejected: 'AWS rejected the credentials: check AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
  expired:
    'the AWS credentials have expired: renew them (aws sso login --profile NAME, or a new AWS_SESSION_TOKEN)',
  denied:
    'AWS denied the request: the identity of AWS_PROFILE or AWS_ACCESS_KEY_ID lacks the permission for it',
} as const satisfies Record<string, string>;

export type AwsFailure = keyof typeof AWS_ADVICE;

/** Recognisers, first match wins: an error name (exact) or a text pattern, per kind. */
const RECOGNISERS: readonly { kind: AwsFailure; names: readonly string[]; text: RegExp }[] = [
  { kind: 'region', names: [], text: /\bRegion is missing\b|\bregion is not set\b/i },
  {
    kind: 'credentials',
    names: ['CredentialsProviderError'],
    text: /Could not load credentials from any providers|CredentialsProviderError/,
  },
  {
    kind: 'expired',
    names: ['ExpiredToken', 'ExpiredTokenException', 'RequestExpired'],
    text: /\bExpiredToken(Exception)?\b|security token included in the request is expired/i,
  },
  {
    kind: 'rejected',
    names: [
      'UnrecognizedClientException',
      'InvalidClientTokenId',
      'InvalidSignatureException',
      'SignatureDoesNotMatch',
    ],
    text: /\b(UnrecognizedClientException|InvalidClientTokenId|InvalidSignatureException|SignatureDoesNotMatch)\b|security token included in the request is invalid/i,
  },
  {
    kind: 'denied',
    names: ['AccessDenied', 'AccessDeniedException', 'AuthorizationError'],
    text: /\b(AccessDenied(Exception)?|AuthorizationError)\b|is not authorized to perform/,
  },
];

/** Which AWS failure `error` (an Error, its cause chain, or a failure text) is; null for none of them. */
export function classifyAwsError(error: unknown): AwsFailure | null {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const name = e instanceof Error ? e.name : '';
    const text = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
    const hit = RECOGNISERS.find((r) => r.names.includes(name) || r.text.test(text));
    if (hit) return hit.kind;
    e = e instanceof Error ? e.cause : undefined;
  }
  return null;
}

/** The one line telling the user what to set, or null when `error` is no AWS failure the CLI knows. */
export function awsErrorAdvice(error: unknown): string | null {
  const kind = classifyAwsError(error);
  return kind === null ? null : AWS_ADVICE[kind];
}
