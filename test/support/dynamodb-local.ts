/**
 * The official DynamoDB Local (Java) for tests: one JVM per test file, in
 * memory, on a free loopback port. Installed by scripts/install-dynamodb-local.sh
 * into .cache/dynamodb-local (DYNAMODB_LOCAL_DIR overrides).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../lambdas/store/dynamodb-client';

/** Where the jar lives. */
export function dynamoDbLocalDir(): string {
  return resolve(process.env.DYNAMODB_LOCAL_DIR ?? join(__dirname, '..', '..', '.cache', 'dynamodb-local'));
}

export type DynamoDbLocalAvailability =
  | { readonly available: true }
  | { readonly available: false; readonly reason: string };

/** Whether java and the jar are present (does not start anything). */
export function dynamoDbLocalAvailability(): DynamoDbLocalAvailability {
  const dir = dynamoDbLocalDir();
  if (!existsSync(join(dir, 'DynamoDBLocal.jar'))) {
    return {
      available: false,
      reason: `DynamoDB Local not installed: ${join(dir, 'DynamoDBLocal.jar')} is missing (run: bash scripts/install-dynamodb-local.sh)`,
    };
  }
  const java = spawnSync('java', ['-version'], { stdio: 'ignore', timeout: 10_000 });
  if (java.error || java.status !== 0) {
    return {
      available: false,
      reason: `java is not runnable (${java.error?.message ?? `exit ${java.status}`})`,
    };
  }
  return { available: true };
}

export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Process id of the JVM (fault tests kill it by PID mid-run). */
  readonly pid: number;
  /** Stops the JVM and waits for it to exit. Idempotent. */
  close(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;

/**
 * JVMs this process started and has not stopped. A test that times out never reaches its
 * `close()`, and the JVM would outlive the test worker, holding memory, a port and, on a
 * busy machine, CPU. So while any runs, this process kills them when it exits, including
 * when vitest ends the worker with SIGTERM (which skips 'exit' unless someone listens).
 */
const running = new Set<ChildProcess>();
const killRunning = () => {
  for (const child of running) child.kill('SIGKILL');
};
const exitOnSigterm = () => {
  killRunning();
  process.exit(143);
};

function track(child: ChildProcess): void {
  if (running.size === 0) {
    process.on('exit', killRunning);
    process.on('SIGTERM', exitOnSigterm);
  }
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (running.size === 0) {
      process.off('exit', killRunning);
      process.off('SIGTERM', exitOnSigterm);
    }
  });
}

/** Where a DynamoDB Local keeps its data, and on which port it listens. */
export interface DynamoDbLocalOptions {
  /**
   * Keep the tables in this directory (`-dbPath`), so that a restarted instance has the data.
   * @default in memory
   */
  readonly dbPath?: string;
  /**
   * Listen on this port (a restart on the port of a stopped instance); one attempt only.
   * @default a free port
   */
  readonly port?: number;
}

/**
 * Starts DynamoDB Local with `-inMemory -sharedDb -disableTelemetry` (or `-dbPath`) and
 * resolves once it answers ListTables. Throws (with the reason) if java or the
 * jar is missing or it does not come up within 30 s.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const availability = dynamoDbLocalAvailability();
  if (!availability.available) throw new Error(availability.reason);
  if (options.port !== undefined) return startOnce(options.port, options.dbPath);
  let lastError: unknown;
  // The free port is found before java binds it; another process can take it in between, so retry.
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await startOnce(await freePort(), options.dbPath);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(port: number, dbPath?: string): Promise<DynamoDbLocal> {
  const dir = dynamoDbLocalDir();
  const child = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-Xmx1g',
      // A test's JVM lives seconds: the quick JIT tier and the serial collector halve its start-up CPU,
      // which is what a busy machine runs short of.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      ...(dbPath === undefined ? ['-inMemory'] : ['-dbPath', dbPath]),
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // -disableTelemetry alone still initialises telemetry (it writes an installation id); the variable stops it.
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' } },
  );
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit();
    else child.once('exit', () => resolveExit());
  });
  const spawnFailure: { error: Error | null } = { error: null };
  child.once('error', (error) => {
    spawnFailure.error = error;
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= stop(child, exited);
    return closing;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const probe = createDocumentClient(endpoint);
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (spawnFailure.error) throw new Error(`cannot start java: ${spawnFailure.error.message}`);
      if (child.exitCode !== null)
        throw new Error(`DynamoDB Local exited with ${child.exitCode}: ${output.trim()}`);
      try {
        await probe.client.send(new ListTablesCommand({ Limit: 1 }), {
          abortSignal: AbortSignal.timeout(2_000),
        });
        return { endpoint, pid: child.pid ?? 0, close };
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`DynamoDB Local did not answer within ${STARTUP_TIMEOUT_MS} ms: ${output.trim()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (error) {
    await close();
    throw error;
  } finally {
    probe.destroy();
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killTimer);
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}
