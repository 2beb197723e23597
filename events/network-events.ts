/**
 * The facts of networking, ready to join the catalogue (catalogue.ts) when the network driver is
 * wired into the engine: networks and their subnets, which container holds which address on which
 * network, and which host ports a container published. IPAM is a fold of these (core/network/ipam.ts),
 * so addresses survive a daemon restart and `replay` shows who had which address when.
 *
 * Streams: NetworkCreated, NetworkRemoved, ContainerNetworkConnected and ContainerNetworkDisconnected
 * go to the network's stream `network-<id>`, so two connects racing for the same address append with
 * the same expected version and one of them must retry; the port events go to the container's stream.
 */
import { arrayOf, bool, containerId, int, obj, oneOf, recordOf, str, type Check } from './schema.js';

type EventOf<T extends string, D> = { readonly type: T; readonly data: Readonly<D> };

/** A network as created: Docker's bridge driver fields this engine honours. */
export type NetworkCreated = EventOf<'NetworkCreated', {
  /** 64 hex characters, as Docker's network ids. */
  id: string;
  name: string;
  /** The driver name `network create --driver` selects: "bridge". */
  driver: string;
  /** "172.18.0.0/16": chosen from the pool (ipam.ts) or given with --subnet. */
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
/** A container got an address on a network (`run`, `network connect`). */
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
}>;
/** The address went back to the pool (`network disconnect`, rm). */
export type ContainerNetworkDisconnected = EventOf<'ContainerNetworkDisconnected', { network: string; id: string }>;

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

export type NetworkEvent =
  | NetworkCreated | NetworkRemoved | ContainerNetworkConnected | ContainerNetworkDisconnected
  | ContainerPortsPublished | ContainerPortsUnpublished;
export type NetworkEventType = NetworkEvent['type'];

export const NETWORK_SCHEMA_VERSIONS: { readonly [T in NetworkEventType]: number } = {
  NetworkCreated: 1,
  NetworkRemoved: 1,
  ContainerNetworkConnected: 1,
  ContainerNetworkDisconnected: 1,
  ContainerPortsPublished: 1,
  ContainerPortsUnpublished: 1,
};

/** Docker's (Type, Action) for `events`; the port events have no Docker counterpart (null: not shown). */
export const NETWORK_DOCKER_ACTIONS: { readonly [T in NetworkEventType]: readonly ['network', string] | null } = {
  NetworkCreated: ['network', 'create'],
  NetworkRemoved: ['network', 'destroy'],
  ContainerNetworkConnected: ['network', 'connect'],
  ContainerNetworkDisconnected: ['network', 'disconnect'],
  ContainerPortsPublished: null,
  ContainerPortsUnpublished: null,
};

export function networkStream(id: string): string {
  return `network-${id}`;
}

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
const port: Check = (v, p) =>
  Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535 ? null : `${p}: expected a port 1-65535, got ${JSON.stringify(v)}`;
const id = containerId;

/** The shape of each network event's data, by type (the same checks as validators.ts). */
export const NETWORK_DATA_SCHEMAS: { readonly [T in NetworkEventType]: Check } = {
  NetworkCreated: obj({
    id, name: str, driver: str, subnet: cidr, gateway: ipv4, internal: bool, labels: recordOf(str), bridge: str, mtu: int, dns: bool,
  }),
  NetworkRemoved: obj({ id }),
  ContainerNetworkConnected: obj({ network: id, id, ip: ipv4, mac, aliases: arrayOf(str), interface: str }),
  ContainerNetworkDisconnected: obj({ network: id, id }),
  ContainerPortsPublished: obj({
    id, network: id, ports: arrayOf(obj({ containerPort: port, protocol: oneOf('tcp', 'udp'), hostIp: ipv4, hostPort: port })),
  }),
  ContainerPortsUnpublished: obj({ id }),
};

export function isNetworkEventType(value: string): value is NetworkEventType {
  return Object.prototype.hasOwnProperty.call(NETWORK_SCHEMA_VERSIONS, value);
}

/** Checks a network event before it is appended; returns the first problem, or null. */
export function checkNetworkEvent(event: NetworkEvent): string | null {
  if (!isNetworkEventType(event.type)) return `unknown event type ${JSON.stringify(event.type)}`;
  return NETWORK_DATA_SCHEMAS[event.type](event.data, `${event.type}.data`);
}
