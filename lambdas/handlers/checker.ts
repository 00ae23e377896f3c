/** Placeholder: the real checker handler is wired by the integrator. Do not edit from the CDK work. */
export async function handler(_event: unknown): Promise<unknown> {
  throw new Error('checker handler not implemented yet');
}
