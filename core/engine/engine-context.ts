import { filter, firstValueFrom, timeout } from 'rxjs';
import type { EngineEvent, EventEnvelope } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import type { ExecProcess, IsolatorDriver, LimiterDriver, LogDriver, StorageDriver } from '../plugins/driver.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
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
  /**
   * Addresses given back by an exit whose old veth pair (same address, same MAC) is still on the
   * bridge, keyed by `drainingKey`, until the pair's deletion settles: the IPAM gives them to no
   * other container meanwhile (container-network-release.ts releaseNetworkAtExit). Not container
   * state: it describes kernel objects of this daemon's session, which die with it (its netlink
   * session lets go of the namespaces, and the next daemon's recovery deletes leftover pairs).
   */
  readonly draining = new Map<string, { readonly containerId: string; readonly settled: Promise<void> }>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly decisions = new Map<string, Promise<unknown>>();

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

  /**
   * Decides on a fresh read of the container and appends with that read's version; when another
   * append won the race (an exec's step or final event, appended without a version check), reads
   * and decides again. Example: fifty `exec c echo hi` at once, whose ExecStarted and ExecExited
   * land between another exec's read and its ExecCreated: each is decided again, none refused. A
   * rule that no longer allows the command (the container stopped meanwhile) throws then. Every
   * command that appends with a version goes through it: the execs' events are appended without
   * one, under no lock, so any command can meet them (a stop, an update, the exit's record).
   */
  appendDecided(containerId: string, decide: (c: ContainerState) => readonly EngineEvent[], alongside?: () => readonly Promise<unknown>[]): Promise<ContainerState> {
    // One decision at a time per container (a short hold: a read, a pure rule, an append), so that
    // fifty at once do not all decide on the same read and retry as a herd; a retry is left only
    // for the appends without a version.
    const before = this.decisions.get(containerId) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(() => this.decideAndAppend(containerId, decide, alongside));
    this.decisions.set(containerId, next);
    return next.finally(() => {
      if (this.decisions.get(containerId) === next) this.decisions.delete(containerId);
    });
  }

  /**
   * `alongside`: appends to other streams that must not conflict (no version check), issued in the
   * same tick as the decided append, the first time the rule allows events, so that the file log
   * commits them together (one fdatasync); they are awaited with it. Not issued when the rule
   * allows nothing. Not tied to the decided append: when that one is refused as a version conflict
   * (an exec's event without a version landed first), they commit alone and the decided events go
   * into a later commit, so "one commit" is the usual case, not a promise.
   */
  private async decideAndAppend(containerId: string, decide: (c: ContainerState) => readonly EngineEvent[], alongside?: () => readonly Promise<unknown>[]): Promise<ContainerState> {
    let beside: readonly Promise<unknown>[] | null = null;
    for (let attempt = 1; ; attempt++) {
      const c = findContainer(this.state(), containerId);
      const events = decide(c);
      if (events.length === 0) {
        await Promise.all(beside ?? []);
        return c;
      }
      try {
        const appended = this.append(c, events);
        if (alongside && beside === null) beside = alongside();
        await Promise.all([appended, ...(beside ?? [])]);
        return c;
      } catch (err) {
        if (!(err instanceof ConcurrencyError) || attempt >= 20) throw err;
        await this.foldedTo(containerId, err.actual); // the winner is in the log; decide on it once the fold has it too
      }
    }
  }

  /** Resolves once the fold holds the container's stream up to `version` (or no longer has the container). */
  private async foldedTo(containerId: string, version: number): Promise<void> {
    const reached = (): boolean => (this.state().containers[containerId]?.version ?? Infinity) >= version;
    if (reached()) return;
    await firstValueFrom(this.store.events.pipe(filter(reached)));
  }

  /**
   * Resolves once the container is no longer `starting` (or is gone), or after `withinMs`. Under the
   * container's lock a start is never in progress, so a container still `starting` there is one
   * whose failed start's final event waits for the disk (core/engine/journal.ts retries it every
   * second); a forced removal waits for it as Docker's rm -f waits on the container's lock.
   */
  async startSettled(containerId: string, withinMs: number): Promise<void> {
    const settled = (): boolean => this.state().containers[containerId]?.starting !== true;
    if (settled()) return;
    await firstValueFrom(this.store.events.pipe(filter(settled), timeout(withinMs))).catch(() => undefined);
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
