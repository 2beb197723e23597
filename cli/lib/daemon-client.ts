import http from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { CliError, DaemonError } from './errors.js';

/** A query parameter: booleans go out as 1/0 (like the docker CLI), arrays as repeated keys. */
export type QueryValue = string | number | boolean | undefined | null | readonly string[];
export type Query = Readonly<Record<string, QueryValue>>;

/** What a request sends besides its method and path. */
export interface RequestOptions {
  readonly query?: Query;
  /** A JSON body (sent with Content-Length). */
  readonly json?: unknown;
  /** A raw body, sent chunked as it is read (import, load). */
  readonly body?: Readable;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** A hijacked connection (attach, exec start): raw bytes both ways after the 101. */
export interface HijackedConnection {
  readonly socket: Socket;
  /** Bytes that arrived together with the 101 headers: the start of the output. */
  readonly head: Buffer;
  readonly contentType: string;
}

/** How the client makes sure a daemon answers before its first request (see daemon-autostart.ts). */
export type EnsureDaemon = (client: DaemonClient) => Promise<void>;

/** Builds `path?query` with the docker CLI's encoding of booleans and repeated keys. */
export function buildPath(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value as readonly string[]) params.append(key, v);
    } else if (typeof value === 'boolean') {
      params.append(key, value ? '1' : '0');
    } else {
      params.append(key, String(value));
    }
  }
  const qs = params.toString();
  return qs === '' ? path : `${path}?${qs}`;
}

/** Reads a whole response body. */
export async function readBody(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The daemon's error message from an error body: `{"message"}`, else the text, else Docker's fallback. */
export function errorMessageOf(status: number, body: Buffer, path: string): string {
  const text = body.toString('utf8').trim();
  if (text === '') return `request returned ${status} for API route ${path}, check if the server supports the requested API version`;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && 'message' in parsed) {
      const message = String((parsed as { message: unknown }).message).trim();
      return message === '' ? `API returned a ${status} but provided no error-message` : message;
    }
  } catch {
    // not JSON: the text itself is the message
  }
  return text;
}

/** Splits a byte stream into its non-empty lines (`\n` or `\r\n`), as they arrive. */
export async function* textLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of stream) {
    rest += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = rest.indexOf('\n')) !== -1) {
      const line = rest.slice(0, nl).trim();
      rest = rest.slice(nl + 1);
      if (line !== '') yield line;
    }
  }
  if (rest.trim() !== '') yield rest.trim();
}

/** Splits a stream of newline-separated JSON documents into parsed values. */
export async function* jsonLines<T>(stream: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  for await (const line of textLines(stream)) yield JSON.parse(line) as T;
}

/**
 * A small HTTP/1.1 client for the daemon's unix socket: JSON requests, streamed responses,
 * `{"message"}` errors as DaemonError, and hijacked (101 Upgrade: tcp) connections.
 * Before the first request it calls `ensureDaemon` once (ping, and start the daemon if allowed).
 */
export class DaemonClient {
  private readonly agent = new http.Agent({ keepAlive: true });
  private ready: Promise<void> | undefined;

  constructor(readonly socketPath: string, private readonly ensureDaemon?: EnsureDaemon) {}

  /** True when something answers `GET /_ping` on the socket within the timeout. */
  async ping(timeoutMs = 2000): Promise<{ ok: true } | { ok: false; reason: string }> {
    return new Promise((resolve) => {
      const req = http.request({ socketPath: this.socketPath, method: 'GET', path: '/_ping', agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        resolve(res.statusCode !== undefined && res.statusCode < 600 ? { ok: true } : { ok: false, reason: `status ${res.statusCode}` });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, reason: err.code ?? err.message }));
      req.end();
    });
  }

  private async whenReady(): Promise<void> {
    if (!this.ensureDaemon) return;
    this.ready ??= this.ensureDaemon(this);
    await this.ready;
  }

  /**
   * Sends a request and resolves as soon as the response headers arrive (so `wait` can be sent
   * before `start`). Statuses >= 400 reject with a DaemonError carrying the daemon's message.
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<http.IncomingMessage> {
    await this.whenReady();
    const fullPath = buildPath(path, options.query);
    const headers: Record<string, string> = { ...options.headers };
    let payload: Buffer | undefined;
    if (options.json !== undefined) {
      payload = Buffer.from(JSON.stringify(options.json));
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    } else if (options.body) {
      headers['Content-Type'] = options.contentType ?? 'application/x-tar';
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path: fullPath, headers, agent: this.agent, signal: options.signal }, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 400) {
          resolve(res);
          return;
        }
        readBody(res).then(
          (body) => reject(new DaemonError(errorMessageOf(status, body, fullPath), status)),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectionError(err)));
      if (payload) req.end(payload);
      else if (options.body) {
        options.body.on('error', (err) => req.destroy(err));
        options.body.pipe(req);
      } else req.end();
    });
  }

  /** A request whose body is JSON (or empty: then `undefined`). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, options);
    const body = (await readBody(res)).toString('utf8').trim();
    return (body === '' ? undefined : JSON.parse(body)) as T;
  }

  /** A request whose body does not matter (204, 304): returns the status. */
  async call(method: string, path: string, options: RequestOptions = {}): Promise<number> {
    const res = await this.request(method, path, options);
    await readBody(res);
    return res.statusCode ?? 0;
  }

  /** A streamed response of JSON lines (events, progress). */
  async *stream<T>(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<T> {
    const res = await this.request(method, path, options);
    try {
      yield* jsonLines<T>(res);
    } finally {
      res.destroy();
    }
  }

  /**
   * A hijacked request: `Connection: Upgrade`, `Upgrade: tcp`; resolves with the raw socket once the
   * daemon answers 101. Any other status rejects (with the daemon's message for errors).
   */
  async hijack(method: string, path: string, options: Pick<RequestOptions, 'query' | 'json'> = {}): Promise<HijackedConnection> {
    await this.whenReady();
    const fullPath = buildPath(path, options.query);
    const payload = options.json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(options.json));
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'tcp',
      'Content-Type': options.json === undefined ? 'text/plain' : 'application/json',
      'Content-Length': String(payload.length),
    };
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socketPath, method, path: fullPath, headers, agent: false });
      req.on('upgrade', (res, socket, head) => {
        resolve({ socket, head, contentType: String(res.headers['content-type'] ?? '') });
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        readBody(res).then(
          (body) => reject(status >= 400 ? new DaemonError(errorMessageOf(status, body, fullPath), status) : new Error(`unable to upgrade to tcp, received ${status}`)),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectionError(err)));
      req.end(payload);
    });
  }

  /** Closes idle keep-alive connections so the process can exit. */
  close(): void {
    this.agent.destroy();
  }

  private connectionError(err: NodeJS.ErrnoException): Error {
    if (err.name === 'AbortError') return err;
    if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT' || err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      return new CliError(`cannot reach mini-dockerd at ${this.socketPath}: ${err.code}`);
    }
    return err;
  }
}
