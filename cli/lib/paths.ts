import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDaemonPaths } from '../../core/daemon/daemon-config.js';
import { clientEndpoint, clientTls, connectionFor, type ClientConnection, type TlsFlags } from './connection.js';

/** Where the CLI finds the daemon, and what it passes on when it starts one. */
export interface ClientPaths {
  /** How to reach the daemon: its unix socket (the default), or `-H tcp://…` with TLS. */
  readonly connection: ClientConnection;
  /** The unix socket a daemon the CLI starts serves (used only for a unix connection). */
  readonly socketPath: string;
  readonly execRoot: string;
  readonly dataRoot: string;
  /** `unix://<socketPath>`: the -H value the daemon is started with. */
  readonly host: string;
}

/**
 * Resolves the daemon the same way for every command (and the socket the same way the daemon
 * does): `-H/--host`, else MINI_DOCKER_HOST, else DOCKER_HOST when it is `tcp://…` (a unix
 * DOCKER_HOST names Docker's own socket far more often than ours, so it is not taken), else
 * `<exec root>/mini-docker.sock`, with the exec root from MINI_DOCKER_EXEC_ROOT or
 * /run/mini-docker and the data root from MINI_DOCKER_DATA_ROOT or /var/lib/mini-docker. A
 * `tcp://` host takes TLS from the docker CLI's flags and variables (connection.ts).
 */
export function resolveClientPaths(hostFlag: string | undefined, env: NodeJS.ProcessEnv = process.env, tlsFlags: TlsFlags = {}): ClientPaths {
  const dockerHost = env.DOCKER_HOST?.startsWith('tcp://') ? env.DOCKER_HOST : undefined;
  const host = hostFlag ?? (env.MINI_DOCKER_HOST !== undefined && env.MINI_DOCKER_HOST !== '' ? env.MINI_DOCKER_HOST : dockerHost);
  const tls = host?.startsWith('tcp://') ? clientTls(tlsFlags, env) : null;
  const endpoint = host === undefined ? undefined : clientEndpoint(host, tls !== null);
  const paths = resolveDaemonPaths(endpoint?.kind === 'unix' ? { host: `unix://${endpoint.path}` } : {}, { ...env, MINI_DOCKER_HOST: undefined });
  const connection = endpoint?.kind === 'tcp' ? connectionFor(endpoint, tls) : { kind: 'unix' as const, path: paths.socketPath };
  return { connection, socketPath: paths.socketPath, execRoot: paths.execRoot, dataRoot: paths.dataRoot, host: `unix://${paths.socketPath}` };
}

/** The package root (where package.json and bin/ live), found from this file's location in dist/cli/lib. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The daemon's launcher, bin/mini-dockerd, relative to the package root. */
export function daemonBinary(): string {
  return join(packageRoot(), 'bin', 'mini-dockerd');
}
