import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { connect as connectUnixOrTcp, isIP, type Socket } from 'node:net';
import { formatEndpoint, parseEndpoint, tlsFiles, type Endpoint } from '../../core/daemon/endpoint.js';
import { CliError } from './errors.js';

/** How the CLI reaches the daemon: its unix socket, or TCP with or without TLS. */
export type ClientConnection =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls: ClientTls | null };

/** The client side of TLS: the CA that signed the daemon's certificate (when verifying it) and the client's own certificate. */
export interface ClientTls {
  readonly verify: boolean;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The docker CLI's global TLS flags. */
export interface TlsFlags {
  readonly tls?: boolean | undefined;
  readonly tlsverify?: boolean | undefined;
  readonly tlscacert?: string | undefined;
  readonly tlscert?: string | undefined;
  readonly tlskey?: string | undefined;
}

/** The socket's path, or `tcp://host:port`, for messages. */
export function describeConnection(c: ClientConnection): string {
  return c.kind === 'unix' ? c.path : formatEndpoint({ kind: 'tcp', host: c.host, port: c.port });
}

function readOptional(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function readRequired(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * TLS as the docker CLI decides it: `--tlsverify` or DOCKER_TLS_VERIFY (non-empty) verifies the
 * daemon with the CA and presents the client's certificate; `--tls` or DOCKER_TLS uses TLS
 * without verifying the daemon (the client certificate still goes if its files exist). Files
 * default to ca.pem, cert.pem, key.pem in $DOCKER_CERT_PATH, else ~/.docker.
 */
export function clientTls(flags: TlsFlags, env: NodeJS.ProcessEnv, home: string = homedir()): ClientTls | null {
  const verify = flags.tlsverify === true || (env.DOCKER_TLS_VERIFY ?? '') !== '';
  const tls = verify || flags.tls === true || (env.DOCKER_TLS ?? '') !== '';
  if (!tls) return null;
  const files = tlsFiles(flags, env, home);
  const explicitClient = flags.tlscert !== undefined || flags.tlskey !== undefined;
  const cert = explicitClient ? readRequired(files.cert, '--tlscert') : readOptional(files.cert);
  const key = explicitClient ? readRequired(files.key, '--tlskey') : readOptional(files.key);
  if ((cert === undefined) !== (key === undefined)) throw new CliError(`a client certificate needs both ${files.cert} and ${files.key}`);
  return {
    verify,
    ...(verify ? { ca: readRequired(files.ca, '--tlscacert') } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}

/** The connection for an endpoint: TLS only for TCP. */
export function connectionFor(endpoint: Endpoint, tls: ClientTls | null): ClientConnection {
  if (endpoint.kind === 'unix') return endpoint;
  return { kind: 'tcp', host: endpoint.host, port: endpoint.port, tls };
}

/** Parses a -H value for the CLI (tcp:// defaults to Docker's port for the transport). */
export function clientEndpoint(host: string, tls: boolean): Endpoint {
  try {
    return parseEndpoint(host, tls);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Opens a socket to the daemon; for TLS the handshake is under way when it returns (writes wait for it). */
export function openConnection(c: ClientConnection): Socket {
  if (c.kind === 'unix') return connectUnixOrTcp(c.path);
  if (!c.tls) return connectUnixOrTcp({ host: c.host, port: c.port });
  // node:tls (and crypto with it) only when TLS is used: loading it costs every command ~2 ms
  const { connect: connectTls } = createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
  return connectTls({
    host: c.host,
    port: c.port,
    ...(isIP(c.host) === 0 ? { servername: c.host } : {}),
    rejectUnauthorized: c.tls.verify,
    ...(c.tls.ca ? { ca: c.tls.ca } : {}),
    ...(c.tls.cert && c.tls.key ? { cert: c.tls.cert, key: c.tls.key } : {}),
    minVersion: 'TLSv1.2',
  });
}
