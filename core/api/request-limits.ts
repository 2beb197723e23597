/**
 * What the API server accepts from a client, so that a malicious or broken one (a 100 MB JSON
 * body, 100 kB of headers, one byte a second, a thousand connections at once) gets a clear 4xx
 * or a closed connection while everyone else is still served (docs/security.md, "The attack suite").
 */

/** JSON bodies (create, exec, update…) are small; uploads (import, load) go through bodyStream and have no limit. */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;
/** Node's own limit on the request line and headers together; a larger head is answered 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** How long a client may take to send the request line and headers before it is answered 408 and closed. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** How long a client may take to send a JSON body once its headers are in; then 408 and closed. */
export const JSON_BODY_TIMEOUT_MS = 10_000;
/** How often node checks the two timeouts above (its default, 30 s, would let a slow client stay 40 s). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * How many bytes of a refused body are read and dropped so the client, still sending, can read the
 * error; past that the error goes out with `Connection: close` and the connection ends.
 */
export const MAX_DISCARDED_BYTES = 128 * 1024 * 1024;
/** Connections waiting to be accepted (listen's backlog; the kernel caps it at net.core.somaxconn). */
export const LISTEN_BACKLOG = 4096;

/** A body larger than the route takes: HTTP 413. */
export class PayloadTooLargeError extends Error {
  readonly status = 413;
  constructor(message: string) {
    super(message);
    this.name = 'PayloadTooLargeError';
  }
}

/** A client too slow to send its request: HTTP 408. */
export class RequestTimeoutError extends Error {
  readonly status = 408;
  constructor(message: string) {
    super(message);
    this.name = 'RequestTimeoutError';
  }
}

/** The message of a too large JSON body, for both exchanges. */
export function tooLargeMessage(declared?: number): string {
  const size = declared === undefined ? 'more than that' : `${declared} bytes`;
  return `request body too large: this endpoint takes at most ${MAX_JSON_BODY_BYTES} bytes of JSON, the client sent ${size}`;
}

export const BODY_TIMEOUT_MESSAGE = `request body not received within ${JSON_BODY_TIMEOUT_MS / 1000} s: the client is too slow or stalled; the connection is closed`;

/** The declared Content-Length, or undefined when absent or not a whole number (chunked). */
export function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}
