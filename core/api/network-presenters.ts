/** Networks as Docker's API shows them (`GET /networks`, `GET /networks/{id}`), and the list's filters. Pure. */
import { InvalidArgumentError } from '../engine/errors.js';
import { DEFAULT_BRIDGE, DEFAULT_MTU, MTU_OPTION, PREDEFINED_NETWORKS } from '../engine/network-rules.js';
import { endpointIdOf, type NetworkState, type PredefinedNetwork } from '../network/network-state.js';
import { parseSubnet } from '../network/ipv4.js';
import type { ContainerState } from '../state/engine-state.js';
import { checkFilterKeys, type Filters } from './http-params.js';
import { parseDockerTime } from './time.js';

export interface NetworkContainerView {
  readonly Name: string;
  readonly EndpointID: string;
  readonly MacAddress: string;
  readonly IPv4Address: string;
  readonly IPv6Address: string;
}

/** Docker's network resource. */
export interface NetworkView {
  readonly Name: string;
  readonly Id: string;
  readonly Created: string;
  readonly Scope: 'local';
  readonly Driver: string;
  readonly EnableIPv6: false;
  /** Config is null for `host` and `none`, which have no subnet (as Docker's). */
  readonly IPAM: { readonly Driver: 'default'; readonly Options: null; readonly Config: readonly { readonly Subnet: string; readonly Gateway: string }[] | null };
  readonly Internal: boolean;
  readonly Attachable: boolean;
  readonly Ingress: false;
  readonly ConfigFrom: { readonly Network: '' };
  readonly ConfigOnly: false;
  readonly Containers: Readonly<Record<string, NetworkContainerView>>;
  readonly Options: Readonly<Record<string, string>>;
  readonly Labels: Readonly<Record<string, string>>;
}

/** The options Docker shows: its default bridge's, and the MTU when one was given. */
function optionsOf(n: NetworkState): Record<string, string> {
  const mtu: Record<string, string> = n.mtu === DEFAULT_MTU ? {} : { [MTU_OPTION]: String(n.mtu) };
  if (n.name !== DEFAULT_BRIDGE) return mtu;
  return {
    'com.docker.network.bridge.default_bridge': 'true',
    'com.docker.network.bridge.enable_icc': 'true',
    'com.docker.network.bridge.enable_ip_masquerade': 'true',
    'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
    'com.docker.network.bridge.name': n.bridge,
    [MTU_OPTION]: String(n.mtu),
  };
}

/**
 * One network. `withContainers` (inspect) lists the containers connected, as Docker's inspect does;
 * the list leaves them out (Docker's `GET /networks` answers `Containers: {}`).
 */
export function presentNetwork(n: NetworkState, containers: Readonly<Record<string, ContainerState>>, withContainers: boolean): NetworkView {
  const prefix = parseSubnet(n.subnet)?.prefix ?? 32;
  const attached: Record<string, NetworkContainerView> = {};
  if (withContainers) {
    for (const e of Object.values(n.endpoints)) {
      if (!e.held) continue; // a stopped container is connected but holds no address: Docker lists running ones
      attached[e.containerId] = {
        Name: containers[e.containerId]?.name ?? '', EndpointID: endpointIdOf(n.id, e.containerId), MacAddress: e.mac,
        IPv4Address: `${e.ip}/${prefix}`, IPv6Address: '',
      };
    }
  }
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: n.internal, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: attached, Options: optionsOf(n), Labels: n.labels,
  };
}

/**
 * `host` or `none` as Docker shows them: no subnet (IPAM Config null), no options. Inspect lists the
 * running containers whose `--network` is that mode, with no address (as Docker's).
 */
export function presentPredefined(p: PredefinedNetwork, containers: Readonly<Record<string, ContainerState>>, withContainers: boolean): NetworkView {
  const attached: Record<string, NetworkContainerView> = {};
  if (withContainers) {
    for (const c of Object.values(containers)) {
      if (c.hostConfig.NetworkMode !== p.name || (c.status !== 'running' && c.status !== 'paused')) continue;
      attached[c.id] = { Name: c.name, EndpointID: endpointIdOf(p.id, c.id), MacAddress: '', IPv4Address: '', IPv6Address: '' };
    }
  }
  return {
    Name: p.name, Id: p.id, Created: p.created, Scope: 'local', Driver: p.driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: null },
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: attached, Options: {}, Labels: {},
  };
}

/** What the list's filters read of a network: a bridge network's fields, or a pre-defined one's (no labels, no endpoints). */
export interface ListedNetwork {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly endpoints?: Readonly<Record<string, unknown>>;
}

export const NETWORK_FILTER_KEYS = ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'] as const;

/** A filter value as moby matches names and ids: a regular expression found anywhere (a plain word is a substring). */
function matchesPattern(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return value.includes(pattern);
  }
}

function truthy(value: string, key: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgumentError(`invalid filter '${key}=${value}': expected true or false`);
}

/** `GET /networks?filters=…` as moby selects: each key must match one of its values (every one for `label`); sorted by name. */
export function selectNetworks<N extends ListedNetwork>(networks: readonly N[], filters: Filters): N[] {
  checkFilterKeys(filters, NETWORK_FILTER_KEYS);
  const test = (key: string, pred: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.length === 0 || values.some(pred);
  };
  for (const t of filters.get('type') ?? []) {
    if (t !== 'custom' && t !== 'builtin') throw new InvalidArgumentError(`invalid filter: 'type'='${t}': expected custom or builtin`);
  }
  return networks
    .filter((n) => {
      const builtin = PREDEFINED_NETWORKS.includes(n.name);
      const dangling = !builtin && Object.keys(n.endpoints ?? {}).length === 0;
      const labels = n.labels ?? {};
      return (
        test('driver', (v) => v === n.driver) &&
        test('id', (v) => matchesPattern(v, n.id)) &&
        test('name', (v) => matchesPattern(v, n.name)) &&
        test('scope', (v) => v === 'local') &&
        test('type', (v) => (v === 'builtin') === builtin) &&
        test('dangling', (v) => truthy(v, 'dangling') === dangling) &&
        // every label filter must match (moby's MatchKVList), the other keys any of their values
        (filters.get('label') ?? []).every((v) => {
          const eq = v.indexOf('=');
          return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
        })
      );
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export const NETWORK_PRUNE_FILTER_KEYS = ['label', 'label!', 'until'] as const;

/** `until` of a prune: a Go duration before now ("24h", "1h30m"), unix seconds, or an RFC 3339 time; in ms since the epoch. */
export function pruneUntil(value: string, now: number = Date.now()): number {
  const units: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    let ms = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * units[m[2]!]!;
    return now - ms;
  }
  return Number(parseDockerTime(value, 'until') / 1_000_000n);
}
