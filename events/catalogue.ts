/**
 * The catalogue of every fact the engine records. Events are past tense, `{type, data}`, and this is
 * the only file that spells their names. Each type has a current schema version; older versions
 * are upcast on read (see upcasters.ts), so a log written by an older engine stays readable.
 */

/** Resource limits as recorded on create and update (Docker's HostConfig field names, in bytes / units). */
export interface Limits {
  readonly Memory?: number; // bytes, 0 = unlimited
  readonly MemorySwap?: number; // bytes of memory+swap, -1 = unlimited swap
  readonly MemoryReservation?: number; // bytes (soft limit)
  readonly NanoCpus?: number; // 1e9 = one CPU
  readonly CpuQuota?: number; // microseconds per period
  readonly CpuPeriod?: number; // microseconds
  readonly CpuShares?: number; // relative weight, 1024 = default
  readonly CpusetCpus?: string;
  readonly CpusetMems?: string;
  readonly PidsLimit?: number; // 0 or -1 = unlimited
  readonly BlkioWeight?: number; // 10..1000
  readonly BlkioDeviceReadBps?: readonly ThrottleDevice[];
  readonly BlkioDeviceWriteBps?: readonly ThrottleDevice[];
}

export interface ThrottleDevice {
  readonly Path: string;
  readonly Rate: number;
}

export interface LogConfig {
  readonly Type: string; // driver id, e.g. "json-file", "none"
  readonly Config: Readonly<Record<string, string>>; // --log-opt key=value
}

/** What the container runs: Docker's Config, the fields this engine honours. */
export interface ContainerConfig {
  readonly Cmd: readonly string[];
  readonly Entrypoint: readonly string[] | null;
  readonly Env: readonly string[];
  readonly WorkingDir: string;
  readonly User: string;
  readonly Hostname: string;
  readonly Tty: boolean;
  readonly OpenStdin: boolean;
  readonly StdinOnce: boolean;
  readonly AttachStdin: boolean;
  readonly AttachStdout: boolean;
  readonly AttachStderr: boolean;
  readonly Labels: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
}

/** A `HostConfig.Mounts` entry (`--mount`): type "bind" (Source a host path), "volume" (Source a volume name, "" for an anonymous one) or "tmpfs" (Source empty, TmpfsOptions). */
export interface BindMountConfig {
  readonly Type: string;
  readonly Source: string;
  readonly Target: string;
  readonly ReadOnly: boolean;
  /** type "tmpfs": `tmpfs-size` in bytes (0: the kernel's default) and `tmpfs-mode` (permission bits). */
  readonly TmpfsOptions?: { readonly SizeBytes?: number; readonly Mode?: number };
  /** Type "volume" only: `volume-nocopy` (NoCopy: the image's content at Target is not copied into a new volume). */
  readonly VolumeOptions?: { readonly NoCopy?: boolean };
}

/**
 * A volume a container mounts, resolved at create (`-v NAME:/path`, `-v /path`, `--mount
 * type=volume`, the image's `VOLUME`, `--volumes-from`): recorded in ContainerCreated, so which
 * volumes are in use is a fold of the log.
 */
export interface ContainerVolume {
  /** The volume's name (64 hex characters for an anonymous one). */
  readonly name: string;
  /** Absolute path inside the container. */
  readonly destination: string;
  readonly readOnly: boolean;
  /** Made for this container (`-v /path`, the image's VOLUME): `rm -v` removes it. */
  readonly anonymous: boolean;
}

/** `--device HOST[:CONTAINER[:PERMISSIONS]]`: a host device node made in the container and allowed by its device cgroup. */
export interface DeviceMapping {
  readonly PathOnHost: string;
  readonly PathInContainer: string;
  /** Any of r (read), w (write), m (mknod). */
  readonly CgroupPermissions: string;
}

/** `--restart`: no, always, unless-stopped, on-failure[:max retries] (stored only when not "no"). */
export interface RestartPolicy {
  readonly Name: string;
  readonly MaximumRetryCount: number;
}

export interface HostConfig extends Limits {
  readonly AutoRemove: boolean;
  readonly LogConfig: LogConfig;
  readonly ConsoleSize?: readonly [number, number];
  /** `-v /host:/container[:ro]` strings, as given (checked on create). */
  readonly Binds?: readonly string[];
  /** `--mount type=bind|volume,...` entries. */
  readonly Mounts?: readonly BindMountConfig[];
  /** `--volumes-from CONTAINER[:ro|rw]` values, as given (resolved into ContainerCreated's volumes). */
  readonly VolumesFrom?: readonly string[];
  readonly RestartPolicy?: RestartPolicy;
  /** `--security-opt` values: seccomp=unconfined, seccomp=<profile JSON>, no-new-privileges. */
  readonly SecurityOpt?: readonly string[];
  /** `--cap-add` / `--cap-drop`, normalized at create: `CAP_…` names or `ALL`. */
  readonly CapAdd?: readonly string[];
  readonly CapDrop?: readonly string[];
  /** `--privileged`: every capability the daemon holds, every host device, no seccomp, /sys writable, no masked paths. */
  readonly Privileged?: boolean;
  /** `--read-only`: the root filesystem mounted read-only. */
  readonly ReadonlyRootfs?: boolean;
  /** `--tmpfs PATH[:OPTIONS]`: container path → tmpfs mount options ("" for the defaults). */
  readonly Tmpfs?: Readonly<Record<string, string>>;
  /** `--device`: host devices given to the container. */
  readonly Devices?: readonly DeviceMapping[];
  /** `--userns host`: no user namespace under the daemon's --userns-remap (stored only when set). */
  readonly UsernsMode?: string;
  /** `--network`: "bridge" (the default, also when absent), "none", "host", "container:<id>", or a network's name or id. */
  readonly NetworkMode?: string;
  /** `-p`: "80/tcp" → the host sides asked for (HostPort "" = a random port; "8000-8010" = one of the range). */
  readonly PortBindings?: Readonly<Record<string, readonly PortBindingConfig[]>>;
  /** `-P`: every exposed port (the image's and `--expose`) on a random host port. */
  readonly PublishAllPorts?: boolean;
  /** `--dns`, `--dns-search`, `--dns-option`, `--add-host` ("HOST:IP"): what the container's /etc files say. */
  readonly Dns?: readonly string[];
  readonly DnsSearch?: readonly string[];
  readonly DnsOptions?: readonly string[];
  readonly ExtraHosts?: readonly string[];
}

/** One host side of a `-p` binding, as Docker's API carries it. */
export interface PortBindingConfig {
  readonly HostIp: string;
  readonly HostPort: string;
}

/** What a container asks of one network it joins (`--network-alias`, `--ip`; Docker's EndpointSettings). */
export interface EndpointConfig {
  readonly Aliases: readonly string[];
  /** --ip: the address wanted on that network ("" = any). */
  readonly IPv4Address: string;
}

export interface ImageRef {
  /** What the user typed ("busybox", "/tmp/busybox.tar"). */
  readonly ref: string;
  /** The image id, "sha256:<64 hex>". */
  readonly id: string;
}

export interface LayerDescriptor {
  /** sha256 of the uncompressed layer tar: the OCI diff id, "sha256:<hex>". */
  readonly diffId: string;
  readonly size: number;
}

export interface ImageConfig {
  readonly Env: readonly string[];
  readonly Cmd: readonly string[] | null;
  readonly Entrypoint: readonly string[] | null;
  readonly WorkingDir: string;
  readonly User: string;
  readonly Labels: Readonly<Record<string, string>>;
  readonly ExposedPorts?: Readonly<Record<string, Record<string, never>>>;
  /** `VOLUME /srv`: paths each container of the image gets an anonymous volume at (unless mounted otherwise). */
  readonly Volumes?: Readonly<Record<string, Record<string, never>>>;
}

export interface HistoryEntry {
  readonly created: string;
  readonly created_by: string;
  readonly comment?: string;
  readonly author?: string;
  readonly empty_layer?: boolean;
}

/** The exit of a process: a code, or the signal that ended it (then code = 128 + signal). */
export interface ExitStatus {
  readonly exitCode: number;
  readonly signal: number | null;
  readonly oomKilled: boolean;
  /** RFC 3339 with nanoseconds, UTC: when the process really ended (read from the shim's exit file). */
  readonly finishedAt: string;
}

type EventOf<T extends string, D> = { readonly type: T; readonly data: Readonly<D> };

/** A JSON value: what a driver step's output is recorded as. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Commands that change the host are written ahead: an intent (ContainerStarting, ContainerRemoving,
 * ExecStarting, ContainerCommitting; a stop's intent is ContainerStopRequested), then one event per
 * driver step, then the final event (ContainerStarted or ContainerStartFailed, ContainerRemoved,
 * ExecStarted or ExecExited, ContainerCommitted or ContainerCommitFailed). A daemon that died in
 * between finds the intent without its final event and finishes or undoes it (core/engine/reconciler.ts).
 */

// ---- containers: stream "container-<id>" ----
export type ContainerCreated = EventOf<'ContainerCreated', {
  id: string;
  name: string;
  image: ImageRef;
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** The volumes it mounts (their binds and those of --volumes-from stay in hostConfig); absent: none. */
  volumes?: readonly ContainerVolume[];
  /** NetworkingConfig.EndpointsConfig: per network (by the name or id it was given as), aliases and --ip. */
  endpointsConfig?: Readonly<Record<string, EndpointConfig>>;
}>;
export type ContainerStarted = EventOf<'ContainerStarted', {
  id: string;
  pid: number;
  shimPid: number;
  /** The driver order that ran, for `inspect` and for compensation; e.g. ["storage.v1.overlayfs", ...]. */
  drivers: readonly string[];
  /** True when the restart policy started it again (RestartCount goes up); absent for a start someone asked for. */
  restart?: boolean;
}>;
/** The intent to start: written (durably) before any driver acts. `restart`: the restart policy starts it. */
export type ContainerStarting = EventOf<'ContainerStarting', { id: string; restart?: boolean }>;
/** One start step done: the driver of `kind` and what it returned (mounts, cgroups, the stored log offset, pids). */
export type ContainerStartStepDone = EventOf<'ContainerStartStepDone', { id: string; kind: string; driverId: string; output: JsonValue }>;
export type ContainerStartStepFailed = EventOf<'ContainerStartStepFailed', {
  id: string;
  kind: string;
  driverId: string;
  message: string;
  /**
   * The client's exit code (125, 126, 127) when the failure was the isolator starting the process
   * (its ProcessStartError: the runtime's error, to which moby's 126/127 rule applies); absent for
   * any other failure (a volume driver's mount, the network, a folder the daemon makes) and in logs
   * written before it existed.
   */
  processStartCode?: number;
}>;
/** A step that ran was undone after a later one failed (or after a crash); `message` when the undo itself failed. */
export type ContainerStartStepUndone = EventOf<'ContainerStartStepUndone', { id: string; kind: string; driverId: string; message?: string }>;
export type ContainerStartFailed = EventOf<'ContainerStartFailed', {
  id: string;
  /** The driver that failed, e.g. "isolator.v1.namespaces". */
  driver: string;
  message: string;
  /**
   * The container's exit code after the failure (inspect's State.ExitCode), moby's rule
   * (core/engine/start-failure.ts): 127 the command not found (or "not a directory"), 126 not
   * executable ("permission denied"), otherwise the exit code it had, 128 when that was 0.
   * Events written before this rule say 125 for the other failures.
   */
  exitCode: number;
}>;
/** Carries the container's name (schema 2), so a reactor can read an exit alone; '' in exits recorded before. */
export type ContainerExited = EventOf<'ContainerExited', { id: string; name: string } & ExitStatus>;
export type ContainerStopRequested = EventOf<'ContainerStopRequested', { id: string; signal: string; timeoutSeconds: number }>;
export type ContainerKillRequested = EventOf<'ContainerKillRequested', { id: string; signal: string }>;
/** The intent to remove: after it the container only goes (a daemon that died midway finishes the removal). */
export type ContainerRemoving = EventOf<'ContainerRemoving', { id: string; force: boolean; removeVolumes?: boolean }>;
/** One driver let go of what it held for the container (isolator bundle, cgroups, layer, logs). */
export type ContainerRemoveStepDone = EventOf<'ContainerRemoveStepDone', { id: string; kind: string; driverId: string }>;
export type ContainerRemoved = EventOf<'ContainerRemoved', { id: string }>;
export type ContainerRenamed = EventOf<'ContainerRenamed', { id: string; oldName: string; newName: string }>;
/** `update`: the limits given (merged into the old ones); restartPolicy when --restart was given (null: back to "no"). */
export type ContainerLimitsUpdated = EventOf<'ContainerLimitsUpdated', { id: string; limits: Limits; restartPolicy?: RestartPolicy | null }>;
export type ContainerPaused = EventOf<'ContainerPaused', { id: string }>;
export type ContainerUnpaused = EventOf<'ContainerUnpaused', { id: string }>;
/** The intent to commit; `paused`: the container is frozen until the commit ends (a crash thaws it). */
export type ContainerCommitting = EventOf<'ContainerCommitting', { id: string; paused: boolean }>;
export type ContainerCommitted = EventOf<'ContainerCommitted', { id: string; imageId: string; ref: string | null }>;
export type ContainerCommitFailed = EventOf<'ContainerCommitFailed', { id: string; message: string }>;
export type ExecCreated = EventOf<'ExecCreated', {
  id: string;
  execId: string;
  cmd: readonly string[];
  env: readonly string[];
  workingDir: string;
  user: string;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
}>;
/** The intent to start an exec, before the isolator runs it. */
export type ExecStarting = EventOf<'ExecStarting', { id: string; execId: string }>;
export type ExecStarted = EventOf<'ExecStarted', {
  id: string;
  execId: string;
  pid: number;
  /**
   * When the process started, as its isolator saw it (the namespaces isolator: /proc/<pid>/stat
   * field 22, clock ticks after boot, read by the exec's shim before it could reap it): with the
   * pid, it names that one process, so recovery never signals another that reused the pid. A
   * positive integer; absent in older logs, from isolators that do not know it, and when the shim
   * could not read it (it sends 0 then).
   */
  startTime?: number;
}>;
/** `reason` when the exit is not the process's own report (it failed to start, or the daemon lost it). */
export type ExecExited = EventOf<'ExecExited', { id: string; execId: string; exitCode: number; reason?: string }>;

// ---- images: stream "image-<hex id>" ----
export type ImageCreated = EventOf<'ImageCreated', {
  id: string;
  /** How it came to be: "import" (a tarball), "commit", "load", "builtin", "pull" (from a registry). */
  origin: 'import' | 'commit' | 'load' | 'builtin' | 'pull';
  source: string;
  parent: string | null;
  layers: readonly LayerDescriptor[];
  config: ImageConfig;
  history: readonly HistoryEntry[];
  created: string;
  architecture: string;
  os: string;
}>;
export type ImageTagged = EventOf<'ImageTagged', { id: string; ref: string }>;
export type ImageUntagged = EventOf<'ImageUntagged', { id: string; ref: string }>;
export type ImageRemoved = EventOf<'ImageRemoved', { id: string }>;
/** Where an image came from or went to, by distribution driver: the fold keeps `name@digest` as a RepoDigest. */
interface ImageTransfer {
  id: string;
  /** The familiar repository name: "busybox", "127.0.0.1:5000/team/app". */
  name: string;
  /** "docker.io", "127.0.0.1:5000". */
  registry: string;
  /** The path in the registry: "library/busybox". */
  repository: string;
  /** The manifest (or index) digest the registry serves the image under. */
  digest: string;
  /** Digests of the layers as the registry has them (compressed), bottom first. */
  layers: readonly string[];
}
export type ImagePulled = EventOf<'ImagePulled', ImageTransfer & { reference: string }>;
export type ImagePushed = EventOf<'ImagePushed', ImageTransfer & { tag: string }>;

// ---- volumes: stream "volume-<name>" ----
/**
 * The intent to create a volume: durable before the driver makes anything. A daemon that dies
 * before VolumeCreated removes what the driver may have made (half a volume, a copy-up cut
 * short) and records VolumeRemoved. `container`: the container whose create made it (anonymous
 * volumes, and named ones `-v NAME:/path` made on the fly).
 */
export type VolumeCreating = EventOf<'VolumeCreating', {
  name: string;
  /** The driver name `--driver` selects: "local". */
  driver: string;
  labels: Readonly<Record<string, string>>;
  options: Readonly<Record<string, string>>;
  anonymous: boolean;
  container?: string;
}>;
/** The driver made the volume (and the image's content was copied into it, when a container's create asked). */
export type VolumeCreated = EventOf<'VolumeCreated', { name: string; mountpoint: string }>;
/** The intent to remove: after it the volume only goes (a daemon that died midway finishes it). */
export type VolumeRemoving = EventOf<'VolumeRemoving', { name: string }>;
export type VolumeRemoved = EventOf<'VolumeRemoved', { name: string }>;
/**
 * The intent to fill an existing volume that is still empty at its first mount with what the image
 * has at `path` (Docker's copy-up), durable before the first file is copied. `root`: the owner and
 * mode of the volume's root folder before, which an undo restores. A daemon that dies before
 * VolumeCopiedUp empties the volume again and records VolumeCopyUpUndone (it stays "not yet
 * mounted": the next container's create fills it).
 */
export type VolumeCopyUpStarting = EventOf<'VolumeCopyUpStarting', {
  name: string;
  /** The container whose create mounts it first. */
  container: string;
  image: string;
  path: string;
  root: { readonly uid: number; readonly gid: number; readonly mode: number };
}>;
/** The copy-up is complete: the volume holds the image's files. */
export type VolumeCopiedUp = EventOf<'VolumeCopiedUp', { name: string }>;
/** A copy-up that failed or was cut by a crash was undone: the volume is empty again (one with a `device` option, filled only by an older daemon, is left as it is). */
export type VolumeCopyUpUndone = EventOf<'VolumeCopyUpUndone', { name: string }>;

// ---- the daemon: stream "daemon" ----
export type DaemonStarted = EventOf<'DaemonStarted', { pid: number; version: string; plugins: readonly { id: string; status: string; reason?: string }[] }>;
export type DaemonStopped = EventOf<'DaemonStopped', { pid: number }>;
export type DaemonReconciled = EventOf<'DaemonReconciled', { running: readonly string[]; exited: readonly string[] }>;

// ---- networks: stream "network-<id>" (the port events: the container's stream) ----
/**
 * Networking's facts: networks and their subnets, which container holds which address on which
 * network, and which host ports a container published. IPAM is a fold of these
 * (core/network/network-state.ts), so addresses survive a daemon restart and `replay` shows who
 * had which address when. NetworkCreated, NetworkRemoved, ContainerNetworkConnected,
 * ContainerNetworkReleased and ContainerNetworkDisconnected go to the network's stream, so two connects racing for the same
 * address append with the same expected version and one of them must plan again.
 */
export type NetworkCreated = EventOf<'NetworkCreated', {
  /** 64 hex characters, as Docker's network ids. */
  id: string;
  name: string;
  /** The driver name `network create --driver` selects: "bridge". */
  driver: string;
  /** "172.18.0.0/16": chosen from the pool (core/network/ipam.ts) or given with --subnet. */
  subnet: string;
  /** The bridge's own address, the containers' default route: "172.18.0.1". */
  gateway: string;
  /** --internal: no route out of the network, no published ports from outside. */
  internal: boolean;
  labels: Readonly<Record<string, string>>;
  /** The host's bridge device, e.g. "mdbr-3f2a9c01". */
  bridge: string;
  mtu: number;
  /** Whether containers resolve each other's names through the embedded resolver (user networks; not the default bridge). */
  dns: boolean;
}>;
export type NetworkRemoved = EventOf<'NetworkRemoved', { id: string }>;
/**
 * One of Docker's pre-defined networks that are not bridges was recorded, the first time a daemon
 * started on this log: `host` (driver "host", the host's namespace) or `none` (driver "null", lo
 * only). It gives them the id `network ls`, `network inspect` and the containers' NetworkID show,
 * kept ever after; `--network host|none` stay modes of a container and take no address.
 */
export type PredefinedNetworkCreated = EventOf<'PredefinedNetworkCreated', {
  id: string;
  name: 'host' | 'none';
  driver: 'host' | 'null';
}>;
/**
 * A container got an address on a network (its start, `network connect` of a running one), or
 * was connected to it without holding one (`held: false`: `network connect` of a container that
 * does not run; `ip` is the address planned, which its start takes when it is still free). Docker
 * shows `connect` for the first only: a stopped container is connected silently, and its start
 * shows `connect`.
 */
export type ContainerNetworkConnected = EventOf<'ContainerNetworkConnected', {
  /** The network id. */
  network: string;
  /** The container id. */
  id: string;
  ip: string;
  mac: string;
  /** --network-alias / --alias: more names the resolver answers with this address. */
  aliases: readonly string[];
  /** The interface inside the container: eth0 for its first network, eth1... */
  interface: string;
  /** --ip (IPAMConfig.IPv4Address): the address stays reserved for the container while it is stopped. Absent: none asked. */
  requestedIp?: string;
  /** false: connected without an address held (the container does not run). Absent: it holds `ip`. */
  held?: false;
}>;
/**
 * The container is no longer on the network (`network disconnect`, rm): its address and its
 * reservation go back to the pool. `removed: true`: the network had been removed while the
 * container was stopped, and `network disconnect` let the container go of it (its start no longer
 * fails for it); moby logs no event then.
 */
export type ContainerNetworkDisconnected = EventOf<'ContainerNetworkDisconnected', { network: string; id: string; removed?: true }>;
/**
 * The container's address went back to the pool at its exit (as Docker releases it at stop), or
 * (in logs written before ContainerNetworkConnected had `held`) right after a `network connect` of
 * a container that was not running; it stays connected (aliases,
 * interface, --ip kept), and its next start records a ContainerNetworkConnected again, with the
 * same address when it is free.
 */
export type ContainerNetworkReleased = EventOf<'ContainerNetworkReleased', { network: string; id: string }>;
/** One published port as installed: the host side resolved (a random port chosen when none was given). */
export interface PublishedPort {
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
  /** "0.0.0.0" for every address of the host. */
  readonly hostIp: string;
  readonly hostPort: number;
}
/** The container's ports were published on start (its stream `container-<id>`). */
export type ContainerPortsPublished = EventOf<'ContainerPortsPublished', {
  id: string;
  /** The network whose address the ports lead to. */
  network: string;
  ports: readonly PublishedPort[];
}>;
/** The ports were taken away (stop, exit, a failed start). */
export type ContainerPortsUnpublished = EventOf<'ContainerPortsUnpublished', { id: string }>;

export type ContainerEvent =
  | ContainerCreated | ContainerStarting | ContainerStartStepDone | ContainerStartStepFailed | ContainerStartStepUndone
  | ContainerStarted | ContainerStartFailed | ContainerExited | ContainerStopRequested
  | ContainerKillRequested | ContainerRemoving | ContainerRemoveStepDone | ContainerRemoved | ContainerRenamed
  | ContainerLimitsUpdated | ContainerPaused | ContainerUnpaused | ContainerCommitting | ContainerCommitted
  | ContainerCommitFailed | ExecCreated | ExecStarting | ExecStarted | ExecExited;
export type ImageEvent = ImageCreated | ImageTagged | ImageUntagged | ImageRemoved | ImagePulled | ImagePushed;
export type VolumeEvent = VolumeCreating | VolumeCreated | VolumeRemoving | VolumeRemoved | VolumeCopyUpStarting | VolumeCopiedUp | VolumeCopyUpUndone;
export type DaemonEvent = DaemonStarted | DaemonStopped | DaemonReconciled;
export type NetworkEvent =
  | NetworkCreated | NetworkRemoved | PredefinedNetworkCreated | ContainerNetworkConnected | ContainerNetworkDisconnected | ContainerNetworkReleased
  | ContainerPortsPublished | ContainerPortsUnpublished;

/** Every event the engine records. */
export type EngineEvent = ContainerEvent | ImageEvent | VolumeEvent | DaemonEvent | NetworkEvent;
export type EventType = EngineEvent['type'];
export type EventData<T extends EventType> = Extract<EngineEvent, { type: T }>['data'];

/** The intents and driver steps: not Docker events (the API shows them only when asked). */
export const STEP_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'ContainerStarting', 'ContainerStartStepDone', 'ContainerStartStepFailed', 'ContainerStartStepUndone', 'ContainerRemoving',
  'ContainerRemoveStepDone', 'ContainerCommitting', 'ContainerCommitFailed', 'ExecStarting', 'VolumeCreating', 'VolumeRemoving',
  'VolumeCopyUpStarting', 'VolumeCopiedUp', 'VolumeCopyUpUndone',
  'ContainerPortsPublished', 'ContainerPortsUnpublished',
]);

/** Current schema version of each event type. Bump it and add an upcaster when a shape changes. */
export const SCHEMA_VERSIONS: { readonly [T in EventType]: number } = {
  ContainerCreated: 1,
  ContainerStarting: 1,
  ContainerStartStepDone: 1,
  ContainerStartStepFailed: 1,
  ContainerStartStepUndone: 1,
  ContainerStarted: 1,
  ContainerStartFailed: 1,
  ContainerExited: 2,
  ContainerStopRequested: 1,
  ContainerKillRequested: 1,
  ContainerRemoving: 1,
  ContainerRemoveStepDone: 1,
  ContainerRemoved: 1,
  ContainerRenamed: 1,
  ContainerLimitsUpdated: 1,
  ContainerPaused: 1,
  ContainerUnpaused: 1,
  ContainerCommitting: 1,
  ContainerCommitted: 1,
  ContainerCommitFailed: 1,
  ExecCreated: 1,
  ExecStarting: 1,
  ExecStarted: 1,
  ExecExited: 1,
  ImageCreated: 1,
  ImageTagged: 1,
  ImageUntagged: 1,
  ImageRemoved: 1,
  ImagePulled: 1,
  ImagePushed: 1,
  VolumeCreating: 1,
  VolumeCreated: 1,
  VolumeRemoving: 1,
  VolumeRemoved: 1,
  VolumeCopyUpStarting: 1,
  VolumeCopiedUp: 1,
  VolumeCopyUpUndone: 1,
  DaemonStarted: 1,
  DaemonStopped: 1,
  DaemonReconciled: 1,
  NetworkCreated: 1,
  NetworkRemoved: 1,
  PredefinedNetworkCreated: 1,
  ContainerNetworkConnected: 1,
  ContainerNetworkDisconnected: 1,
  ContainerNetworkReleased: 1,
  ContainerPortsPublished: 1,
  ContainerPortsUnpublished: 1,
};

export const EVENT_TYPES = Object.keys(SCHEMA_VERSIONS) as readonly EventType[];

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(SCHEMA_VERSIONS, value);
}

/**
 * Which Docker event (Type, Action) an engine event shows as in `events` and the API. The intents
 * and driver steps have actions of their own (`start-intent`, `start-step` ...): Docker has none, so
 * the API shows them only when asked (`GET /events?steps=1`, `mini-docker events --steps`). A failed
 * start is a `die` without `exitCode` (core/api/event-presenter.ts says why).
 */
export const DOCKER_ACTIONS: { readonly [T in EventType]: readonly [type: 'container' | 'image' | 'volume' | 'daemon' | 'network', action: string] } = {
  ContainerCreated: ['container', 'create'],
  ContainerStarting: ['container', 'start-intent'],
  ContainerStartStepDone: ['container', 'start-step'],
  ContainerStartStepFailed: ['container', 'start-step-failed'],
  ContainerStartStepUndone: ['container', 'start-step-undone'],
  ContainerStarted: ['container', 'start'],
  ContainerStartFailed: ['container', 'die'],
  ContainerExited: ['container', 'die'],
  ContainerStopRequested: ['container', 'stop'],
  ContainerKillRequested: ['container', 'kill'],
  ContainerRemoving: ['container', 'remove-intent'],
  ContainerRemoveStepDone: ['container', 'remove-step'],
  ContainerRemoved: ['container', 'destroy'],
  ContainerRenamed: ['container', 'rename'],
  ContainerLimitsUpdated: ['container', 'update'],
  ContainerPaused: ['container', 'pause'],
  ContainerUnpaused: ['container', 'unpause'],
  ContainerCommitting: ['container', 'commit-intent'],
  ContainerCommitted: ['container', 'commit'],
  ContainerCommitFailed: ['container', 'commit-failed'],
  ExecCreated: ['container', 'exec_create'],
  ExecStarting: ['container', 'exec-intent'],
  ExecStarted: ['container', 'exec_start'],
  ExecExited: ['container', 'exec_die'],
  ImageCreated: ['image', 'import'],
  ImageTagged: ['image', 'tag'],
  ImageUntagged: ['image', 'untag'],
  ImageRemoved: ['image', 'delete'],
  ImagePulled: ['image', 'pull'],
  ImagePushed: ['image', 'push'],
  VolumeCreating: ['volume', 'create-intent'],
  VolumeCreated: ['volume', 'create'],
  VolumeRemoving: ['volume', 'destroy-intent'],
  VolumeRemoved: ['volume', 'destroy'],
  VolumeCopyUpStarting: ['volume', 'copy-up-intent'],
  VolumeCopiedUp: ['volume', 'copy-up'],
  VolumeCopyUpUndone: ['volume', 'copy-up-undone'],
  DaemonStarted: ['daemon', 'start'],
  DaemonStopped: ['daemon', 'stop'],
  DaemonReconciled: ['daemon', 'reconcile'],
  NetworkCreated: ['network', 'create'],
  NetworkRemoved: ['network', 'destroy'],
  PredefinedNetworkCreated: ['network', 'create'],
  ContainerNetworkConnected: ['network', 'connect'],
  ContainerNetworkDisconnected: ['network', 'disconnect'],
  ContainerNetworkReleased: ['network', 'disconnect'],
  ContainerPortsPublished: ['container', 'ports-publish'],
  ContainerPortsUnpublished: ['container', 'ports-unpublish'],
};

export function containerStream(id: string): string {
  return `container-${id}`;
}
export function imageStream(id: string): string {
  return `image-${id.replace(/^sha256:/, '')}`;
}
export function volumeStream(name: string): string {
  return `volume-${name}`;
}
export const DAEMON_STREAM = 'daemon';
export function networkStream(id: string): string {
  return `network-${id}`;
}
