import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { DistributionError, type TransportOptions } from '../../core/plugin-api.js';

/** The host Docker Hub's API lives on: `docker.io` names go there, as the docker CLI does. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: http.IncomingMessage;
  /** The URL answered (after redirects). */
  readonly url: URL;
}

export interface HttpRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | AsyncIterable<Buffer>;
  readonly signal?: AbortSignal;
  /** Follow 3xx (GET/HEAD only); an Authorization header is dropped when the host changes. */
  readonly followRedirects?: boolean;
}

const MAX_REDIRECTS = 5;

/** Whether a host (without port) is on the loopback: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** "host:port" → hostname without the port (IPv6 in brackets kept bare). */
export function hostnameOf(registry: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(registry);
  if (m) return m[1]!;
  return registry.replace(/:\d+$/, '');
}

/**
 * HTTP(S) to registries: plain HTTP for loopback hosts and `--insecure-registry` ones (unless
 * the certs dir has a folder for the host), HTTPS with the system's CAs plus
 * `<certsDir>/<host:port>/*.crt` otherwise; one keep-alive agent per
 * registry; every request bounded by `timeoutMs` of silence (connect or read), then failing with
 * the host named.
 */
export class RegistryTransport {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly options: TransportOptions) {}

  /**
   * The base URL of a registry's API: `https://registry-1.docker.io` for docker.io. A host with a
   * folder in the certs dir is HTTPS (verified with those CAs) even on the loopback.
   */
  baseUrl(registry: string): URL {
    const host = registry === 'docker.io' ? DOCKER_HUB_API : registry;
    const hasCerts = existsSync(join(this.options.certsDir, host));
    const insecure = !hasCerts && (isLoopback(hostnameOf(host)) || this.options.insecureRegistries.some((r) => r === host || r === hostnameOf(host)));
    return new URL(`${insecure ? 'http' : 'https'}://${host}`);
  }

  async request(url: URL, init: HttpRequest = {}): Promise<HttpResponse> {
    let current = url;
    let headers = { ...(init.headers ?? {}) };
    for (let hop = 0; ; hop++) {
      const response = await this.once(current, { ...init, headers });
      const location = response.headers.location;
      if (!init.followRedirects || response.status < 300 || response.status >= 400 || location === undefined) return response;
      response.body.resume();
      if (hop >= MAX_REDIRECTS) throw new DistributionError(`${url.host}: more than ${MAX_REDIRECTS} redirects for ${url.pathname}`, 502);
      const next = new URL(location, current);
      if (next.host !== current.host) {
        const { authorization: _dropped, ...rest } = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
        void _dropped;
        headers = rest;
      }
      current = next;
    }
  }

  private async agentFor(url: URL): Promise<http.Agent> {
    const key = `${url.protocol}//${url.host}`;
    const known = this.agents.get(key);
    if (known) return known;
    const agent = url.protocol === 'http:'
      ? new http.Agent({ keepAlive: true, maxSockets: 8 })
      : new https.Agent({ keepAlive: true, maxSockets: 8, ca: [...rootCertificates, ...(await this.extraCas(url.host))] });
    this.agents.set(key, agent);
    return agent;
  }

  /** The `*.crt` files of `<certsDir>/<host:port>/` (Docker's certs.d layout). */
  private async extraCas(host: string): Promise<string[]> {
    const dir = join(this.options.certsDir, host);
    const names = await readdir(dir).catch(() => [] as string[]);
    return Promise.all(names.filter((n) => n.endsWith('.crt')).sort().map((n) => readFile(join(dir, n), 'utf8')));
  }

  private async once(url: URL, init: HttpRequest): Promise<HttpResponse> {
    const agent = await this.agentFor(url);
    const seconds = Math.round(this.options.timeoutMs / 100) / 10;
    return new Promise<HttpResponse>((resolve, reject) => {
      const module = url.protocol === 'http:' ? http : https;
      const req = module.request(url, { method: init.method ?? 'GET', headers: init.headers, agent, timeout: this.options.timeoutMs });
      const failWith = (error: Error): void => {
        req.destroy(error);
        reject(error);
      };
      req.on('timeout', () => failWith(new DistributionError(`registry ${url.host} did not answer within ${seconds}s (${init.method ?? 'GET'} ${url.pathname})`, 504)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof DistributionError) return reject(error);
        if (init.signal?.aborted) return reject(new DistributionError('the pull was cancelled', 499));
        reject(new DistributionError(`cannot reach registry ${url.host}: ${describeNetworkError(error)}`, 502));
      });
      const onAbort = (): void => failWith(new DistributionError('the pull was cancelled', 499));
      init.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => init.signal?.removeEventListener('abort', onAbort));
      req.on('response', (res) => {
        // The socket's idle timeout still bounds the body: a stalled blob fails instead of hanging.
        res.on('aborted', () => res.destroy(new DistributionError(`registry ${url.host} closed the connection in the middle of ${url.pathname}`, 502)));
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      const body = init.body;
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        void (async () => {
          try {
            for await (const chunk of body) {
              if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', r));
            }
            req.end();
          } catch (error) {
            failWith(error instanceof Error ? error : new Error(String(error)));
          }
        })();
      }
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'the connection was reset';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'no such host';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'no route to host';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `its TLS certificate is not trusted (${error.code}): put its CA in the registry certs folder as <host:port>/ca.crt, or use --insecure-registry`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return `its TLS certificate does not name this host (${error.message})`;
    case 'EPROTO': return `TLS handshake failed (${error.message.split('\n')[0]}); is it plain HTTP? then use --insecure-registry`;
    default: return error.message.split('\n')[0] ?? String(error.code);
  }
}

/** The whole body as a Buffer, at most `limit` bytes. */
export async function readBody(response: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.body.destroy();
      throw new DistributionError(`${what} is larger than ${limit} bytes: refused`, 502);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
