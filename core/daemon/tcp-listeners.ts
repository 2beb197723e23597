import { readFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TlsFiles } from './endpoint.js';
import { LISTEN_BACKLOG } from '../api/request-limits.js';

/** A TCP address the API is served on, with TLS (`--tls`, `--tlsverify`) or, if the user insisted, without. */
export interface TcpListenerConfig {
  readonly host: string;
  readonly port: number;
  /** null: plain TCP (only with --unsafe-no-tls). */
  readonly tls: { readonly files: TlsFiles; readonly verifyClients: boolean } | null;
}

/** Reads a TLS file for a listener, naming the flag and file when it cannot. */
function readTlsFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Serves the API's HTTP server on a TCP address too: every accepted connection (after the TLS
 * handshake, when there is one) is handed to the same server as the unix socket's, so routes,
 * upgrades (attach, exec) and shutdown behave the same. With `verifyClients` (`--tlsverify`) a
 * client must present a certificate signed by the CA, or the handshake fails.
 */
export async function listenTcp(api: HttpServer, config: TcpListenerConfig): Promise<NetServer> {
  const hand = (socket: Socket): void => {
    api.emit('connection', socket);
  };
  let server: NetServer;
  if (config.tls) {
    const { files, verifyClients } = config.tls;
    server = createTlsServer({
      // As node's http server: a client that closes its side (stdin EOF) still gets the output.
      allowHalfOpen: true,
      cert: readTlsFile(files.cert, '--tlscert'),
      key: readTlsFile(files.key, '--tlskey'),
      ...(verifyClients ? { ca: readTlsFile(files.ca, '--tlscacert'), requestCert: true, rejectUnauthorized: true } : {}),
      minVersion: 'TLSv1.2',
    }, hand);
    // A client without an acceptable certificate fails its handshake: that is its problem, not a daemon error.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
  } else {
    server = createNetServer({ allowHalfOpen: true }, hand);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`cannot listen on tcp://${config.host}:${config.port}: ${err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message}`)));
    server.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  return server;
}

/** Stops accepting and ends every connection still open on these listeners. */
export async function closeTcp(servers: readonly NetServer[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
}
