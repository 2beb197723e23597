/**
 * Pure mappings from the engine's folded state to Docker's JSON shapes (the
 * Engine API reference, https://docs.docker.com/reference/api/engine/; docs/docker-api-compat.md), plus the
 * human texts `ps` shows. No I/O and no clock: callers pass `now`. The mini-docker CLI uses
 * `statusText` and `humanDuration` too, so both speak exactly like Docker.
 */
import { parseMountEntry, parseVolumeFlag } from '../engine/binds.js';
import type { ContainerConfig, ContainerVolume, HostConfig } from '../../events/index.js';
import type { Pressure, ResourceStats } from '../plugins/driver.js';
import type { ContainerState, ExecState } from '../state/engine-state.js';
import { EMPTY_NETWORKS, type NetworksState } from '../network/network-state.js';
import { networkModeOf, presentEndpoints, presentNetworkSettings, presentPortSummaries, type PortSummary } from './container-network-presenters.js';
import { humanDuration } from './human-duration.js';
import { ZERO_TIME, fixedNanos, toMillis, toUnixSeconds } from './time.js';

export { humanDuration };
export * from './image-presenters.js';
export * from './system-presenters.js';

/** The fields of a container that its status text depends on. */
export type StatusFields = Pick<ContainerState, 'status' | 'startedAt' | 'finishedAt' | 'exitCode'>;

/**
 * The `STATUS` column of `ps`, as moby's State.String(): "Up 3 minutes", "Up 2 hours (Paused)",
 * "Exited (137) 2 seconds ago", "Created" (also for a container whose start failed), "Dead".
 */
export function statusText(state: StatusFields, now: Date): string {
  const since = (time: string): string => humanDuration(now.getTime() - toMillis(time));
  switch (state.status) {
    case 'running':
      return `Up ${since(state.startedAt)}`;
    case 'paused':
      return `Up ${since(state.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${state.exitCode}) ${since(state.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    default:
      if (state.status === 'created' || state.startedAt === ZERO_TIME) return 'Created';
      if (state.finishedAt === ZERO_TIME) return '';
      return `Exited (${state.exitCode}) ${since(state.finishedAt)} ago`;
  }
}

/** The program and its arguments, as Docker derives Path and Args from Entrypoint and Cmd. */
export function pathAndArgs(config: Pick<ContainerConfig, 'Entrypoint' | 'Cmd'>): { path: string; args: string[] } {
  const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
  return { path: argv[0] ?? '', args: argv.slice(1) };
}

/** A container as `GET /containers/json` lists it. */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: PortSummary[];
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown> };
  Mounts: Record<string, unknown>[];
}

/** Docker's summary; `Names` carry the leading slash the CLI strips. */
export function presentContainerSummary(c: ContainerState, now: Date, net: NetworksState = EMPTY_NETWORKS): ContainerSummary {
  const { path, args } = pathAndArgs(c.config);
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image.ref,
    ImageID: c.image.id,
    Command: [path, ...args].join(' '),
    Created: toUnixSeconds(c.created),
    Ports: presentPortSummaries(c, net),
    Labels: { ...(c.config.Labels ?? {}) },
    State: c.status,
    Status: statusText(c, now),
    HostConfig: { NetworkMode: networkModeOf(c) },
    NetworkSettings: { Networks: presentEndpoints(c, net) },
    Mounts: presentMounts(c.hostConfig, c.volumes),
  };
}

/** What inspect shows of a volume a container mounts: its driver and host folder, when it still exists. */
export type VolumeLookup = (name: string) => { readonly driver: string; readonly mountpoint: string } | undefined;

/**
 * The top-level `Mounts` of inspect: each bind as Docker shows it (`Mode` is the -v options), then
 * each volume (Type volume, Name, Source its host folder, Driver).
 */
export function presentMounts(hc: Pick<HostConfig, 'Binds' | 'Mounts'>, volumes: readonly ContainerVolume[] = [], lookup: VolumeLookup = () => undefined): Record<string, unknown>[] {
  const fromBinds = (hc.Binds ?? []).flatMap((spec) => {
    const m = parseVolumeFlag(spec);
    if (m.kind !== 'bind') return [];
    return [{ Type: 'bind', Source: m.bind.source, Destination: m.bind.target, Mode: spec.split(':')[2] ?? '', RW: !m.bind.readOnly, Propagation: 'rprivate' }];
  });
  const fromMounts = (hc.Mounts ?? []).flatMap((entry) => {
    if (entry.Type === 'tmpfs') return [{ Type: 'tmpfs', Source: '', Destination: entry.Target, Mode: '', RW: !entry.ReadOnly, Propagation: '' }];
    const m = parseMountEntry(entry);
    if (m.kind !== 'bind') return [];
    return [{ Type: 'bind', Source: m.bind.source, Destination: m.bind.target, Mode: '', RW: !m.bind.readOnly, Propagation: 'rprivate' }];
  });
  const fromVolumes = volumes.map((v) => {
    const known = lookup(v.name);
    return {
      Type: 'volume', Name: v.name, Source: known?.mountpoint ?? '', Destination: v.destination, Driver: known?.driver ?? 'local',
      Mode: v.readOnly ? 'ro' : 'z', RW: !v.readOnly, Propagation: '',
    };
  });
  return [...fromBinds, ...fromMounts, ...fromVolumes];
}

/** HostConfig with Docker's names: what was created (and updated), with Docker's zero values elsewhere. */
export function presentHostConfig(hc: Partial<HostConfig>): Record<string, unknown> {
  return {
    Binds: hc.Binds ? [...hc.Binds] : null,
    ...(hc.Mounts ? { Mounts: hc.Mounts.map((m) => ({ ...m })) } : {}),
    ContainerIDFile: '',
    LogConfig: { Type: hc.LogConfig?.Type ?? 'json-file', Config: { ...(hc.LogConfig?.Config ?? {}) } },
    NetworkMode: hc.NetworkMode === undefined || hc.NetworkMode === '' || hc.NetworkMode === 'default' ? 'bridge' : hc.NetworkMode,
    PortBindings: Object.fromEntries(Object.entries(hc.PortBindings ?? {}).map(([k, v]) => [k, v.map((b) => ({ HostIp: b.HostIp, HostPort: b.HostPort }))])),
    RestartPolicy: hc.RestartPolicy ? { ...hc.RestartPolicy } : { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: hc.AutoRemove ?? false,
    VolumeDriver: '',
    VolumesFrom: hc.VolumesFrom ? [...hc.VolumesFrom] : null,
    ConsoleSize: hc.ConsoleSize ? [...hc.ConsoleSize] : [0, 0],
    CapAdd: hc.CapAdd ? [...hc.CapAdd] : null,
    CapDrop: hc.CapDrop ? [...hc.CapDrop] : null,
    CgroupnsMode: 'private',
    Dns: [...(hc.Dns ?? [])],
    DnsOptions: [...(hc.DnsOptions ?? [])],
    DnsSearch: [...(hc.DnsSearch ?? [])],
    ExtraHosts: hc.ExtraHosts ? [...hc.ExtraHosts] : null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: hc.Privileged ?? false,
    PublishAllPorts: hc.PublishAllPorts ?? false,
    ReadonlyRootfs: hc.ReadonlyRootfs ?? false,
    SecurityOpt: hc.SecurityOpt ? [...hc.SecurityOpt] : null,
    ...(hc.Tmpfs ? { Tmpfs: { ...hc.Tmpfs } } : {}),
    UTSMode: '',
    UsernsMode: hc.UsernsMode ?? '',
    ShmSize: 67108864,
    Runtime: 'tiny-docker',
    Isolation: '',
    CpuShares: hc.CpuShares ?? 0,
    Memory: hc.Memory ?? 0,
    NanoCpus: hc.NanoCpus ?? 0,
    CgroupParent: '',
    BlkioWeight: hc.BlkioWeight ?? 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: (hc.BlkioDeviceReadBps ?? []).map((d) => ({ Path: d.Path, Rate: d.Rate })),
    BlkioDeviceWriteBps: (hc.BlkioDeviceWriteBps ?? []).map((d) => ({ Path: d.Path, Rate: d.Rate })),
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: hc.CpuPeriod ?? 0,
    CpuQuota: hc.CpuQuota ?? 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: hc.CpusetCpus ?? '',
    CpusetMems: hc.CpusetMems ?? '',
    Devices: (hc.Devices ?? []).map((d) => ({ ...d })),
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: hc.MemoryReservation ?? 0,
    MemorySwap: hc.MemorySwap ?? 0,
    MemorySwappiness: null,
    OomKillDisable: false,
    PidsLimit: hc.PidsLimit && hc.PidsLimit > 0 ? hc.PidsLimit : null,
    Ulimits: [],
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
  };
}

/** Config as inspect shows it: never null (docker logs dereferences it), with `Tty`. */
export function presentContainerConfig(c: ContainerState): Record<string, unknown> {
  const cfg = c.config;
  const out: Record<string, unknown> = {
    Hostname: cfg.Hostname || c.id.slice(0, 12),
    Domainname: '',
    User: cfg.User ?? '',
    AttachStdin: cfg.AttachStdin ?? false,
    AttachStdout: cfg.AttachStdout ?? false,
    AttachStderr: cfg.AttachStderr ?? false,
    Tty: cfg.Tty ?? false,
    OpenStdin: cfg.OpenStdin ?? false,
    StdinOnce: cfg.StdinOnce ?? false,
    Env: [...(cfg.Env ?? [])],
    Cmd: cfg.Cmd ? [...cfg.Cmd] : null,
    Image: c.image.ref,
    Volumes: c.volumes.length > 0 ? Object.fromEntries(c.volumes.map((v) => [v.destination, {}])) : null,
    WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ? [...cfg.Entrypoint] : null,
    OnBuild: null,
    Labels: { ...(cfg.Labels ?? {}) },
  };
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length > 0) out.ExposedPorts = { ...cfg.ExposedPorts };
  return out;
}

/** The short name Docker shows for a driver id ("storage.v1.overlayfs" → "overlayfs"). */
export function driverName(driverId: string): string {
  const parts = driverId.split('.');
  return parts[parts.length - 1] ?? driverId;
}

/** `GET /containers/{id}/json`: Docker's inspect, plus a `TinyDocker` field with what is ours. */
export function presentContainerInspect(c: ContainerState, context: { storageDriver: string; volume?: VolumeLookup; net?: NetworksState; filesDir?: string }): Record<string, unknown> {
  const { path, args } = pathAndArgs(c.config);
  const running = c.status === 'running' || c.status === 'paused' || c.status === 'restarting';
  const storage = driverName(context.storageDriver);
  return {
    Id: c.id,
    Created: fixedNanos(c.created),
    Path: path,
    Args: args,
    State: {
      Status: c.status,
      Running: running,
      Paused: c.status === 'paused',
      Restarting: c.status === 'restarting',
      OOMKilled: c.oomKilled,
      Dead: c.status === 'dead',
      Pid: c.pid,
      ExitCode: c.exitCode,
      Error: c.error,
      StartedAt: c.startedAt,
      FinishedAt: c.finishedAt,
    },
    Image: c.image.id,
    ResolvConfPath: context.filesDir ? `${context.filesDir}/resolv.conf` : '',
    HostnamePath: context.filesDir ? `${context.filesDir}/hostname` : '',
    HostsPath: context.filesDir ? `${context.filesDir}/hosts` : '',
    LogPath: '',
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: storage,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: c.execIds.length > 0 ? [...c.execIds] : null,
    HostConfig: presentHostConfig(c.hostConfig),
    GraphDriver: { Name: storage, Data: null },
    Mounts: presentMounts(c.hostConfig, c.volumes, context.volume),
    Config: presentContainerConfig(c),
    NetworkSettings: presentNetworkSettings(c, context.net ?? EMPTY_NETWORKS),
    TinyDocker: {
      ShimPid: c.shimPid,
      Signal: c.signal,
      Drivers: [...c.drivers],
      ImageRef: c.image.ref,
      StreamVersion: c.version,
      Position: c.position,
    },
  };
}

/** `GET /exec/{id}/json`. */
export function presentExecInspect(x: ExecState): Record<string, unknown> {
  return {
    ID: x.execId,
    Running: x.running,
    ExitCode: x.exitCode,
    ProcessConfig: {
      tty: x.tty,
      entrypoint: x.cmd[0] ?? '',
      arguments: x.cmd.slice(1),
      privileged: false,
      user: x.user,
    },
    OpenStdin: x.attachStdin,
    OpenStdout: x.attachStdout,
    OpenStderr: x.attachStderr,
    CanRemove: false,
    ContainerID: x.containerId,
    DetachKeys: '',
    Pid: x.pid,
  };
}

function cpuStats(s: ResourceStats | undefined): Record<string, unknown> {
  return {
    cpu_usage: { total_usage: s?.cpuUsageNanos ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s?.systemCpuNanos ?? 0,
    online_cpus: s?.onlineCpus ?? 0,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    ...psi(s?.pressure?.cpu),
  };
}

/** A resource's PSI as `psi: {some: {avg10, avg60, avg300, total}, full: {…}}` (runc's stats shape), or nothing. */
function psi(p: Pressure | undefined): Record<string, unknown> {
  return p ? { psi: p.full ? { some: p.some, full: p.full } : { some: p.some } } : {};
}

/**
 * Docker's stats JSON for one reading. `previous` fills `precpu_stats` (the CLI's CPU % is the
 * difference between the two); without it they are zero, as in moby's first streamed reading.
 * `current` undefined gives the all-zero document moby sends for a container that is not running.
 */
export function presentStats(c: Pick<ContainerState, 'id' | 'name'>, current: ResourceStats | undefined, previous?: ResourceStats): Record<string, unknown> {
  return {
    read: current?.read ?? ZERO_TIME,
    preread: previous?.read ?? ZERO_TIME,
    pids_stats: current ? { current: current.pids, ...(current.pidsLimit > 0 ? { limit: current.pidsLimit } : {}) } : {},
    blkio_stats: {
      io_service_bytes_recursive: current
        ? [
            { major: 0, minor: 0, op: 'read', value: current.blkioReadBytes },
            { major: 0, minor: 0, op: 'write', value: current.blkioWriteBytes },
          ]
        : null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
      ...psi(current?.pressure?.io),
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(current),
    precpu_stats: cpuStats(previous),
    memory_stats: current ? { usage: current.memoryUsage, limit: current.memoryLimit, stats: { cache: current.memoryCache }, ...psi(current.pressure?.memory) } : {},
    name: `/${c.name}`,
    id: c.id,
    networks: {},
  };
}
