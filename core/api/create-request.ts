/**
 * Docker's create and update bodies mapped into the engine's requests. Only the fields this engine
 * honours are read; a feature the client asked for that we do not have
 * becomes a warning the CLI prints as `WARNING: ...`, never a silent no-op. Mounts
 * (`Binds`, `Mounts` of type bind, volume or tmpfs, `VolumesFrom`) and the restart policy are passed on; the engine checks
 * them and refuses what it cannot do with a clear error.
 */
import type {
  BindMountConfig, ContainerConfig, DeviceMapping, EndpointConfig, HostConfig, Limits, LogConfig, PortBindingConfig, ThrottleDevice,
} from '../../events/index.js';
import { isHostname } from '../network/container-files.js';
import { portRequestsFrom } from '../network/published-ports.js';
import type { CreateContainerRequest } from '../engine/engine.js';
import { InvalidArgumentError } from '../engine/errors.js';
import {
  isRecord, optBool, optNumber, optNumberPair, optObject, optString, optStringArray, optStringMap, type JsonObject,
} from './narrow.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function throttleDevices(obj: JsonObject, key: string): ThrottleDevice[] | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidArgumentError(`invalid value for ${key}: expected an array of {Path, Rate}`);
  return v.map((d, i) => {
    if (!isRecord(d)) throw new InvalidArgumentError(`invalid value for ${key}[${i}]: expected {Path, Rate}`);
    const path = optString(d, 'Path');
    const rate = optNumber(d, 'Rate');
    if (path === undefined || rate === undefined) throw new InvalidArgumentError(`invalid value for ${key}[${i}]: Path and Rate are required`);
    return { Path: path, Rate: rate };
  });
}

/** The resource limits in a HostConfig (create) or an update body, by Docker's field names. */
export function parseLimits(obj: JsonObject): Limits {
  const out: Mutable<Limits> = {};
  for (const key of ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuQuota', 'CpuPeriod', 'CpuShares', 'PidsLimit', 'BlkioWeight'] as const) {
    const n = optNumber(obj, key);
    if (n !== undefined) out[key] = n;
  }
  const cpus = optString(obj, 'CpusetCpus');
  if (cpus) out.CpusetCpus = cpus;
  const mems = optString(obj, 'CpusetMems');
  if (mems) out.CpusetMems = mems;
  const read = throttleDevices(obj, 'BlkioDeviceReadBps');
  if (read && read.length > 0) out.BlkioDeviceReadBps = read;
  const write = throttleDevices(obj, 'BlkioDeviceWriteBps');
  if (write && write.length > 0) out.BlkioDeviceWriteBps = write;
  return out;
}

/** `HostConfig.Mounts` as sent by `--mount` (Type, Source, Target, ReadOnly, TmpfsOptions, VolumeOptions.NoCopy; the rest is not used). */
function parseMounts(hc: JsonObject): BindMountConfig[] | undefined {
  const v = hc.Mounts;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidArgumentError('invalid value for Mounts: expected an array');
  return v.map((m, i) => {
    if (!isRecord(m)) throw new InvalidArgumentError(`invalid value for Mounts[${i}]: expected an object`);
    const tmpfs = optObject(m, 'TmpfsOptions');
    const size = tmpfs ? optNumber(tmpfs, 'SizeBytes') : undefined;
    const mode = tmpfs ? optNumber(tmpfs, 'Mode') : undefined;
    const volumeOptions = optObject(m, 'VolumeOptions');
    const noCopy = volumeOptions ? optBool(volumeOptions, 'NoCopy') : undefined;
    return {
      Type: optString(m, 'Type') ?? '', Source: optString(m, 'Source') ?? '', Target: optString(m, 'Target') ?? '', ReadOnly: optBool(m, 'ReadOnly') ?? false,
      ...(size || mode ? { TmpfsOptions: { ...(size ? { SizeBytes: size } : {}), ...(mode ? { Mode: mode } : {}) } } : {}),
      ...(noCopy === true ? { VolumeOptions: { NoCopy: true } } : {}),
    };
  });
}

/** `HostConfig.Devices` (`--device`): PathOnHost, PathInContainer (default: the host path), CgroupPermissions (default rwm). */
function parseDevices(hc: JsonObject): DeviceMapping[] | undefined {
  const v = hc.Devices;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidArgumentError('invalid value for Devices: expected an array');
  return v.map((d, i) => {
    if (!isRecord(d)) throw new InvalidArgumentError(`invalid value for Devices[${i}]: expected {PathOnHost, PathInContainer, CgroupPermissions}`);
    const host = optString(d, 'PathOnHost') ?? '';
    return { PathOnHost: host, PathInContainer: optString(d, 'PathInContainer') || host, CgroupPermissions: optString(d, 'CgroupPermissions') || 'rwm' };
  });
}

function parseLogConfig(hc: JsonObject): LogConfig | undefined {
  const lc = optObject(hc, 'LogConfig');
  if (!lc) return undefined;
  // The docker CLI sends Type "" when --log-driver is not given, with the --log-opt values in
  // Config: an empty Type means the default driver, not "drop the options".
  const type = optString(lc, 'Type') ?? '';
  const config = optStringMap(lc, 'Config') ?? {};
  if (type === '' && Object.keys(config).length === 0) return undefined;
  return { Type: type, Config: config };
}

/** Warnings for what a HostConfig asks that the engine does not do yet. */
function unsupportedHostConfig(hc: JsonObject): string[] {
  const warnings: string[] = [];
  const nonEmpty = (key: string): boolean => {
    const v = hc[key];
    return Array.isArray(v) ? v.length > 0 : isRecord(v) ? Object.keys(v).length > 0 : false;
  };
  if (optString(hc, 'NetworkMode') === 'host' && (nonEmpty('PortBindings') || optBool(hc, 'PublishAllPorts'))) {
    warnings.push('Published ports are discarded when using host network mode');
  }
  const volumeDriver = optString(hc, 'VolumeDriver');
  if (volumeDriver && volumeDriver !== 'local') warnings.push(`--volume-driver ${volumeDriver} was ignored: volumes a container makes use the local driver (create others with volume create --driver)`);
  return warnings;
}

/** `HostConfig.PortBindings`: "80/tcp" → [{HostIp, HostPort}] (null entries: a random port, as the docker CLI sends `-p 80`). */
function parsePortBindings(hc: JsonObject): Record<string, PortBindingConfig[]> | undefined {
  const v = hc.PortBindings;
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw new InvalidArgumentError('invalid value for PortBindings: expected an object of "PORT/PROTO": [{HostIp, HostPort}]');
  const out: Record<string, PortBindingConfig[]> = {};
  for (const [key, list] of Object.entries(v)) {
    const entries = list === null ? [{}] : Array.isArray(list) ? list : null;
    if (!entries) throw new InvalidArgumentError(`invalid value for PortBindings[${JSON.stringify(key)}]: expected an array of {HostIp, HostPort}`);
    out[key.includes('/') ? key : `${key}/tcp`] = entries.map((b) => {
      const o = isRecord(b) ? b : {};
      return { HostIp: optString(o, 'HostIp') ?? '', HostPort: optString(o, 'HostPort') ?? '' };
    });
  }
  try {
    portRequestsFrom(out); // an invalid key or port is refused at create, not at start
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
  return out;
}

/** `NetworkingConfig.EndpointsConfig`: per network, its aliases and `IPAMConfig.IPv4Address` (--ip). */
function parseEndpointsConfig(body: JsonObject): Record<string, EndpointConfig> | undefined {
  const networking = optObject(body, 'NetworkingConfig');
  const endpoints = networking ? optObject(networking, 'EndpointsConfig') : undefined;
  if (!endpoints) return undefined;
  const out: Record<string, EndpointConfig> = {};
  for (const [network, settings] of Object.entries(endpoints)) {
    const o = isRecord(settings) ? settings : {};
    const ipam = optObject(o, 'IPAMConfig');
    out[network] = { Aliases: optStringArray(o, 'Aliases') ?? [], IPv4Address: (ipam ? optString(ipam, 'IPv4Address') : undefined) ?? '' };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Maps a create body (Config fields at the top level, plus HostConfig) and the `name` query value.
 * Fields the client left null keep the engine's defaults (the image's Cmd, Env, ...).
 */
export function parseCreateRequest(body: JsonObject, name: string | undefined): { request: CreateContainerRequest; warnings: string[] } {
  const image = optString(body, 'Image');
  if (!image) throw new InvalidArgumentError('no image given: Config.Image is required');

  const config: Partial<Mutable<ContainerConfig>> = {};
  const cmd = optStringArray(body, 'Cmd');
  if (cmd && cmd.length > 0) config.Cmd = cmd;
  const entrypoint = optStringArray(body, 'Entrypoint');
  if (entrypoint) config.Entrypoint = entrypoint;
  const env = optStringArray(body, 'Env');
  if (env) config.Env = env;
  for (const key of ['WorkingDir', 'User', 'Hostname'] as const) {
    const v = optString(body, key);
    if (v) config[key] = v;
  }
  // The hostname goes into /etc/hosts and /etc/hostname: a line break or a blank there would add
  // lines to /etc/hosts. The same rule as the CLI's -h (isHostname), for clients that skip it.
  if (config.Hostname !== undefined && !isHostname(config.Hostname)) {
    throw new InvalidArgumentError(`invalid hostname format: ${JSON.stringify(config.Hostname)}: letters, digits and "-" in dot-separated labels of at most 63 characters`);
  }
  for (const key of ['Tty', 'OpenStdin', 'StdinOnce', 'AttachStdin', 'AttachStdout', 'AttachStderr'] as const) {
    const v = optBool(body, key);
    if (v !== undefined) config[key] = v;
  }
  const labels = optStringMap(body, 'Labels');
  if (labels) config.Labels = labels;
  const exposed = optObject(body, 'ExposedPorts');
  if (exposed && Object.keys(exposed).length > 0) {
    const ports: Record<string, Record<string, never>> = {};
    for (const port of Object.keys(exposed)) ports[port] = {};
    config.ExposedPorts = ports;
  }

  const hc = optObject(body, 'HostConfig') ?? {};
  const hostConfig: Partial<Mutable<HostConfig>> = { ...parseLimits(hc) };
  const autoRemove = optBool(hc, 'AutoRemove');
  if (autoRemove !== undefined) hostConfig.AutoRemove = autoRemove;
  const logConfig = parseLogConfig(hc);
  if (logConfig) hostConfig.LogConfig = logConfig;
  const mounts = parseMounts(hc);
  if (mounts && mounts.length > 0) hostConfig.Mounts = mounts;
  // The docker CLI sends `-v /path` (an anonymous volume) as Config.Volumes, not as a bind: it
  // becomes the same `-v /path` entry, unless a bind or mount is given at that path.
  const binds = [...(optStringArray(hc, 'Binds') ?? [])];
  const targets = new Set([...binds.map((b) => b.split(':')[1] ?? b), ...(mounts ?? []).map((m) => m.Target)].map((t) => t.replace(/(.)\/+$/, '$1')));
  for (const path of Object.keys(optObject(body, 'Volumes') ?? {})) {
    if (!targets.has(path.replace(/(.)\/+$/, '$1'))) binds.push(path);
  }
  if (binds.length > 0) hostConfig.Binds = binds;
  const volumesFrom = optStringArray(hc, 'VolumesFrom');
  if (volumesFrom && volumesFrom.length > 0) hostConfig.VolumesFrom = volumesFrom;
  const restart = optObject(hc, 'RestartPolicy');
  const policy = restart ? optString(restart, 'Name') : undefined;
  if (restart && policy && policy !== 'no') hostConfig.RestartPolicy = { Name: policy, MaximumRetryCount: optNumber(restart, 'MaximumRetryCount') ?? 0 };
  const usernsMode = optString(hc, 'UsernsMode');
  if (usernsMode) hostConfig.UsernsMode = usernsMode;
  const securityOpt = optStringArray(hc, 'SecurityOpt');
  if (securityOpt && securityOpt.length > 0) hostConfig.SecurityOpt = securityOpt;
  for (const key of ['CapAdd', 'CapDrop'] as const) {
    const caps = optStringArray(hc, key);
    if (caps && caps.length > 0) hostConfig[key] = caps;
  }
  if (optBool(hc, 'Privileged')) hostConfig.Privileged = true;
  if (optBool(hc, 'ReadonlyRootfs')) hostConfig.ReadonlyRootfs = true;
  const tmpfs = optStringMap(hc, 'Tmpfs');
  if (tmpfs && Object.keys(tmpfs).length > 0) hostConfig.Tmpfs = tmpfs;
  const devices = parseDevices(hc);
  if (devices && devices.length > 0) hostConfig.Devices = devices;
  const consoleSize = optNumberPair(hc, 'ConsoleSize');
  if (consoleSize && consoleSize[0] > 0 && consoleSize[1] > 0) hostConfig.ConsoleSize = consoleSize;
  const networkMode = optString(hc, 'NetworkMode');
  if (networkMode) hostConfig.NetworkMode = networkMode;
  const portBindings = parsePortBindings(hc);
  if (portBindings && Object.keys(portBindings).length > 0) hostConfig.PortBindings = portBindings;
  if (optBool(hc, 'PublishAllPorts')) hostConfig.PublishAllPorts = true;
  for (const key of ['Dns', 'DnsSearch', 'DnsOptions', 'ExtraHosts'] as const) {
    const values = optStringArray(hc, key);
    if (values && values.length > 0) hostConfig[key] = values;
  }
  const endpointsConfig = parseEndpointsConfig(body);

  const cleanName = name?.replace(/^\//, '');
  return {
    request: { ...(cleanName ? { name: cleanName } : {}), image, config, hostConfig, ...(endpointsConfig ? { endpointsConfig } : {}) },
    warnings: unsupportedHostConfig(hc),
  };
}

/** The exec create body. */
export function parseExecRequest(body: JsonObject): {
  cmd: string[]; env?: string[]; workingDir?: string; user?: string; tty: boolean; attachStdin: boolean; attachStdout: boolean; attachStderr: boolean;
} {
  const cmd = optStringArray(body, 'Cmd');
  if (!cmd || cmd.length === 0) throw new InvalidArgumentError('No exec command specified');
  const env = optStringArray(body, 'Env');
  const workingDir = optString(body, 'WorkingDir');
  const user = optString(body, 'User');
  return {
    cmd,
    ...(env ? { env } : {}),
    ...(workingDir ? { workingDir } : {}),
    ...(user ? { user } : {}),
    tty: optBool(body, 'Tty') ?? false,
    attachStdin: optBool(body, 'AttachStdin') ?? false,
    attachStdout: optBool(body, 'AttachStdout') ?? false,
    attachStderr: optBool(body, 'AttachStderr') ?? false,
  };
}
