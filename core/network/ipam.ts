/**
 * IPAM as pure functions over the network fold (network-state.ts): which subnet a new network gets,
 * which address a container gets. Nothing here remembers anything: what is in use is what the
 * events say is in use, so an address is never handed out twice while it is held, survives a daemon
 * restart and is free again once its ContainerNetworkDisconnected is in the log.
 */
import {
  contains, formatIpv4, formatSubnet, lastAddress, overlaps, parseIpv4, parseSubnet, sizeOf, type Subnet,
} from './ipv4.js';
import type { NetworkState, NetworksState } from './network-state.js';

/** A failure to plan a network or an address, in Docker's words; `status` is the HTTP status the API answers with. */
export class IpamError extends Error {
  constructor(message: string, readonly status: 400 | 403 | 409 = 400) {
    super(message);
    this.name = 'IpamError';
  }
}

/** One pool networks are carved from: subnets of `size` bits inside `base`. */
export interface AddressPool {
  readonly base: string;
  readonly size: number;
}

/** Docker's default address pools: a /16 of each of 172.17-31, then /20s of 192.168.0.0/16. */
export const DEFAULT_POOLS: readonly AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

/**
 * The subnets of the host's routing table, from /proc/net/route (destination and mask are hex in
 * host byte order, little-endian here). The default route (mask 0) is left out: everything overlaps it.
 */
export function parseProcNetRoute(text: string): Subnet[] {
  const out: Subnet[] = [];
  const le = (hex: string): number => {
    const n = Number.parseInt(hex, 16);
    return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | ((n >>> 24) & 255)) >>> 0;
  };
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const destination = le(f[1]!);
    const mask = le(f[7]!);
    if (mask === 0) continue;
    out.push({ base: (destination & mask) >>> 0, prefix: Math.clz32(~mask >>> 0) }); // leading ones of the mask
  }
  return out;
}

/** Subnets the networks of the fold use. */
export function subnetsInUse(state: NetworksState): Subnet[] {
  return Object.values(state.networks).map((n) => parseSubnet(n.subnet)).filter((s): s is Subnet => s !== null);
}

/**
 * The first subnet of the pools (in order) that collides with no network of ours and no route of
 * the host, as Docker picks a default pool; null when every one is taken.
 */
export function chooseSubnet(pools: readonly AddressPool[], taken: readonly Subnet[], hostRoutes: readonly Subnet[]): Subnet | null {
  const busy = [...taken, ...hostRoutes];
  for (const pool of pools) {
    const base = parseSubnet(pool.base);
    if (!base || pool.size < base.prefix) continue;
    const step = 2 ** (32 - pool.size);
    for (let at = base.base; at <= lastAddress(base); at += step) {
      const candidate = { base: at, prefix: pool.size };
      if (!busy.some((b) => overlaps(b, candidate))) return candidate;
    }
  }
  return null;
}

export interface NetworkPlanRequest {
  /** --subnet, e.g. "10.5.0.0/24". */
  readonly subnet?: string;
  /** --gateway, e.g. "10.5.0.254". */
  readonly gateway?: string;
}

/** The subnet and gateway of a network about to be created, or an IpamError in Docker's words. */
export function planNetwork(
  request: NetworkPlanRequest, state: NetworksState, hostRoutes: readonly Subnet[], pools: readonly AddressPool[] = DEFAULT_POOLS,
): { subnet: string; gateway: string } {
  let subnet: Subnet;
  if (request.subnet !== undefined) {
    const given = parseSubnet(request.subnet);
    if (!given) throw new IpamError(`invalid subnet ${request.subnet}: expected an IPv4 CIDR such as 10.5.0.0/24`);
    if (given.prefix > 30) throw new IpamError(`invalid subnet ${request.subnet}: a /${given.prefix} has no room for containers; use /30 or larger`);
    if (subnetsInUse(state).some((s) => overlaps(s, given))) {
      throw new IpamError('invalid pool request: Pool overlaps with other one on this address space', 403);
    }
    subnet = given;
  } else {
    if (request.gateway !== undefined) throw new IpamError('--gateway needs --subnet: give the subnet the gateway belongs to');
    const chosen = chooseSubnet(pools, subnetsInUse(state), hostRoutes);
    if (!chosen) throw new IpamError('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
    subnet = chosen;
  }
  let gateway = subnet.base + 1;
  if (request.gateway !== undefined) {
    const given = parseIpv4(request.gateway);
    if (given === null) throw new IpamError(`invalid gateway ${request.gateway}: expected an IPv4 address`);
    if (!contains(subnet, given) || given === subnet.base || given === lastAddress(subnet)) {
      throw new IpamError(`no matching subnet for gateway ${request.gateway}: it must be a host address of ${formatSubnet(subnet)}`);
    }
    gateway = given;
  }
  return { subnet: formatSubnet(subnet), gateway: formatIpv4(gateway) };
}

/**
 * The address a container gets on `network`: `requested` (--ip) when it is a free host address of
 * the subnet, else its last address on the network when it is free (a container started again, as
 * Docker tries), else the lowest free one. Free: neither the network, the broadcast, the gateway,
 * held by another container, nor reserved by another one's --ip, nor `draining`: given back by
 * another container whose old veth pair (same address and MAC) is still on the bridge (by address:
 * the id of the container it was given back by; the same container takes its own back). A
 * container holding an address keeps it. A requested address that is only draining is refused as
 * in use like a held one: the caller waits for the drain first (container-endpoints.ts).
 */
export function allocateAddress(network: NetworkState, containerId: string, requested?: string, draining: ReadonlyMap<string, string> = new Map()): string {
  const own = network.endpoints[containerId];
  if (own?.held && (requested === undefined || own.ip === requested)) return own.ip;
  const subnet = parseSubnet(network.subnet)!;
  const gateway = parseIpv4(network.gateway);
  const inUse = new Set<number | null>();
  for (const e of Object.values(network.endpoints)) {
    if (e.containerId === containerId) continue;
    if (e.held) inUse.add(parseIpv4(e.ip));
    if (e.requestedIp !== undefined) inUse.add(parseIpv4(e.requestedIp));
  }
  for (const [ip, owner] of draining) if (owner !== containerId) inUse.add(parseIpv4(ip));
  if (requested !== undefined) {
    const address = parseIpv4(requested);
    if (address === null) throw new IpamError(`invalid IPv4 address: ${requested}`);
    if (!contains(subnet, address) || address === subnet.base || address === lastAddress(subnet)) {
      throw new IpamError(`Invalid address ${requested}: It does not belong to any of this network's subnets`);
    }
    if (address === gateway || inUse.has(address)) throw new IpamError(`Address already in use: ${requested} on network ${network.name}`, 409);
    return requested;
  }
  const last = own ? parseIpv4(own.ip) : null;
  if (last !== null && contains(subnet, last) && last !== gateway && !inUse.has(last)) return formatIpv4(last);
  for (let address = subnet.base + 1; address < subnet.base + sizeOf(subnet) - 1; address++) {
    if (address !== gateway && !inUse.has(address)) return formatIpv4(address);
  }
  throw new IpamError(`no available IPv4 addresses on network ${network.name} (${network.subnet}): disconnect a container or use a larger --subnet`, 409);
}

/** The MAC of a container's interface, derived from its address as Docker did (02:42 then the four bytes). */
export function macForAddress(ip: string): string {
  const value = parseIpv4(ip);
  if (value === null) throw new IpamError(`invalid IPv4 address: ${ip}`);
  const bytes = [0x02, 0x42, value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The prefix length of a network's subnet ("172.18.0.0/16" → 16). */
export function prefixOf(network: Pick<NetworkState, 'subnet'>): number {
  return parseSubnet(network.subnet)!.prefix;
}
