/**
 * Real parts for the run fault tests: `certwatch run` as a child process (the
 * same bin a user runs), a gate that holds every TLS check of a run until the
 * test lets it through (so "mid-run" is a point the test chooses, not a
 * timing guess), and a tally of webhook deliveries per alert id.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { ReceivedRequest } from '../support/webhook-receiver';

const BIN = join(__dirname, '..', '..', 'bin', 'certwatch.js');

/** A `certwatch` child process. */
export interface CliChild {
  readonly pid: number;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves when the process has exited: its exit code, or null when a signal ended it. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` to the child's own PID (no-op once it has exited). */
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node bin/certwatch.js <args>` with `env` added to this process's environment. */
export function spawnCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd: string,
): CliChild {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    // 'close' (not 'exit'): every byte of stdout and stderr has been read by then.
    child.once('close', (code) => resolve(code));
  });
  if (child.pid === undefined) throw new Error(`cannot start ${BIN}`);
  const pid = child.pid;
  return {
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    },
  };
}

/** Polls `condition` every 20 ms until it holds; fails naming `what` after `limitMs` (a bound, not a timing). */
export async function waitUntil(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited >= limitMs) throw new Error(`gave up waiting for ${what} after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP forwarder to a TLS server that holds connections until `open()`. */
export interface Gate {
  readonly port: number;
  /** Connections received so far. */
  arrivals(): number;
  /** Lets held and future connections through. */
  open(): void;
  /** Holds future connections again. */
  shut(): void;
  close(): Promise<void>;
}

export async function startGate(targetPort: number): Promise<Gate> {
  let isOpen = false;
  let arrivals = 0;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server: Server = createServer((client) => {
    arrivals++;
    track(client);
    client.on('error', () => client.destroy());
    // The client's ClientHello waits in the paused socket until the gate opens.
    const forward = () => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      track(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    };
    if (isOpen) forward();
    else held.push(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    arrivals: () => arrivals,
    open: () => {
      isOpen = true;
      for (const f of held.splice(0)) f();
    },
    shut: () => {
      isOpen = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Webhook deliveries per alert id (the `Idempotency-Key`), with each alert's kind and summary. */
export interface Tally {
  readonly perAlert: ReadonlyMap<
    string,
    { readonly count: number; readonly kind: string; readonly summary: string }
  >;
  /** Deliveries of an alert id more than once. */
  readonly duplicates: number;
  /** Monitor pages saying a run was incomplete. */
  readonly incompletePages: readonly string[];
}

export function tally(requests: readonly ReceivedRequest[]): Tally {
  const perAlert = new Map<string, { count: number; kind: string; summary: string }>();
  for (const r of requests) {
    const alert = (r.json as { alert?: { id: string; kind: string; summary: string } } | undefined)?.alert;
    const id = String(r.headers['idempotency-key'] ?? alert?.id ?? '?');
    const entry = perAlert.get(id) ?? { count: 0, kind: alert?.kind ?? '?', summary: alert?.summary ?? '' };
    entry.count++;
    perAlert.set(id, entry);
  }
  const all = [...perAlert.values()];
  return {
    perAlert,
    duplicates: all.reduce((n, e) => n + Math.max(0, e.count - 1), 0),
    incompletePages: all
      .filter((e) => e.kind === 'monitor' && / incomplete: /.test(e.summary))
      .map((e) => e.summary),
  };
}

/** Lines a user would read as errors: every stderr line of certwatch's own complaints. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('certwatch: '));
}
