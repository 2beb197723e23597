import { Subscription } from 'rxjs';
import type { StreamSession } from '../engine/engine.js';
import type { HijackedConnection } from './exchange.js';
import { StdStream, frame, streamType } from './stdcopy.js';
import { messageOf } from './route-support.js';

export interface PumpOptions {
  /** Raw bytes (TTY) or stdcopy frames. */
  readonly tty: boolean;
  /** Whether client bytes go to the process's stdin (and the client's half-close closes it). */
  readonly stdin: boolean;
  /**
   * Runs after the output completed and before the connection closes (exec: wait until the exit is
   * recorded); a failure is sent to the client as the stream's error.
   */
  readonly beforeClose?: () => Promise<unknown>;
}

/**
 * Connects a process session to a hijacked connection (attach, exec start): output to the client,
 * framed unless TTY; stdin from the client; the client's half-close → closeStdin, while output
 * keeps flowing; output complete → close the connection. A client that goes away detaches the
 * session (the process goes on). Resolves when the session is over for this connection.
 */
export function pumpSession(session: StreamSession, conn: HijackedConnection, options: PumpOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const subscription = new Subscription();
    const finish = async (error?: unknown): Promise<void> => {
      if (done) return;
      done = true;
      let failure = error;
      try {
        await options.beforeClose?.();
      } catch (err) {
        failure ??= err;
      }
      if (failure !== undefined) {
        // A system-error frame makes the CLI print `error from daemon in stream: ...`.
        const message = messageOf(failure);
        conn.write(options.tty ? Buffer.from(`\r\n${message}\r\n`) : frame(StdStream.systemError, message));
      }
      conn.end();
      resolve();
    };

    conn.onClose(() => {
      if (done) return;
      done = true;
      subscription.unsubscribe();
      session.close();
      resolve();
    });

    if (options.stdin) {
      conn.readInput((chunk) => session.write(chunk), () => session.closeStdin());
    } else {
      conn.readInput(() => undefined, () => undefined);
    }

    subscription.add(session.output.subscribe({
      next: (chunk) => conn.write(options.tty ? chunk.data : frame(streamType(chunk.stream), chunk.data)),
      error: (err: unknown) => void finish(err),
      complete: () => void finish(),
    }));
  });
}
