/**
 * A container's networking as Docker's API shows it, from the fold: inspect's NetworkSettings
 * (Ports, Networks, and the default bridge's address at the top level), the `Ports` and
 * `NetworkSettings` of `GET /containers/json` (ps's PORTS column), and `port`.
 */
import { createHash } from 'node:crypto';
import type { PublishedPort } from '../../events/index.js';
import { prefixOf } from '../network/ipam.js';
import { endpointIdOf, type NetworkState, type NetworksState } from '../network/network-state.js';
import type { ContainerState } from '../state/engine-state.js';
import { ZERO_TIME } from '../state/engine-state.js';

const DEFAULT_BRIDGE = 'bridge';


function live(c: ContainerState): boolean {
  return c.status === 'running' || c.status === 'paused';
}

/** The network mode as inspect shows it ("bridge" for the default). */
export function networkModeOf(c: ContainerState): string {
  const mode = c.hostConfig.NetworkMode ?? '';
  return mode === '' || mode === 'default' ? DEFAULT_BRIDGE : mode;
}

/** "80/tcp" → its host bindings while running (null: exposed, not published), as inspect's NetworkSettings.Ports. */
export function presentPortMap(c: ContainerState, net: NetworksState, imageExposed: readonly string[] = []): Record<string, { HostIp: string; HostPort: string }[] | null> {
  if (!live(c)) return {};
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of [...imageExposed, ...Object.keys(c.config.ExposedPorts ?? {})]) out[key.includes('/') ? key : `${key}/tcp`] = null;
  for (const p of net.published[c.id]?.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    (out[key] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  }
  return out;
}

interface EndpointView {
  IPAMConfig: { IPv4Address: string } | null;
  Links: null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: null;
}

/**
 * NetworkSettings.Networks: every network the container holds an address on (the address shown
 * while it runs, as Docker); before its first start, the networks it asked for at create; and
 * the networks removed while it was stopped that it has not let go of (NetworkID empty).
 */
export function presentEndpoints(c: ContainerState, net: NetworksState): Record<string, EndpointView> {
  const out: Record<string, EndpointView> = {};
  const user = (n: Pick<NetworkState, 'name'>): boolean => n.name !== DEFAULT_BRIDGE;
  const running = live(c);
  const configured = c.endpointsConfig ?? {};
  const configOf = (n: NetworkState): { Aliases: readonly string[]; IPv4Address: string } | undefined => configured[n.name] ?? configured[n.id];
  for (const n of Object.values(net.networks)) {
    const e = n.endpoints[c.id];
    if (!e) continue;
    const wanted = configOf(n)?.IPv4Address ?? '';
    out[n.name] = {
      IPAMConfig: wanted !== '' ? { IPv4Address: wanted } : null,
      Links: null,
      Aliases: user(n) ? [...new Set([...e.aliases, c.id.slice(0, 12)])] : null,
      NetworkID: n.id,
      EndpointID: running ? endpointIdOf(n.id, c.id) : '',
      Gateway: running ? n.gateway : '',
      IPAddress: running ? e.ip : '',
      IPPrefixLen: running ? prefixOf(n) : 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: running ? e.mac : '',
      DriverOpts: null,
    };
  }
  const mode = networkModeOf(c);
  if (mode === 'host' || mode === 'none') {
    // The pre-defined network of that name (its id from the fold), with no address, as Docker shows it.
    const p = net.predefined[mode];
    out[mode] = {
      IPAMConfig: null, Links: null, Aliases: null, NetworkID: p?.id ?? '', EndpointID: running && p ? endpointIdOf(p.id, c.id) : '',
      Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
    };
    return out;
  }
  if (c.startedAt === ZERO_TIME && Object.keys(out).length === 0) {
    const special = mode.startsWith('container:');
    const refs = special ? [] : [mode, ...Object.keys(configured).filter((r) => r !== mode)];
    for (const ref of refs) {
      const n = net.networks[ref] ?? Object.values(net.networks).find((x) => x.name === ref);
      const config = configured[ref];
      out[n?.name ?? ref] = {
        IPAMConfig: config && config.IPv4Address !== '' ? { IPv4Address: config.IPv4Address } : null,
        Links: null,
        Aliases: n && user(n) ? [...new Set([...(config?.Aliases ?? []), c.id.slice(0, 12)])] : null,
        NetworkID: n?.id ?? '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '',
        GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
      };
    }
  }
  // A network removed while it was stopped stays in its settings until `network disconnect` (its
  // start fails meanwhile): shown under its name with an empty NetworkID, as dockerd 20.10 shows it.
  for (const gone of c.removedNetworks ?? []) {
    out[gone.name] ??= {
      IPAMConfig: null, Links: null, Aliases: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
      IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null,
    };
  }
  return out;
}

/** inspect's NetworkSettings; the default bridge's address also at the top level, as Docker. */
export function presentNetworkSettings(c: ContainerState, net: NetworksState, imageExposed: readonly string[] = []): Record<string, unknown> {
  const networks = presentEndpoints(c, net);
  const bridge = networks[DEFAULT_BRIDGE];
  return {
    Bridge: '',
    SandboxID: live(c) ? createHash('sha256').update(`sandbox/${c.id}/${c.startedAt}`).digest('hex') : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: presentPortMap(c, net, imageExposed),
    SandboxKey: live(c) && c.pid > 0 ? `/proc/${c.pid}/ns/net` : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge?.EndpointID ?? '',
    Gateway: bridge?.Gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: bridge?.IPAddress ?? '',
    IPPrefixLen: bridge?.IPPrefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: bridge?.MacAddress ?? '',
    Networks: networks,
  };
}

/** One entry of the summary's `Ports` (ps): published ports with their host side, exposed ones without. */
export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export function presentPortSummaries(c: ContainerState, net: NetworksState, imageExposed: readonly string[] = []): PortSummary[] {
  if (!live(c)) return [];
  const published: readonly PublishedPort[] = net.published[c.id]?.ports ?? [];
  const out: PortSummary[] = published.map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol }));
  for (const key of new Set([...imageExposed, ...Object.keys(c.config.ExposedPorts ?? {})])) {
    const [port, proto = 'tcp'] = key.split('/');
    if (!published.some((p) => String(p.containerPort) === port && p.protocol === proto)) out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
}

/** The summary's NetworkSettings.Networks. */
export function presentSummaryNetworks(c: ContainerState, net: NetworksState): Record<string, EndpointView> {
  return presentEndpoints(c, net);
}
