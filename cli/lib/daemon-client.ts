import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { describeConnection, type ClientConnection } from './connection.js';
import { CliError, DaemonError } from './errors.js';
import { http1Request, Http1Response, HttpProtocolError, type Http1RequestOptions } from './http1.js';

export type { Http1Response as DaemonResponse } from './http1.js';

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
  /** Paused: resume it once listening for its output. */
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
 * The CLI's client for the daemon's unix socket (HTTP/1.1 through cli/lib/http1.ts): JSON
 * requests, streamed responses, `{"message"}` errors as DaemonError, and hijacked (101 Upgrade:
 * tcp) connections.
 *
 * With `ensureDaemon`, a request goes out at once; only when nothing listens on the socket
 * (ENOENT, ECONNREFUSED: the request never reached a daemon, so it did not happen) does the client
 * call `ensureDaemon` (which starts one, waits for one that is starting, or says why it will not)
 * and send the request once more: also later in a command, when the daemon went away between two
 * of its requests. A request with a streamed body cannot be sent twice, so it ensures the daemon
 * first. A request the daemon took but did not answer (the connection closed: it stopped or was
 * killed) is never sent again, as it may have taken effect: that is a one-line error saying so.
 */
export class DaemonClient {
  /** The ensure in progress, shared by the requests that found no daemon at the same time. */
  private ensuring: Promise<void> | undefined;
  /** How many ensures succeeded: a request that found no daemon ensures one only if none was ensured since it was sent. */
  private ensured = 0;

  /** How requests reach the daemon (a bare string is its unix socket's path). */
  readonly connection: ClientConnection;

  constructor(target: string | ClientConnection, private readonly ensureDaemon?: EnsureDaemon) {
    this.connection = typeof target === 'string' ? { kind: 'unix', path: target } : target;
  }

  /** True when something answers `GET /_ping` on the socket within the timeout. */
  async ping(timeoutMs = 2000): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      const res = await http1Request({ connection: this.connection, method: 'GET', path: '/_ping', timeoutMs });
      if (res instanceof Http1Response) res.resume();
      return res.statusCode < 600 ? { ok: true } : { ok: false, reason: `status ${res.statusCode}` };
    } catch (err) {
      return { ok: false, reason: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  }

  private ensure(): Promise<void> {
    if (!this.ensureDaemon) return Promise.resolve();
    this.ensuring ??= this.ensureDaemon(this).then(
      () => { this.ensuring = undefined; this.ensured += 1; },
      (err: unknown) => { this.ensuring = undefined; throw err; },
    );
    return this.ensuring;
  }

  /** Sends once; when no daemon listened and one may be ensured, ensures it and sends again. */
  private async send(options: Omit<Http1RequestOptions, 'socketPath' | 'connection'>): Promise<Http1Response | { statusCode: 101; headers: Readonly<Record<string, string>>; socket: Socket; head: Buffer }> {
    const streamed = options.body !== undefined && !Buffer.isBuffer(options.body);
    if (this.ensuring) await this.ensuring;
    if (streamed && this.ensured === 0) await this.ensure();
    const ensuredBefore = this.ensured;
    try {
      return await http1Request({ ...options, connection: this.connection });
    } catch (err) {
      if (this.ensureDaemon && !streamed && notListening(err)) {
        if (this.ensured === ensuredBefore) await this.ensure();
        try {
          return await http1Request({ ...options, connection: this.connection });
        } catch (again) {
          throw this.connectionError(again, options);
        }
      }
      throw this.connectionError(err, options);
    }
  }

  /**
   * Sends a request and resolves as soon as the response headers arrive (so `wait` can be sent
   * before `start`). Statuses >= 400 reject with a DaemonError carrying the daemon's message.
   */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Http1Response> {
    const fullPath = buildPath(path, options.query);
    const headers: Record<string, string> = { ...options.headers };
    let body: Buffer | Readable | undefined;
    if (options.json !== undefined) {
      body = Buffer.from(JSON.stringify(options.json));
      headers['Content-Type'] = options.contentType ?? 'application/json';
    } else if (options.body) {
      body = options.body;
      headers['Content-Type'] = options.contentType ?? 'application/x-tar';
    }
    const res = await this.send({ method, path: fullPath, headers, body, signal: options.signal });
    if (!(res instanceof Http1Response)) {
      res.socket.destroy();
      throw new Error(`unexpected ${res.statusCode} from API route ${fullPath}`);
    }
    if (res.statusCode < 400) return res;
    const text = await readBody(res);
    throw new DaemonError(errorMessageOf(res.statusCode, text, fullPath), res.statusCode);
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
    return res.statusCode;
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
    const fullPath = buildPath(path, options.query);
    const body = options.json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(options.json));
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'tcp',
      'Content-Type': options.json === undefined ? 'text/plain' : 'application/json',
    };
    const res = await this.send({ method, path: fullPath, headers, body, upgrade: true });
    if (!(res instanceof Http1Response)) return { socket: res.socket, head: res.head, contentType: res.headers['content-type'] ?? '' };
    const text = await readBody(res);
    if (res.statusCode >= 400) throw new DaemonError(errorMessageOf(res.statusCode, text, fullPath), res.statusCode);
    throw new Error(`unable to upgrade to tcp, received ${res.statusCode}`);
  }

  /** Nothing to close: every request has its own connection, closed when its response ends. */
  close(): void {}

  private connectionError(error: unknown, request: { method: string; path: string }): Error {
    const err = error as NodeJS.ErrnoException;
    if (err.name === 'AbortError') return err;
    if (notListening(err)) return new CliError(`cannot reach mini-dockerd at ${describeConnection(this.connection)}: ${err.code}`);
    if (this.connection.kind === 'tcp' && this.connection.tls && /closed before a response arrived/.test(err.message)) {
      // TLS 1.3: a daemon that refuses the client's certificate says so only by closing after the handshake.
      return new CliError(`mini-dockerd at ${describeConnection(this.connection)} closed the TLS connection: it takes only client certificates signed by its CA (check --tlscert, --tlskey or DOCKER_CERT_PATH)`);
    }
    if (this.connection.kind === 'tcp' && this.connection.tls && /SSL|TLS|CERT|certificate|self.signed|handshake/i.test(`${err.code ?? ''} ${err.message}`)) {
      return new CliError(`TLS with mini-dockerd at ${describeConnection(this.connection)} failed: ${err.message} (check --tlscacert, --tlscert, --tlskey or DOCKER_CERT_PATH)`);
    }
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || (err instanceof HttpProtocolError && /closed before a response/.test(err.message))) {
      return new CliError(`mini-dockerd at ${describeConnection(this.connection)} closed the connection before answering ${request.method} ${request.path.split('?')[0]} (did it stop?): whether that took effect is unknown; see mini-docker ps -a`);
    }
    return err;
  }
}

/** True when the request never reached a daemon: no socket file, or nothing listening on it. */
function notListening(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}
