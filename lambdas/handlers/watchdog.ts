/** Placeholder: the real watchdog handler is wired by the integrator. Do not edit from the CDK work. */
export async function handler(_event: unknown): Promise<unknown> {
  throw new Error('watchdog handler not implemented yet');
}
