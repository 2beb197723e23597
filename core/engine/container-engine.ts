import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import type { ContainerPathStat } from '../archive/path-stat.js';
import type { EndpointConfig, EventEnvelope, ImageConfig, Limits } from '../../events/index.js';
import type { FileChange, LogEntry, LogReadOptions, ResourceStats } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ContainerState, EngineState, ExecState, ImageState, VolumeState } from '../state/engine-state.js';
import { foldAll } from '../state/evolve.js';
import { findImage } from '../state/lookup.js';
import { findVolume } from '../state/volume-rules.js';
import { attachContainer, resizeContainer, waitContainer } from './attach-container.js';
import { commitContainer, exportContainer } from './commit-container.js';
import { archiveContainerPath, extractToContainer, statContainerPath } from './copy-container.js';
import { containerChanges, containerLogs, containerSize, containerStats, topContainer } from './container-reads.js';
import { createContainer } from './create-container.js';
import type {
  CommitRequest, CreateContainerRequest, Engine, EngineInfo, EventQuery, ImportRequest, ProgressReporter, StreamSession, WaitCondition,
} from './engine.js';
import { EngineContext } from './engine-context.js';
import type { EventStore } from './event-store.js';
import { queryEvents } from './event-query.js';
import { createExec, execState, resizeExec, startExec, type ExecRequest } from './exec-container.js';
import type { ImageService } from './image-service.js';
import type { NetworkService } from './network-service.js';
import { connectContainer, disconnectContainer } from './network-commands.js';
import { removeLocked } from './remove-container.js';
import { startLocked } from './start-container.js';
import { killContainer, restartContainer, stopContainer } from './stop-container.js';
import { pauseContainer, renameContainer, unpauseContainer, updateContainer } from './update-container.js';
import { createVolume, pruneVolumes, removeVolume, volumeSize } from './volume-service.js';

/**
 * The engine: what the API may ask, each command handed to its handler (one file per command in
 * core/engine). A handler checks the command against the fold with a pure `decide*` rule, appends
 * the intent, lets the drivers act through its process manager and records each outcome. The
 * engine keeps no container table of its own: the context holds only live connections and timers.
 */
export class ContainerEngine implements Engine {
  readonly context: EngineContext;

  constructor(store: EventStore, registry: PluginRegistry, images: ImageService, logger: Logger, infoBase: Omit<EngineInfo, 'plugins' | 'lastPosition' | 'storageDriver' | 'cgroupVersion'>) {
    this.context = new EngineContext(store, registry, images, logger, infoBase);
  }

  private get ctx(): EngineContext {
    return this.context;
  }

  /** Networks: lookups, create, remove, prune, the default bridge. */
  get networks(): NetworkService {
    return this.context.networks;
  }

  // ---- reads --------------------------------------------------------------------------------

  state(): EngineState {
    return this.ctx.state();
  }

  info(): EngineInfo {
    const storage = this.ctx.registry.get(DriverKinds.storage);
    const limiter = this.ctx.limiter();
    return {
      ...this.ctx.infoBase,
      plugins: this.ctx.registry.listing(),
      storageDriver: storage?.id ?? 'none',
      cgroupVersion: limiter ? limiter.cgroupVersion ?? '1' : 'none',
      lastPosition: this.ctx.state().position,
    };
  }

  container(ref: string): ContainerState {
    return this.ctx.container(ref);
  }

  image(ref: string): ImageState {
    return findImage(this.state(), ref);
  }

  imageConfigOf(ref: string): ImageConfig {
    return this.image(ref).config;
  }

  exec(execId: string): ExecState {
    return execState(this.ctx, execId);
  }

  // ---- containers ---------------------------------------------------------------------------

  createContainer(request: CreateContainerRequest, progress?: ProgressReporter): Promise<{ id: string; warnings: readonly string[] }> {
    return createContainer(this.ctx, request, progress);
  }

  async startContainer(ref: string): Promise<void> {
    const id = this.container(ref).id;
    await this.ctx.serial(id, () => startLocked(this.ctx, id));
  }

  async stopContainer(ref: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void> {
    await stopContainer(this.ctx, this.container(ref).id, options);
  }

  async restartContainer(ref: string, options: { timeoutSeconds?: number }): Promise<void> {
    await restartContainer(this.ctx, this.container(ref).id, options);
  }

  async killContainer(ref: string, signal: string): Promise<void> {
    await killContainer(this.ctx, this.container(ref).id, signal);
  }

  async removeContainer(ref: string, options: { force: boolean; removeVolumes?: boolean }): Promise<void> {
    const id = this.container(ref).id;
    await this.ctx.serial(id, () => removeLocked(this.ctx, id, options.force, options.removeVolumes === true));
  }

  renameContainer(ref: string, newName: string): Promise<void> {
    return renameContainer(this.ctx, ref, newName);
  }

  connectContainer(networkRef: string, containerRef: string, config: Partial<EndpointConfig>): Promise<void> {
    return connectContainer(this.ctx, networkRef, containerRef, config);
  }

  disconnectContainer(networkRef: string, containerRef: string, force: boolean): Promise<void> {
    return disconnectContainer(this.ctx, networkRef, containerRef, force);
  }

  updateContainer(ref: string, limits: Limits, restartPolicy?: { Name: string; MaximumRetryCount: number }): Promise<void> {
    return updateContainer(this.ctx, ref, limits, restartPolicy);
  }

  pauseContainer(ref: string): Promise<void> {
    return pauseContainer(this.ctx, ref);
  }

  unpauseContainer(ref: string): Promise<void> {
    return unpauseContainer(this.ctx, ref);
  }

  waitContainer(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number; error?: string }> {
    return waitContainer(this.ctx, ref, condition, signal);
  }

  attachContainer(ref: string, options: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean }): Promise<StreamSession> {
    return attachContainer(this.ctx, ref, options);
  }

  resizeContainer(ref: string, rows: number, cols: number): Promise<void> {
    return resizeContainer(this.ctx, ref, rows, cols);
  }

  topContainer(ref: string, psArgs?: string): Promise<{ titles: readonly string[]; processes: readonly (readonly string[])[] }> {
    return topContainer(this.ctx, ref, psArgs);
  }

  containerSize(ref: string): Promise<{ sizeRw: number; sizeRootFs: number }> {
    return containerSize(this.ctx, ref);
  }

  containerChanges(ref: string): Promise<readonly FileChange[]> {
    return containerChanges(this.ctx, ref);
  }

  statContainerPath(ref: string, path: string): Promise<ContainerPathStat> {
    return statContainerPath(this.ctx, ref, path);
  }

  archiveContainerPath(ref: string, path: string, open: (stat: ContainerPathStat) => NodeJS.WritableStream): Promise<void> {
    return archiveContainerPath(this.ctx, ref, path, open);
  }

  extractToContainer(ref: string, path: string, tar: Readable, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    return extractToContainer(this.ctx, ref, path, tar, options);
  }

  logs(ref: string, options: LogReadOptions & { stdout: boolean; stderr: boolean }): AsyncIterable<LogEntry> {
    return containerLogs(this.ctx, ref, options);
  }

  stats(ref: string): Promise<ResourceStats> {
    return containerStats(this.ctx, ref);
  }

  // ---- exec ---------------------------------------------------------------------------------

  createExec(ref: string, request: ExecRequest): Promise<string> {
    return createExec(this.ctx, ref, request);
  }

  startExec(execId: string, options: { detach: boolean; tty?: boolean; consoleSize?: readonly [number, number] }): Promise<StreamSession> {
    return startExec(this.ctx, execId, options);
  }

  resizeExec(execId: string, rows: number, cols: number): Promise<void> {
    return resizeExec(this.ctx, execId, rows, cols);
  }

  // ---- images -------------------------------------------------------------------------------

  importImage(source: NodeJS.ReadableStream | string, request: ImportRequest, progress?: ProgressReporter): Promise<string> {
    return this.ctx.images.importImage(source, request, progress);
  }

  tagImage(ref: string, repo: string, tag?: string): Promise<void> {
    return this.ctx.images.tag(ref, repo, tag);
  }

  removeImage(ref: string, options: { force: boolean }): Promise<readonly { Untagged?: string; Deleted?: string }[]> {
    return this.ctx.images.remove(ref, options.force);
  }

  commitContainer(ref: string, request: CommitRequest, progress?: ProgressReporter): Promise<string> {
    return commitContainer(this.ctx, ref, request, progress);
  }

  exportContainer(ref: string, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    return exportContainer(this.ctx, ref, out, progress);
  }

  saveImages(refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    return this.ctx.images.save(refs, out, progress);
  }

  loadImages(source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]> {
    return this.ctx.images.load(source, progress);
  }

  // ---- events, replay, prune ----------------------------------------------------------------

  events(query: EventQuery): Observable<EventEnvelope> {
    return queryEvents(this.ctx.store, query);
  }

  async replay(until: { position?: number; time?: string }): Promise<EngineState> {
    const events: EventEnvelope[] = [];
    const store = this.ctx.store;
    const bound = until.position ?? (until.time !== undefined ? await store.timeIndex?.readUntilFor(until.time) : undefined);
    for await (const e of store.log.read(bound !== undefined ? { until: bound } : {})) {
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

  // ---- volumes ------------------------------------------------------------------------------

  createVolume(request: { name: string; driver: string; labels: Readonly<Record<string, string>>; options: Readonly<Record<string, string>> }): Promise<VolumeState> {
    return createVolume(this.ctx, { ...request, anonymous: false });
  }

  removeVolume(name: string, force: boolean): Promise<void> {
    return removeVolume(this.ctx, name, force);
  }

  pruneVolumes(filters: ReadonlyMap<string, readonly string[]>): Promise<{ deleted: readonly string[]; spaceReclaimed: number }> {
    return pruneVolumes(this.ctx, filters);
  }

  volumeSize(name: string): Promise<number> {
    return volumeSize(this.ctx, findVolume(this.state(), name));
  }

  pruneImages(all: boolean): Promise<{ deleted: readonly { Untagged?: string; Deleted?: string }[]; spaceReclaimed: number }> {
    return this.ctx.images.prune(all);
  }

  /** Detaches from every process (they keep running) and stops taking work: the daemon is shutting down. */
  async shutdown(): Promise<void> {
    for (const id of [...this.ctx.restartTimers.keys()]) this.ctx.cancelRestart(id); // still "restarting" in the log: the next daemon starts them
    for (const hub of this.ctx.hubs.values()) hub.detach();
    this.ctx.hubs.clear();
    for (const x of this.ctx.execs.values()) x.hub.detach();
  }
}
