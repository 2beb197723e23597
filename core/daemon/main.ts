import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveDaemonPaths, type DaemonConfig } from './daemon-config.js';
import { consoleLogger } from '../plugins/logger.js';
import { armFailpointsFromEnv } from '../failpoints.js';

const USAGE = `Usage: mini-dockerd [OPTIONS]

The tiny-docker daemon: runs containers and serves the Docker-shaped API on a unix socket.

Options:
      --data-root DIR   where images, containers and the event log live (env MINI_DOCKER_DATA_ROOT, default /var/lib/mini-docker)
      --exec-root DIR   where the pid file, the socket and the shims' folders live (env MINI_DOCKER_EXEC_ROOT, default /run/mini-docker)
  -H, --host unix:///PATH  the API socket (env MINI_DOCKER_HOST, default <exec-root>/mini-docker.sock)
      --no-busybox      do not make the default busybox image at start
  -v, --version         print the version and exit
  -h, --help            print this help and exit
`;

function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** True when something answers on the socket (another daemon). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Runs the daemon until SIGTERM/SIGINT; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let values: { 'data-root'?: string; 'exec-root'?: string; host?: string; version?: boolean; help?: boolean; 'no-busybox'?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'data-root': { type: 'string' }, 'exec-root': { type: 'string' }, host: { type: 'string', short: 'H' },
        'no-busybox': { type: 'boolean' }, version: { type: 'boolean', short: 'v' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`mini-dockerd: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`mini-dockerd version ${version}\n`);
    return 0;
  }
  const logger = consoleLogger();
  let paths: ReturnType<typeof resolveDaemonPaths>;
  try {
    paths = resolveDaemonPaths({ dataRoot: values['data-root'], execRoot: values['exec-root'], host: values.host });
  } catch (err) {
    logger.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    logger.error('mini-dockerd needs root (namespaces, mounts and cgroups): run it as root, e.g. with sudo');
    return 1;
  }
  try {
    const armed = armFailpointsFromEnv();
    if (armed.length > 0) logger.warn(`failpoints armed (the daemon kills itself there): ${armed.join(', ')}`);
  } catch (err) {
    logger.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  if (existsSync(paths.socketPath) && (await socketAnswers(paths.socketPath))) {
    logger.error(`another mini-dockerd is already serving ${paths.socketPath}: stop it first, or give this one other --exec-root/--host`);
    return 1;
  }
  // Plugins import 'tiny-docker/...': resolve that to this engine, whatever folder they live in.
  const { registerSelfResolve } = await import('../plugins/plugin-loader.js');
  registerSelfResolve();

  const config: DaemonConfig = { ...paths, packageRoot: root, version, builtinBusybox: values['no-busybox'] !== true };
  await mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(config.execRoot, { recursive: true, mode: 0o711 });
  await mkdir(dirname(config.socketPath), { recursive: true });

  const { startDaemon } = await import('./daemon.js');
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, logger);
  } catch (err) {
    logger.error(err instanceof Error ? err.message : String(err));
    if (process.env.DEBUG) console.error(err);
    return 1;
  }
  await writeFile(config.pidFile, `${process.pid}\n`);
  await chmod(config.socketPath, 0o660);
  logger.info(`mini-dockerd ${version} (pid ${process.pid}) serving unix://${config.socketPath}, data root ${config.dataRoot}`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`${signal}: shutting down (containers keep running)`);
      void daemon.stop().then(
        async () => {
          await rm(config.pidFile, { force: true });
          resolve(0);
        },
        (err: unknown) => {
          logger.error(`shutdown failed: ${String(err)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
