import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Readable, type Duplex, type Writable } from 'node:stream';
import type { ApiRequest, ApiResponse, HijackedConnection } from './exchange.js';
import { SocketInput, UpgradedConnection, writeRawHead } from './hijack.js';
import {
  BODY_TIMEOUT_MESSAGE, declaredLength, JSON_BODY_TIMEOUT_MS, MAX_JSON_BODY_BYTES, PayloadTooLargeError, RequestTimeoutError, tooLargeMessage,
} from './request-limits.js';

/** The body, or a 408 when the client has not sent it in time (the raw response always closes the connection). */
function withDeadline(read: Promise<Buffer>): Promise<Buffer> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(BODY_TIMEOUT_MESSAGE)), JSON_BODY_TIMEOUT_MS);
  });
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}

/**
 * An ApiRequest over a socket node handed over with its `upgrade` event. Node parsed the head
 * only; the body (exactly Content-Length bytes) is read from `head` and the socket, and whatever
 * follows is stdin for a hijack.
 */
export class RawApiRequest implements ApiRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly upgrade = true;
  private consumed: Promise<Buffer> | undefined;

  constructor(incoming: IncomingMessage, readonly input: SocketInput, readonly path: string, readonly apiVersion: string, readonly query: URLSearchParams) {
    this.method = incoming.method ?? 'GET';
    this.headers = incoming.headers;
  }

  /** Exactly Content-Length bytes, at most MAX_JSON_BODY_BYTES, within JSON_BODY_TIMEOUT_MS (413 or 408 otherwise). */
  body(): Promise<Buffer> {
    // Chunked bodies are not decoded on upgraded connections; no Docker client sends one there.
    const length = declaredLength(this.headers['content-length']) ?? 0;
    this.consumed ??= length > MAX_JSON_BODY_BYTES
      ? Promise.reject(new PayloadTooLargeError(tooLargeMessage(length)))
      : withDeadline(this.input.read(length));
    return this.consumed;
  }

  /** The body of an upgraded request is read whole (Content-Length) before the route runs. */
  async discardBody(): Promise<void> {
    await this.body().catch(() => undefined);
  }

  bodyStream(): Readable {
    const body = this.body();
    return new Readable({
      read() {
        body.then((b) => {
          if (b.length > 0) this.push(b);
          this.push(null);
        }, (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))));
      },
    });
  }
}

/** An ApiResponse written raw onto the upgraded socket; anything but a hijack closes the connection after it. */
export class RawApiResponse implements ApiResponse {
  private readonly aborter = new AbortController();
  private sent = false;

  constructor(private readonly socket: Duplex, private readonly request: RawApiRequest, private readonly baseHeaders: Readonly<Record<string, string>>) {
    socket.on('close', () => this.aborter.abort());
    socket.on('error', () => this.aborter.abort());
  }

  get started(): boolean {
    return this.sent;
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  private head(status: number, headers: Readonly<Record<string, string>>): void {
    this.sent = true;
    writeRawHead(this.socket, status, { ...this.baseHeaders, ...headers });
  }

  json(status: number, body: unknown): void {
    this.rawJson(status, JSON.stringify(body));
  }

  rawJson(status: number, text: string): void {
    this.text(status, 'application/json', text);
  }

  empty(status: number, extraHeaders: Readonly<Record<string, string>> = {}): void {
    this.head(status, status === 204 || status === 304 ? { ...extraHeaders, Connection: 'close' } : { ...extraHeaders, 'Content-Length': '0', Connection: 'close' });
    this.socket.end();
  }

  text(status: number, contentType: string, body: string, extraHeaders: Readonly<Record<string, string>> = {}): void {
    this.head(status, { ...extraHeaders, 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' });
    this.socket.end(body);
  }

  stream(contentType: string, extraHeaders: Readonly<Record<string, string>> = {}): Writable {
    // No length and no chunking: the body ends when the connection closes, as moby does here.
    this.head(200, { ...extraHeaders, 'Content-Type': contentType, Connection: 'close' });
    return this.socket;
  }

  hijack(contentType: string): HijackedConnection {
    this.head(101, { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' });
    return new UpgradedConnection(this.socket, this.request.input, this.request.body());
  }

  destroy(): void {
    this.socket.destroy();
  }
}
