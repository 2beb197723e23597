/** Pure mappings for `/version` and `/info` (SystemVersion and SystemInfo of
 * the Engine API reference, https://docs.docker.com/reference/api/engine/; the `/_ping` and
 * version rules are docs/docker-api-compat.md's wire rules 1 and 2). */
import type { EngineInfo } from '../engine/engine.js';
import type { EngineState } from '../state/engine-state.js';

/** Docker's name for a node `process.arch` ("x64" → "amd64"). */
export function dockerArch(nodeArch: string): string {
  const names: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[nodeArch] ?? nodeArch;
}

/** What the host looks like, gathered by the caller (os module). */
export interface HostFacts {
  readonly hostname: string;
  readonly kernelVersion: string;
  readonly operatingSystem: string;
  readonly arch: string; // Docker's name
  readonly ncpu: number;
  readonly memTotal: number;
  readonly runtimeVersion: string; // "node v20.20.2"
}

export interface VersionFacts {
  readonly serverVersion: string;
  readonly apiVersion: string;
  readonly minApiVersion: string;
  readonly gitCommit: string;
  readonly buildTime: string;
}

/** `GET /version`: the CLI prints the server block from `Components[0].Details` (string values). */
export function presentVersion(v: VersionFacts, host: HostFacts): Record<string, unknown> {
  return {
    Platform: { Name: 'mini-docker' },
    Components: [
      {
        Name: 'Engine',
        Version: v.serverVersion,
        Details: {
          ApiVersion: v.apiVersion,
          MinAPIVersion: v.minApiVersion,
          Os: 'linux',
          Arch: host.arch,
          KernelVersion: host.kernelVersion,
          GitCommit: v.gitCommit,
          GoVersion: host.runtimeVersion,
          BuildTime: v.buildTime,
          Experimental: 'false',
        },
      },
    ],
    Version: v.serverVersion,
    ApiVersion: v.apiVersion,
    MinAPIVersion: v.minApiVersion,
    GitCommit: v.gitCommit,
    GoVersion: host.runtimeVersion,
    Os: 'linux',
    Arch: host.arch,
    KernelVersion: host.kernelVersion,
    BuildTime: v.buildTime,
  };
}

/**
 * `GET /info`: Docker's shape (the CLI decodes `Plugins` into a struct, so our drivers go in an
 * extra key there, by kind), and a `tinyDocker` field with the engine's own info.
 */
export function presentInfo(state: EngineState, info: EngineInfo, host: HostFacts): Record<string, unknown> {
  const containers = Object.values(state.containers);
  const count = (pred: (s: string) => boolean): number => containers.filter((c) => pred(c.status)).length;
  const pluginIds = (kind: string): string[] => info.plugins.filter((p) => p.id.startsWith(`${kind}.`)).map((p) => p.id.split('.').pop() ?? p.id);
  const storage = info.storageDriver.split('.').pop() ?? info.storageDriver;
  return {
    ID: info.id,
    Containers: containers.length,
    ContainersRunning: count((s) => s === 'running' || s === 'restarting'),
    ContainersPaused: count((s) => s === 'paused'),
    ContainersStopped: count((s) => s !== 'running' && s !== 'restarting' && s !== 'paused'),
    Images: Object.keys(state.images).length,
    Driver: storage,
    DriverStatus: [['Driver id', info.storageDriver]],
    Plugins: {
      Volume: [],
      Network: pluginIds('network'),
      Authorization: null,
      Log: pluginIds('log'),
      TinyDocker: info.plugins.map((p) => `${p.id} (${p.status}${p.reason ? `: ${p.reason}` : ''})`),
    },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: false,
    Debug: false,
    NFd: 0,
    OomKillDisable: false,
    NGoroutines: 0,
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: info.cgroupVersion,
    NEventsListener: 0,
    KernelVersion: host.kernelVersion,
    OperatingSystem: host.operatingSystem,
    OSVersion: '',
    OSType: 'linux',
    Architecture: host.arch,
    IndexServerAddress: 'https://index.docker.io/v1/',
    NCPU: host.ncpu,
    MemTotal: host.memTotal,
    DockerRootDir: info.dataRoot,
    Name: host.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: info.version,
    Runtimes: { 'tiny-docker': { path: 'shim' } },
    DefaultRuntime: 'tiny-docker',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    SecurityOptions: info.usernsRemap ? ['name=userns'] : [],
    Warnings: [],
    tinyDocker: info,
  };
}
