/**
 * A small HTTP/1.1 client over a unix socket, for the CLI's requests to the daemon. Node's own
 * client (node:http) costs about 10 ms before its first request and 4 ms for each one on these
 * machines, against 1 ms for the same exchange over a bare socket; a CLI command makes three to
 * five requests, and `exec true` has 150 ms in all (docs/benchmarks.md). So the CLI speaks the
 * little HTTP it needs itself:
 *
 * - requests: `Host`, `Connection: close`, a body from a Buffer (`Content-Length`) or a stream
 *   (`Transfer-Encoding: chunked`);
 * - responses: status line and headers, then a body framed by `Content-Length`, by chunked
 *   encoding (extensions and trailers skipped), or by the end of the connection; none for 1xx,
 *   204, 304 and HEAD; interim 1xx responses other than 101 are skipped;
 * - upgrades: a `101` to a request that asked for one hands over the socket and the bytes that
 *   came with the headers (attach, exec start).
 *
 * Anything malformed fails the request with an error that says what was wrong, never a hang.
 */
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { openConnection, type ClientConnection } from './connection.js';

export interface Http1RequestOptions {
  /** The daemon's unix socket; or give `connection`. */
  readonly socketPath?: string;
  /** The daemon over its unix socket or TCP (with TLS); takes precedence over socketPath. */
  readonly connection?: ClientConnection;
  readonly method: string;
  /** Path with its query string. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A body with a known length, or a stream sent chunked. */
  readonly body?: Buffer | Readable;
  /** Ask for an upgrade: a 101 resolves with the socket instead of a response. */
  readonly upgrade?: boolean;
  readonly signal?: AbortSignal;
  /** Fails the request when no response head arrives within this time. */
  readonly timeoutMs?: number;
}

/** Response headers, names in lower case; repeated headers joined with ", ". */
export type Http1Headers = Readonly<Record<string, string>>;

/** A response: its status and headers, and its body as a byte stream. */
export class Http1Response extends Readable {
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly headers: Http1Headers,
    private readonly onRead: () => void,
    private readonly onDestroy: () => void,
  ) {
    super();
  }

  override _read(): void {
    this.onRead();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.onDestroy();
    callback(err);
  }
}

/**
 * A 101 Switching Protocols: the raw socket, paused (resume it once listening), and the bytes that
 * arrived with the headers.
 */
export interface Http1Upgrade {
  readonly statusCode: 101;
  readonly headers: Http1Headers;
  readonly socket: Socket;
  readonly head: Buffer;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;

/** Thrown for a response this client cannot read. */
export class HttpProtocolError extends Error {
  override readonly name = 'HttpProtocolError';
}

interface Head {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headers: Record<string, string>;
}

/** Parses a response head (without its blank line). */
export function parseResponseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!m) throw new HttpProtocolError(`malformed HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpProtocolError(`malformed HTTP header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode: Number(m[1]), statusMessage: m[2] ?? '', headers };
}

/** How a response body ends. */
type Framing = { kind: 'none' } | { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

export function bodyFraming(method: string, head: Head): Framing {
  const { statusCode, headers } = head;
  if (method === 'HEAD' || statusCode === 204 || statusCode === 304 || (statusCode >= 100 && statusCode < 200)) return { kind: 'none' };
  const te = headers['transfer-encoding'];
  if (te !== undefined && te.toLowerCase().split(',').map((s) => s.trim()).includes('chunked')) return { kind: 'chunked' };
  const cl = headers['content-length'];
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw new HttpProtocolError(`malformed Content-Length: ${JSON.stringify(cl)}`);
    const remaining = Number(cl);
    return remaining === 0 ? { kind: 'none' } : { kind: 'length', remaining };
  }
  return { kind: 'close' };
}

/**
 * Decodes a chunked body incrementally: `push` takes bytes as they arrive and returns the data
 * bytes in them and whether the body ended (and where, so that nothing after it is taken).
 */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'data-crlf' | 'trailer' | 'done' = 'size';
  private line = '';
  private remaining = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  push(bytes: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < bytes.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, bytes.length - i);
        out.push(bytes.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'data-crlf';
        continue;
      }
      // size, data-crlf and trailer states read a line.
      const nl = bytes.indexOf(0x0a, i);
      const end = nl === -1 ? bytes.length : nl;
      this.line += bytes.toString('latin1', i, end);
      if (this.line.length > 4096) throw new HttpProtocolError('malformed chunked body: a line too long');
      i = nl === -1 ? bytes.length : nl + 1;
      if (nl === -1) break;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.state === 'size') {
        const m = /^([0-9a-fA-F]+)(?:;.*)?$/.exec(line.trim());
        if (!m) throw new HttpProtocolError(`malformed chunk size: ${JSON.stringify(line.slice(0, 40))}`);
        this.remaining = parseInt(m[1]!, 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.state === 'data-crlf') {
        if (line !== '') throw new HttpProtocolError('malformed chunked body: no CRLF after a chunk');
        this.state = 'size';
      } else if (line === '') {
        this.state = 'done'; // the blank line after the (ignored) trailers
      }
    }
    return out;
  }
}

function abortError(): Error {
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

/** Sends a request; resolves with the response (once its head arrived) or, for an upgrade, the socket. */
export function http1Request(options: Http1RequestOptions): Promise<Http1Response | Http1Upgrade> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(abortError());
      return;
    }
    const target = options.connection ?? (options.socketPath !== undefined ? { kind: 'unix' as const, path: options.socketPath } : undefined);
    if (!target) {
      reject(new Error('http1Request needs a connection or a socketPath'));
      return;
    }
    const socket = openConnection(target);
    let settled = false;
    let response: Http1Response | undefined;
    let pending: Buffer = Buffer.alloc(0);
    let framing: Framing | undefined;
    let chunked: ChunkedDecoder | undefined;
    let timer: NodeJS.Timeout | undefined;

    const fail = (err: Error): void => {
      if (timer) clearTimeout(timer);
      if (!settled) {
        settled = true;
        reject(err);
      } else if (response && !response.destroyed) {
        response.destroy(err);
      }
      socket.destroy();
    };
    const onAbort = (): void => fail(abortError());
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) timer = setTimeout(() => fail(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);

    const endBody = (): void => {
      options.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.destroy();
      response!.push(null);
    };
    const deliver = (bytes: Buffer): void => {
      if (!response || response.destroyed || bytes.length === 0 || framing === undefined) return;
      if (framing.kind === 'length') {
        const take = bytes.subarray(0, framing.remaining);
        framing.remaining -= take.length;
        if (!response.push(take)) socket.pause();
        if (framing.remaining === 0) endBody();
      } else if (framing.kind === 'chunked') {
        let parts: Buffer[];
        try {
          parts = chunked!.push(bytes);
        } catch (err) {
          fail(err as Error);
          return;
        }
        // One push per arrival: a response of many small chunks costs one stream step, not one each.
        const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        if (data.length > 0 && !response.push(data)) socket.pause();
        if (chunked!.done) endBody();
      } else if (framing.kind === 'close') {
        if (!response.push(bytes)) socket.pause();
      }
    };
    const onHead = (head: Head, rest: Buffer): void => {
      if (head.statusCode === 101 && options.upgrade) {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.pause(); // until the new owner listens: nothing may be lost in between
        settled = true;
        resolve({ statusCode: 101, headers: head.headers, socket, head: rest });
        return;
      }
      if (head.statusCode >= 100 && head.statusCode < 200) {
        // 100 Continue and friends: the real response follows.
        pending = rest;
        if (pending.length > 0) onData(Buffer.alloc(0));
        return;
      }
      if (timer) clearTimeout(timer);
      framing = bodyFraming(options.method, head);
      if (framing.kind === 'chunked') chunked = new ChunkedDecoder();
      response = new Http1Response(head.statusCode, head.statusMessage, head.headers, () => socket.resume(), () => socket.destroy());
      settled = true;
      resolve(response);
      if (framing.kind === 'none') endBody();
      else deliver(rest);
    };
    const onData = (chunk: Buffer): void => {
      if (framing !== undefined) {
        deliver(chunk);
        return;
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const end = pending.indexOf(CRLF_CRLF);
      if (end === -1) {
        if (pending.length > MAX_HEAD_BYTES) fail(new HttpProtocolError('HTTP response head too large'));
        return;
      }
      let head: Head;
      try {
        head = parseResponseHead(pending.toString('latin1', 0, end));
        const rest = pending.subarray(end + 4);
        pending = Buffer.alloc(0);
        onHead(head, rest);
      } catch (err) {
        fail(err as Error);
      }
    };
    const onEnd = (): void => {
      if (!settled) {
        fail(new HttpProtocolError('the connection closed before a response arrived'));
      } else if (framing?.kind === 'close') {
        endBody();
      } else {
        fail(new HttpProtocolError('the connection closed in the middle of the response body'));
      }
    };
    const onError = (err: Error): void => fail(err);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);

    const headers: Record<string, string> = { Host: 'docker', ...options.headers };
    if (options.upgrade) {
      headers.Connection ??= 'Upgrade';
    } else {
      headers.Connection = 'close';
    }
    const body = options.body;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body) headers['Transfer-Encoding'] = 'chunked';
    else if (options.method !== 'GET' && options.method !== 'HEAD' && headers['Content-Length'] === undefined) headers['Content-Length'] = '0';
    let text = `${options.method} ${options.path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
        fail(new Error(`invalid HTTP header ${JSON.stringify(name)}`));
        return;
      }
      text += `${name}: ${value}\r\n`;
    }
    text += '\r\n';
    if (Buffer.isBuffer(body)) {
      socket.write(body.length > 0 ? Buffer.concat([Buffer.from(text, 'latin1'), body]) : Buffer.from(text, 'latin1'));
    } else {
      socket.write(text, 'latin1');
      if (body) sendChunked(socket, body).catch((err: unknown) => fail(err instanceof Error ? err : new Error(String(err))));
    }
  });
}

/** Sends a stream as a chunked body, waiting for the socket to drain. */
async function sendChunked(socket: Socket, body: Readable): Promise<void> {
  for await (const data of body) {
    const bytes = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
    if (bytes.length === 0) continue;
    if (socket.destroyed) return;
    const ok = socket.write(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]));
    if (!ok) await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.removeListener('drain', done);
        socket.removeListener('close', done);
        resolve();
      };
      socket.once('drain', done);
      socket.once('close', done);
    });
  }
  if (!socket.destroyed) socket.write('0\r\n\r\n');
}
