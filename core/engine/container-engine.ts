import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Observable, filter, firstValueFrom, EMPTY } from 'rxjs';
import type { ContainerConfig, EngineEvent, EventEnvelope, ExitStatus, HostConfig, ImageConfig, Limits } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import type {
  Driver, ExecProcess, FileChange, IsolatorDriver, LimiterDriver, LogDriver, LogEntry, LogReadOptions, LogWriter, MountSpec,
  ResourceStats, StorageDriver,
} from '../plugins/driver.js';
import { ProcessStartError } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import {
  decideCreate, decideExecCreate, decideKill, decidePause, decideRemove, decideRename, decideStart, decideStop,
  decideUnpause, decideUpdate,
} from '../state/decide.js';
import type { ContainerState, EngineState, ExecState, ImageState } from '../state/engine-state.js';
import { containerByName, findContainer, findImage } from '../state/lookup.js';
import type {
  CommitRequest, CreateContainerRequest, Engine, EngineInfo, EventQuery, ImportRequest, OutputChunk, ProgressReporter,
  StreamSession, WaitCondition,
} from './engine.js';
import { bindsOf } from './binds.js';
import { parseSecurityOptions } from '../security/seccomp-profile.js';
import { ConflictError, InvalidArgumentError, NotFoundError, NotImplementedError, StartFailedError } from './errors.js';
import type { EventStore } from './event-store.js';
import { queryEvents } from './event-query.js';
import type { ImageService } from './image-service.js';
import { generateName, newId, parseSignal } from './names.js';
import { ProcessHub } from './process-hub.js';
import { parsePsOutput } from './ps-output.js';
import { runStartPipeline, StartStepError, type StartStep } from './start-pipeline.js';
import { foldAll } from '../state/evolve.js';
import { parseRestartPolicy, restartDelayMs, startOnDaemonStart } from '../state/restart-policy.js';

const run = promisify(execFile);
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const LIMIT_KEYS: readonly (keyof Limits)[] = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpuShares', 'CpusetCpus', 'CpusetMems',
  'PidsLimit', 'BlkioWeight', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
];

const isStorage = (d: Driver): d is StorageDriver => d.id.startsWith(`${DriverKinds.storage}.`) && 'prepare' in d;
const isLimiter = (d: Driver): d is LimiterDriver => d.id.startsWith(`${DriverKinds.limiter}.`) && 'create' in d;
const isIsolator = (d: Driver): d is IsolatorDriver => d.id.startsWith(`${DriverKinds.isolator}.`) && 'start' in d;
const isLog = (d: Driver): d is LogDriver => d.id.startsWith(`${DriverKinds.log}.`) && 'open' in d;

/** Only the limits that are set (not undefined), so an empty object means "no limits". */
export function pickLimits(source: Partial<Limits>): Limits {
  const out: Record<string, unknown> = {};
  for (const k of LIMIT_KEYS) {
    const v = source[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0) && v !== '' && v !== 0) out[k] = v;
  }
  return out as Limits;
}

/** Image env first, then the container's: a later KEY=... overrides an earlier one. */
function mergeEnv(image: readonly string[], own: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of [...image, ...own]) byKey.set(e.split('=', 1)[0]!, e);
  return [...byKey.values()];
}

interface ExecRuntime {
  readonly hub: ProcessHub;
  readonly process: ExecProcess;
}

/**
 * The engine: commands validated by the pure rules against the fold, recorded as events, then
 * carried out by the drivers in the declared start order. It keeps no container table of its own:
 * the only things it holds are live connections (process hubs) and waiters.
 */
export class ContainerEngine implements Engine {
  private readonly hubs = new Map<string, ProcessHub>();
  /** Pending restarts by the restart policy (what is pending is in the fold: status "restarting"). */
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly execs = new Map<string, ExecRuntime>();
  /** Attached clients of containers that are not running yet (docker run attaches before start). */
  private readonly pendingStdin = new Map<string, Buffer[]>();
  /** Attached clients that closed stdin before the container started (`echo x | docker run -i`). */
  private readonly pendingStdinClose = new Set<string>();
  private readonly outputs = new Map<string, Set<(c: OutputChunk | null) => void>>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: EventStore,
    private readonly registry: PluginRegistry,
    private readonly images: ImageService,
    private readonly logger: Logger,
    private readonly infoBase: Omit<EngineInfo, 'plugins' | 'lastPosition' | 'storageDriver' | 'cgroupVersion'>,
  ) {}

  // ---- drivers ------------------------------------------------------------------------------

  private storage(): StorageDriver {
    const d = this.registry.pick(DriverKinds.storage, isStorage);
    if (!d) throw new ConflictError(`no storage driver is available: ${this.whyMissing(DriverKinds.storage)}`);
    return d;
  }

  private isolator(): IsolatorDriver {
    const d = this.registry.pick(DriverKinds.isolator, isIsolator);
    if (!d) throw new ConflictError(`no isolator driver is available: ${this.whyMissing(DriverKinds.isolator)}`);
    return d;
  }

  private limiter(): LimiterDriver | undefined {
    return this.registry.pick(DriverKinds.limiter, isLimiter);
  }

  private logDriver(name: string): LogDriver | undefined {
    return this.registry.ofKind(DriverKinds.log, isLog).find((d) => d.name === name);
  }

  private whyMissing(kind: string): string {
    return this.registry.whyMissing(kind);
  }

  // ---- reads --------------------------------------------------------------------------------

  state(): EngineState {
    return this.store.state();
  }

  info(): EngineInfo {
    const storage = this.registry.pick(DriverKinds.storage, isStorage);
    const limiter = this.limiter();
    return {
      ...this.infoBase,
      plugins: this.registry.listing(),
      storageDriver: storage?.id ?? 'none',
      cgroupVersion: limiter && 'cgroupVersion' in limiter && typeof limiter.cgroupVersion === 'string' ? limiter.cgroupVersion : limiter ? '1' : 'none',
      lastPosition: this.store.state().position,
    };
  }

  container(ref: string): ContainerState {
    return findContainer(this.state(), ref);
  }

  image(ref: string): ImageState {
    return findImage(this.state(), ref);
  }

  imageConfigOf(ref: string): ImageConfig {
    return this.image(ref).config;
  }

  exec(execId: string): ExecState {
    const x = this.state().execs[execId];
    if (!x) throw new NotFoundError(`No such exec instance: ${execId}`);
    return x;
  }

  /** One operation at a time per container (start, stop, rm...). */
  private async serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(id) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(work);
    this.locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === next) this.locks.delete(id);
    }
  }

  private async append(c: { id: string; version: number } | string, events: readonly EngineEvent[]): Promise<readonly EventEnvelope[]> {
    if (typeof c === 'string') return this.store.append(containerStream(c), events, 'no-stream');
    return this.store.append(containerStream(c.id), events, c.version);
  }

  // ---- create -------------------------------------------------------------------------------

  async createContainer(request: CreateContainerRequest, progress?: ProgressReporter): Promise<{ id: string; warnings: readonly string[] }> {
    const image = await this.images.resolveForCreate(request.image, progress);
    const state = this.state();
    const id = newId();
    const name = request.name ? request.name.replace(/^\//, '') : generateName((n) => containerByName(state, n) !== undefined);
    const own = request.config;
    // `--entrypoint ""` arrives as [""]: it clears the image's entrypoint, as in Docker.
    const ownEntrypoint = own.Entrypoint && own.Entrypoint.length === 1 && own.Entrypoint[0] === '' ? [] : own.Entrypoint;
    const entrypoint = ownEntrypoint !== undefined && ownEntrypoint !== null ? ownEntrypoint : image.config.Entrypoint;
    const ownCmd = own.Cmd && own.Cmd.length > 0 ? own.Cmd : null;
    // As in Docker: a new entrypoint (an empty one too) drops the image's Cmd.
    const cmd = ownCmd ?? (ownEntrypoint ? [] : image.config.Cmd ?? []);
    const workdir = own.WorkingDir ?? '';
    if (workdir !== '' && !workdir.startsWith('/')) throw new InvalidArgumentError(`the working directory '${workdir}' is invalid, it needs to be an absolute path`);
    if ((entrypoint ?? []).length === 0 && cmd.length === 0) throw new InvalidArgumentError('No command specified');
    const hostname = own.Hostname && own.Hostname !== '' ? own.Hostname : id.slice(0, 12);
    const env = mergeEnv(image.config.Env.length > 0 ? image.config.Env : [`PATH=${DEFAULT_PATH}`], own.Env ?? []);
    const config: ContainerConfig = {
      Cmd: [...cmd],
      Entrypoint: entrypoint && entrypoint.length > 0 ? [...entrypoint] : null,
      Env: env,
      WorkingDir: own.WorkingDir || image.config.WorkingDir || '',
      User: own.User || image.config.User || '',
      Hostname: hostname,
      Tty: own.Tty ?? false,
      OpenStdin: own.OpenStdin ?? false,
      StdinOnce: own.StdinOnce ?? false,
      AttachStdin: own.AttachStdin ?? false,
      AttachStdout: own.AttachStdout ?? false,
      AttachStderr: own.AttachStderr ?? false,
      Labels: { ...image.config.Labels, ...(own.Labels ?? {}) },
      ...(own.ExposedPorts ? { ExposedPorts: own.ExposedPorts } : {}),
    };
    const limits = pickLimits(request.hostConfig);
    const logType = request.hostConfig.LogConfig?.Type || 'json-file';
    const logOptions = request.hostConfig.LogConfig?.Config ?? {};
    if (logType !== 'none') {
      const driver = this.logDriver(logType);
      if (!driver) throw new InvalidArgumentError(`logging driver "${logType}" is not available: ${this.whyMissing(DriverKinds.log)}`);
      try {
        driver.validateOptions(logOptions);
      } catch (err) {
        throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      }
    }
    if (Object.keys(limits).length > 0) {
      const limiter = this.limiter();
      if (!limiter) throw new InvalidArgumentError(`resource limits are not supported on this host: ${this.whyMissing(DriverKinds.limiter)}`);
      try {
        limiter.validate(limits);
      } catch (err) {
        throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      }
    }
    bindsOf(request.hostConfig); // refuses what cannot be bound, before anything exists
    try {
      parseSecurityOptions(request.hostConfig.SecurityOpt ?? []); // a bad profile fails create, not a later start
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
    const restartPolicy = parseRestartPolicy(request.hostConfig.RestartPolicy?.Name, request.hostConfig.RestartPolicy?.MaximumRetryCount);
    if (restartPolicy && request.hostConfig.AutoRemove) throw new InvalidArgumentError('Conflicting options: --restart and --rm (a restart policy and AutoRemove)');
    // As Docker: a missing host folder of `-v` is made on start; one of `--mount` is an error now.
    for (const m of request.hostConfig.Mounts ?? []) {
      if (!existsSync(m.Source)) throw new InvalidArgumentError(`invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
    }
    const hostConfig: HostConfig = {
      ...limits,
      AutoRemove: request.hostConfig.AutoRemove ?? false,
      LogConfig: { Type: logType, Config: { ...logOptions } },
      ...(request.hostConfig.ConsoleSize ? { ConsoleSize: request.hostConfig.ConsoleSize } : {}),
      ...(request.hostConfig.Binds?.length ? { Binds: [...request.hostConfig.Binds] } : {}),
      ...(request.hostConfig.SecurityOpt?.length ? { SecurityOpt: [...request.hostConfig.SecurityOpt] } : {}),
      ...(request.hostConfig.Mounts?.length ? { Mounts: request.hostConfig.Mounts.map((m) => ({ ...m })) } : {}),
      ...(restartPolicy ? { RestartPolicy: restartPolicy } : {}),
    };
    const events = decideCreate(state, { id, name, image: { ref: request.image, id: image.id }, config, hostConfig });
    await this.append(id, events);
    return { id, warnings: [] };
  }

  // ---- start --------------------------------------------------------------------------------

  async startContainer(ref: string): Promise<void> {
    const id = this.container(ref).id;
    await this.serial(id, () => this.startLocked(id));
  }

  private async startLocked(id: string, byPolicy = false): Promise<void> {
    const c = findContainer(this.state(), id);
    decideStart(c);
    this.cancelRestart(id);
    const image = this.state().images[c.image.id];
    if (!image) throw new ConflictError(`image ${c.image.id} of container ${c.name} was removed: create the container again`);
    const storage = this.storage();
    const isolator = this.isolator();
    const limiter = this.limiter();
    const limits = pickLimits(c.hostConfig);
    const logType = c.hostConfig.LogConfig.Type;
    const logDriver = logType === 'none' ? undefined : this.logDriver(logType);
    if (logType !== 'none' && !logDriver) throw new ConflictError(`logging driver "${logType}" is not available: ${this.whyMissing(DriverKinds.log)}`);

    let mounts: readonly MountSpec[] = [];
    let cgroups: readonly string[] = [];
    let writer: LogWriter | undefined;
    let started: { pid: number; shimPid: number } | undefined;
    const steps: StartStep[] = [
      {
        kind: DriverKinds.storage, driverId: storage.id,
        run: async () => { mounts = await storage.prepare(id, image.layers.map((l) => l.diffId)); },
        undo: async () => undefined, // the writable layer belongs to the container until rm
      },
      {
        kind: DriverKinds.isolator, driverId: isolator.id,
        run: async () => {
          const root = mounts.find((m) => m.type === 'overlay') ?? mounts[0];
          if (!root) throw new Error(`${storage.id} returned no root mount`);
          const binds = bindsOf(c.hostConfig);
          for (const b of binds) if (!existsSync(b.source)) await mkdir(b.source, { recursive: true, mode: 0o755 });
          const args = [...(c.config.Entrypoint ?? []), ...c.config.Cmd];
          const env = [...c.config.Env, `HOSTNAME=${c.config.Hostname}`];
          if (c.config.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
          started = await isolator.start({
            containerId: id, args, env, cwd: c.config.WorkingDir || '/', user: c.config.User, hostname: c.config.Hostname,
            tty: c.config.Tty, stdin: c.config.OpenStdin, mounts, rootfs: root.target, binds, cgroups, outputOffset: writer?.storedOffset ?? 0,
            ...(c.hostConfig.SecurityOpt ? { securityOpt: c.hostConfig.SecurityOpt } : {}),
            ...(c.hostConfig.ConsoleSize && c.hostConfig.ConsoleSize[0] > 0 ? { consoleSize: c.hostConfig.ConsoleSize } : {}),
          });
        },
        undo: async () => { await isolator.cleanup(id, started?.shimPid ?? 0); },
      },
    ];
    if (limiter) {
      steps.push({
        kind: DriverKinds.limiter, driverId: limiter.id,
        run: async () => { cgroups = await limiter.create(id, limits); },
        undo: async () => { await limiter.remove(id); },
      });
    }
    if (logDriver) {
      steps.push({
        kind: DriverKinds.log, driverId: logDriver.id,
        run: async () => { writer = await logDriver.open(id, c.hostConfig.LogConfig.Config); },
        undo: async () => { await writer?.close(); },
      });
    }

    let drivers: string[];
    try {
      drivers = await runStartPipeline(steps, (driverId, err) => this.logger.warn(`undo of ${driverId} for ${id.slice(0, 12)} failed: ${String(err)}`));
    } catch (err) {
      const cause = err instanceof StartStepError ? err.cause : err;
      const driverId = err instanceof StartStepError ? err.driverId : 'engine';
      const exitCode = cause instanceof ProcessStartError ? cause.exitCode : 125;
      const message = cause instanceof Error ? cause.message : String(cause);
      const fresh = findContainer(this.state(), id);
      await this.append(fresh, [{ type: 'ContainerStartFailed', data: { id, driver: driverId, message, exitCode } }]);
      this.finishAttached(id);
      if (fresh.hostConfig.AutoRemove) await this.removeLocked(id, true).catch((e: unknown) => this.logger.warn(`auto-remove of ${id.slice(0, 12)} failed: ${String(e)}`));
      throw new StartFailedError(`failed to start container ${id.slice(0, 12)}: ${message}`, exitCode);
    }

    const proc = started!;
    const io = await isolator.connect(id);
    const hub = new ProcessHub(io, writer, (e) => this.logger.error(`log write for ${id.slice(0, 12)} failed: ${String(e)}`));
    this.hubs.set(id, hub);
    this.wireHub(id, hub);
    await this.append(findContainer(this.state(), id), [{ type: 'ContainerStarted', data: { id, pid: proc.pid, shimPid: proc.shimPid, drivers, ...(byPolicy ? { restart: true } : {}) } }]);
    for (const chunk of this.pendingStdin.get(id) ?? []) hub.write(chunk);
    this.pendingStdin.delete(id);
    if (this.pendingStdinClose.delete(id)) hub.closeStdin();
    void hub.whenExited().then((status) => this.onContainerExit(id, hub, status));
  }

  /** Connects a running container's hub to its attached clients. */
  private wireHub(id: string, hub: ProcessHub): void {
    hub.live.subscribe({ next: (chunk) => { for (const l of this.outputs.get(id) ?? []) l(chunk); } });
  }

  /** Tells attached clients the output is over. */
  private finishAttached(id: string): void {
    this.pendingStdin.delete(id);
    this.pendingStdinClose.delete(id);
    const listeners = this.outputs.get(id);
    this.outputs.delete(id);
    for (const l of listeners ?? []) l(null);
  }

  private async onContainerExit(id: string, hub: ProcessHub, status: ExitStatus): Promise<void> {
    const limiter = this.limiter();
    let oomKilled = status.oomKilled;
    try {
      if (limiter) oomKilled = oomKilled || (await limiter.oomKilled(id));
    } catch { /* cgroup already gone */ }
    await this.serial(id, async () => {
      const c = this.state().containers[id];
      if (c && (c.status === 'running' || c.status === 'paused')) {
        await this.append(c, [{ type: 'ContainerExited', data: { id, name: c.name, exitCode: status.exitCode, signal: status.signal, oomKilled, finishedAt: status.finishedAt } }]);
      }
      await hub.finish();
      this.hubs.delete(id);
      this.finishAttached(id);
      if (limiter) await limiter.remove(id).catch((e: unknown) => this.logger.warn(`cgroup removal for ${id.slice(0, 12)} failed: ${String(e)}`));
      const after = this.state().containers[id];
      if (after?.hostConfig.AutoRemove) await this.removeLocked(id, true);
      else if (after?.status === 'restarting') this.scheduleRestart(after);
    }).catch((e: unknown) => this.logger.error(`recording the exit of ${id.slice(0, 12)} failed: ${String(e)}`));
  }

  /** Called by the reconciler for a container whose shim is still alive after a daemon restart. */
  async reattach(id: string): Promise<void> {
    const c = findContainer(this.state(), id);
    const isolator = this.isolator();
    const logDriver = c.hostConfig.LogConfig.Type === 'none' ? undefined : this.logDriver(c.hostConfig.LogConfig.Type);
    const writer = logDriver ? await logDriver.open(id, c.hostConfig.LogConfig.Config) : undefined;
    const io = await isolator.connect(id);
    const hub = new ProcessHub(io, writer, (e) => this.logger.error(`log write for ${id.slice(0, 12)} failed: ${String(e)}`));
    this.hubs.set(id, hub);
    this.wireHub(id, hub);
    void hub.whenExited().then((status) => this.onContainerExit(id, hub, status));
  }

  /** Called by the reconciler for a container that exited while the daemon was down. */
  async recordExitWhileDown(id: string, status: ExitStatus): Promise<void> {
    await this.onContainerExitRecorded(id, status);
  }

  private async onContainerExitRecorded(id: string, status: ExitStatus): Promise<void> {
    const limiter = this.limiter();
    let oomKilled = status.oomKilled;
    try {
      if (limiter) oomKilled = oomKilled || (await limiter.oomKilled(id));
    } catch { /* gone */ }
    const c = findContainer(this.state(), id);
    await this.append(c, [{ type: 'ContainerExited', data: { id, name: c.name, exitCode: status.exitCode, signal: status.signal, oomKilled, finishedAt: status.finishedAt } }]);
    if (limiter) await limiter.remove(id).catch(() => undefined);
    await this.isolator().cleanup(id, c.shimPid).catch(() => undefined);
    if (c.hostConfig.AutoRemove) await this.removeLocked(id, true).catch(() => undefined);
    else {
      const after = this.state().containers[id];
      if (after?.status === 'restarting') this.scheduleRestart(after);
    }
  }

  /**
   * Starts a container again after the delay its restart policy asks for, if it is still
   * "restarting" then (a stop, a start or a removal meanwhile ends that). The decision itself is
   * the fold's (core/state/restart-policy.ts): this only keeps the timer.
   */
  scheduleRestart(c: ContainerState): void {
    this.cancelRestart(c.id);
    const ran = Date.parse(c.finishedAt) - Date.parse(c.startedAt);
    const wait = restartDelayMs(c.restartCount, Number.isFinite(ran) ? ran : 0);
    const timer = setTimeout(() => {
      this.restartTimers.delete(c.id);
      void this.serial(c.id, async () => {
        const now = this.state().containers[c.id];
        if (now?.status !== 'restarting') return;
        await this.startLocked(c.id, true);
      }).catch((e: unknown) => this.logger.warn(`restart of ${c.id.slice(0, 12)} by its restart policy failed: ${e instanceof Error ? e.message : String(e)}`));
    }, wait);
    timer.unref();
    this.restartTimers.set(c.id, timer);
  }

  private cancelRestart(id: string): void {
    const timer = this.restartTimers.get(id);
    if (timer) clearTimeout(timer);
    this.restartTimers.delete(id);
  }

  /** After a daemon start: containers whose restart policy says so start (again), as Docker does. */
  async startByPolicy(): Promise<string[]> {
    const started: string[] = [];
    for (const c of Object.values(this.state().containers)) {
      if (!startOnDaemonStart(c)) continue;
      try {
        await this.serial(c.id, () => this.startLocked(c.id, true));
        started.push(c.id);
      } catch (e) {
        this.logger.warn(`starting ${c.id.slice(0, 12)} by its restart policy failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return started;
  }

  isolatorDriver(): IsolatorDriver {
    return this.isolator();
  }

  // ---- stop, kill, restart, rm ----------------------------------------------------------------

  async stopContainer(ref: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void> {
    const id = this.container(ref).id;
    const hub = await this.serial(id, async () => {
      const c = findContainer(this.state(), id);
      const signal = options.signal ?? 'SIGTERM';
      const timeout = options.timeoutSeconds ?? 10;
      await this.append(c, decideStop(c, signal, timeout));
      if (c.status === 'restarting') return { hub: undefined, c, timeout }; // the stop cancelled the restart
      const h = this.hubs.get(id);
      if (c.status === 'paused') await this.limiter()?.thaw(id);
      await this.signalContainer(c, parseSignal(signal));
      return { hub: h, c, timeout };
    });
    if (!hub.hub) return;
    const exited = await Promise.race([hub.hub.whenExited().then(() => true), delay(hub.timeout * 1000).then(() => false)]);
    if (!exited) await this.signalContainer(hub.c, 9);
    await this.untilExitRecorded(id);
  }

  private async signalContainer(c: ContainerState, signal: number): Promise<void> {
    const hub = this.hubs.get(c.id);
    if (hub) hub.signal(signal);
    else await this.isolator().kill(c.id, c.pid, signal);
  }

  /** Resolves once the container's current run has an exit event (or it is gone). */
  private untilExitRecorded(id: string): Promise<void> {
    const c = this.state().containers[id];
    if (!c || (c.status !== 'running' && c.status !== 'paused')) return Promise.resolve();
    return firstValueFrom(this.store.events.pipe(filter((e) => e.streamId === containerStream(id) && (e.type === 'ContainerExited' || e.type === 'ContainerRemoved')))).then(() => undefined);
  }

  async restartContainer(ref: string, options: { timeoutSeconds?: number }): Promise<void> {
    const c = this.container(ref);
    if (c.status === 'running' || c.status === 'paused') await this.stopContainer(c.id, options);
    await this.untilIdle(c.id);
    await this.startContainer(c.id);
  }

  /** Waits for a pending exit record (the hub's exit handler) so a restart starts from exited. */
  private async untilIdle(id: string): Promise<void> {
    await this.untilExitRecorded(id);
    await this.serial(id, async () => undefined);
  }

  async killContainer(ref: string, signal: string): Promise<void> {
    const id = this.container(ref).id;
    await this.serial(id, async () => {
      const c = findContainer(this.state(), id);
      const n = parseSignal(signal);
      await this.append(c, decideKill(c, signal));
      await this.signalContainer(c, n);
    });
  }

  async removeContainer(ref: string, options: { force: boolean }): Promise<void> {
    const id = this.container(ref).id;
    await this.serial(id, () => this.removeLocked(id, options.force));
  }

  private async removeLocked(id: string, force: boolean): Promise<void> {
    const c = this.state().containers[id];
    if (!c) return;
    const events = decideRemove(c, force);
    this.cancelRestart(id);
    if (c.status === 'running' || c.status === 'paused') {
      // As Docker: a forced removal kills first, and says so (kill, die, destroy).
      await this.append(c, decideKill(c, 'SIGKILL'));
      if (c.status === 'paused') await this.limiter()?.thaw(id).catch(() => undefined);
      const hub = this.hubs.get(id);
      await this.signalContainer(c, 9);
      if (hub) {
        const status = await hub.whenExited();
        const now = this.state().containers[id]!;
        if (now.status === 'running' || now.status === 'paused') {
          await this.append(now, [{ type: 'ContainerExited', data: { id, name: now.name, exitCode: status.exitCode, signal: status.signal, oomKilled: status.oomKilled, finishedAt: status.finishedAt } }]);
        }
        await hub.finish();
        this.hubs.delete(id);
      }
    }
    this.finishAttached(id); // also clients attached to a container that was not running
    const latest = this.state().containers[id];
    if (!latest) return;
    await this.isolator().cleanup(id, latest.shimPid);
    await this.limiter()?.remove(id);
    await this.storage().remove(id);
    const logType = latest.hostConfig.LogConfig.Type;
    if (logType !== 'none') await this.logDriver(logType)?.remove(id);
    for (const execId of latest.execIds) this.execs.delete(execId);
    await this.append(latest, events);
  }

  async renameContainer(ref: string, newName: string): Promise<void> {
    const c = this.container(ref);
    await this.append(c, decideRename(this.state(), c, newName));
  }

  async updateContainer(ref: string, limits: Limits, restart?: { Name: string; MaximumRetryCount: number }): Promise<void> {
    const id = this.container(ref).id;
    const picked = pickLimits(limits);
    // --restart no (or "") sets the policy back to none: null in the event.
    const restartPolicy = restart === undefined ? undefined : parseRestartPolicy(restart.Name, restart.MaximumRetryCount) ?? null;
    await this.serial(id, async () => {
      const c = findContainer(this.state(), id);
      if (Object.keys(picked).length === 0) {
        await this.append(c, decideUpdate(c, picked, restartPolicy));
        return;
      }
      const limiter = this.limiter();
      if (!limiter) throw new InvalidArgumentError(`resource limits are not supported on this host: ${this.whyMissing(DriverKinds.limiter)}`);
      // Docker's update rules: --cpus and a CFS quota/period are two ways to set the same files,
      // so one cannot be changed while the other is set (the merged limits would only say "cannot both be set").
      const has = (n: number | undefined): boolean => n !== undefined && n > 0;
      const conflict = has(picked.NanoCpus) && has(c.hostConfig.CpuPeriod) ? 'Nano CPUs cannot be updated as CPU Period has already been set'
        : has(picked.NanoCpus) && has(c.hostConfig.CpuQuota) ? 'Nano CPUs cannot be updated as CPU Quota has already been set'
          : has(picked.CpuPeriod) && has(c.hostConfig.NanoCpus) ? 'CPU Period cannot be updated as NanoCPUs has already been set'
            : has(picked.CpuQuota) && has(c.hostConfig.NanoCpus) ? 'CPU Quota cannot be updated as NanoCPUs has already been set' : undefined;
      if (conflict) throw new InvalidArgumentError(`Conflicting options: ${conflict}`);
      const merged = { ...pickLimits(c.hostConfig), ...picked };
      try {
        limiter.validate(merged);
      } catch (err) {
        throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
      }
      if (c.status === 'running' || c.status === 'paused') {
        try {
          await limiter.update(id, merged);
        } catch (err) {
          throw new InvalidArgumentError(`cannot update container ${c.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      await this.append(c, decideUpdate(c, picked, restartPolicy));
    });
  }

  async pauseContainer(ref: string): Promise<void> {
    const id = this.container(ref).id;
    await this.serial(id, async () => {
      const c = findContainer(this.state(), id);
      const events = decidePause(c);
      const limiter = this.limiter();
      if (!limiter) throw new ConflictError(`pause needs the freezer cgroup: ${this.whyMissing(DriverKinds.limiter)}`);
      await limiter.freeze(id);
      await this.append(c, events);
    });
  }

  async unpauseContainer(ref: string): Promise<void> {
    const id = this.container(ref).id;
    await this.serial(id, async () => {
      const c = findContainer(this.state(), id);
      const events = decideUnpause(c);
      await this.limiter()?.thaw(id);
      await this.append(c, events);
    });
  }

  // ---- wait, attach, resize, top, logs, stats --------------------------------------------------

  waitContainer(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number; error?: string }> {
    const c = this.container(ref);
    const id = c.id;
    if (condition === 'not-running' && c.status !== 'running' && c.status !== 'paused') return Promise.resolve({ exitCode: c.exitCode });
    let lastExit = c.exitCode;
    return new Promise((resolve, reject) => {
      const sub = this.store.events.pipe(filter((e) => e.streamId === containerStream(id))).subscribe((e) => {
        if (e.type === 'ContainerExited' || e.type === 'ContainerStartFailed') {
          lastExit = e.data.exitCode;
          if (condition !== 'removed') done({ exitCode: lastExit });
        } else if (e.type === 'ContainerRemoved') {
          done({ exitCode: lastExit });
        }
      });
      const onAbort = (): void => {
        sub.unsubscribe();
        reject(new Error('wait cancelled'));
      };
      const done = (r: { exitCode: number }): void => {
        sub.unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async attachContainer(ref: string, options: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean }): Promise<StreamSession> {
    const c = this.container(ref);
    const id = c.id;
    let listener: ((chunk: OutputChunk | null) => void) | undefined;
    let resolveExit!: (n: number) => void;
    const exitCode = new Promise<number>((r) => { resolveExit = r; });
    const past: OutputChunk[] = [];
    if (options.logs && c.hostConfig.LogConfig.Type !== 'none') {
      for await (const e of this.logDriver(c.hostConfig.LogConfig.Type)?.read(id, {}) ?? []) past.push({ stream: e.stream, data: e.data });
    }
    const output = new Observable<OutputChunk>((subscriber) => {
      for (const p of past) subscriber.next(p);
      listener = (chunk) => {
        if (chunk === null) {
          subscriber.complete();
          return;
        }
        if ((chunk.stream === 'stdout' && options.stdout) || (chunk.stream === 'stderr' && options.stderr)) subscriber.next(chunk);
      };
      let set = this.outputs.get(id);
      if (!set) {
        set = new Set();
        this.outputs.set(id, set);
      }
      set.add(listener);
      // An attach to a container that is not running waits for its next run, as Docker's does:
      // `start -a` attaches first, then starts (the CLIs refuse a plain attach to a stopped
      // container themselves). The run's end, a failed start or a removal ends it.
      return () => {
        this.outputs.get(id)?.delete(listener!);
      };
    });
    const session: StreamSession = {
      tty: c.config.Tty,
      output,
      exitCode,
      write: (data) => {
        if (!options.stdin) return;
        const hub = this.hubs.get(id);
        if (hub) hub.write(data);
        else this.pendingStdin.set(id, [...(this.pendingStdin.get(id) ?? []), data]);
      },
      closeStdin: () => {
        // As Docker: a client that goes away (a detach, Ctrl-P Ctrl-Q) closes the stdin of a StdinOnce container, but never a tty's.
        if (!options.stdin || !c.config.StdinOnce || c.config.Tty) return;
        const hub = this.hubs.get(id);
        if (hub) hub.closeStdin();
        else this.pendingStdinClose.add(id);
      },
      close: () => {
        if (listener) this.outputs.get(id)?.delete(listener);
      },
    };
    void this.untilNextExit(id).then(resolveExit);
    return session;
  }

  private untilNextExit(id: string): Promise<number> {
    return firstValueFrom(this.store.events.pipe(filter((e) => e.streamId === containerStream(id) && (e.type === 'ContainerExited' || e.type === 'ContainerStartFailed' || e.type === 'ContainerRemoved'))))
      .then((e) => (e.type === 'ContainerExited' || e.type === 'ContainerStartFailed' ? e.data.exitCode : this.state().containers[id]?.exitCode ?? 0))
      .catch(() => 0);
  }

  async resizeContainer(ref: string, rows: number, cols: number): Promise<void> {
    const c = this.container(ref);
    const hub = this.hubs.get(c.id);
    if (!hub) throw new ConflictError(`container ${c.id} is not running`);
    hub.resize(rows, cols);
  }

  async containerSize(ref: string): Promise<{ sizeRw: number; sizeRootFs: number }> {
    const c = this.container(ref);
    const { size: sizeRw } = await this.storage().usage(c.id);
    return { sizeRw, sizeRootFs: (this.state().images[c.image.id]?.size ?? 0) + sizeRw };
  }

  async containerChanges(ref: string): Promise<readonly FileChange[]> {
    const c = this.container(ref);
    const storage = this.storage();
    if (!storage.changes) throw new NotImplementedError(`the storage driver ${storage.id} cannot list a container's changes`);
    const image = this.state().images[c.image.id];
    if (!image) throw new ConflictError(`image ${c.image.id} of container ${c.name} was removed`);
    return storage.changes(c.id, image.layers.map((l) => l.diffId));
  }

  async topContainer(ref: string, psArgs?: string): Promise<{ titles: readonly string[]; processes: readonly (readonly string[])[] }> {
    const c = this.container(ref);
    if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError(`container ${c.id} is not running`);
    const limiter = this.limiter();
    const pids = limiter ? await limiter.pids(c.id) : [c.pid];
    const list = pids.length > 0 ? pids : [c.pid];
    // Like moby: ps on the host with the client's options (`docker top web aux`, `-o pid,args`),
    // rows picked by the PID column. Without options, Docker's `ps -ef` columns for our pids only.
    const args = psArgs?.trim() ? psArgs.trim().split(/\s+/) : ['-o', 'user=UID,pid,ppid,c,stime,tty=TTY,time,args=CMD', '-p', list.join(',')];
    let stdout: string;
    try {
      ({ stdout } = await run('ps', args, { maxBuffer: 64 << 20 }));
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? '';
      throw new InvalidArgumentError(`ps ${args.join(' ')}: ${stderr.trim().split('\n')[0] || (err instanceof Error ? err.message : String(err))}`);
    }
    try {
      return parsePsOutput(stdout, list);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * Not a generator itself: an unknown container or a driver that cannot read throws here, before
   * the API route sent its 200 headers (a generator's body would only run on the first next()).
   */
  logs(ref: string, options: LogReadOptions & { stdout: boolean; stderr: boolean }): AsyncIterable<LogEntry> {
    const c = this.container(ref);
    const type = c.hostConfig.LogConfig.Type;
    const driver = type === 'none' ? undefined : this.logDriver(type);
    // Docker's message and status (501: ErrReadLogsNotSupported is a NotImplemented error).
    if (!driver) throw new NotImplementedError('configured logging driver does not support reading');
    return this.readLogs(c, driver, options);
  }

  private async *readLogs(c: ContainerState, driver: LogDriver, options: LogReadOptions & { stdout: boolean; stderr: boolean }): AsyncIterable<LogEntry> {
    const running = c.status === 'running' || c.status === 'paused';
    const follow = options.follow === true && running;
    const abort = new AbortController();
    const outer = options.signal;
    const onOuter = (): void => abort.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    let sub: { unsubscribe(): void } | undefined;
    if (follow) {
      sub = this.store.events.pipe(filter((e) => e.streamId === containerStream(c.id) && (e.type === 'ContainerExited' || e.type === 'ContainerRemoved'))).subscribe(() => abort.abort());
      // It may have exited since logs() was called: then the follow passes on what is stored and ends.
      const now = this.state().containers[c.id];
      if (!now || (now.status !== 'running' && now.status !== 'paused')) abort.abort();
    }
    if (outer?.aborted) abort.abort();
    try {
      for await (const entry of driver.read(c.id, { ...options, follow, signal: abort.signal })) {
        if ((entry.stream === 'stdout' && options.stdout) || (entry.stream === 'stderr' && options.stderr)) yield entry;
      }
    } finally {
      sub?.unsubscribe();
      outer?.removeEventListener('abort', onOuter);
    }
  }

  async stats(ref: string): Promise<ResourceStats> {
    const c = this.container(ref);
    const limiter = this.limiter();
    if (!limiter) throw new ConflictError(`stats need cgroups: ${this.whyMissing(DriverKinds.limiter)}`);
    if (c.status !== 'running' && c.status !== 'paused') throw new ConflictError(`container ${c.id} is not running`);
    return limiter.stats(c.id);
  }

  // ---- exec -----------------------------------------------------------------------------------

  async createExec(ref: string, request: { cmd: readonly string[]; env?: readonly string[]; workingDir?: string; user?: string; tty: boolean; attachStdin: boolean; attachStdout: boolean; attachStderr: boolean }): Promise<string> {
    const c = this.container(ref);
    const execId = newId();
    const events = decideExecCreate(c, {
      id: c.id, execId, cmd: [...request.cmd], env: [...(request.env ?? [])], workingDir: request.workingDir ?? '', user: request.user ?? '',
      tty: request.tty, attachStdin: request.attachStdin, attachStdout: request.attachStdout, attachStderr: request.attachStderr,
    });
    await this.append(c, events);
    return execId;
  }

  async startExec(execId: string, options: { detach: boolean; tty?: boolean; consoleSize?: readonly [number, number] }): Promise<StreamSession> {
    const x = this.exec(execId);
    if (x.running || x.exitCode !== null || this.execs.has(execId)) throw new ConflictError(`exec ${execId} has already been started`);
    const c = findContainer(this.state(), x.containerId);
    if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
    const tty = options.tty ?? x.tty;
    const limiter = this.limiter();
    let process: ExecProcess;
    try {
      process = await this.isolator().exec({
        containerId: c.id, execId, initPid: c.pid, args: x.cmd, env: mergeEnv([...c.config.Env, `HOSTNAME=${c.config.Hostname}`, ...(tty ? ['TERM=xterm'] : [])], x.env), cwd: x.workingDir || c.config.WorkingDir || '/',
        user: x.user || c.config.User, tty, stdin: x.attachStdin, cgroups: limiter ? limiter.paths(c.id) : [],
        ...(c.hostConfig.SecurityOpt ? { securityOpt: c.hostConfig.SecurityOpt } : {}),
        ...(options.consoleSize && options.consoleSize[0] > 0 ? { consoleSize: options.consoleSize } : {}),
      });
    } catch (err) {
      const exitCode = err instanceof ProcessStartError ? err.exitCode : 126;
      const message = err instanceof Error ? err.message : String(err);
      await this.append(findContainer(this.state(), c.id), [{ type: 'ExecExited', data: { id: c.id, execId, exitCode } }]);
      if (options.detach) throw new StartFailedError(message, exitCode);
      const output = new Observable<OutputChunk>((s) => {
        s.next({ stream: 'stderr', data: Buffer.from(`OCI runtime exec failed: ${message}\n`) });
        s.complete();
      });
      return { tty, output, exitCode: Promise.resolve(exitCode), write: () => undefined, closeStdin: () => undefined, close: () => undefined };
    }
    const hub = new ProcessHub(process, undefined, () => undefined);
    this.execs.set(execId, { hub, process });
    await this.append(findContainer(this.state(), c.id), [{ type: 'ExecStarted', data: { id: c.id, execId, pid: process.pid } }]);
    const exitCode = hub.whenExited().then(async (status) => {
      const now = this.state().containers[c.id];
      if (now) await this.append(now, [{ type: 'ExecExited', data: { id: c.id, execId, exitCode: status.exitCode } }]).catch(() => undefined);
      await hub.finish();
      this.execs.delete(execId);
      return status.exitCode;
    });
    if (options.detach) hub.live.subscribe(); // nobody reads a detached exec's output
    const output = options.detach ? EMPTY : hub.live;
    return {
      tty, output, exitCode,
      write: (data) => hub.write(data),
      closeStdin: () => hub.closeStdin(),
      close: () => undefined,
    };
  }

  async resizeExec(execId: string, rows: number, cols: number): Promise<void> {
    this.exec(execId);
    this.execs.get(execId)?.hub.resize(rows, cols);
  }

  // ---- images ---------------------------------------------------------------------------------

  importImage(source: NodeJS.ReadableStream | string, request: ImportRequest, progress?: ProgressReporter): Promise<string> {
    return this.images.importImage(source, request, progress);
  }

  tagImage(ref: string, repo: string, tag?: string): Promise<void> {
    return this.images.tag(ref, repo, tag);
  }

  removeImage(ref: string, options: { force: boolean }): Promise<readonly { Untagged?: string; Deleted?: string }[]> {
    return this.images.remove(ref, options.force);
  }

  async commitContainer(ref: string, request: CommitRequest, progress?: ProgressReporter): Promise<string> {
    const c = this.container(ref);
    const pause = request.pause !== false && c.status === 'running' && this.limiter() !== undefined;
    if (pause) await this.limiter()!.freeze(c.id);
    try {
      const imageId = await this.images.commit(c, this.storage(), request, progress);
      await this.append(findContainer(this.state(), c.id), [{ type: 'ContainerCommitted', data: { id: c.id, imageId, ref: request.repo ? `${request.repo}:${request.tag || 'latest'}` : null } }]);
      return imageId;
    } finally {
      if (pause) await this.limiter()!.thaw(c.id);
    }
  }

  async exportContainer(ref: string, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    const c = this.container(ref);
    const image = this.state().images[c.image.id];
    if (!image) throw new ConflictError(`image of container ${c.name} was removed`);
    await this.images.exportContainer(c, image, this.storage(), out, progress);
  }

  saveImages(refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    return this.images.save(refs, out, progress);
  }

  loadImages(source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]> {
    return this.images.load(source, progress);
  }

  // ---- events, replay, prune -------------------------------------------------------------------

  events(query: EventQuery): Observable<EventEnvelope> {
    return queryEvents(this.store, query);
  }

  async replay(until: { position?: number; time?: string }): Promise<EngineState> {
    const events: EventEnvelope[] = [];
    const bound = until.position ?? (until.time !== undefined ? await this.store.timeIndex?.readUntilFor(until.time) : undefined);
    for await (const e of this.store.log.read(bound !== undefined ? { until: bound } : {})) {
      if (until.time !== undefined && e.time > until.time) break;
      events.push(e);
    }
    return foldAll(events);
  }

  async pruneContainers(): Promise<{ deleted: readonly string[]; spaceReclaimed: number }> {
    const victims = Object.values(this.state().containers).filter((c) => c.status === 'exited' || c.status === 'created');
    for (const c of victims) await this.removeContainer(c.id, { force: false });
    return { deleted: victims.map((c) => c.id), spaceReclaimed: 0 };
  }

  pruneImages(all: boolean): Promise<{ deleted: readonly { Untagged?: string; Deleted?: string }[]; spaceReclaimed: number }> {
    return this.images.prune(all);
  }

  /** Detaches from every process (they keep running) and stops taking work: the daemon is shutting down. */
  async shutdown(): Promise<void> {
    for (const id of [...this.restartTimers.keys()]) this.cancelRestart(id); // still "restarting" in the log: the next daemon starts them
    for (const hub of this.hubs.values()) hub.detach();
    this.hubs.clear();
    for (const x of this.execs.values()) x.hub.detach();
  }
}

/** A timer that does not keep the daemon alive: a stop's grace period must not delay a shutdown. */
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

