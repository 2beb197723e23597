import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectable } from '../../core/plugin-api.js';
import type { ExitStatus } from '../../core/plugin-api.js';
import type {
  DriverContext, DriverStatus, ExecProcess, ExecSpec, HeldProcess, IsolatorDriver, LostExecEnd, LostExecProcess, ProcessIO, ProcessSink, ProcessSpec,
} from '../../core/plugin-api.js';
import {
  DEFAULT_CAPABILITIES, ProcessStartError, deviceAccess, parseSecurityOptions, seccompFilterFor, type ContainerSecurity, type DeviceRule,
  type SeccompFilter,
} from '../../core/plugin-api.js';
import { DriverKinds } from '../../core/plugin-api.js';
import {
  ShimConnection, ShimStartError, readExitFile, readExitRecord, spawnExec, startShim, writeSpec, type ExitMessage,
} from './shim-protocol.js';

const NAMESPACES = ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup'] as const;

/** The device rules the shim turns into an eBPF program on a cgroup v2 folder (v1's devices files are the limiter's). */
function deviceRulesOf(security: ContainerSecurity): { deviceRules?: readonly DeviceRule[] } {
  const access = deviceAccess(security);
  return access === 'all' ? {} : { deviceRules: access.allow };
}

function toExitStatus(m: { exitCode: number; signal: number; finishedAt: string }): ExitStatus {
  return { exitCode: m.exitCode, signal: m.signal > 0 ? m.signal : null, oomKilled: false, finishedAt: m.finishedAt };
}

/**
 * Runs a container's process through `mini-docker-shim run` (one detached shim per container,
 * which outlives the daemon) and execs through `mini-docker-shim exec`. Each container has a
 * bundle folder under the driver's run dir: spec, shim.sock, shim.pid, exit.
 */
@injectable()
export class NamespaceIsolator implements IsolatorDriver {
  readonly id = `${DriverKinds.isolator}.namespaces`;
  readonly requires = [DriverKinds.storage];
  private runDir = '';
  readonly shimBinary = join(dirname(fileURLToPath(import.meta.url)), 'bin', 'mini-docker-shim');

  async init(context: DriverContext): Promise<DriverStatus> {
    this.runDir = context.runDir;
    if (!existsSync(this.shimBinary)) {
      return { status: 'skipped', reason: `the shim is not built (${this.shimBinary}): install a C compiler (apt-get install -y gcc make) and run npm run build` };
    }
    if (typeof process.getuid === 'function' && process.getuid() !== 0) return { status: 'skipped', reason: 'namespaces need root' };
    const missing = NAMESPACES.filter((ns) => !existsSync(`/proc/self/ns/${ns}`));
    if (missing.length > 0) return { status: 'skipped', reason: `the kernel lacks namespaces: ${missing.join(', ')}` };
    return { status: 'ok' };
  }

  bundle(containerId: string): string {
    return join(this.runDir, containerId);
  }

  /**
   * What `--security-opt` asks of the process: its syscall filter (none when privileged, as
   * Docker; else its profile or the default for the capabilities it gets, so that `--cap-add
   * SYS_ADMIN` lifts the mount group) and whether `no_new_privs` is set (only when asked, as Docker).
   */
  private confinement(securityOpt: readonly string[] | undefined, security: Pick<ContainerSecurity, 'capabilities' | 'privileged'> | undefined):
    { seccomp: SeccompFilter | null; noNewPrivileges: boolean } {
    try {
      const options = parseSecurityOptions(securityOpt ?? []);
      const seccomp = security?.privileged ? null : seccompFilterFor(options, security?.capabilities ?? DEFAULT_CAPABILITIES, release());
      return { seccomp, noNewPrivileges: options.noNewPrivileges };
    } catch (err) {
      throw new ProcessStartError(err instanceof Error ? err.message : String(err), 125);
    }
  }

  /** Compiled filters, one file per profile and capability set (the shim's seccomp-cache). */
  private get seccompCacheDir(): string {
    return join(this.runDir, 'seccomp-cache');
  }

  async start(spec: ProcessSpec): Promise<{ pid: number; shimPid: number }> {
    const bundle = this.bundle(spec.containerId);
    await rm(bundle, { recursive: true, force: true });
    await mkdir(bundle, { recursive: true, mode: 0o700 });
    await writeSpec(join(bundle, 'spec'), {
      id: spec.containerId,
      rootfs: spec.rootfs,
      mounts: spec.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: m.options })),
      binds: (spec.binds ?? []).map((b) => ({ source: b.source, target: b.target, readOnly: b.readOnly })),
      hostname: spec.hostname,
      args: spec.args,
      env: spec.env,
      cwd: spec.cwd,
      user: spec.user,
      tty: spec.tty,
      stdin: spec.stdin,
      ...(spec.consoleSize ? { rows: spec.consoleSize[0], cols: spec.consoleSize[1] } : {}),
      cgroups: spec.cgroups,
      ...(spec.outputOffset ? { startOffset: spec.outputOffset } : {}),
      ...this.confinement(spec.securityOpt, spec.security),
      seccompCacheDir: this.seccompCacheDir,
      ...(spec.security ? {
        capabilities: spec.security.capabilities, privileged: spec.security.privileged, readonlyRootfs: spec.security.readonlyRootfs,
        tmpfs: spec.security.tmpfs, devices: spec.security.devices, ...deviceRulesOf(spec.security),
      } : {}),
      ...(spec.userns ? { userns: spec.userns } : {}),
      ...(spec.network?.mode === 'host' ? { netns: 'host' } : spec.network?.mode === 'container' ? { netnsOf: { pid: spec.network.pid, parent: spec.network.parent } } : {}),
      ...(spec.beforeCommand ? { hold: true } : {}),
    });
    try {
      const started = await startShim(this.shimBinary, bundle, spec.beforeCommand);
      return { pid: started.initPid, shimPid: started.shimPid };
    } catch (err) {
      if (err instanceof ShimStartError) throw new ProcessStartError(err.message, err.exitCode);
      throw err;
    }
  }

  async connect(containerId: string): Promise<ProcessIO> {
    const conn = new ShimConnection(this.bundle(containerId));
    // Listeners first: output can arrive in the same packet as the HELLO.
    type Chunk = [stream: 'stdout' | 'stderr', data: Buffer, end: number];
    const early: Chunk[] = [];
    let outputListener: ((stream: 'stdout' | 'stderr', data: Buffer, end: number) => void) | undefined;
    conn.on('output', (m) => {
      if (outputListener) outputListener(m.stream, m.data, m.end);
      else early.push([m.stream, m.data, m.end]);
    });
    let exitStatus: ExitStatus | undefined;
    const exitListeners: ((s: ExitStatus) => void)[] = [];
    const fireExit = (s: ExitStatus): void => {
      if (exitStatus) return;
      exitStatus = s;
      for (const l of exitListeners) l(s);
    };
    conn.on('exit', (m: ExitMessage) => fireExit(toExitStatus(m)));
    // Set when the daemon lets go of the connection itself (shutdown): the container goes on, so that close is no exit.
    let released = false;
    conn.on('close', () => {
      if (released) return;
      // The shim went away without EXIT (killed): the exit file says what happened, if anything.
      void readExitFile(this.bundle(containerId)).then(
        (s) => fireExit(s ? toExitStatus(s) : { exitCode: 137, signal: 9, oomKilled: false, finishedAt: new Date().toISOString() }),
        () => fireExit({ exitCode: 255, signal: null, oomKilled: false, finishedAt: new Date().toISOString() }),
      );
    });
    await conn.ready;
    return {
      onOutput: (listener) => {
        outputListener = listener;
        for (const [stream, data, end] of early.splice(0)) listener(stream, data, end);
      },
      onExit: (listener) => {
        exitListeners.push(listener);
        if (exitStatus) listener(exitStatus);
      },
      ack: (offset) => conn.ack(offset),
      write: (data) => conn.stdin(data),
      closeStdin: () => conn.closeStdin(),
      resize: (rows, cols) => conn.resize(rows, cols),
      signal: (signal) => conn.signal(signal),
      close: () => {
        if (!exitStatus) released = true;
        conn.close();
      },
    };
  }

  isAlive(containerId: string, shimPid: number): boolean {
    if (shimPid <= 0) return false;
    try {
      const cmdline = readFileSync(`/proc/${shimPid}/cmdline`, 'utf8').split('\0');
      return cmdline.some((a) => a.endsWith('mini-docker-shim')) && cmdline.includes(this.bundle(containerId));
    } catch {
      return false;
    }
  }

  async exitStatus(containerId: string): Promise<ExitStatus | null> {
    const s = await readExitFile(this.bundle(containerId));
    return s ? toExitStatus(s) : null;
  }

  /**
   * Signals the container's init without the shim's connection (the daemon has none to it), only
   * while the pid is still the child of the container's shim (its bundle's shim.pid): through
   * `mini-docker-shim signal`, which takes a pidfd of it and checks its parent, so a pid reused
   * since the init died is left alone (process.kill(pid) would signal whatever process has it). No
   * shim: the init went with it (the init dies with its shim), nothing to signal; an init that
   * outlived it (its parent-death signal cleared by a setuid program) cannot be proven to be the
   * container's any more and is not signalled here: the exit the engine records for a dead shim
   * removes the cgroups, which kills what is in them.
   */
  async kill(containerId: string, pid: number, signal: number): Promise<void> {
    const shimPid = this.recordedShimPid(containerId);
    if (pid <= 0 || shimPid <= 0) return;
    await this.shimCommand(containerId, ['signal', String(pid), String(shimPid), String(signal)]);
  }

  /**
   * Runs one of the shim's signal modes (docs/shim.md: a pidfd taken before the target is checked
   * to be ours, the signal sent through it); true when sent, false when the target is not (or no
   * longer) ours. Its stdout is returned for `end`.
   */
  private async shimCommand(containerId: string, args: readonly string[]): Promise<{ sent: boolean; stdout: string }> {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>((resolve) => {
      execFile(this.shimBinary, args, { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolve({ code, stdout, stderr, ...(error && code === null ? { error } : {}) });
      });
    });
    if (r.error) throw new Error(`cannot signal container ${containerId.slice(0, 12)}: ${r.error.message}`);
    if (r.code !== 0 && r.code !== 3) throw new Error(`cannot signal container ${containerId.slice(0, 12)}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return { sent: r.code === 0, stdout: r.stdout };
  }

  /** An exec's spec and the exit record its shim writes, in the container's bundle. */
  private execFiles(containerId: string, execId: string): { spec: string; exit: string } {
    const base = join(this.bundle(containerId), `exec-${execId}`);
    return { spec: `${base}.spec`, exit: `${base}.exit` };
  }

  async exec(spec: ExecSpec, sink: ProcessSink): Promise<ExecProcess> {
    const { spec: specPath, exit: exitPath } = this.execFiles(spec.containerId, spec.execId);
    const shimPid = this.recordedShimPid(spec.containerId);
    await writeSpec(specPath, {
      id: spec.containerId, pid: spec.initPid, ...(shimPid > 0 ? { parent: shimPid } : {}), args: spec.args, env: spec.env, cwd: spec.cwd, user: spec.user, tty: spec.tty,
      stdin: spec.stdin, cgroups: spec.cgroups, exitFile: exitPath,
      ...(spec.consoleSize ? { rows: spec.consoleSize[0], cols: spec.consoleSize[1] } : {}),
      ...this.confinement(spec.securityOpt, spec.security),
      seccompCacheDir: this.seccompCacheDir,
      ...(spec.security ? { capabilities: spec.security.capabilities } : {}),
    });
    const handle = spawnExec(this.shimBinary, specPath);
    // The sink listens before the shim can say anything.
    handle.on('output', (m) => sink.output(m.stream, m.data, m.end));
    let pid: number;
    let startTime: number | undefined;
    try {
      ({ pid, startTime } = await handle.started);
    } catch (err) {
      await rm(specPath, { force: true });
      if (err instanceof ShimStartError) throw new ProcessStartError(err.message, err.exitCode);
      throw err;
    }
    const exited = handle.exited.then(toExitStatus, () => ({ exitCode: 137, signal: 9, oomKilled: false, finishedAt: new Date().toISOString() } as ExitStatus));
    // Delivered to the daemon: the record was only for a daemon that dies before it hears the exit.
    void exited.then((status) => {
      sink.exit(status);
      return Promise.all([rm(specPath, { force: true }), rm(exitPath, { force: true })]);
    });
    return {
      pid,
      ...(startTime !== undefined && startTime > 0 ? { startTime } : {}),
      ack: () => undefined,
      write: (data) => handle.stdin(data),
      closeStdin: () => handle.closeStdin(),
      resize: (rows, cols) => handle.resize(rows, cols),
      signal: (signal) => handle.signal(signal),
      close: () => undefined,
    };
  }

  /**
   * An exec's shim is the daemon's child (`mini-docker-shim exec <bundle>/exec-<id>.spec`): when the
   * daemon dies it waits on for its process and, when that ends, writes `exec-<id>.exit` before
   * it tries to tell the daemon. A record there is the exec's true exit. Otherwise both are killed
   * (the process, the shim's child, first); the record is read once more after that, since the
   * process may have ended just before. The spec and the record are removed.
   */
  async endExec(containerId: string, execId: string, lost?: LostExecProcess): Promise<LostExecEnd> {
    const { spec, exit } = this.execFiles(containerId, execId);
    const recorded = await readExitRecord(exit).catch(() => null);
    // Its shims (the command line names the spec) and, without a record, their children: each held by a pidfd first.
    const ended = await this.shimCommand(containerId, ['end', 'exec', spec, recorded ? '0' : '1']);
    let killed = !recorded && Number(ended.stdout.trim().split(' ')[1] ?? 0) > 0;
    // A process of it that outlived its shim (its parent-death signal cleared by a setuid program):
    // only while it is still in the container's PID namespace, its init still its shim's child.
    const shimPid = this.recordedShimPid(containerId);
    if (!recorded && lost && lost.pid > 0 && lost.initPid > 0 && shimPid > 0) {
      // With the start time ExecStarted recorded: only while the pid is still that process (not another of the container that reused it).
      const startTime = lost.startTime !== undefined ? [String(lost.startTime)] : [];
      const sent = await this.shimCommand(containerId, ['signal-in', String(lost.pid), String(lost.initPid), String(shimPid), '9', ...startTime]);
      killed ||= sent.sent;
    }
    const record = recorded ?? (killed ? null : await readExitRecord(exit).catch(() => null));
    await Promise.all([rm(spec, { force: true }), rm(exit, { force: true })]);
    if (record) return { ended: 'recorded', status: toExitStatus(record) };
    return killed ? { ended: 'killed' } : { ended: 'gone' };
  }

  /** A bundle per container under the run dir, with its shim's pid when that shim is alive. */
  async held(): Promise<readonly HeldProcess[]> {
    if (this.runDir === '') return [];
    const names = (await readdir(this.runDir).catch(() => [])).filter((n) => /^[0-9a-f]{64}$/.test(n));
    return names.map((containerId) => {
      const pid = this.recordedShimPid(containerId);
      return { containerId, shimPid: pid > 0 && this.isAlive(containerId, pid) ? pid : 0 };
    });
  }

  /** The pid in the bundle's shim.pid (the shim writes it at start), or 0. */
  private recordedShimPid(containerId: string): number {
    try {
      const pid = Number(readFileSync(join(this.bundle(containerId), 'shim.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : 0;
    } catch {
      return 0;
    }
  }

  async cleanup(containerId: string, shimPid: number): Promise<void> {
    // The fold forgets the shim's pid once the container exited (shimPid 0), but a shim can outlive
    // its container, waiting for a daemon to take its output: the bundle's shim.pid still names it.
    // Killed by the shim's `end` (held by a pidfd, its command line checked, waited for), never by a bare pid.
    if ([shimPid, this.recordedShimPid(containerId)].some((pid) => this.isAlive(containerId, pid))) {
      await this.shimCommand(containerId, ['end', 'run', this.bundle(containerId), '0']);
    }
    await rm(this.bundle(containerId), { recursive: true, force: true });
  }
}
