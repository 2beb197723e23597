import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { TcpListenerConfig } from './tcp-listeners.js';
import type { UsernsRemap } from '../security/userns-remap.js';

/** Where the daemon keeps things; from flags, then the environment, then the defaults. */
export interface DaemonConfig {
  readonly dataRoot: string;
  readonly execRoot: string;
  /** Path of the API socket (always served). */
  readonly socketPath: string;
  /** TCP listeners (`-H tcp://IP:PORT`), with their TLS; none when absent. */
  readonly tcp?: readonly TcpListenerConfig[];
  readonly pidFile: string;
  /** The engine's package root (to find built-in plugins and the version). */
  readonly packageRoot: string;
  readonly version: string;
  /** Whether the busybox image is made at start when missing. */
  readonly builtinBusybox: boolean;
  /** How registries are reached (--insecure-registry, --registry-certs-dir, --registry-timeout); Docker's defaults when absent. */
  readonly registries?: {
    readonly insecureRegistries: readonly string[];
    readonly certsDir: string;
    readonly timeoutMs: number;
  };
  /** --dns: where the embedded resolver forwards names it does not know; the host's nameservers when absent. */
  readonly dns?: readonly string[];
  /** Milliseconds between two readings of the stats history (core/stats/stats-history.ts); 0: none kept. Default 10 s. */
  readonly statsHistoryMs?: number;
  /** `--userns-remap`, resolved: containers' root is this range's first id; null or absent: no user namespaces. */
  readonly usernsRemap?: UsernsRemap | null;
}

export const DaemonConfig = Symbol.for('tiny-docker.core.DaemonConfig');

export const DEFAULT_DATA_ROOT = '/var/lib/mini-docker';

/**
 * Node options the daemon runs with; whoever starts it passes them (the CLI's autostart, the
 * test harness; bin/mini-dockerd's shebang has the same). Set at start only: V8 sizes the heap
 * before any script runs (docs/benchmarks.md).
 *
 * A young generation of at most 2 MB: with node's default (16 MB) the start-up work (the log
 * replay, the busybox image) grows it and an idle daemon held ~100 MB RSS until V8's memory
 * reducer ran, seconds later; with 2 MB it is ~85-90 MB.
 *
 * The old generation's limit grows by a fixed 200 % of what a mark-compact left (V8 otherwise
 * picks the factor from its measured GC and mutator speeds, 1.1 to 4). V8 counts the backing
 * stores of ArrayBuffers allocated since the last mark-compact against that limit, and a pull
 * allocates 150-200 MB of Buffers (socket reads, zlib's output): with the limit ~10 MB above a
 * ~15 MB heap, which a loaded machine's speeds often gave, a pull ran 8-15 mark-compacts (about
 * 300 ms more CPU, mostly in V8's marking threads); with 200 % it runs none or one.
 */
export const DAEMON_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=200'];
export const DEFAULT_EXEC_ROOT = '/run/mini-docker';

/**
 * The daemon's lock in its exec root: one daemon per exec root. Taken before anything else, held
 * while it runs; the CLI's autostart reads it to tell a daemon that is still starting (wait for
 * its socket) from none (start one).
 */
export const DAEMON_LOCK_FILE = 'mini-dockerd.lock';

/** Resolves the socket path from `unix:///path` or a bare path. */
export function socketPathFromHost(host: string): string {
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  if (host.includes('://')) throw new Error(`unsupported host ${host}: only unix:///path sockets are supported`);
  return host;
}

/**
 * The nft table of the daemon's network driver: "mini-docker" for the default exec root, else
 * "mini-docker-" and 8 hex characters of the exec root's hash. One daemon per exec root (its lock),
 * so daemons side by side (the tests, a developer's beside CI's) never share a table, and a test
 * can find what its daemon left from its exec root alone.
 */
export function networkTableFor(execRoot: string): string {
  if (execRoot === DEFAULT_EXEC_ROOT) return 'mini-docker';
  return `mini-docker-${createHash('sha256').update(execRoot).digest('hex').slice(0, 8)}`;
}

export function resolveDaemonPaths(opts: { dataRoot?: string; execRoot?: string; host?: string }, env: NodeJS.ProcessEnv = process.env): { dataRoot: string; execRoot: string; socketPath: string; pidFile: string } {
  const dataRoot = opts.dataRoot ?? env.MINI_DOCKER_DATA_ROOT ?? DEFAULT_DATA_ROOT;
  const execRoot = opts.execRoot ?? env.MINI_DOCKER_EXEC_ROOT ?? DEFAULT_EXEC_ROOT;
  const host = opts.host ?? env.MINI_DOCKER_HOST;
  const socketPath = host ? socketPathFromHost(host) : join(execRoot, 'mini-docker.sock');
  return { dataRoot, execRoot, socketPath, pidFile: join(execRoot, 'mini-dockerd.pid') };
}
