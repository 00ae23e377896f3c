/**
 * The one line a store failure shows the user. Apart from cli-io, because it knows the embedded
 * store (dynalite), which `certwatch --help` must not load.
 */
import { StateDirInUseError } from '../store/embedded-dynamodb';
import { StateStoreError } from '../store/state-store';
import { awsErrorAdvice } from './aws-errors';
import { MonitorFailure, RunSkipped, terminalSafe } from './cli-io';

/**
 * Turns a store error into the one line the user sees, naming the store (`location`), the
 * operation and the cause; `then` is appended (what happens next). Other errors pass through.
 */
export function storeErrorForUser(error: unknown, location: string, then = ''): unknown {
  if (error instanceof StateDirInUseError) {
    return new RunSkipped(
      `the state directory of ${location} is in use by another certwatch process (a run in progress?); try again when it has finished`,
    );
  }
  if (!(error instanceof StateStoreError)) return error;
  const prefix = `${error.operation}(${error.key}): `;
  const text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const cause = awsErrorAdvice(error) ?? text;
  return new MonitorFailure(
    terminalSafe(
      `state store ${location} failed: ${error.operation}(${error.key}): ${cause || error.name}${then}`,
    ),
  );
}
