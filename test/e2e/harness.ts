import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_OPTIONS, networkTableFor } from '../../core/daemon/daemon-config.js';

/** The repository root (this file is dist/test/e2e/harness.js). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(REPO_ROOT, 'bin', 'mini-docker');
export const DAEMON = join(REPO_ROOT, 'bin', 'mini-dockerd');

/**
 * Whether the real docker client is installed: the development machines have one (without an
 * engine); a fresh Debian machine set up from the README has none (Debian 12 packages it only
 * with the engine). Tests of the docker client against mini-dockerd then skip, saying why.
 */
export const DOCKER_CLIENT_MISSING: string | false =
  spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'no docker client on this machine (its tests need the client only, not an engine)';

/** Polls `probe` every 50 ms until it gives a value (not undefined), or fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs a test's docker client part, or says in the test's diagnostics that it was skipped. */
export async function dockerPart(t: TestContext, part: () => Promise<void>): Promise<void> {
  if (DOCKER_CLIENT_MISSING) {
    t.diagnostic(`the docker client's part skipped: ${DOCKER_CLIENT_MISSING}`);
    return;
  }
  await part();
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string | Buffer;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Runs a command to completion; never rejects for a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

/**
 * Removes a stopped daemon's network devices and rules: the bridges given and those in its nft
 * table's `bridges` set, then the table. Each step is allowed to find nothing.
 */
export async function removeDaemonNetworks(table: string, bridges: Iterable<string>): Promise<void> {
  const all = new Set(bridges);
  // A host without nft (the cgroup v2 guest) has no network driver, so no table and no bridges of ours.
  if (spawnSync('nft', ['--version'], { stdio: 'ignore' }).error) return;
  const listing = await runCommand('nft', ['-j', 'list', 'set', 'ip', table, 'bridges']);
  if (listing.code === 0) {
    const parsed = JSON.parse(listing.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
    for (const item of parsed.nftables ?? []) for (const e of item.set?.elem ?? []) if (typeof e === 'string') all.add(e);
  }
  for (const b of all) if (existsSync(`/sys/class/net/${b}`)) await runCommand('ip', ['link', 'del', b]);
  await runCommand('nft', ['delete', 'table', 'ip', table]);
}

/** A real mini-dockerd in a temporary data root and exec root, and the CLI pointed at it. */
export class TestDaemon {
  readonly root: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socketPath: string;
  readonly env: NodeJS.ProcessEnv;
  private child: ChildProcess | undefined;
  /** Extra arguments for mini-dockerd (e.g. `-H tcp://…` and TLS flags). */
  daemonArgs: string[] = [];

  constructor(name: string, extraEnv: NodeJS.ProcessEnv = {}) {
    const scratch = process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir();
    this.root = mkdtempSync(join(scratch, `e2e-${name}-`));
    this.dataRoot = join(this.root, 'data');
    this.execRoot = join(this.root, 'run');
    this.socketPath = join(this.execRoot, 'mini-docker.sock');
    this.env = {
      ...process.env, ...extraEnv,
      MINI_DOCKER_DATA_ROOT: this.dataRoot, MINI_DOCKER_EXEC_ROOT: this.execRoot, MINI_DOCKER_NO_AUTOSTART: '1',
      XDG_DATA_HOME: join(this.root, 'xdg-data'), XDG_CONFIG_HOME: join(this.root, 'xdg-config'), XDG_CACHE_HOME: join(this.root, 'xdg-cache'),
    };
    delete this.env.MINI_DOCKER_HOST;
    delete this.env.DOCKER_HOST;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the daemon's process ended, or undefined while it runs (or before it was started). */
  get exit(): { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined {
    const child = this.child;
    if (!child || (child.exitCode === null && child.signalCode === null)) return undefined;
    return { code: child.exitCode, signal: child.signalCode };
  }

  get logFile(): string {
    return join(this.root, 'daemon.log');
  }

  /** The nft table of this daemon's network driver (one per exec root). */
  get networkTable(): string {
    return networkTableFor(this.execRoot);
  }

  /**
   * Starts the daemon and waits until its socket answers. Its embedded resolver forwards to
   * 127.0.0.1 (`--dns`), so a name it does not know never leaves the machine.
   */
  async start(): Promise<void> {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [...DAEMON_NODE_OPTIONS, DAEMON, '--dns', '127.0.0.1', ...this.daemonArgs], { env: this.env, stdio: ['ignore', out, out] });
    const child = this.child;
    for (let i = 0; i < 300; i++) {
      if (this.exit) throw new Error(`mini-dockerd exited with ${child.exitCode ?? child.signalCode}:\n${this.log()}`);
      if (existsSync(this.socketPath) && (await ping(this.socketPath))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mini-dockerd did not answer within 15 s:\n${this.log()}`);
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** `mini-docker ARGS` against this daemon. */
  cli(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return runCommand(CLI, [...args], { ...options, env: { ...this.env, ...(options.env ?? {}) } });
  }

  /** `docker ARGS` (the real docker client) against this daemon. */
  docker(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return runCommand('docker', args, { ...options, env: { ...this.env, DOCKER_HOST: `unix://${this.socketPath}`, ...(options.env ?? {}) } });
  }

  /** SIGKILL the daemon (containers keep running). */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || this.exit) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || this.exit) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    return exited;
  }

  /**
   * Removes every container, stops the daemon, kills stray shims by PID, removes what its network
   * driver made on the host (a daemon keeps its networks, the default bridge too, after it stops,
   * as dockerd keeps docker0), removes the folders.
   */
  async cleanup(): Promise<void> {
    const bridges = new Set<string>();
    if (this.child && !this.exit) {
      const ids = await this.cli(['ps', '-aq', '--no-trunc']);
      const list = ids.stdout.split('\n').filter((l) => l.trim() !== '');
      if (list.length > 0) await this.cli(['rm', '-f', ...list]);
      const networks = await this.cli(['network', 'ls', '-q', '--no-trunc']);
      for (const id of networks.stdout.split('\n').filter((l) => /^[0-9a-f]{64}$/.test(l))) bridges.add(`mdbr-${id.slice(0, 8)}`);
      await this.stop();
    }
    await removeDaemonNetworks(this.networkTable, bridges);
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (cmd.includes(this.root)) process.kill(Number(pid), 'SIGKILL');
      } catch { /* gone */ }
    }
    for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n').reverse()) {
      const target = line.split(' ')[1];
      if (target && target.startsWith(this.root)) await runCommand('umount', ['-l', target]);
    }
    await rm(this.root, { recursive: true, force: true });
  }
}
