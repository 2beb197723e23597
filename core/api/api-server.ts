import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Engine } from '../engine/engine.js';
import { EngineError } from '../engine/errors.js';
import type { Logger } from '../plugins/driver.js';
import { registerArchiveRoutes } from './archive-routes.js';
import { registerContainerRoutes } from './container-routes.js';
import { registerNetworkConnectRoutes } from './network-connect-routes.js';
import { registerContainerStreamRoutes } from './container-stream-routes.js';
import { registerEventRoutes } from './event-routes.js';
import { registerExecRoutes } from './exec-routes.js';
import { commonHeaders, errorBody, type ApiRequest, type ApiResponse } from './exchange.js';
import { registerImageRoutes } from './image-routes.js';
import { registerRegistryRoutes } from './registry-routes.js';
import type { NetworkService } from '../engine/network-service.js';
import type { RegistryService } from '../engine/registry-service.js';
import { registerNetworkRoutes } from './network-routes.js';
import { HttpApiRequest, HttpApiResponse } from './http-exchange.js';
import { API_VERSION, splitVersion } from './http-params.js';
import { RawApiRequest, RawApiResponse } from './raw-exchange.js';
import { SocketInput } from './hijack.js';
import { Router } from './router.js';
import { HEADERS_TIMEOUT_MS, MAX_HEADER_BYTES, TIMEOUT_CHECK_INTERVAL_MS } from './request-limits.js';
import { messageOf, type RouteDeps } from './route-support.js';
import { registerSystemRoutes } from './system-routes.js';
import { registerStatsHistoryRoutes } from './stats-history-routes.js';
import { registerUiRoutes } from './ui-routes.js';
import { registerUnsupportedRoutes } from './unsupported-routes.js';
import { registerVolumeRoutes } from './volume-routes.js';

export interface ApiServerOptions {
  /** The daemon's version, shown in `Server: mini-dockerd/<version> (linux)` and `/version`. */
  readonly version: string;
  /** Where server errors (500s, broken streams) are logged; silent when absent. */
  readonly logger?: Logger;
  /** `POST /tiny/plugins/reload`: loads plugin packages installed since the daemon started. */
  readonly reloadPlugins?: RouteDeps['reloadPlugins'];
  /** Pulls, pushes and logins (POST /images/create?fromImage, /images/{name}/push, /auth). */
  readonly registry?: RegistryService;
  /** Networks: /networks. */
  readonly networks?: NetworkService;
  /** The kept stats readings (`GET /tiny/stats/{id}`). */
  readonly statsHistory?: RouteDeps['statsHistory'];
}

const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Every Docker route this daemon serves, in one router. */
export function buildRouter(deps: RouteDeps): Router {
  const router = new Router();
  registerSystemRoutes(router, deps);
  registerContainerRoutes(router, deps);
  registerNetworkConnectRoutes(router, deps);
  registerContainerStreamRoutes(router, deps);
  registerArchiveRoutes(router, deps);
  registerExecRoutes(router, deps);
  registerRegistryRoutes(router, deps);
  registerImageRoutes(router, deps);
  registerNetworkRoutes(router, deps);
  registerEventRoutes(router, deps);
  registerVolumeRoutes(router, deps);
  registerUiRoutes(router, deps);
  registerStatsHistoryRoutes(router, deps);
  registerUnsupportedRoutes(router);
  return router;
}

/**
 * node's http.Server, except that `closeAllConnections()` also ends the connections handed over by
 * `upgrade` (attach, exec), which node no longer counts as its own; `close()` would wait for them.
 */
class ApiHttpServer extends http.Server {
  private readonly upgraded = new Set<Duplex>();

  constructor(listener: http.RequestListener) {
    super({ connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS, maxHeaderSize: MAX_HEADER_BYTES }, listener);
  }

  track(socket: Duplex): void {
    this.upgraded.add(socket);
    socket.on('close', () => this.upgraded.delete(socket));
  }

  override closeAllConnections(): void {
    super.closeAllConnections();
    for (const s of this.upgraded) s.destroy();
    this.upgraded.clear();
  }
}

/** The answer to a request node could not parse or time out (its error codes: node's lib/_http_server.js). */
function clientErrorAnswer(err: NodeJS.ErrnoException): { status: number; reason: string; message: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, reason: 'Request Header Fields Too Large', message: `request headers too large: at most ${MAX_HEADER_BYTES} bytes for the request line and headers together` };
  }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, reason: 'Request Timeout', message: `request headers not received within ${HEADERS_TIMEOUT_MS / 1000} s: the client is too slow or stalled; the connection is closed` };
  }
  return { status: 400, reason: 'Bad Request', message: `malformed HTTP request: ${err.message}` };
}

/** The HTTP status an error maps to: an EngineError's own, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof EngineError) return err.status;
  if (err instanceof Error && 'status' in err && typeof err.status === 'number' && err.status >= 300 && err.status < 600) return err.status;
  return 500;
}

/**
 * The Docker Engine API server (a subset, docs/docker-api-compat.md): node's `http` server with a router.
 * Listen on a unix socket with `server.listen(path)`. Requests with `Upgrade: tcp` (attach and
 * exec start from the docker CLI) come through node's `upgrade` event and are answered raw on
 * the socket; everything else through `request`. Both go through the same routes.
 */
export function createApiServer(engine: Engine, options: ApiServerOptions): http.Server {
  const logger = options.logger ?? silentLogger;
  const router = buildRouter({
    engine, version: options.version, logger, ...(options.reloadPlugins ? { reloadPlugins: options.reloadPlugins } : {}),
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.networks ? { networks: options.networks } : {}),
    ...(options.statsHistory ? { statsHistory: options.statsHistory } : {}),
  });

  async function dispatch(method: string, url: string, make: (path: string, version: string, query: URLSearchParams) => { req: ApiRequest; res: ApiResponse }): Promise<void> {
    // Split by hand: `new URL` would read a path starting with "//" as a host.
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    let split: { version: string; path: string } | undefined;
    let versionError: unknown;
    try {
      split = splitVersion(pathname);
    } catch (err) {
      versionError = err;
    }
    const { req, res } = make(split?.path ?? pathname, split?.version ?? API_VERSION, query);
    try {
      if (versionError !== undefined) throw versionError;
      const match = router.match(method, req.path) ?? (method === 'HEAD' ? router.match('GET', req.path) : undefined);
      if (!match) {
        res.rawJson(404, errorBody('page not found'));
        return;
      }
      await match.handler({ req, res, params: match.params });
    } catch (err) {
      const status = statusOf(err);
      if (status >= 500) logger.error(`${method} ${url}: ${err instanceof Error && err.stack ? err.stack : messageOf(err)}`);
      if (res.started) {
        // The status line is gone; cutting the connection is the only way to say it failed.
        logger.warn(`${method} ${url} failed after the response started: ${messageOf(err)}`);
        res.destroy();
        return;
      }
      await req.discardBody();
      if (status === 304) res.empty(304);
      else res.rawJson(status, errorBody(messageOf(err)));
    }
  }

  const server = new ApiHttpServer((incoming, response) => {
    const headers = commonHeaders(options.version, API_VERSION);
    for (const [k, v] of Object.entries(headers)) response.setHeader(k, v);
    void dispatch(incoming.method ?? 'GET', incoming.url ?? '/', (path, version, query) => {
      const req = new HttpApiRequest(incoming, path, version, query);
      return { req, res: new HttpApiResponse(incoming, response, req) };
    });
  });

  server.on('upgrade', (incoming: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    server.track(socket);
    socket.on('error', (err) => logger.info(`hijacked connection: ${err.message}`));
    const input = new SocketInput(socket, head);
    void dispatch(incoming.method ?? 'GET', incoming.url ?? '/', (path, version, query) => {
      const req = new RawApiRequest(incoming, input, path, version, query);
      return { req, res: new RawApiResponse(socket, req, commonHeaders(options.version, API_VERSION)) };
    });
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that went away (a CLI whose output pipe closed, Ctrl-C) is not a bad request.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    const { status, reason, message } = clientErrorAnswer(err);
    if (socket.writable) {
      const body = errorBody(message);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    } else socket.destroy();
    logger.info(`bad request from a client: ${message}`);
  });

  // Uploads (import, load) and streams (events, logs -f) may take as long as they take; the head
  // may not, nor may a JSON body (HttpApiRequest.body).
  server.requestTimeout = 0;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  return server;
}
