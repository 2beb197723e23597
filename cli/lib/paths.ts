import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDaemonPaths } from '../../core/daemon/daemon-config.js';

/** Where the CLI finds the daemon, and what it passes on when it starts one. */
export interface ClientPaths {
  readonly socketPath: string;
  readonly execRoot: string;
  readonly dataRoot: string;
  /** `unix://<socketPath>`: the -H value the daemon is started with. */
  readonly host: string;
}

/**
 * Resolves the socket the same way for every command (and the same way the daemon does):
 * `-H/--host unix:///path`, else MINI_DOCKER_HOST, else `<exec root>/mini-docker.sock`, with the
 * exec root from MINI_DOCKER_EXEC_ROOT or /run/mini-docker and the data root from
 * MINI_DOCKER_DATA_ROOT or /var/lib/mini-docker.
 */
export function resolveClientPaths(hostFlag: string | undefined, env: NodeJS.ProcessEnv = process.env): ClientPaths {
  const paths = resolveDaemonPaths(hostFlag === undefined ? {} : { host: hostFlag }, env);
  return { socketPath: paths.socketPath, execRoot: paths.execRoot, dataRoot: paths.dataRoot, host: `unix://${paths.socketPath}` };
}

/** The package root (where package.json and bin/ live), found from this file's location in dist/cli/lib. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The daemon's launcher, bin/mini-dockerd, relative to the package root. */
export function daemonBinary(): string {
  return join(packageRoot(), 'bin', 'mini-dockerd');
}
