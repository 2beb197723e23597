import type { EngineEvent, EventType } from './catalogue.js';
import { SCHEMA_VERSIONS, isEventType } from './catalogue.js';
import type { EventEnvelope } from './envelope.js';
import {
  any, arrayOf, json, bool, containerId, int, isFalse, isTrue, nullable, num, obj, oneOf, optional, recordOf, sha256Id, str, type Check,
} from './schema.js';

const throttle = arrayOf(obj({ Path: str, Rate: num }));
const limits = {
  Memory: optional(num), MemorySwap: optional(num), MemoryReservation: optional(num), NanoCpus: optional(num),
  CpuQuota: optional(num), CpuPeriod: optional(num), CpuShares: optional(num), CpusetCpus: optional(str),
  CpusetMems: optional(str), PidsLimit: optional(num), BlkioWeight: optional(num),
  BlkioDeviceReadBps: optional(throttle), BlkioDeviceWriteBps: optional(throttle),
};
const strings = arrayOf(str);
const containerConfig = obj({
  Cmd: strings, Entrypoint: nullable(strings), Env: strings, WorkingDir: str, User: str, Hostname: str, Tty: bool,
  OpenStdin: bool, StdinOnce: bool, AttachStdin: bool, AttachStdout: bool, AttachStderr: bool, Labels: recordOf(str),
  ExposedPorts: optional(recordOf(any)),
});
const restartPolicy = obj({ Name: oneOf('always', 'unless-stopped', 'on-failure'), MaximumRetryCount: int });
const hostConfig = obj({
  ...limits, AutoRemove: bool, LogConfig: obj({ Type: str, Config: recordOf(str) }), ConsoleSize: optional(arrayOf(int)),
  Binds: optional(strings),
  Mounts: optional(arrayOf(obj({
    Type: str, Source: str, Target: str, ReadOnly: bool, TmpfsOptions: optional(obj({ SizeBytes: optional(num), Mode: optional(int) })),
    VolumeOptions: optional(obj({ NoCopy: optional(bool) })),
  }))),
  VolumesFrom: optional(strings), RestartPolicy: optional(restartPolicy), SecurityOpt: optional(strings), UsernsMode: optional(oneOf('host')),
  CapAdd: optional(strings), CapDrop: optional(strings), Privileged: optional(bool), ReadonlyRootfs: optional(bool), Tmpfs: optional(recordOf(str)),
  Devices: optional(arrayOf(obj({ PathOnHost: str, PathInContainer: str, CgroupPermissions: str }))),
  NetworkMode: optional(str), PortBindings: optional(recordOf(arrayOf(obj({ HostIp: str, HostPort: str })))),
  PublishAllPorts: optional(bool), Dns: optional(strings), DnsSearch: optional(strings), DnsOptions: optional(strings),
  ExtraHosts: optional(strings),
});
const imageConfig = obj({
  Env: strings, Cmd: nullable(strings), Entrypoint: nullable(strings), WorkingDir: str, User: str, Labels: recordOf(str),
  ExposedPorts: optional(recordOf(any)), Volumes: optional(recordOf(any)),
});
const containerVolume = obj({ name: str, destination: str, readOnly: bool, anonymous: bool });
const history = arrayOf(obj({ created: str, created_by: str, comment: optional(str), author: optional(str), empty_layer: optional(bool) }));
const id = containerId;
const transfer = { id: sha256Id, name: str, registry: str, repository: str, digest: sha256Id, layers: arrayOf(sha256Id) };
const exec = { id, execId: str };

const ipv4: Check = (v, p) =>
  typeof v === 'string' && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(v)
    ? null : `${p}: expected an IPv4 address, got ${JSON.stringify(v)}`;
const cidr: Check = (v, p) => {
  if (typeof v !== 'string') return `${p}: expected a CIDR subnet, got ${JSON.stringify(v)}`;
  const [address, prefix, extra] = v.split('/');
  if (extra !== undefined || prefix === undefined || !/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) {
    return `${p}: expected a CIDR subnet, got ${JSON.stringify(v)}`;
  }
  return ipv4(address, p);
};
const mac: Check = (v, p) =>
  typeof v === 'string' && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(v) ? null : `${p}: expected a MAC address, got ${JSON.stringify(v)}`;
/** A start time (ExecStarted): clock ticks after boot, so a process's is never 0; 0 is what a shim sends when it could not read it, and is left out. */
const positiveInt: Check = (v, p) =>
  Number.isInteger(v) && (v as number) > 0 ? null : `${p}: expected a positive integer, got ${JSON.stringify(v)}`;
const port: Check = (v, p) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? null : `${p}: expected a port 1-65535, got ${JSON.stringify(v)}`;

/** The shape of each event's data, by type. */
export const DATA_SCHEMAS: { readonly [T in EventType]: Check } = {
  ContainerCreated: obj({
    id, name: str, image: obj({ ref: str, id: sha256Id }), config: containerConfig, hostConfig, volumes: optional(arrayOf(containerVolume)),
    endpointsConfig: optional(recordOf(obj({ Aliases: strings, IPv4Address: str }))),
  }),
  ContainerStarting: obj({ id, restart: optional(bool) }),
  ContainerStartStepDone: obj({ id, kind: str, driverId: str, output: json }),
  ContainerStartStepFailed: obj({ id, kind: str, driverId: str, message: str, processStartCode: optional(int) }),
  ContainerStartStepUndone: obj({ id, kind: str, driverId: str, message: optional(str) }),
  ContainerStarted: obj({ id, pid: int, shimPid: int, drivers: strings, restart: optional(bool) }),
  ContainerStartFailed: obj({ id, driver: str, message: str, exitCode: int }),
  ContainerExited: obj({ id, name: str, exitCode: int, signal: nullable(int), oomKilled: bool, finishedAt: str }),
  ContainerStopRequested: obj({ id, signal: str, timeoutSeconds: num }),
  ContainerKillRequested: obj({ id, signal: str }),
  ContainerRemoving: obj({ id, force: bool, removeVolumes: optional(bool) }),
  ContainerRemoveStepDone: obj({ id, kind: str, driverId: str }),
  ContainerRemoved: obj({ id }),
  ContainerRenamed: obj({ id, oldName: str, newName: str }),
  ContainerLimitsUpdated: obj({ id, limits: obj(limits), restartPolicy: optional(nullable(restartPolicy)) }),
  ContainerPaused: obj({ id }),
  ContainerUnpaused: obj({ id }),
  ContainerCommitting: obj({ id, paused: bool }),
  ContainerCommitted: obj({ id, imageId: sha256Id, ref: nullable(str) }),
  ContainerCommitFailed: obj({ id, message: str }),
  ExecCreated: obj({
    ...exec, cmd: strings, env: strings, workingDir: str, user: str, tty: bool, attachStdin: bool, attachStdout: bool,
    attachStderr: bool,
  }),
  ExecStarting: obj(exec),
  ExecStarted: obj({ ...exec, pid: int, startTime: optional(positiveInt) }),
  ExecExited: obj({ ...exec, exitCode: int, reason: optional(str) }),
  ImageCreated: obj({
    id: sha256Id, origin: oneOf('import', 'commit', 'load', 'builtin', 'pull'), source: str, parent: nullable(sha256Id),
    layers: arrayOf(obj({ diffId: sha256Id, size: int })), config: imageConfig, history, created: str,
    architecture: str, os: str,
  }),
  ImageTagged: obj({ id: sha256Id, ref: str }),
  ImageUntagged: obj({ id: sha256Id, ref: str }),
  ImageRemoved: obj({ id: sha256Id }),
  ImagePulled: obj({ ...transfer, reference: str }),
  ImagePushed: obj({ ...transfer, tag: str }),
  VolumeCreating: obj({ name: str, driver: str, labels: recordOf(str), options: recordOf(str), anonymous: bool, container: optional(containerId) }),
  VolumeCreated: obj({ name: str, mountpoint: str }),
  VolumeRemoving: obj({ name: str }),
  VolumeRemoved: obj({ name: str }),
  VolumeCopyUpStarting: obj({ name: str, container: containerId, image: sha256Id, path: str, root: obj({ uid: int, gid: int, mode: int }) }),
  VolumeCopiedUp: obj({ name: str }),
  VolumeCopyUpUndone: obj({ name: str }),
  DaemonStarted: obj({ pid: int, version: str, plugins: arrayOf(obj({ id: str, status: str, reason: optional(str) })) }),
  DaemonStopped: obj({ pid: int }),
  DaemonReconciled: obj({ running: strings, exited: strings }),
  NetworkCreated: obj({
    id, name: str, driver: str, subnet: cidr, gateway: ipv4, internal: bool, labels: recordOf(str), bridge: str, mtu: int, dns: bool,
  }),
  NetworkRemoved: obj({ id }),
  PredefinedNetworkCreated: obj({ id, name: oneOf('host', 'none'), driver: oneOf('host', 'null') }),
  ContainerNetworkConnected: obj({ network: id, id, ip: ipv4, mac, aliases: arrayOf(str), interface: str, requestedIp: optional(ipv4), held: optional(isFalse) }),
  ContainerNetworkDisconnected: obj({ network: id, id, removed: optional(isTrue) }),
  ContainerNetworkReleased: obj({ network: id, id }),
  ContainerPortsPublished: obj({
    id, network: id, ports: arrayOf(obj({ containerPort: port, protocol: oneOf('tcp', 'udp'), hostIp: ipv4, hostPort: port })),
  }),
  ContainerPortsUnpublished: obj({ id }),
};

export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** Validates an event before it is appended; throws InvalidEventError naming the bad field. */
export function validateEvent(event: EngineEvent): void {
  if (!isEventType(event.type)) throw new InvalidEventError(`unknown event type ${JSON.stringify(event.type)}`);
  const err = DATA_SCHEMAS[event.type](event.data, `${event.type}.data`);
  if (err) throw new InvalidEventError(`invalid event: ${err}`);
}

/** Validates a stored envelope (after upcasting) as read back from the log. */
export function validateEnvelope(e: EventEnvelope): void {
  const err = obj({
    position: int, streamId: str, streamVersion: int, time: str, type: str, schemaVersion: int, metadata: recordOf(any),
  })(e, 'envelope');
  if (err) throw new InvalidEventError(`invalid envelope: ${err}`);
  if (!isEventType(e.type)) throw new InvalidEventError(`unknown event type ${JSON.stringify(e.type)} at position ${e.position}`);
  if (e.schemaVersion !== SCHEMA_VERSIONS[e.type]) {
    throw new InvalidEventError(`${e.type} at position ${e.position} has schema version ${e.schemaVersion}, expected ${SCHEMA_VERSIONS[e.type]}`);
  }
  const dataErr = DATA_SCHEMAS[e.type](e.data, `${e.type}.data`);
  if (dataErr) throw new InvalidEventError(`invalid event at position ${e.position}: ${dataErr}`);
}
