import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ApiRequest, ApiResponse, HijackedConnection } from './exchange.js';
import { StreamedConnection } from './hijack.js';
import {
  BODY_TIMEOUT_MESSAGE, declaredLength, JSON_BODY_TIMEOUT_MS, MAX_DISCARDED_BYTES, MAX_JSON_BODY_BYTES, PayloadTooLargeError, RequestTimeoutError, tooLargeMessage,
} from './request-limits.js';

/** How long a failed upload's remaining body is read before the error goes out anyway. */
const DISCARD_TIMEOUT_MS = 60_000;

/** An ApiRequest over node's IncomingMessage (the `request` event). */
export class HttpApiRequest implements ApiRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly upgrade = false;
  private consumed: Promise<Buffer> | undefined;
  /** Set when the body was refused: the response closes the connection. */
  closeAfterResponse = false;
  /** Set when the rest of a refused body is not worth reading (too large, or a stalled client). */
  private dropUnread = false;

  constructor(private readonly incoming: IncomingMessage, readonly path: string, readonly apiVersion: string, readonly query: URLSearchParams) {
    this.method = incoming.method ?? 'GET';
    this.headers = incoming.headers;
  }

  /** True once the body was read (or handed out as a stream). */
  get bodyConsumed(): boolean {
    return this.consumed !== undefined;
  }

  /** The whole body, at most MAX_JSON_BODY_BYTES, within JSON_BODY_TIMEOUT_MS (413 or 408 otherwise). */
  body(): Promise<Buffer> {
    this.consumed ??= new Promise<Buffer>((resolve, reject) => {
      const incoming = this.incoming;
      const declared = declaredLength(incoming.headers['content-length']);
      if (declared !== undefined && declared > MAX_JSON_BODY_BYTES) {
        // Refused before a byte is read; a body too large to drop is cut with the connection.
        this.closeAfterResponse = true;
        this.dropUnread = declared - MAX_JSON_BODY_BYTES > MAX_DISCARDED_BYTES;
        reject(new PayloadTooLargeError(tooLargeMessage(declared)));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => {
        this.closeAfterResponse = true;
        this.dropUnread = true;
        incoming.off('data', onData);
        incoming.pause();
        reject(new RequestTimeoutError(BODY_TIMEOUT_MESSAGE));
      }, JSON_BODY_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > MAX_JSON_BODY_BYTES) {
          clearTimeout(timer);
          this.closeAfterResponse = true;
          incoming.off('data', onData);
          incoming.pause();
          reject(new PayloadTooLargeError(tooLargeMessage(declared)));
          return;
        }
        chunks.push(chunk);
      };
      incoming.on('data', onData);
      incoming.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks));
      });
      incoming.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return this.consumed;
  }

  /**
   * The body through a PassThrough: a reader that stops early (a for-await that throws on a bad
   * tar) destroys only that, so the rest can still be drained (discardBody) and the error sent.
   */
  bodyStream(): Readable {
    this.consumed ??= Promise.resolve(Buffer.alloc(0));
    const through = new PassThrough();
    this.incoming.on('error', (err) => through.destroy(err));
    return this.incoming.pipe(through);
  }

  discardBody(): Promise<void> {
    const incoming = this.incoming;
    if (this.dropUnread || incoming.complete || incoming.destroyed || incoming.readableEnded) return Promise.resolve();
    return new Promise((resolve) => {
      let dropped = 0;
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // A client that stalls, or sends without end, does not hold the error back for ever.
      const giveUp = (): void => {
        this.closeAfterResponse = true;
        this.dropUnread = true;
        incoming.pause();
        done();
      };
      const timer = setTimeout(giveUp, DISCARD_TIMEOUT_MS);
      timer.unref();
      incoming.unpipe();
      incoming.on('data', (chunk: Buffer) => {
        dropped += chunk.length;
        if (dropped > MAX_DISCARDED_BYTES) giveUp();
      });
      incoming.once('end', done);
      incoming.once('close', done);
      incoming.once('error', done);
      incoming.resume();
    });
  }
}

/** An ApiResponse over node's ServerResponse; the common headers are already set on it. */
export class HttpApiResponse implements ApiResponse {
  private readonly aborter = new AbortController();

  constructor(private readonly incoming: IncomingMessage, private readonly res: ServerResponse, private readonly request: HttpApiRequest) {
    res.on('close', () => this.aborter.abort());
  }

  get started(): boolean {
    return this.res.headersSent;
  }

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  json(status: number, body: unknown): void {
    this.rawJson(status, JSON.stringify(body));
  }

  rawJson(status: number, text: string): void {
    if (this.request.closeAfterResponse) this.res.setHeader('Connection', 'close');
    this.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  empty(status: number, extraHeaders: Readonly<Record<string, string>> = {}): void {
    this.res.writeHead(status, status === 204 || status === 304 ? { ...extraHeaders } : { ...extraHeaders, 'Content-Length': 0 });
    this.res.end();
  }

  text(status: number, contentType: string, body: string, extraHeaders: Readonly<Record<string, string>> = {}): void {
    this.res.writeHead(status, { ...extraHeaders, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    this.res.end(body);
  }

  stream(contentType: string, extraHeaders: Readonly<Record<string, string>> = {}): Writable {
    this.res.writeHead(200, { ...extraHeaders, 'Content-Type': contentType });
    this.res.flushHeaders();
    return this.res;
  }

  hijack(contentType: string): HijackedConnection {
    this.res.writeHead(200, { 'Content-Type': contentType });
    this.res.flushHeaders();
    return new StreamedConnection(this.incoming, this.res, () => this.request.bodyConsumed);
  }

  /** Cuts a response that failed half way, so the client does not take it for complete. */
  destroy(): void {
    this.res.destroy();
  }
}
