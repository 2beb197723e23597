import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_LOCK_FILE, type DaemonConfig } from './daemon-config.js';
import { DAEMON_USAGE, parseDaemonOptions, type DaemonOptions } from './daemon-options.js';
import { resolveRemap, type UsernsRemap } from '../security/userns-remap.js';
import { consoleLogger } from '../plugins/logger.js';
import { armFailpointsFromEnv } from '../failpoints.js';
import { LogLock, LogLockedError } from '../eventlog/log-lock.js';

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

/** The id of a group given by name or number (/etc/group), as dockerd's -G takes it. */
function groupId(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined) return Number(gid);
  }
  throw new Error(`no such group: ${group}`);
}

/** Runs the daemon until SIGTERM/SIGINT; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let options: DaemonOptions;
  try {
    options = parseDaemonOptions(argv);
  } catch (err) {
    process.stderr.write(`mini-dockerd: ${err instanceof Error ? err.message : String(err)}\n${DAEMON_USAGE}`);
    return 2;
  }
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  if (options.help) {
    process.stdout.write(DAEMON_USAGE);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`mini-dockerd version ${version}\n`);
    return 0;
  }
  const logger = consoleLogger();
  const paths = options;
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
  // One daemon per exec root, decided before anything else: CLIs that found no daemon may start
  // several at once; the first takes the lock, the others stop here (and their CLIs wait for it).
  await mkdir(paths.execRoot, { recursive: true, mode: 0o711 });
  let lock: LogLock;
  try {
    lock = await LogLock.acquire(paths.execRoot, (m) => logger.warn(m), DAEMON_LOCK_FILE);
  } catch (err) {
    if (!(err instanceof LogLockedError)) {
      logger.error(`cannot take the daemon lock in ${paths.execRoot}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    const serving = existsSync(paths.socketPath) && (await socketAnswers(paths.socketPath));
    logger.error(`another mini-dockerd (pid ${err.pid}) is ${serving ? `already serving ${paths.socketPath}` : `starting with the exec root ${paths.execRoot}`}: stop it first, or give this one other --exec-root/--host`);
    return 1;
  }
  const code = await serve(options, logger, root, version);
  await lock.release();
  return code;
}

/** Serves until SIGTERM/SIGINT, holding the exec root's lock (taken by main). */
async function serve(options: DaemonOptions, logger: ReturnType<typeof consoleLogger>, root: string, version: string): Promise<number> {
  const paths = options;
  if (existsSync(paths.socketPath) && (await socketAnswers(paths.socketPath))) {
    logger.error(`another mini-dockerd is already serving ${paths.socketPath}: stop it first, or give this one other --exec-root/--host`);
    return 1;
  }
  // Plugins import 'tiny-docker/...': resolve that to this engine, whatever folder they live in.
  const { registerSelfResolve } = await import('../plugins/plugin-loader.js');
  registerSelfResolve();

  let usernsRemap: UsernsRemap | null = null;
  if (options.usernsRemap !== undefined) {
    try {
      usernsRemap = resolveRemap(options.usernsRemap);
    } catch (err) {
      logger.error(err instanceof Error ? err.message : String(err));
      return 1;
    }
  }
  const config: DaemonConfig = {
    dataRoot: options.dataRoot, execRoot: options.execRoot, socketPath: options.socketPath, pidFile: options.pidFile,
    tcp: options.tcp, packageRoot: root, version, builtinBusybox: options.builtinBusybox, registries: options.registries, statsHistoryMs: options.statsHistoryMs, usernsRemap,
    ...(options.dns ? { dns: options.dns } : {}),
  };
  await mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
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
  if (options.socketGroup !== undefined) {
    try {
      await chown(config.socketPath, 0, groupId(options.socketGroup));
    } catch (err) {
      logger.error(`cannot give the socket to group ${options.socketGroup}: ${err instanceof Error ? err.message : String(err)}`);
      await daemon.stop();
      await rm(config.pidFile, { force: true });
      return 1;
    }
  }
  const served = [`unix://${config.socketPath}`, ...(config.tcp ?? []).map((t) => `tcp://${t.host}:${t.port} (${t.tls ? (t.tls.verifyClients ? 'TLS, client certificates required' : 'TLS') : 'NO TLS: unsafe'})`)];
  logger.info(`mini-dockerd ${version} (pid ${process.pid}) serving ${served.join(', ')}, data root ${config.dataRoot}`);

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
