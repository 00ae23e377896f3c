/**
 * The configuration is valid for the CLI but cannot be deployed as given
 * (e.g. a plain-text webhook URL, a schedule whose interval cannot be derived).
 * `bin/app.ts` prints the message without a stack trace and exits 1.
 */
export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}
