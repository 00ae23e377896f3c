/** Placeholder: the real notifier handler is wired by the integrator. Do not edit from the CDK work. */
export async function handler(_event: unknown): Promise<unknown> {
  throw new Error('notifier handler not implemented yet');
}
