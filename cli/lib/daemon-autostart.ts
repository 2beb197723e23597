import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_NODE_OPTIONS } from '../../core/daemon/daemon-config.js';
import type { DaemonClient, EnsureDaemon } from './daemon-client.js';
import { describeConnection } from './connection.js';
import { CliError } from './errors.js';
import type { ClientPaths } from './paths.js';
import { daemonBinary } from './paths.js';

/** How long a freshly started daemon has to answer its socket. */
const START_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 100;

/** The daemon's output when the CLI started it: `<exec root>/mini-dockerd.log`. */
export function daemonLogPath(paths: ClientPaths): string {
  return join(paths.execRoot, 'mini-dockerd.log');
}

/** The last non-empty lines of a log, joined on one line (for a one-line error). */
export function lastLines(text: string, count = 3): string {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(-count).join(' | ');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Makes sure a daemon answers `GET /_ping` on the socket. When none does and
 * MINI_DOCKER_NO_AUTOSTART is not 1, starts bin/mini-dockerd detached in its own session (same
 * environment, plus the data root, exec root and socket the CLI resolved), its output going to
 * `<exec root>/mini-dockerd.log`, then polls the socket for up to 10 s.
 */
export function ensureDaemon(paths: ClientPaths, env: NodeJS.ProcessEnv = process.env): EnsureDaemon {
  return async (client: DaemonClient) => {
    const first = await client.ping();
    if (first.ok) return;
    if (paths.connection.kind === 'tcp') {
      throw new CliError(`cannot reach mini-dockerd at ${describeConnection(paths.connection)} (${first.reason}); the CLI starts a daemon only on this machine's unix socket`);
    }
    if (env.MINI_DOCKER_NO_AUTOSTART === '1') {
      throw new CliError(`cannot reach mini-dockerd at ${paths.socketPath} (${first.reason}); not starting it because MINI_DOCKER_NO_AUTOSTART=1`);
    }
    const logPath = daemonLogPath(paths);
    let exited: string | undefined;
    let logStart = 0;
    try {
      mkdirSync(paths.execRoot, { recursive: true });
      const out = openSync(logPath, 'a');
      try {
        logStart = fstatSync(out).size;
        const child = spawn(process.execPath, [...DAEMON_NODE_OPTIONS, daemonBinary(), '--data-root', paths.dataRoot, '--exec-root', paths.execRoot, '-H', paths.host], {
          detached: true,
          stdio: ['ignore', out, out],
          env,
        });
        child.on('error', (err) => { exited = err.message; });
        child.on('exit', (code, signal) => { exited = signal ? `it was killed by ${signal}` : `it exited with code ${code}`; });
        child.unref();
      } finally {
        closeSync(out);
      }
    } catch (err) {
      throw new CliError(`cannot reach mini-dockerd at ${paths.socketPath} and starting it failed: ${(err as Error).message}`);
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      await sleep(POLL_INTERVAL_MS);
      if ((await client.ping(500)).ok) return;
      if (exited !== undefined) break;
    }
    let log = '';
    try {
      log = lastLines(readFileSync(logPath).subarray(logStart).toString('utf8'));
    } catch {
      // no log to show
    }
    const why = log !== '' ? log : exited ?? `no answer within ${START_TIMEOUT_MS / 1000} s`;
    throw new CliError(`cannot reach mini-dockerd at ${paths.socketPath} and starting it failed: ${why}`);
  };
}
