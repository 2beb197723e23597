import type { Readable } from 'node:stream';
import type { EventEnvelope, ExitStatus, Limits } from '../../events/index.js';
import type { ContainerSecurity } from '../security/container-security.js';

/** What a driver learns about the host and where it may keep files. */
export interface DriverContext {
  /** The daemon's data root, e.g. /var/lib/mini-docker. */
  readonly dataRoot: string;
  /** The daemon's exec root, e.g. /run/mini-docker. */
  readonly execRoot: string;
  /** A folder of this driver's own under the data root: `<dataRoot>/<driver id>`. */
  readonly stateDir: string;
  /** A folder of this driver's own under the exec root (tmpfs, gone at reboot). */
  readonly runDir: string;
  readonly logger: Logger;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export type DriverStatus =
  | { readonly status: 'ok' }
  /** The host lacks what the driver needs (no cgroup v2, not root...): not an error. */
  | { readonly status: 'skipped'; readonly reason: string };

/**
 * The contribution every plugin makes: bind a class under this symbol in the plugin's
 * ContainerModule (`bind(Driver).to(MyDriver).inSingletonScope()`); the daemon collects all of them.
 */
export const Driver = Symbol.for('tiny-docker.Driver');
export interface Driver {
  /** `<kind>.<name>`, e.g. "storage.v1.overlayfs" (kinds are in kinds.ts). */
  readonly id: string;
  /** Driver ids or kinds that must be initialised before this one. */
  readonly requires?: readonly string[];
  /** Checks the host and prepares the driver's folders. Throwing marks the driver failed. */
  init(context: DriverContext): Promise<DriverStatus>;
  /**
   * Called after each event is durably appended, in log order, never on replay. Reactors (audit,
   * metrics) do all their work here; other kinds use it for clean-up on e.g. ContainerRemoved.
   */
  onEvent?(event: EventEnvelope): Promise<void> | void;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// storage.v1: image layers and the container's writable layer.
// ---------------------------------------------------------------------------------------------

/** One mount the isolator performs inside the container's mount namespace. */
export interface MountSpec {
  readonly type: string;
  readonly source: string;
  /** Absolute host path where it is mounted (the rootfs for the root mount). */
  readonly target: string;
  readonly options: readonly string[];
}

export interface ApplyLayerOptions {
  /**
   * The caller hashes the same bytes and ends the tar only when their sha256 is the diff id (a
   * pull, which verifies as it downloads): the driver need not hash them a second time.
   */
  readonly verified?: boolean;
}

/** One path a container changed, as `docker diff` shows it (C, A, D). */
export interface FileChange {
  readonly path: string;
  readonly kind: 'modified' | 'added' | 'deleted';
}

/** The disk a container's writable layer takes: bytes of its regular files, and its inodes. */
export interface LayerUsage {
  readonly size: number;
  readonly inodes: number;
}

/**
 * A storage driver's capabilities: one object the driver declares and the registry checks once at
 * registration (a value it does not know, or a capability declared without its methods, makes
 * the driver an error); the engine branches on the declaration (`listsChanges`), never on
 * whether a method happens to be there.
 */
export interface StorageCapabilities {
  /**
   * Where the containers' filesystems are. 'mount': `prepare` returns mounts for the kernel (the
   * isolator makes them in the container's mount namespace) and `mountReadOnly` is a read-only
   * mount; every real driver. 'memory': the files live in the driver's own process (the engine
   * tests' storage.v1.memory); its specs name nothing on the host, nothing mounts them, and the
   * storage suite's mount cases are not its part (test/storage-conformance.ts).
   */
  readonly rootfs: 'mount' | 'memory';
  /** It lists a container's changed paths (`docker diff`): it implements `changes`. False: `diff` answers 501. */
  readonly changes: boolean;
}

/**
 * Keeps unpacked layers and gives each container a writable layer; owns everything about the
 * layer's format on disk (containerd's snapshotter + differ). It returns mount specs and never
 * mounts for a running container (the isolator does, inside the container's namespace).
 *
 * Example: `applyLayer("sha256:aa…", tar)` unpacks an OCI layer (`.wh.` whiteouts turned into the
 * driver's own deletion markers). `prepare("3f2a…", ["sha256:aa…", "sha256:bb…"])` (bottom layer
 * first) creates upper/work folders for 3f2a… and returns `[{type: "overlay", source: "overlay",
 * target: ".../3f2a…/merged", options: ["lowerdir=.../bb…:.../aa…", "upperdir=…", "workdir=…"]}]`.
 * `diff("3f2a…", layers)` streams what the container changed as an OCI layer tar (commit), and
 * `usage("3f2a…")` measures it (`ps -s`). `remove("3f2a…")` deletes the upper, work and merged folders.
 */
export interface StorageDriver extends Driver {
  /** What it declares it can do; the registry checks it once, when the driver is registered. */
  readonly capabilities: StorageCapabilities;
  /**
   * Unpacks an OCI layer tar (uncompressed) under its diff id, checking the digest (unless
   * `options.verified`); a no-op when already there. The layer becomes visible only once `tar`
   * has ended without an error: a pull streams the tar while it downloads and ends it only after
   * it verified the bytes, or destroys it with an error.
   */
  applyLayer(diffId: string, tar: Readable, options?: ApplyLayerOptions): Promise<void>;
  hasLayer(diffId: string): Promise<boolean>;
  removeLayer(diffId: string): Promise<void>;
  /** Creates the container's writable layer; idempotent (a restart calls it again). */
  prepare(containerId: string, layers: readonly string[]): Promise<readonly MountSpec[]>;
  /**
   * The container's changes against `layers` as an OCI layer tar: what it added or modified as
   * entries, a deletion as an empty `.wh.<name>` file, a folder that replaced a lower one followed
   * by `<folder>/.wh..wh..opq`. An empty tar for a container that never started. Errors end the
   * stream with that error.
   */
  diff(containerId: string, layers: readonly string[]): Readable;
  /** The disk its writable layer takes (SizeRw); zeros when it never started. */
  usage(containerId: string): Promise<LayerUsage>;
  /** Ids of the containers it holds a writable layer for (recovery: a layer the log does not account for is removed). */
  held(): Promise<readonly string[]>;
  /** Mounts the container's filesystem read-only at a temporary path (export); call the returned function to unmount. */
  mountReadOnly(containerId: string, layers: readonly string[]): Promise<{ path: string; release(): Promise<void> }>;
  remove(containerId: string): Promise<void>;
}

/** A storage driver that declared `capabilities.changes`: the registry checked that it has `changes`. */
export interface ChangeListingStorage extends StorageDriver {
  /**
   * What the container changed against its image (`diff`): each path (absolute, inside the
   * container) added, modified or deleted, sorted by path; empty when it never started.
   */
  changes(containerId: string, layers: readonly string[]): Promise<readonly FileChange[]>;
}

/** Whether the driver declared that it lists a container's changes (and so, being registered, has `changes`). */
export function listsChanges(driver: StorageDriver): driver is ChangeListingStorage {
  return driver.capabilities.changes;
}

// ---------------------------------------------------------------------------------------------
// limiter.v1: cgroups.
// ---------------------------------------------------------------------------------------------

/** One line of a kernel pressure (PSI) file: the share of time tasks stalled, over 10 s, 60 s, 300 s (%), and in total (µs). */
export interface PressureData {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  readonly total: number;
}

/** A `*.pressure` file: `some` (at least one task stalled) and `full` (all stalled; absent for cpu on old kernels). */
export interface Pressure {
  readonly some: PressureData;
  readonly full?: PressureData;
}

export interface ResourceStats {
  readonly read: string; // RFC 3339 time of the reading
  readonly cpuUsageNanos: number; // total CPU time used
  readonly systemCpuNanos: number; // host CPU time (from /proc/stat), for the percentage
  readonly onlineCpus: number;
  readonly memoryUsage: number;
  readonly memoryLimit: number; // host memory when unlimited
  readonly memoryCache: number;
  readonly pids: number;
  readonly pidsLimit: number; // 0 = unlimited
  readonly blkioReadBytes: number;
  readonly blkioWriteBytes: number;
  /** The cgroup's PSI files (cgroup v2 kernels with PSI on); absent where the kernel keeps none. */
  readonly pressure?: { readonly cpu?: Pressure; readonly memory?: Pressure; readonly io?: Pressure };
}

/**
 * Creates, updates and removes a container's cgroups. Validation happens before anything exists.
 *
 * Example: `create("3f2a…", {Memory: 33554432, PidsLimit: 20})` on a v1 host makes
 * `/sys/fs/cgroup/memory/<daemon's cgroup>/mini-docker-3f2a…/` with memory.limit_in_bytes = 33554432
 * (and the same folder in the other hierarchies) and returns those folders; the shim writes the
 * container's pid into each `cgroup.procs` before the command runs.
 */
/** A device cgroup rule, as cgroup v1's devices.allow takes it: `c 1:3 rwm`, `c *:* m`. */
export interface DeviceRule {
  readonly type: 'a' | 'c' | 'b';
  readonly major: number | '*';
  readonly minor: number | '*';
  /** Any of r, w, m. */
  readonly access: string;
}

/** What a container's processes may open and make: only the rules' devices, or every device. */
export type DeviceAccess = { readonly allow: readonly DeviceRule[] } | 'all';

export interface LimiterDriver extends Driver {
  /** "1" or "2" (what `info` shows as CgroupVersion); undefined before init. */
  readonly cgroupVersion?: string;
  /** Throws an Error with a one-line message when a limit is invalid or unsupported here. */
  validate(limits: Limits): void;
  /**
   * Makes the container's cgroups with its limits and, where the host has a device controller, its
   * device access: `{allow: [...]}` denies every device but those rules (Docker's defaults and
   * `--device`), `'all'` opens every device (`--privileged`); undefined leaves what the cgroup inherits.
   */
  create(containerId: string, limits: Limits, devices?: DeviceAccess): Promise<readonly string[]>;
  /** The cgroup folders of an existing container (for exec and reattach). */
  paths(containerId: string): readonly string[];
  update(containerId: string, limits: Limits): Promise<void>;
  stats(containerId: string): Promise<ResourceStats>;
  /** True when the OOM killer killed a process of this container. */
  oomKilled(containerId: string): Promise<boolean>;
  freeze(containerId: string): Promise<void>;
  thaw(containerId: string): Promise<void>;
  /** Pids in the container's cgroup (top). */
  pids(containerId: string): Promise<readonly number[]>;
  /** Removes the cgroups (killing what is left in them); a no-op when they do not exist. */
  remove(containerId: string): Promise<void>;
  /** Ids of the containers it holds cgroups for (recovery: cgroups the log does not account for are removed). */
  held(): Promise<readonly string[]>;
}

// ---------------------------------------------------------------------------------------------
// log.v1: container output.
// ---------------------------------------------------------------------------------------------

export interface LogEntry {
  readonly stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, UTC. */
  readonly time: string;
  readonly data: Buffer;
}

export interface LogReadOptions {
  readonly tail?: number; // last N lines of output (an entry may hold several, or part of one: cut the first); undefined = all
  readonly since?: string; // RFC 3339
  readonly until?: string;
  readonly follow?: boolean;
  /** Ends a follow. */
  readonly signal?: AbortSignal;
}

export interface LogWriter {
  /** The shim's output offset up to which everything is stored (to drop resent chunks after a restart). */
  readonly storedOffset: number;
  write(entry: LogEntry, endOffset: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Stores and reads a container's output. `name` is what `--log-driver` selects ("json-file", "none").
 * A follow read yields the stored entries, then new ones as they are written, until the signal aborts.
 */
export interface LogDriver extends Driver {
  readonly name: string;
  /** Checks `--log-opt` values for this driver; throws a one-line message. */
  validateOptions(options: Readonly<Record<string, string>>): void;
  open(containerId: string, options: Readonly<Record<string, string>>): Promise<LogWriter>;
  read(containerId: string, options: LogReadOptions): AsyncIterable<LogEntry>;
  remove(containerId: string): Promise<void>;
  /** Ids of the containers it keeps logs for (recovery: logs of containers the log does not know are removed). */
  held(): Promise<readonly string[]>;
}

/**
 * What a log driver that keeps nothing to read (none, a shipper) throws from `read`, before any
 * iteration: the API answers 501 with Docker's words.
 */
export class LogReadNotSupportedError extends Error {
  constructor() {
    super('configured logging driver does not support reading');
    this.name = 'LogReadNotSupportedError';
  }
}

// ---------------------------------------------------------------------------------------------
// isolator.v1: the process.
// ---------------------------------------------------------------------------------------------

/** A host path bound (recursively) at an absolute path inside the container. */
export interface BindSpec {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

export interface ProcessSpec {
  readonly containerId: string;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly hostname: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly consoleSize?: readonly [number, number];
  readonly mounts: readonly MountSpec[];
  readonly rootfs: string;
  /** Host paths bound into the container (`-v`, `--mount type=bind`), in order. */
  readonly binds?: readonly BindSpec[];
  readonly cgroups: readonly string[];
  /** Where the output byte numbering starts: the log's stored offset, so a restarted container continues its sequence. */
  readonly outputOffset?: number;
  /** The container's `--security-opt` values (seccomp=unconfined|PROFILE, no-new-privileges), validated at create. */
  readonly securityOpt?: readonly string[];
  /** Its network namespace: a new one (the default), the host's (`--network host`), or another container's (`container:NAME`, by its init's pid). */
  readonly network?: NetworkNamespace;
  /**
   * Runs once the init exists in its namespaces and cgroups and before the user's command does
   * (the init sets up its root meanwhile): the network step wires the init's namespace here,
   * named by the init's pid and checked by its parent, the shim (`shimPid`). The command runs only
   * after it resolves; a rejection ends the start with that error.
   */
  readonly beforeCommand?: (initPid: number, shimPid: number) => Promise<void>;
  /** Capabilities, --privileged, --read-only, --tmpfs and --device; none: Docker's defaults. */
  readonly security?: ContainerSecurity;
  /**
   * A user namespace for the container (mini-dockerd --userns-remap): its ids 0..size-1 are the
   * host's uid..uid+size-1 and gid..gid+size-1; its root filesystem is seen through that mapping.
   * Absent: the host's ids.
   */
  readonly userns?: IdMapping;
}

/** Container ids 0..size-1 as host ids: uid + n, gid + n. */
export interface IdMapping {
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/** `container`: another container's, by its init's pid and that init's parent, its shim (a pid reused since that init died must not be joined). */
export type NetworkNamespace = { readonly mode: 'new' } | { readonly mode: 'host' } | { readonly mode: 'container'; readonly pid: number; readonly parent: number };

export interface ExecSpec {
  readonly containerId: string;
  readonly execId: string;
  readonly initPid: number;
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly user: string;
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly consoleSize?: readonly [number, number];
  readonly cgroups: readonly string[];
  /** The container's `--security-opt` values: an exec gets the container's seccomp filter too. */
  readonly securityOpt?: readonly string[];
  /** The container's capabilities, and whether it is privileged (no seccomp). */
  readonly security?: Pick<ContainerSecurity, 'capabilities' | 'privileged'>;
}

/** A start or exec that failed before the command ran; exitCode is Docker's 125/126/127. */
export class ProcessStartError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'ProcessStartError';
  }
}

/** What the engine can do to a running process: acknowledge its output, feed its stdin, resize, signal, let go. */
export interface ProcessControl {
  /** Tells the shim everything before `offset` is stored. */
  ack(offset: number): void;
  write(data: Buffer): void;
  closeStdin(): void;
  resize(rows: number, cols: number): void;
  signal(signal: number): void;
  close(): void;
}

/** Output and control of a running process the engine connected to (a container's, through `connect`). */
export interface ProcessIO extends ProcessControl {
  onOutput(listener: (stream: 'stdout' | 'stderr', data: Buffer, endOffset: number) => void): void;
  onExit(listener: (status: ExitStatus) => void): void;
}

/**
 * Where an exec's output and exit go. The engine hands it to `exec` before the process runs, so
 * that no output, however early or short, can come before someone listens: `exec c echo hi`'s
 * "hi" may be written, and the process gone, before `exec` resolves. Calls come in order (all
 * output, then one exit).
 */
export interface ProcessSink {
  output(stream: 'stdout' | 'stderr', data: Buffer, endOffset: number): void;
  exit(status: ExitStatus): void;
}

export interface ExecProcess extends ProcessControl {
  readonly pid: number;
  /** When the process started (the namespaces isolator: /proc/<pid>/stat field 22), when the isolator knows it: recorded in ExecStarted. */
  readonly startTime?: number;
}

/**
 * Runs a container's process in its own namespaces (through the shim) and execs into it.
 * `start` resolves once the user's command is running (or rejects with ProcessStartError).
 */
export interface IsolatorDriver extends Driver {
  start(spec: ProcessSpec): Promise<{ pid: number; shimPid: number }>;
  /** Connects to a running (or exited, not yet drained) container's shim: also after a daemon restart. */
  connect(containerId: string): Promise<ProcessIO>;
  /** Whether the shim of this container is alive. */
  isAlive(containerId: string, shimPid: number): boolean;
  /** The recorded exit of the container's process, if it has exited. */
  exitStatus(containerId: string): Promise<ExitStatus | null>;
  kill(containerId: string, pid: number, signal: number): Promise<void>;
  /** Runs a process in the container; its output and exit go to `sink` from the first byte. */
  exec(spec: ExecSpec, sink: ProcessSink): Promise<ExecProcess>;
  /** Removes what the isolator kept for the container (bundle folder); kills a left-over shim. */
  cleanup(containerId: string, shimPid: number): Promise<void>;
  /** What it holds on the host: a bundle per container, with its shim's pid when that shim is alive (0 otherwise). */
  held(): Promise<readonly HeldProcess[]>;
  /**
   * Ends what is left of an exec whose daemon died (recovery): its process and whatever ran it,
   * and what was kept for it (its exit record too). Says how the exec ended: on its own, with the
   * exit its runner recorded; killed now, because it still ran; or gone without a record.
   * Idempotent: a second call finds it gone. `process`, when the log has them: the exec's process
   * and the container's init; a process of the exec that outlived its runner is killed only while
   * it is provably still in the container (the namespaces isolator: in the init's PID namespace,
   * checked through pidfds), never by a bare pid that may have been reused.
   */
  endExec(containerId: string, execId: string, process?: LostExecProcess): Promise<LostExecEnd>;
}

/** What the log recorded of a lost exec (`IsolatorDriver.endExec`): its process (pid, and its start time when recorded) and the container's init. */
export interface LostExecProcess {
  readonly pid: number;
  readonly initPid: number;
  /** ExecStarted's startTime: the pid is signalled only while it is still the process that started then. Absent in older logs. */
  readonly startTime?: number;
}

/**
 * How an exec whose daemon died ended (`IsolatorDriver.endExec`). Example: `sh -c 'sleep 1; exit 7'`
 * running when the daemon was killed, the daemon back two seconds later: `{ended: 'recorded',
 * status: {exitCode: 7, ...}}`; back before the second passed: `{ended: 'killed'}`.
 */
export type LostExecEnd =
  | { readonly ended: 'recorded'; readonly status: ExitStatus }
  | { readonly ended: 'killed' }
  | { readonly ended: 'gone' };

export interface HeldProcess {
  readonly containerId: string;
  readonly shimPid: number;
}

// ---------------------------------------------------------------------------------------------
// exporter.v1: images out of containers.
// ---------------------------------------------------------------------------------------------

/**
 * Turns containers into archives. It never reads a storage driver's folders: a commit hands it
 * the storage driver's diff stream (`StorageDriver.diff`, an OCI layer tar), an export a
 * read-only view of the merged filesystem (`StorageDriver.mountReadOnly`).
 */
export interface ExporterDriver extends Driver {
  /** Writes the layer of a commit, from the storage driver's `diff` stream, to `out`; resolves with its size in bytes. */
  exportDiff(diff: Readable, out: NodeJS.WritableStream): Promise<number>;
  /** Writes the merged filesystem under `rootPath` as one tar (docker export). */
  exportTree(rootPath: string, out: NodeJS.WritableStream): Promise<number>;
}
