/**
 * The networks as a pure fold of the network events (events/catalogue.ts): which networks
 * exist, who holds which address on each, which host ports each container published. IPAM
 * (ipam.ts) and the embedded resolver read only this; there is no other record of addresses.
 */
import { createHash } from 'node:crypto';
import type { NetworkEvent, PublishedPort } from '../../events/index.js';

/**
 * A container on a network. It holds `ip` from its start (or a `network connect` while it runs)
 * until it exits; a stopped container stays connected (aliases, interface, --ip) with `held` false
 * and `ip` its last address, which another container may take, unless it is its `requestedIp`.
 */
export interface Endpoint {
  readonly containerId: string;
  readonly ip: string;
  readonly mac: string;
  readonly aliases: readonly string[];
  readonly interface: string;
  /** Whether the container holds `ip` now (ContainerNetworkConnected, until ContainerNetworkReleased). */
  readonly held: boolean;
  /** --ip: reserved for this container whether it holds it or not. */
  readonly requestedIp?: string;
}

export interface NetworkState {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly subnet: string;
  readonly gateway: string;
  readonly internal: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly bridge: string;
  readonly mtu: number;
  readonly dns: boolean;
  /** Containers on the network, by container id. */
  readonly endpoints: Readonly<Record<string, Endpoint>>;
  /** When NetworkCreated was recorded (RFC 3339; the zero time in a fold of bare events). */
  readonly created: string;
  /** Version of the network's stream `network-<id>`: what the next connect or remove must expect. */
  readonly version: number;
}

/**
 * Docker's pre-defined networks that are not bridges, `host` (driver "host") and `none` (driver
 * "null"): an id and a creation time (PredefinedNetworkCreated), no subnet and no addresses. The
 * containers on them are those whose `--network` is that mode.
 */
export interface PredefinedNetwork {
  readonly id: string;
  readonly name: 'host' | 'none';
  readonly driver: 'host' | 'null';
  readonly created: string;
  readonly version: number;
}

export interface PublishedPorts {
  readonly network: string;
  readonly ports: readonly PublishedPort[];
}

export interface NetworksState {
  readonly networks: Readonly<Record<string, NetworkState>>;
  /** What each container has published now, by container id. */
  readonly published: Readonly<Record<string, PublishedPorts>>;
  /** `host` and `none`, by name, once recorded (the daemon records them at its first start). */
  readonly predefined: Readonly<Record<string, PredefinedNetwork>>;
}

export const EMPTY_NETWORKS: NetworksState = { networks: {}, published: {}, predefined: {} };

/** Where an event sits in the log: its stream's version after it, and when it was recorded. */
export interface EventPlace {
  readonly streamVersion: number;
  readonly time: string;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/**
 * The state after one more event. Events for unknown networks change nothing (a replay of a log cut
 * short). `at` is where the event sits in the log (the engine's fold gives it); without it (a fold
 * of bare events) a network's version counts the events of its stream and its time is the zero time.
 */
export function evolveNetworks(state: NetworksState, event: NetworkEvent, at?: EventPlace): NetworksState {
  switch (event.type) {
    case 'NetworkCreated': {
      const { id, ...rest } = event.data;
      const network: NetworkState = { id, ...rest, endpoints: {}, created: at?.time ?? ZERO_TIME, version: at?.streamVersion ?? 1 };
      return { ...state, networks: { ...state.networks, [id]: network } };
    }
    case 'NetworkRemoved':
      return { ...state, networks: without(state.networks, event.data.id) };
    case 'PredefinedNetworkCreated': {
      const { id, name, driver } = event.data;
      const network: PredefinedNetwork = { id, name, driver, created: at?.time ?? ZERO_TIME, version: at?.streamVersion ?? 1 };
      return { ...state, predefined: { ...state.predefined, [name]: network } };
    }
    case 'ContainerNetworkConnected': {
      const network = state.networks[event.data.network];
      if (!network) return state;
      const { id, ip, mac, aliases, requestedIp } = event.data;
      const endpoint: Endpoint = { containerId: id, ip, mac, aliases, interface: event.data.interface, held: event.data.held ?? true, ...(requestedIp !== undefined ? { requestedIp } : {}) };
      const version = at?.streamVersion ?? network.version + 1;
      return { ...state, networks: { ...state.networks, [network.id]: { ...network, endpoints: { ...network.endpoints, [id]: endpoint }, version } } };
    }
    case 'ContainerNetworkDisconnected': {
      const network = state.networks[event.data.network];
      if (!network) return state;
      const version = at?.streamVersion ?? network.version + 1;
      return { ...state, networks: { ...state.networks, [network.id]: { ...network, endpoints: without(network.endpoints, event.data.id), version } } };
    }
    case 'ContainerNetworkReleased': {
      const network = state.networks[event.data.network];
      const endpoint = network?.endpoints[event.data.id];
      if (!network || !endpoint) return state;
      const version = at?.streamVersion ?? network.version + 1;
      const released: Endpoint = { ...endpoint, held: false };
      return { ...state, networks: { ...state.networks, [network.id]: { ...network, endpoints: { ...network.endpoints, [endpoint.containerId]: released }, version } } };
    }
    case 'ContainerPortsPublished':
      return { ...state, published: { ...state.published, [event.data.id]: { network: event.data.network, ports: event.data.ports } } };
    case 'ContainerPortsUnpublished':
      return { ...state, published: without(state.published, event.data.id) };
  }
}

export function foldNetworks(events: Iterable<NetworkEvent>, from: NetworksState = EMPTY_NETWORKS): NetworksState {
  let state = from;
  for (const event of events) state = evolveNetworks(state, event);
  return state;
}

/** A network by full id, unique id prefix or name (Docker's order: id, then name, then prefix). */
export function findNetwork(state: NetworksState, ref: string): NetworkState | undefined {
  const byId = state.networks[ref];
  if (byId) return byId;
  const all = Object.values(state.networks);
  const byName = all.find((n) => n.name === ref);
  if (byName) return byName;
  const byPrefix = ref.length > 0 ? all.filter((n) => n.id.startsWith(ref)) : [];
  return byPrefix.length === 1 ? byPrefix[0] : undefined;
}

/**
 * The addresses the embedded resolver answers for `name` on a network: containers by name, by alias
 * and by short id (12 characters), case-insensitively, as Docker's resolver. `containerName` gives a
 * container's current name (from the container fold); a network without dns answers nothing.
 */
export function resolveName(network: NetworkState, name: string, containerName: (id: string) => string | undefined): readonly string[] {
  if (!network.dns) return [];
  const wanted = name.toLowerCase().replace(/\.$/, '');
  const found: string[] = [];
  for (const endpoint of Object.values(network.endpoints)) {
    if (!endpoint.held) continue; // a stopped container answers no name; its last address may be another's now
    const names = [containerName(endpoint.containerId), endpoint.containerId.slice(0, 12), ...endpoint.aliases];
    if (names.some((n) => n !== undefined && n.toLowerCase() === wanted)) found.push(endpoint.ip);
  }
  return found.sort();
}

/** The container whose address `ip` is on a network (reverse lookups), if any. */
export function endpointByIp(network: NetworkState, ip: string): Endpoint | undefined {
  return Object.values(network.endpoints).find((e) => e.held && e.ip === ip);
}

/**
 * The EndpointID Docker shows for a container on a network (network inspect's Containers, and the
 * container's NetworkSettings.Networks): derived from the two ids, so both agree without a record.
 */
export function endpointIdOf(networkId: string, containerId: string): string {
  return createHash('sha256').update(`${networkId}/${containerId}`).digest('hex');
}
