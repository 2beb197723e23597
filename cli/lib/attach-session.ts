import type { WaitResponse } from './api-types.js';
import type { DaemonClient, HijackedConnection } from './daemon-client.js';
import { readBody } from './daemon-client.js';
import { CliError } from './errors.js';
import type { PumpResult } from './stream-pump.js';
import { pumpStreams } from './stream-pump.js';
import { RawTerminal, forwardResize } from './terminal.js';

/** Signals a non-tty session passes on to the container (docker's sig-proxy). */
const PROXIED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** What the local side of a hijacked session needs. */
export interface TerminalIoOptions {
  readonly connection: HijackedConnection;
  readonly tty: boolean;
  readonly attachStdin: boolean;
  /** Sends the terminal size (tty sessions). */
  readonly resize?: (rows: number, cols: number) => Promise<unknown>;
  /** Passes a signal on (non-tty sessions with sig-proxy). */
  readonly proxySignal?: (signal: NodeJS.Signals) => void;
  readonly detachKeys?: readonly number[];
  readonly warn: (line: string) => void;
}

/**
 * Runs the local half of a session: raw mode while a tty session reads the terminal (always
 * restored), window-size forwarding, signal forwarding, and the byte pump.
 */
export async function streamWithTerminal(o: TerminalIoOptions): Promise<PumpResult> {
  const terminal = new RawTerminal(process.stdin);
  if (o.tty && o.attachStdin) terminal.enter();
  const stopResize = o.tty && o.resize ? forwardResize(process.stdout, o.resize, o.warn) : () => {};
  const proxy = !o.tty && o.proxySignal ? o.proxySignal : undefined;
  if (proxy) for (const s of PROXIED_SIGNALS) process.on(s, proxy);
  try {
    return await pumpStreams({
      connection: o.connection,
      tty: o.tty,
      stdin: o.attachStdin ? process.stdin : undefined,
      stdout: process.stdout,
      stderr: process.stderr,
      detachKeys: o.tty && o.attachStdin && terminal.active ? o.detachKeys : undefined,
    });
  } finally {
    if (proxy) for (const s of PROXIED_SIGNALS) process.removeListener(s, proxy);
    stopResize();
    terminal.restore();
  }
}

/** A container session: attach, wait, (start), stream, exit code. */
export interface ContainerSessionOptions {
  readonly client: DaemonClient;
  readonly id: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  /** The wait condition: next-exit for run and start -a, removed with --rm, not-running for attach. */
  readonly condition: 'next-exit' | 'removed' | 'not-running';
  /** Starts the container after the attach (101) and the wait headers arrived; run and start -a. */
  readonly start?: () => Promise<void>;
  readonly sigProxy: boolean;
  readonly detachKeys?: readonly number[];
  readonly warn: (line: string) => void;
}

/**
 * Docker's attached `run` sequence (docs/docker-api-compat.md, wire rules 4, 5 and 7): hijack `attach` (101), send `wait` and
 * get its headers, start, resize a tty, stream until the daemon closes, then read the wait body.
 * Returns the container's exit code (0 after a detach).
 */
export async function containerSession(o: ContainerSessionOptions): Promise<number> {
  const { client, id } = o;
  const path = `/containers/${encodeURIComponent(id)}`;
  const connection = await client.hijack('POST', `${path}/attach`, {
    query: { stream: true, stdin: o.stdin || undefined, stdout: o.stdout || undefined, stderr: o.stderr || undefined },
  });
  let waitResponse;
  try {
    waitResponse = await client.request('POST', `${path}/wait`, { query: { condition: o.condition } });
  } catch (err) {
    connection.socket.destroy();
    throw err;
  }
  const waitBody = readBody(waitResponse);
  waitBody.catch(() => {});
  if (o.start) {
    try {
      await o.start();
    } catch (err) {
      connection.socket.destroy();
      waitResponse.destroy();
      throw err;
    }
  }
  const result = await streamWithTerminal({
    connection,
    tty: o.tty,
    attachStdin: o.stdin,
    resize: (h, w) => client.call('POST', `${path}/resize`, { query: { h, w } }),
    proxySignal: o.sigProxy ? (signal) => void client.call('POST', `${path}/kill`, { query: { signal: signal.replace(/^SIG/, '') } }).catch(() => {}) : undefined,
    detachKeys: o.detachKeys,
    warn: o.warn,
  });
  if (result.detached) {
    waitResponse.destroy();
    return 0;
  }
  const text = (await waitBody).toString('utf8').trim();
  if (text === '') throw new CliError('the daemon closed the wait request without an exit status', 125);
  const wait = JSON.parse(text) as WaitResponse;
  if (wait.Error && wait.Error.Message) throw new CliError(wait.Error.Message, 125);
  return wait.StatusCode;
}
