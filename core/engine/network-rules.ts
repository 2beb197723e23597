/**
 * What a network may be, decided without I/O: the pre-defined networks' names, the checks of a
 * `network create` (its name, its options) and of a `network rm`, which networks a prune takes,
 * and which address recovery gives back. NetworkService (network-service.ts) applies them; the
 * lookups are network-lookups.ts.
 */
import type { EngineState } from '../state/engine-state.js';
import type { Endpoint, NetworkState } from '../network/network-state.js';
import { ConflictError, ForbiddenError, InvalidArgumentError } from './errors.js';
import type { FoundNetwork } from './network-lookups.js';

/** The network every container joins unless told otherwise, as Docker's; it has no name resolution. */
export const DEFAULT_BRIDGE = 'bridge';
/** Names Docker reserves: the default bridge, and the `--network host` and `--network none` modes. */
export const PREDEFINED_NETWORKS: readonly string[] = [DEFAULT_BRIDGE, 'host', 'none'];
/** The pre-defined networks that are modes, not bridges, with their drivers as Docker names them. */
export const MODE_NETWORKS: readonly { readonly name: 'host' | 'none'; readonly driver: 'host' | 'null' }[] = [
  { name: 'host', driver: 'host' },
  { name: 'none', driver: 'null' },
];
/** The containers that hold an address on the network: the running ones, what Docker calls its active endpoints. */
export function heldEndpoints(network: Pick<NetworkState, 'endpoints'>): number {
  return Object.values(network.endpoints).filter((e) => e.held).length;
}

/** Docker's option for a network's MTU (`network create -o com.docker.network.driver.mtu=1400`). */
export const MTU_OPTION = 'com.docker.network.driver.mtu';
export const DEFAULT_MTU = 1500;

/** A `network create` (POST /networks/create), parsed from Docker's body. */
export interface CreateNetworkRequest {
  readonly name: string;
  /** The driver's name: "bridge" (network.v1.bridge); default "bridge". */
  readonly driver?: string;
  readonly internal?: boolean;
  readonly labels?: Readonly<Record<string, string>>;
  readonly subnet?: string;
  readonly gateway?: string;
  /** Driver options; `com.docker.network.driver.mtu` is read, the others are refused. */
  readonly options?: Readonly<Record<string, string>>;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** A name `network create` may take (whether it is free is checked under the service's queue). */
export function checkNetworkName(name: string): void {
  if (name === '') throw new InvalidArgumentError('a network needs a name: network create NAME');
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(`invalid network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  // moby's PredefinedNetworkError, 403 (with its trailing blank), before any lookup of the name.
  if (PREDEFINED_NETWORKS.includes(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network `);
}

/** The MTU a create's options ask for (DEFAULT_MTU when none); any other option is refused. */
export function mtuOf(options: Readonly<Record<string, string>>): number {
  for (const key of Object.keys(options)) {
    if (key !== MTU_OPTION) throw new InvalidArgumentError(`network option ${key} is not supported: only ${MTU_OPTION}`);
  }
  const text = options[MTU_OPTION];
  if (text === undefined || text === '') return DEFAULT_MTU;
  const mtu = Number(text);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgumentError(`invalid ${MTU_OPTION} ${text}: expected a whole number from 68 to 65535`);
  return mtu;
}

/** The network `network rm` may remove: a user network no running container holds an address on. */
export function removableNetwork(found: FoundNetwork): NetworkState {
  if (found.kind === 'predefined') throw new ForbiddenError(`${found.network.name} is a pre-defined network and cannot be removed`);
  const network = found.network;
  if (network.name === DEFAULT_BRIDGE) throw new ForbiddenError(`${DEFAULT_BRIDGE} is a pre-defined network and cannot be removed`);
  // As Docker, only running containers have endpoints: stopped ones connected do not keep it (their next start fails, network-commands.ts).
  const active = heldEndpoints(network);
  if (active > 0) throw new ConflictError(`error while removing network: network ${network.name} id ${network.id} has active endpoints`);
  return network;
}

/** What `network prune` selects by: `label` ("k", "k=v"), `label!` (labelNot), and `until` (ms since the epoch). */
export interface NetworkPruneFilters {
  readonly label?: readonly string[];
  readonly labelNot?: readonly string[];
  readonly until?: number;
}

/** The user networks a prune removes (never the default bridge, none with a running container), in the order they were created. */
export function networksToPrune(networks: readonly NetworkState[], filters: NetworkPruneFilters): NetworkState[] {
  const matches = (labels: Readonly<Record<string, string>>, f: string): boolean => {
    const eq = f.indexOf('=');
    return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  };
  return networks
    .filter((n) => n.name !== DEFAULT_BRIDGE && heldEndpoints(n) === 0)
    .filter((n) => (filters.label ?? []).every((f) => matches(n.labels, f)))
    .filter((n) => !(filters.labelNot ?? []).some((f) => matches(n.labels, f)))
    .filter((n) => filters.until === undefined || Date.parse(n.created) < filters.until)
    .sort((a, b) => a.created.localeCompare(b.created));
}

/**
 * An endpoint of the network that recovery undoes: one of a container the fold no longer has
 * (`removed`: disconnected), else an address held by a container that does not run (released).
 */
export function staleEndpoint(state: EngineState, network: NetworkState): { readonly endpoint: Endpoint; readonly removed: boolean } | undefined {
  const running = (id: string): boolean => {
    const status = state.containers[id]?.status;
    return status === 'running' || status === 'paused';
  };
  const gone = (id: string): boolean => state.containers[id] === undefined;
  const stale = Object.values(network.endpoints).find((e) => (e.held && !running(e.containerId)) || gone(e.containerId));
  return stale ? { endpoint: stale, removed: gone(stale.containerId) } : undefined;
}
