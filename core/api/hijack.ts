import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HijackedConnection } from './exchange.js';

/** Reason phrases for the raw status lines written on upgraded sockets. */
const REASONS: Readonly<Record<number, string>> = {
  101: 'UPGRADED', 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request',
  404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented',
};

/** Writes a status line and headers straight onto a socket (moby writes `HTTP/1.1 101 UPGRADED`). */
export function writeRawHead(socket: Duplex, status: number, headers: Readonly<Record<string, string>>): void {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.write(`${head}\r\n`);
}

/**
 * The bytes a client sends on a socket handed over by node's `upgrade` event, starting with the
 * `head` buffer node already read. Everything is buffered until read: first the request body
 * (exactly Content-Length bytes: the exec start JSON), then, after a hijack, stdin.
 */
export class SocketInput {
  private buffered: Buffer[] = [];
  private size = 0;
  private ended = false;
  private wake: (() => void) | undefined;
  private sink: { onData: (chunk: Buffer) => void; onEnd: () => void } | undefined;

  constructor(socket: Duplex, head: Buffer) {
    if (head.length > 0) this.push(head);
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
  }

  private push(chunk: Buffer): void {
    if (this.sink) {
      this.sink.onData(chunk);
      return;
    }
    this.buffered.push(chunk);
    this.size += chunk.length;
    this.wake?.();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.sink) this.sink.onEnd();
    this.wake?.();
  }

  /** Reads exactly `n` bytes (fewer if the client half-closes first). */
  async read(n: number): Promise<Buffer> {
    while (this.size < n && !this.ended) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    const all = Buffer.concat(this.buffered);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return out;
  }

  /** Hands every byte not read yet, then future ones, to `onData`; `onEnd` at the client's half-close. */
  pipe(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    const pending = Buffer.concat(this.buffered);
    this.buffered = [];
    this.size = 0;
    this.sink = { onData, onEnd };
    if (pending.length > 0) onData(pending);
    if (this.ended) onEnd();
  }
}

/** What both kinds of session share: whether the client is gone, and who wants to know when it goes. */
abstract class ClosableConnection {
  private readonly closeListeners: (() => void)[] = [];
  protected isClosed = false;

  get closed(): boolean {
    return this.isClosed;
  }

  protected markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const l of this.closeListeners.splice(0)) l();
  }

  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }
}

/** A hijack over an upgraded socket: after the 101, raw bytes both ways until one side closes. */
export class UpgradedConnection extends ClosableConnection implements HijackedConnection {
  constructor(private readonly socket: Duplex, private readonly input: SocketInput, private readonly bodyRead: Promise<unknown>) {
    super();
    socket.on('close', () => this.markClosed());
    socket.on('error', () => this.markClosed());
  }

  write(data: Buffer): void {
    if (this.isClosed || !this.socket.writable || data.length === 0) return;
    this.socket.write(data);
  }

  end(): void {
    if (this.isClosed) return;
    // FIN after the buffered output; the client closes its side when it sees EOF. One that never
    // does is cut after a grace period (not at once: unread stdin would turn the close into a reset).
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 5000);
    timer.unref();
    this.onClose(() => clearTimeout(timer));
  }

  readInput(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    void this.bodyRead.then(() => this.input.pipe(onData, onEnd));
  }
}

/**
 * The same session without an upgrade (dockerode's default `hijack: false`): a 200 chunked stream.
 * Stdin can only come as a chunked request body, so a body with a Content-Length (dockerode sends
 * its options as JSON) is never taken for stdin.
 */
export class StreamedConnection extends ClosableConnection implements HijackedConnection {
  constructor(private readonly req: IncomingMessage, private readonly res: ServerResponse, private readonly bodyConsumed: () => boolean) {
    super();
    res.on('close', () => this.markClosed());
    res.on('error', () => this.markClosed());
  }

  write(data: Buffer): void {
    if (this.isClosed || this.res.writableEnded || data.length === 0) return;
    this.res.write(data);
  }

  end(): void {
    if (!this.res.writableEnded) this.res.end();
  }

  readInput(onData: (chunk: Buffer) => void, onEnd: () => void): void {
    const chunked = /chunked/i.test(this.req.headers['transfer-encoding'] ?? '');
    if (!chunked || this.bodyConsumed() || this.req.readableEnded) {
      this.req.resume();
      return;
    }
    this.req.on('data', (chunk: Buffer) => onData(chunk));
    this.req.on('end', onEnd);
  }
}
