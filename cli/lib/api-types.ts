/**
 * The Docker Engine API shapes the CLI reads (see docs/docker-api-compat.md). Only the fields
 * the commands use; the daemon may send more. Field names are Docker's.
 */

/** `GET /containers/json` item. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names: readonly string[];
  readonly Image: string;
  readonly ImageID?: string;
  readonly Command: string;
  /** Unix seconds. */
  readonly Created: number;
  readonly State: string;
  readonly Status: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly SizeRw?: number;
  /** Published ports (IP, PublicPort) and exposed ones (PrivatePort, Type only). */
  readonly Ports?: readonly { readonly IP?: string; readonly PrivatePort: number; readonly PublicPort?: number; readonly Type: string }[];
}

/** `GET /containers/{id}/json` (the parts the CLI reads; printed whole by inspect). */
export interface ContainerInspect {
  readonly Id: string;
  readonly Name: string;
  readonly Created: string;
  readonly Image?: string;
  readonly State: {
    readonly Status: string;
    readonly Running: boolean;
    readonly Paused: boolean;
    readonly ExitCode: number;
    readonly [key: string]: unknown;
  };
  readonly Config: {
    readonly Tty: boolean;
    readonly OpenStdin?: boolean;
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/** `GET /images/json` item. */
export interface ImageSummary {
  readonly Id: string;
  readonly RepoTags: readonly string[] | null;
  readonly RepoDigests?: readonly string[] | null;
  /** Unix seconds. */
  readonly Created: number;
  readonly Size: number;
  readonly ParentId?: string;
  readonly Containers?: number;
}

/** `GET /networks` item and `GET /networks/{id}`: the fields the CLI reads. */
export interface NetworkResource {
  readonly Name: string;
  readonly Id: string;
  /** RFC 3339. */
  readonly Created: string;
  readonly Scope: string;
  readonly Driver: string;
  readonly EnableIPv6: boolean;
  readonly Internal: boolean;
  readonly Labels: Readonly<Record<string, string>> | null;
  readonly [key: string]: unknown;
}

/** `POST /containers/create` reply. */
export interface CreateResponse {
  readonly Id: string;
  readonly Warnings: readonly string[] | null;
}

/** `POST /containers/{id}/wait` body. */
export interface WaitResponse {
  readonly StatusCode: number;
  readonly Error?: { readonly Message: string } | null;
}

/** `GET /exec/{id}/json`. */
export interface ExecInspect {
  readonly ID: string;
  readonly Running: boolean;
  readonly ExitCode: number | null;
  readonly ContainerID: string;
}

/** `GET /version`. */
export interface VersionResponse {
  readonly Version: string;
  readonly ApiVersion: string;
  readonly MinAPIVersion?: string;
  readonly Os: string;
  readonly Arch: string;
  readonly KernelVersion?: string;
  readonly GitCommit?: string;
  readonly GoVersion?: string;
  readonly BuildTime?: string;
  readonly Platform?: { readonly Name: string };
  readonly Components?: readonly { readonly Name: string; readonly Version: string; readonly Details?: Readonly<Record<string, string>> }[];
}

/** `GET /info` (Docker's minimal set plus whatever the daemon adds). */
export interface InfoResponse {
  readonly ID?: string;
  readonly Containers?: number;
  readonly ContainersRunning?: number;
  readonly ContainersPaused?: number;
  readonly ContainersStopped?: number;
  readonly Images?: number;
  readonly Driver?: string;
  readonly CgroupVersion?: string;
  readonly CgroupDriver?: string;
  readonly LoggingDriver?: string;
  readonly KernelVersion?: string;
  readonly OperatingSystem?: string;
  readonly OSType?: string;
  readonly Architecture?: string;
  readonly NCPU?: number;
  readonly MemTotal?: number;
  readonly Name?: string;
  readonly ServerVersion?: string;
  readonly DockerRootDir?: string;
  /** Docker's "name=seccomp,profile=builtin", "name=userns"... */
  readonly SecurityOptions?: readonly string[];
  /** tiny-docker's own facts (the engine's EngineInfo). */
  readonly tinyDocker?: {
    readonly execRoot?: string;
    readonly usernsRemap?: { readonly user: string; readonly group: string; readonly uid: number; readonly gid: number; readonly size: number } | null;
    readonly storageDriver?: string;
    readonly lastPosition?: number;
  };
  readonly [key: string]: unknown;
}

/** `GET /tiny/plugins` item. */
export interface PluginStatus {
  readonly id: string;
  readonly package?: string;
  readonly status: string;
  readonly reason?: string;
}

/** One `GET /events` object, with tiny-docker's `Position` (the event's place in the log). */
export interface DockerEvent {
  readonly status?: string;
  readonly id?: string;
  readonly from?: string;
  readonly Type: string;
  readonly Action: string;
  readonly Actor: { readonly ID: string; readonly Attributes?: Readonly<Record<string, string>> };
  readonly scope?: string;
  readonly time: number;
  readonly timeNano?: number;
  /** Absent from a Docker engine; ours always sends it. */
  readonly Position?: number;
}

/** `GET /containers/{id}/top`. */
export interface TopResponse {
  readonly Titles: readonly string[];
  readonly Processes: readonly (readonly string[])[];
}

/** One `GET /containers/{id}/stats` sample (Docker's shape). */
export interface StatsSample {
  readonly read?: string;
  readonly id?: string;
  readonly name?: string;
  readonly cpu_stats?: CpuStats;
  readonly precpu_stats?: CpuStats;
  readonly memory_stats?: {
    readonly usage?: number;
    readonly limit?: number;
    readonly stats?: Readonly<Record<string, number>>;
  };
  readonly pids_stats?: { readonly current?: number; readonly limit?: number };
  readonly blkio_stats?: { readonly io_service_bytes_recursive?: readonly { readonly op: string; readonly value: number }[] | null };
  readonly networks?: Readonly<Record<string, { readonly rx_bytes: number; readonly tx_bytes: number }>>;
}

export interface CpuStats {
  readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] };
  readonly system_cpu_usage?: number;
  readonly online_cpus?: number;
}

/** A progress line of import/load/pull (§8.3). */
export interface ProgressMessage {
  readonly status?: string;
  readonly stream?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly message: string };
}
