/**
 * One network creation at a time on this host, across daemons. A new network's subnet is chosen
 * against the host's routes (ipam.ts `chooseSubnet`), and the route of the chosen subnet appears
 * only once its bridge exists: two daemons choosing at the same moment (the tests run many side by
 * side) would both take 172.17.0.0/16. Holding this lock from the choice until the bridge is up
 * makes the second see the first's route. The lock is a file (LogLock: a pid and its start time,
 * taken over when its holder died), so a daemon killed while holding it blocks nobody.
 */
import { mkdir } from 'node:fs/promises';
import { LogLock, LogLockedError } from '../eventlog/log-lock.js';

export const HOST_NETWORK_LOCK_DIR = '/run/lock';
export const HOST_NETWORK_LOCK_FILE = 'mini-docker-networks.lock';

export interface HostNetworkLockOptions {
  readonly directory?: string;
  /** How long to wait for another daemon's creation before failing; default 30 s. */
  readonly timeoutMs?: number;
  readonly warn: (message: string) => void;
}

/** Holders in this process one after the other: the lock file tells processes apart, not callers within one. */
let inProcess: Promise<unknown> = Promise.resolve();

export function withHostNetworkLock<T>(work: () => Promise<T>, options: HostNetworkLockOptions): Promise<T> {
  const run = (): Promise<T> => holdingTheLock(work, options);
  const next = inProcess.then(run, run);
  inProcess = next.catch(() => undefined);
  return next;
}

async function holdingTheLock<T>(work: () => Promise<T>, options: HostNetworkLockOptions): Promise<T> {
  const directory = options.directory ?? HOST_NETWORK_LOCK_DIR;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  await mkdir(directory, { recursive: true, mode: 0o1777 });
  let lock: LogLock;
  for (;;) {
    try {
      lock = await LogLock.acquire(directory, options.warn, HOST_NETWORK_LOCK_FILE);
      break;
    } catch (err) {
      if (!(err instanceof LogLockedError)) throw err;
      if (Date.now() > deadline) {
        throw new Error(`another mini-dockerd (pid ${err.pid}) has been creating a network for too long (${directory}/${HOST_NETWORK_LOCK_FILE}): try again`);
      }
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
    }
  }
  try {
    return await work();
  } finally {
    await lock.release();
  }
}
