import type { Socket } from 'node:net';
import type { HijackedConnection } from './daemon-client.js';
import { StdcopyDemuxer } from './stdcopy.js';
import { DetachKeys } from './terminal.js';

/** Where a hijacked stream's input comes from and its output goes. */
export interface PumpOptions {
  readonly connection: HijackedConnection;
  /** Raw output (tty) or stdcopy frames (no tty). */
  readonly tty: boolean;
  /** Local input to forward, when stdin is attached. */
  readonly stdin?: NodeJS.ReadableStream | undefined;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Detach sequence to watch for in the input (tty sessions); undefined = none. */
  readonly detachKeys?: readonly number[] | undefined;
}

/** How a session ended: the daemon closed the stream, or the user detached. */
export interface PumpResult {
  readonly detached: boolean;
}

/**
 * Copies a hijacked connection: socket output to stdout/stderr (demuxed unless tty), local input
 * to the socket, and at input EOF half-closes the socket (`end()`) while output keeps coming.
 * Resolves when the daemon closes the stream or the detach keys are typed.
 */
export function pumpStreams(options: PumpOptions): Promise<PumpResult> {
  const { connection, tty, stdin, stdout, stderr } = options;
  const socket: Socket = connection.socket;
  const demuxer = tty ? undefined : new StdcopyDemuxer((stream, payload) => (stream === 'stdout' ? stdout : stderr).write(payload));
  const detector = options.detachKeys ? new DetachKeys(options.detachKeys) : undefined;

  return new Promise<PumpResult>((resolve, reject) => {
    let settled = false;
    const cleanup = (): void => {
      if (stdin) {
        stdin.removeListener('data', onInput);
        stdin.removeListener('end', onInputEnd);
        stdin.pause();
      }
      socket.removeListener('data', onOutput);
    };
    const finish = (result: PumpResult): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(result);
    };
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onOutput = (chunk: Buffer): void => {
      if (!demuxer) {
        stdout.write(chunk);
        return;
      }
      try {
        demuxer.push(chunk);
      } catch (err) {
        fail(err as Error);
      }
    };
    const onInput = (data: Buffer | string): void => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      if (detector) {
        const { forward, detach } = detector.feed(bytes);
        if (forward.length > 0 && socket.writable) socket.write(forward);
        if (detach) {
          socket.destroy();
          finish({ detached: true });
        }
        return;
      }
      if (socket.writable) socket.write(bytes);
    };
    const onInputEnd = (): void => {
      if (socket.writable) socket.end();
    };

    if (connection.head.length > 0) onOutput(connection.head);
    socket.on('data', onOutput);
    socket.once('end', () => finish({ detached: false }));
    socket.once('close', () => finish({ detached: false }));
    socket.once('error', (err) => fail(err));
    socket.resume(); // the client hands the socket over paused
    if (stdin) {
      stdin.on('data', onInput);
      stdin.once('end', onInputEnd);
      stdin.resume();
    }
  });
}
