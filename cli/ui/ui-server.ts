/**
 * The server of `mini-docker ui` (docs/ui.md): the page's assets, and its `/api/…` calls answered
 * either by the daemon (forwarded to its socket, GETs of the page's routes only) or by the page's
 * routes over a copied log held in this process (`--log`). It listens on loopback only and answers
 * only requests addressed to a loopback name, so another site open in the browser cannot read it
 * through a DNS name that points at 127.0.0.1.
 */
import { createReadStream, existsSync } from 'node:fs';
import * as http from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { errorBody } from '../../core/api/exchange.js';
import { HttpApiRequest, HttpApiResponse } from '../../core/api/http-exchange.js';
import { splitVersion } from '../../core/api/http-params.js';
import type { Router } from '../../core/api/router.js';
import { EngineError } from '../../core/engine/errors.js';
import { packageRoot } from '../lib/paths.js';

/** Where esbuild put the page (scripts/build.mjs): dist/cli/ui/assets. */
export const ASSETS_DIR = join(packageRoot(), 'dist', 'cli', 'ui', 'assets');

const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** The daemon routes the page may call through this server: its own, and a container's logs, stats and kept stats. */
const DAEMON_ROUTES: readonly RegExp[] = [
  /^\/tiny\/ui\/(state|events|live|containers\/[0-9a-f]{64}\/timeline)$/,
  /^\/tiny\/stats\/[0-9a-f]{64}$/,
  /^(\/v1\.\d+)?\/containers\/[0-9a-f]{64}\/(logs|stats)$/,
];

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** The daemon's answer to one forwarded GET (status below 400; errors are thrown with their `status`). */
export interface DaemonAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Readable;
}

/** Sends one GET to the daemon (the CLI's own client: its unix socket, or TCP with TLS). */
export type DaemonGet = (pathAndQuery: string, headers: Readonly<Record<string, string>>, signal: AbortSignal) => Promise<DaemonAnswer>;

/** Where the page's data comes from. */
export type UiBackend =
  | { readonly kind: 'daemon'; readonly get: DaemonGet }
  | { readonly kind: 'history'; readonly router: Router };

/** True for 127.0.0.0/8, ::1 and "localhost". */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** `127.0.0.1:7070`, `[::1]:0`, `localhost:7070` or a port alone; refuses any other address. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d{1,5})$/.exec(value.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`invalid --listen ${value}: expected HOST:PORT on loopback, such as 127.0.0.1:7070`);
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  if (!isLoopback(host)) throw new Error(`refusing --listen ${value}: the page serves the whole event log and listens on loopback only (127.0.0.1, ::1 or localhost)`);
  return { host, port: Number(m[2]) };
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  const body = errorBody(message);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function serveAsset(res: http.ServerResponse, asset: { file: string; type: string }, assetsDir: string): void {
  const path = join(assetsDir, asset.file);
  if (!existsSync(path)) {
    sendError(res, 500, `the page is not built (${path} is missing): run "npm run build"`);
    return;
  }
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type });
  createReadStream(path).pipe(res);
}

/** Forwards one GET to the daemon and streams its answer back (SSE included). */
async function forward(incoming: http.IncomingMessage, res: http.ServerResponse, daemon: DaemonGet, path: string): Promise<void> {
  const lastEventId = incoming.headers['last-event-id'];
  const headers = { Accept: incoming.headers.accept ?? '*/*', ...(typeof lastEventId === 'string' ? { 'Last-Event-ID': lastEventId } : {}) };
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  let answer: DaemonAnswer;
  try {
    answer = await daemon(path, headers, abort.signal);
  } catch (err) {
    if (abort.signal.aborted) return;
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 502;
    sendError(res, status, err instanceof Error ? err.message : String(err));
    return;
  }
  if (abort.signal.aborted) {
    answer.body.destroy();
    return;
  }
  res.writeHead(answer.status, { ...SECURITY_HEADERS, ...(answer.contentType ? { 'Content-Type': answer.contentType } : {}) });
  res.flushHeaders();
  answer.body.on('error', () => res.destroy());
  res.on('close', () => answer.body.destroy());
  answer.body.pipe(res);
}

/** Answers one `/api/…` call with the page's routes held in this process. */
async function dispatch(incoming: http.IncomingMessage, res: http.ServerResponse, router: Router, path: string, query: URLSearchParams): Promise<void> {
  let split: { version: string; path: string };
  try {
    split = splitVersion(path);
  } catch (err) {
    sendError(res, 400, err instanceof Error ? err.message : String(err));
    return;
  }
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  const req = new HttpApiRequest(incoming, split.path, split.version, query);
  const apiRes = new HttpApiResponse(incoming, res, req);
  try {
    const match = router.match('GET', split.path);
    if (!match) {
      sendError(res, 404, `${split.path}: not served for a copied log (logs and stats need the daemon; run mini-docker ui without --log)`);
      return;
    }
    await match.handler({ req, res: apiRes, params: match.params });
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, err instanceof EngineError ? err.status : 500, err instanceof Error ? err.message : String(err));
  }
}

/** The server; call `listen(port, host)` on it. */
export function createUiServer(backend: UiBackend, assetsDir = ASSETS_DIR): http.Server {
  const server = http.createServer((incoming, res) => {
    const url = incoming.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const hostHeader = incoming.headers.host ?? '';
    const hostName = hostHeader.replace(/:\d+$/, '');
    if (!isLoopback(hostName)) {
      sendError(res, 403, `refused: Host ${hostHeader || '(none)'} is not a loopback address; open the page at http://127.0.0.1:<port>/`);
      return;
    }
    if (incoming.method !== 'GET' && incoming.method !== 'HEAD') {
      sendError(res, 405, `${incoming.method ?? ''} ${path}: the page is read-only (GET only)`);
      return;
    }
    const asset = ASSETS[path];
    if (asset) {
      serveAsset(res, asset, assetsDir);
      return;
    }
    if (!path.startsWith('/api/')) {
      sendError(res, 404, `${path}: no such page`);
      return;
    }
    const apiPath = path.slice('/api'.length);
    if (backend.kind === 'history') {
      void dispatch(incoming, res, backend.router, apiPath, query);
      return;
    }
    if (!DAEMON_ROUTES.some((r) => r.test(apiPath))) {
      sendError(res, 404, `${apiPath}: not a route of the page`);
      return;
    }
    void forward(incoming, res, backend.get, `${apiPath}${q < 0 ? '' : url.slice(q)}`);
  });
  // Live streams stay open for as long as the page does.
  server.requestTimeout = 0;
  return server;
}
