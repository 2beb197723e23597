import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_LOCK_FILE, DAEMON_NODE_OPTIONS } from '../../core/daemon/daemon-config.js';
import { liveLockHolder } from '../../core/eventlog/log-lock.js';
import type { DaemonClient, EnsureDaemon } from './daemon-client.js';
import { describeConnection } from './connection.js';
import { CliError } from './errors.js';
import type { ClientPaths } from './paths.js';
import { daemonBinary } from './paths.js';

/**
 * How long the CLI waits for a daemon to answer once it started one or found one starting: a
 * daemon replays its log, loads its plugins and reconciles its containers before it binds, and
 * on a loaded machine with many CLIs starting at once that takes seconds.
 */
const START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;
/** Daemons one CLI starts at most: one, and another if the one that won the lock died while starting. */
const MAX_STARTS = 3;

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
 * MINI_DOCKER_NO_AUTOSTART is not 1: if a live daemon holds the exec root's lock
 * (`mini-dockerd.lock`), it is starting, and the CLI waits for its socket; otherwise the CLI
 * starts bin/mini-dockerd detached in its own session (same environment, plus the data root, exec
 * root and socket the CLI resolved), its output going to `<exec root>/mini-dockerd.log`, and waits.
 *
 * Several CLIs may find no daemon at once and each start one: the daemons race for the lock, one
 * wins and the others exit. A CLI whose own daemon lost goes on waiting for the winner's socket; a
 * daemon that dies before it answers (killed while starting) is replaced by the next CLI that
 * finds the lock free. The CLI gives up when the third daemon it started exited and no other holds
 * the lock (the daemon's last log lines say why), or after 60 s.
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
    const lockPath = join(paths.execRoot, DAEMON_LOCK_FILE);
    let started: { exited: string | undefined; logStart: number } | undefined;
    let spawned = 0;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // A live holder of the lock is a daemon starting or serving: wait for its socket. Without
      // one, start a daemon, unless ours is alive and about to take the lock.
      if (liveLockHolder(lockPath) === undefined && (started === undefined || started.exited !== undefined)) {
        if (spawned === MAX_STARTS) {
          if ((await client.ping(1000)).ok) return;
          break;
        }
        started = startDaemon(paths, logPath, env);
        spawned += 1;
      }
      await sleep(POLL_INTERVAL_MS);
      if ((await client.ping(1000)).ok) return;
    }
    let log = '';
    try {
      log = lastLines(readFileSync(logPath).subarray(started?.logStart ?? 0).toString('utf8'));
    } catch {
      // no log to show
    }
    const holder = liveLockHolder(lockPath);
    const why = started?.exited !== undefined
      ? (log !== '' ? log : started.exited)
      : `mini-dockerd (pid ${holder ?? '?'}) gave no answer within ${START_TIMEOUT_MS / 1000} s${log !== '' ? `: ${log}` : ''}`;
    throw new CliError(`cannot reach mini-dockerd at ${paths.socketPath} and starting it failed: ${why}`);
  };
}

/** Starts bin/mini-dockerd detached; `exited` is set (asynchronously) when it exits. */
function startDaemon(paths: ClientPaths, logPath: string, env: NodeJS.ProcessEnv): { exited: string | undefined; logStart: number } {
  try {
    mkdirSync(paths.execRoot, { recursive: true });
    const out = openSync(logPath, 'a');
    try {
      const state: { exited: string | undefined; logStart: number } = { exited: undefined, logStart: fstatSync(out).size };
      const child = spawn(process.execPath, [...DAEMON_NODE_OPTIONS, daemonBinary(), '--data-root', paths.dataRoot, '--exec-root', paths.execRoot, '-H', paths.host], {
        detached: true,
        stdio: ['ignore', out, out],
        env,
      });
      child.on('error', (err) => { state.exited = err.message; });
      child.on('exit', (code, signal) => { state.exited = signal ? `it was killed by ${signal}` : `it exited with code ${code}`; });
      child.unref();
      return state;
    } finally {
      closeSync(out);
    }
  } catch (err) {
    throw new CliError(`cannot reach mini-dockerd at ${paths.socketPath} and starting it failed: ${(err as Error).message}`);
  }
}
