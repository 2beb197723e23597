import type { ContainerConfig, ContainerVolume, EndpointConfig, EventData, HistoryEntry, HostConfig, ImageConfig, ImageRef, JsonValue, LayerDescriptor } from '../../events/index.js';
import type { NetworksState } from '../network/network-state.js';

/** Docker's container states; this engine uses created, running, paused, exited, removing, dead. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ExecState {
  readonly execId: string;
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly env: readonly string[];
  readonly workingDir: string;
  readonly user: string;
  readonly tty: boolean;
  readonly attachStdin: boolean;
  readonly attachStdout: boolean;
  readonly attachStderr: boolean;
  /** ExecStarting without ExecStarted or ExecExited yet: the isolator may be running it. */
  readonly starting: boolean;
  readonly running: boolean;
  readonly pid: number;
  /** When its process started (ExecStarted's startTime: /proc/<pid>/stat field 22); null when the log has none (older logs, another isolator). */
  readonly startTime: number | null;
  readonly exitCode: number | null;
  /** Why it ended, when not by its own exit (it failed to start, the daemon lost it); "" otherwise. */
  readonly exitReason: string;
}

/** A start step that is done, as ContainerStartStepDone recorded it. */
export interface StartStepRecord {
  readonly kind: string;
  readonly driverId: string;
  readonly output: JsonValue;
}

/** Why a start failed, as moby's rule for State.ExitCode needs it (core/engine/start-failure.ts). */
export interface StartFailure {
  readonly message: string;
  /** The client's exit code (125/126/127) of the isolator's process start (ProcessStartError); null when the failure was anything else. */
  readonly processStartCode: number | null;
}

/** A start step's failure as the log recorded it (ContainerStartStepFailed): the driver that failed too. */
export interface StartStepFailure extends StartFailure {
  readonly driverId: string;
}

/** One container as ps and inspect see it: a pure fold of its stream. */
export interface ContainerState {
  readonly id: string;
  readonly name: string;
  readonly image: ImageRef;
  readonly config: ContainerConfig;
  readonly hostConfig: HostConfig;
  /** What it asked of the networks it joins (--network-alias, --ip), by the network name or id it gave. */
  readonly endpointsConfig?: Readonly<Record<string, EndpointConfig>>;
  readonly created: string;
  readonly status: ContainerStatus;
  readonly pid: number;
  readonly shimPid: number;
  readonly exitCode: number;
  readonly signal: number | null;
  readonly oomKilled: boolean;
  /** Start failure message, "" otherwise (Docker's State.Error). */
  readonly error: string;
  readonly startedAt: string; // "0001-01-01T00:00:00Z" when never
  readonly finishedAt: string;
  /** Restarts by the restart policy since the last start someone asked for (Docker's RestartCount). */
  readonly restartCount: number;
  /** Stopped (or killed) on request since its last start: the restart policy leaves it stopped. */
  readonly manuallyStopped: boolean;
  /** ContainerStarting without ContainerStarted or ContainerStartFailed: a start under way. */
  readonly starting: boolean;
  /** The steps of the start under way (or of the last start) that are done and not undone, in order. */
  readonly startSteps: readonly StartStepRecord[];
  /**
   * The first step failure of the start under way (ContainerStartStepFailed): its message, and the
   * client's exit code when it was the isolator's process start (null for any other failure).
   * Recovery of a start cut by a crash after it gives the exit code it would have had. Null otherwise.
   */
  readonly startFailure: StartStepFailure | null;
  /** A stop was asked for (with this signal and grace period) and the container has not exited since. */
  readonly stopping: { readonly signal: string; readonly timeoutSeconds: number } | null;
  /** ContainerCommitting without its end: a commit under way (paused: the container was frozen for it). */
  readonly committing: { readonly paused: boolean; readonly since: string } | null;
  /** Driver ids that ran on the last start, in order. */
  readonly drivers: readonly string[];
  readonly execIds: readonly string[];
  /** The volumes it mounts (ContainerCreated's), in the order they are bound. */
  readonly volumes: readonly ContainerVolume[];
  /** Its removal (status "removing") also removes its anonymous volumes (`rm -v`, `--rm`). */
  readonly removeVolumes: boolean;
  /**
   * Networks it was connected to, stopped, when they were removed (NetworkRemoved), until a
   * `network disconnect` of one (ContainerNetworkDisconnected on its stream): as Docker's
   * NetworkSettings keep them, its start fails with `network <id> not found`. Absent: none.
   */
  readonly removedNetworks?: readonly { readonly id: string; readonly name: string }[];
  /** Stream version of the container's stream: what the next append must expect. */
  readonly version: number;
  /** Global position of the last event that touched this container. */
  readonly position: number;
}

export interface ImageState {
  readonly id: string;
  readonly origin: string;
  readonly source: string;
  readonly parent: string | null;
  readonly layers: readonly LayerDescriptor[];
  readonly config: ImageConfig;
  readonly history: readonly HistoryEntry[];
  readonly created: string;
  readonly architecture: string;
  readonly os: string;
  /** "busybox:latest", ... in the order they were tagged. */
  readonly tags: readonly string[];
  /** "name@sha256:…" of the registries it was pulled from or pushed to (absent in states folded before pulls existed). */
  readonly repoDigests?: readonly string[];
  readonly size: number;
  readonly version: number;
}

/**
 * What a volume is made with, as VolumeCreating records it (events/catalogue.ts declares the
 * fields): its name, driver name ("local"), labels, `--opt` options, whether it is anonymous, and
 * the container whose create made it, if one did.
 */
export type VolumeSpec = Readonly<EventData<'VolumeCreating'>>;

/** One volume as `volume ls` and `volume inspect` see it: a pure fold of its stream; its spec, and what became of it. */
export interface VolumeState extends VolumeSpec {
  /** RFC 3339: when VolumeCreating was recorded. */
  readonly createdAt: string;
  /** "" until VolumeCreated. */
  readonly mountpoint: string;
  /** creating: VolumeCreating without VolumeCreated (a create under way, or cut by a crash); removing: VolumeRemoving without VolumeRemoved. */
  readonly status: 'creating' | 'created' | 'removing';
  /**
   * Docker's copy-up of a volume at its first mount. pending: no container has mounted it yet
   * (made by `volume create`), so the first container's create fills it from the image if it is
   * empty; copying: VolumeCopyUpStarting without its end (under way, or cut by a crash: recovery
   * empties it, back to pending); done: a container mounted it (ContainerCreated lists it), or
   * a container's create made it, or the copy-up ended. Never pending again.
   */
  readonly copyUp: 'pending' | 'copying' | 'done';
  /** While copying: the owner and mode of the volume's root before, which an undo restores. */
  readonly copyUpRoot?: { readonly uid: number; readonly gid: number; readonly mode: number };
}

/**
 * Everything the daemon knows, folded from the log. Plain data, JSON-serialisable (snapshots).
 * It is a NetworksState too (`networks`, `published`: core/network/network-state.ts), so IPAM,
 * the published ports in use and the recovery plan take the engine's state as it is.
 */
export interface EngineState extends NetworksState {
  readonly containers: Readonly<Record<string, ContainerState>>;
  readonly images: Readonly<Record<string, ImageState>>;
  readonly volumes: Readonly<Record<string, VolumeState>>;
  readonly execs: Readonly<Record<string, ExecState>>;
  /** Global position of the last applied event. */
  readonly position: number;
  /** Time of the last applied event. */
  readonly time: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
