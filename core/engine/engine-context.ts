import type { EngineEvent, EventEnvelope } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import type { ExecProcess, IsolatorDriver, LimiterDriver, LogDriver, StorageDriver } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ContainerState, EngineState } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import type { EngineInfo, OutputChunk } from './engine.js';
import { ConflictError, InvalidArgumentError } from './errors.js';
import type { EventStore } from './event-store.js';
import type { ImageService } from './image-service.js';
import { NetworkService } from './network-service.js';
import type { ProcessHub } from './process-hub.js';

export interface ExecRuntime {
  readonly hub: ProcessHub;
  readonly process: ExecProcess;
}

/**
 * What every command handler shares: the store (log + fold + bus), the drivers (one typed lookup
 * per kind), the image service, and the daemon's live, in-memory connections. None of it is
 * container state: that is only in the fold (`state()`); these maps hold sockets, timers and
 * waiting clients, which a restarted daemon rebuilds from the log and the shims.
 */
export class EngineContext {
  /** The daemon's end of each running container's process. */
  readonly hubs = new Map<string, ProcessHub>();
  readonly execs = new Map<string, ExecRuntime>();
  /** Pending restarts by the restart policy (what is pending is in the fold: status "restarting"). */
  readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** Attached clients of containers that are not running yet (docker run attaches before start). */
  readonly pendingStdin = new Map<string, Buffer[]>();
  /** Attached clients that closed stdin before the container started (`echo x | docker run -i`). */
  readonly pendingStdinClose = new Set<string>();
  readonly outputs = new Map<string, Set<(c: OutputChunk | null) => void>>();
  /** Networks as resources: lookups, create, remove, prune, the default bridge (network-service.ts). */
  readonly networks: NetworkService;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly store: EventStore,
    readonly registry: PluginRegistry,
    readonly images: ImageService,
    readonly logger: Logger,
    readonly infoBase: Omit<EngineInfo, 'plugins' | 'lastPosition' | 'storageDriver' | 'cgroupVersion'>,
  ) {
    this.networks = new NetworkService(store, registry, logger);
  }

  state(): EngineState {
    return this.store.state();
  }

  container(ref: string): ContainerState {
    return findContainer(this.state(), ref);
  }

  // ---- drivers: one typed lookup per kind ----------------------------------------------------

  storage(): StorageDriver {
    return this.registry.require(DriverKinds.storage);
  }

  isolator(): IsolatorDriver {
    return this.registry.require(DriverKinds.isolator);
  }

  /** The limiter, or undefined on a host without usable cgroups (then containers run without limits). */
  limiter(): LimiterDriver | undefined {
    return this.registry.get(DriverKinds.limiter);
  }

  /** The limiter for a command that cannot do without it (stats, pause, limits). */
  requireLimiter(what: string): LimiterDriver {
    const d = this.limiter();
    if (!d) throw new ConflictError(`${what} need cgroups: ${this.registry.whyMissing(DriverKinds.limiter)}`);
    return d;
  }

  /** The log driver `--log-driver NAME` selects ("none" is a driver like the others). */
  logDriver(name: string): LogDriver {
    const d = this.registry.allOf(DriverKinds.log).find((x) => x.name === name);
    if (!d) throw new InvalidArgumentError(`logging driver "${name}" is not available: ${this.registry.whyMissing(DriverKinds.log)}`);
    return d;
  }

  // ---- appends and serialisation ------------------------------------------------------------

  /** Appends to a container's stream, expecting the version that was read (a racing command gets a conflict). */
  append(c: { id: string; version: number }, events: readonly EngineEvent[]): Promise<readonly EventEnvelope[]> {
    return this.store.append(containerStream(c.id), events, c.version);
  }

  /** One operation at a time per container (start, stop, rm...). */
  async serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(id) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(work);
    this.locks.set(id, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(id) === next) this.locks.delete(id);
    }
  }

  /** Tells attached clients the output is over. */
  finishAttached(id: string): void {
    this.pendingStdin.delete(id);
    this.pendingStdinClose.delete(id);
    const listeners = this.outputs.get(id);
    this.outputs.delete(id);
    for (const l of listeners ?? []) l(null);
  }

  /** Connects a running container's hub to its attached clients. */
  wireHub(id: string, hub: ProcessHub): void {
    this.hubs.set(id, hub);
    hub.live.subscribe({ next: (chunk) => { for (const l of this.outputs.get(id) ?? []) l(chunk); } });
  }

  cancelRestart(id: string): void {
    const timer = this.restartTimers.get(id);
    if (timer) clearTimeout(timer);
    this.restartTimers.delete(id);
  }

  short(id: string): string {
    return id.slice(0, 12);
  }
}

/** An error's message, for one-line logs and events. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
