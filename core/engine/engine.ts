import type { Readable } from 'node:stream';
import type { UsernsRemap } from '../security/userns-remap.js';
import type { Observable } from 'rxjs';
import type { ContainerConfig, EndpointConfig, EventEnvelope, HostConfig, ImageConfig, Limits } from '../../events/index.js';
import type { ContainerPathStat } from '../archive/path-stat.js';
import type { FileChange, LogEntry, LogReadOptions, ResourceStats } from '../plugins/driver.js';
import type { ContainerState, EngineState, ExecState, ImageState, VolumeState } from '../state/engine-state.js';

/** A create request: Docker's Config + HostConfig, already parsed; missing fields take defaults. */
export interface CreateContainerRequest {
  readonly name?: string;
  /** An image reference ("busybox", "busybox:latest", an id or id prefix) or a tarball path. */
  readonly image: string;
  readonly config: Partial<ContainerConfig>;
  readonly hostConfig: Partial<HostConfig>;
  /** NetworkingConfig.EndpointsConfig: aliases and --ip per network. */
  readonly endpointsConfig?: Readonly<Record<string, EndpointConfig>>;
}

export interface OutputChunk {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Buffer;
}

/**
 * A live connection to a process's streams (attach or exec). `output` completes when the process
 * has exited and all of its output was delivered; `exitCode` resolves then too.
 */
export interface StreamSession {
  readonly tty: boolean;
  readonly output: Observable<OutputChunk>;
  readonly exitCode: Promise<number>;
  write(data: Buffer): void;
  closeStdin(): void;
  /** Detaches this client; the process goes on. */
  close(): void;
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface EventQuery {
  /** Position or time (RFC 3339) to start after; undefined = only new events. */
  readonly since?: { position?: number; time?: string };
  /** Stop at this position or time; undefined = follow live. */
  readonly until?: { position?: number; time?: string };
  /** Docker-style filters: type, container (id or name), event (action), image. */
  readonly filters?: Readonly<Record<string, readonly string[]>>;
}

export interface ProgressReporter {
  (progress: { readonly phase: string; readonly current: number; readonly total?: number }): void;
}

export interface ImportRequest {
  readonly repo?: string; // "name:tag" or "name" (+ tag)
  readonly tag?: string;
  readonly message?: string;
  readonly changes?: readonly string[]; // Dockerfile lines: ENV, CMD, WORKDIR, ENTRYPOINT, USER, LABEL
}

export interface CommitRequest {
  readonly repo?: string;
  readonly tag?: string;
  readonly comment?: string;
  readonly author?: string;
  readonly changes?: readonly string[];
  readonly pause?: boolean;
}

export interface PluginInfo {
  readonly id: string;
  readonly package: string;
  readonly status: 'ok' | 'skipped' | 'error';
  readonly reason?: string;
}

export interface EngineInfo {
  readonly id: string;
  readonly version: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly plugins: readonly PluginInfo[];
  /** Storage driver id in use ("storage.v1.overlayfs"). */
  readonly storageDriver: string;
  readonly cgroupVersion: string;
  readonly lastPosition: number;
  /** `--userns-remap`: the ids containers' root and users map to, or null. */
  readonly usernsRemap?: UsernsRemap | null;
}

/**
 * What the API (and anything else in the daemon) may ask of the engine. Every method that changes
 * something validates against the fold, appends events (durably) and lets drivers act; every read
 * is answered from the fold. References are ids, unique id prefixes or names.
 */
export const Engine = Symbol.for('tiny-docker.core.Engine');
export interface Engine {
  /** The current state, folded from the log. */
  state(): EngineState;
  info(): EngineInfo;
  container(ref: string): ContainerState;
  image(ref: string): ImageState;
  exec(execId: string): ExecState;

  createContainer(request: CreateContainerRequest, progress?: ProgressReporter): Promise<{ id: string; warnings: readonly string[] }>;
  startContainer(ref: string): Promise<void>;
  stopContainer(ref: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void>;
  restartContainer(ref: string, options: { timeoutSeconds?: number }): Promise<void>;
  killContainer(ref: string, signal: string): Promise<void>;
  /** `removeVolumes`: its anonymous volumes go too (rm -v). */
  removeContainer(ref: string, options: { force: boolean; removeVolumes?: boolean }): Promise<void>;
  renameContainer(ref: string, newName: string): Promise<void>;
  /** `network connect`: an address on the network now; a running container's veth pair too. */
  connectContainer(networkRef: string, containerRef: string, config: Partial<EndpointConfig>): Promise<void>;
  /** `network disconnect [-f]`. */
  disconnectContainer(networkRef: string, containerRef: string, force: boolean): Promise<void>;
  /** New limits, and a new restart policy when given (Name "no" or "" removes it). */
  updateContainer(ref: string, limits: Limits, restartPolicy?: { Name: string; MaximumRetryCount: number }): Promise<void>;
  /** Resolves when the condition is met (rejects NotFound at once for an unknown ref). */
  waitContainer(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number; error?: string }>;
  /** Attaches to the container's streams; may be called before start (output flows once it runs). */
  attachContainer(ref: string, options: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean }): Promise<StreamSession>;
  resizeContainer(ref: string, rows: number, cols: number): Promise<void>;
  topContainer(ref: string, psArgs?: string): Promise<{ titles: readonly string[]; processes: readonly (readonly string[])[] }>;
  /** Bytes of the container's own layer, and of its whole filesystem (image + own layer): inspect -s. */
  containerSize(ref: string): Promise<{ sizeRw: number; sizeRootFs: number }>;
  /** What the container changed in its filesystem, sorted by path (`diff`). */
  containerChanges(ref: string): Promise<readonly FileChange[]>;
  /** What is at `path` in the container (HEAD /containers/{id}/archive); 404 with Docker's words when nothing. */
  statContainerPath(ref: string, path: string): Promise<ContainerPathStat>;
  /** `path` of the container as a tar, written to what `open` returns once the stat is known (GET .../archive). */
  archiveContainerPath(ref: string, path: string, open: (stat: ContainerPathStat) => NodeJS.WritableStream): Promise<void>;
  /** Extracts a tar into the folder `path` of the container (PUT .../archive). */
  extractToContainer(ref: string, path: string, tar: Readable, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void>;
  logs(ref: string, options: LogReadOptions & { stdout: boolean; stderr: boolean }): AsyncIterable<LogEntry>;
  stats(ref: string): Promise<ResourceStats>;
  pauseContainer(ref: string): Promise<void>;
  unpauseContainer(ref: string): Promise<void>;

  createExec(ref: string, request: { cmd: readonly string[]; env?: readonly string[]; workingDir?: string; user?: string; tty: boolean; attachStdin: boolean; attachStdout: boolean; attachStderr: boolean }): Promise<string>;
  /** Starts an exec; with detach the session's output is empty and it resolves once running. */
  startExec(execId: string, options: { detach: boolean; tty?: boolean; consoleSize?: readonly [number, number] }): Promise<StreamSession>;
  resizeExec(execId: string, rows: number, cols: number): Promise<void>;

  importImage(source: NodeJS.ReadableStream | string, request: ImportRequest, progress?: ProgressReporter): Promise<string>;
  tagImage(ref: string, repo: string, tag?: string): Promise<void>;
  removeImage(ref: string, options: { force: boolean }): Promise<readonly { Untagged?: string; Deleted?: string }[]>;
  commitContainer(ref: string, request: CommitRequest, progress?: ProgressReporter): Promise<string>;
  exportContainer(ref: string, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void>;
  saveImages(refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void>;
  loadImages(source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]>;
  imageConfigOf(ref: string): ImageConfig;

  /** Past events (from the log) then live ones (from the bus), filtered; completes at `until`. */
  events(query: EventQuery): Observable<EventEnvelope>;
  /** The state as of a position or time: a pure replay of the log, no driver runs. */
  replay(until: { position?: number; time?: string }): Promise<EngineState>;
  pruneContainers(): Promise<{ deleted: readonly string[]; spaceReclaimed: number }>;

  /** `volume create`: a new volume, or the one of that name (same driver); name "" for a random one. */
  createVolume(request: { name: string; driver: string; labels: Readonly<Record<string, string>>; options: Readonly<Record<string, string>> }): Promise<VolumeState>;
  /** `volume rm`: refused (409) while a container uses it; `force`: a missing volume is no error. */
  removeVolume(name: string, force: boolean): Promise<void>;
  /** `volume prune`: unused volumes the filters select (anonymous ones unless all=true). */
  pruneVolumes(filters: ReadonlyMap<string, readonly string[]>): Promise<{ deleted: readonly string[]; spaceReclaimed: number }>;
  /** Bytes a volume takes (-1 when its driver cannot tell): `system df`. */
  volumeSize(name: string): Promise<number>;
  /** Unused untagged images, or with `all` (prune -a) every image no container uses. */
  pruneImages(all: boolean): Promise<{ deleted: readonly { Untagged?: string; Deleted?: string }[]; spaceReclaimed: number }>;
}
