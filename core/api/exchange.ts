import type { IncomingHttpHeaders } from 'node:http';
import type { Readable, Writable } from 'node:stream';

/**
 * One request/response pair as route handlers see it. Two implementations exist: a normal HTTP
 * exchange (node's `request` event) and a raw one over a socket (node's `upgrade` event, used by
 * `Upgrade: tcp` hijacks). Handlers do not care which one they got, except to hijack.
 */
export interface ApiRequest {
  readonly method: string;
  /** The path without the `/v1.NN` prefix and without the query. */
  readonly path: string;
  /** The API version of the prefix, or the default for unversioned paths ("1.50"). */
  readonly apiVersion: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** True when the client asked to take over the connection (`Connection: Upgrade`, `Upgrade: tcp`). */
  readonly upgrade: boolean;
  /** The whole body (Content-Length or chunked). */
  body(): Promise<Buffer>;
  /** The body as a stream, for large uploads (import, load). */
  bodyStream(): Readable;
  /**
   * Reads and drops what is left of the body (a failed upload): the client is still sending, and
   * a connection closed under it shows as EPIPE instead of the error the response carries.
   */
  discardBody(): Promise<void>;
}

export interface ApiResponse {
  /** True once a status line went out: errors can no longer be reported as a status. */
  readonly started: boolean;
  /** Aborted when the client goes away (or the response ended). */
  readonly signal: AbortSignal;
  /** A JSON body with `Content-Type: application/json` exactly. */
  json(status: number, body: unknown): void;
  /** A body that is already serialised JSON. */
  rawJson(status: number, text: string): void;
  /** No body (204, 304, and 200/201 with an empty body). */
  empty(status: number, extraHeaders?: Readonly<Record<string, string>>): void;
  text(status: number, contentType: string, body: string, extraHeaders?: Readonly<Record<string, string>>): void;
  /** Sends a 200 with this content type at once (headers flushed) and returns the body to write to; end it to finish. */
  stream(contentType: string, extraHeaders?: Readonly<Record<string, string>>): Writable;
  /**
   * Takes over the connection for bidirectional raw bytes: `101 UPGRADED` when the request asked for
   * an upgrade, a 200 stream otherwise.
   */
  hijack(contentType: string): HijackedConnection;
  /** Cuts a response that failed after it started, so the client does not take it for complete. */
  destroy(): void;
}

/** A connection taken over by attach or exec start. */
export interface HijackedConnection {
  /** Writes to the client; a no-op once it is gone. */
  write(data: Buffer): void;
  /** Ends the output and closes the connection (the client then sees EOF). */
  end(): void;
  /**
   * Delivers what the client sends (stdin), first what arrived before this call, and its half-close.
   * The connection stays writable after `onEnd`.
   */
  readInput(onData: (chunk: Buffer) => void, onEnd: () => void): void;
  /** Called once when the connection is gone, whoever closed it. */
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

/** What a route handler receives. */
export interface RouteContext {
  readonly req: ApiRequest;
  readonly res: ApiResponse;
  /** Path parameters, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

/** The headers moby's middleware puts on every response. */
export function commonHeaders(serverVersion: string, apiVersion: string): Record<string, string> {
  return {
    'Api-Version': apiVersion,
    Ostype: 'linux',
    Server: `mini-dockerd/${serverVersion} (linux)`,
  };
}

/** The JSON error body every client reads: `{"message":"..."}`. */
export function errorBody(message: string): string {
  return JSON.stringify({ message });
}
