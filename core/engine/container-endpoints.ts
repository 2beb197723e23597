/**
 * A container's endpoints, the part the start's network step (container-network-attach.ts), the
 * release at exit and rm (container-network-release.ts) and the commands `network connect` /
 * `disconnect` (network-commands.ts) share: `--network` as the engine reads it, the driver of a
 * network, where a container's /etc files live, the networks it holds an address on, and the
 * locked connect, release and disconnect of one endpoint. Which network a container is on, with
 * which address, is only in the fold (ContainerNetworkConnected / ContainerNetworkReleased /
 * ContainerNetworkDisconnected on the network's stream, core/network/network-state.ts); the driver
 * (network.v1) makes the host match.
 *
 * The model, as docs/networking.md says: a container is connected to a network from its first
 * start (or `network connect`) until `network disconnect` or `rm`, and holds an address there only
 * while it runs, as Docker: an exit takes its veth pair (gone with its namespace), its published
 * ports and its addresses (ContainerNetworkReleased), a start gets an address again on every
 * network it is connected to (its --ip, else its last one when free) and wires it. The networks a
 * container asked for at create (`--network`, NetworkingConfig) are connected at its first start.
 */
import { join } from 'node:path';
import type { EndpointConfig, HostConfig } from '../../events/index.js';
import { networkStream } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { allocateAddress, IpamError, macForAddress } from '../network/ipam.js';
import { type Endpoint, type NetworkState } from '../network/network-state.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { NetworkDriver } from '../plugins/network-driver.js';
import type { EngineState } from '../state/engine-state.js';
import { ZERO_TIME } from '../state/engine-state.js';
import type { EngineContext } from './engine-context.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from './errors.js';
import { DEFAULT_BRIDGE } from './network-rules.js';

/** What `--network` says, read from HostConfig.NetworkMode. */
export type NetworkChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'host' }
  | { readonly kind: 'container'; readonly ref: string }
  /** The default bridge or a user network, by name or id. */
  | { readonly kind: 'network'; readonly ref: string };

export function networkChoice(hostConfig: Pick<HostConfig, 'NetworkMode'>): NetworkChoice {
  const mode = hostConfig.NetworkMode ?? '';
  if (mode === '' || mode === 'default') return { kind: 'network', ref: DEFAULT_BRIDGE };
  if (mode === 'none' || mode === 'host') return { kind: mode };
  if (mode.startsWith('container:')) return { kind: 'container', ref: mode.slice('container:'.length) };
  return { kind: 'network', ref: mode };
}

/** One endpoint the start wires: the network, and the container's interface and address on it. */
export interface WiredEndpoint {
  readonly network: NetworkState;
  readonly endpoint: Endpoint;
}

/** The network driver that runs a network (its NetworkCreated names the driver). */
export function driverOf(ctx: EngineContext, network: Pick<NetworkState, 'driver' | 'name'>): NetworkDriver {
  const found = ctx.registry.allOf(DriverKinds.network).find((d) => d.id === `${DriverKinds.network}.${network.driver}`);
  if (!found) throw new ConflictError(`network ${network.name} needs the network driver ${network.driver}: ${ctx.registry.whyMissing(DriverKinds.network)}`);
  return found;
}

/** Where a container's /etc files live: `<data root>/containers/<id>/`. */
export function containerFilesDir(ctx: EngineContext, id: string): string {
  return join(ctx.infoBase.dataRoot, 'containers', id);
}

/** The networks a container holds an address on, eth0 first. */
export function endpointsOf(state: EngineState, id: string): WiredEndpoint[] {
  const out: WiredEndpoint[] = [];
  for (const network of Object.values(state.networks)) {
    const endpoint = network.endpoints[id];
    if (endpoint) out.push({ network, endpoint });
  }
  return out.sort((a, b) => interfaceIndex(a.endpoint.interface) - interfaceIndex(b.endpoint.interface));
}

function interfaceIndex(name: string): number {
  const m = /^eth(\d+)$/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/**
 * The lowest ethN the container does not use yet. A container that never started keeps eth0 for
 * its --network (connected at its first start) when another network is connected before that.
 */
function nextInterface(state: EngineState, id: string, networkId: string): string {
  const used = new Set(endpointsOf(state, id).map((e) => e.endpoint.interface));
  const c = state.containers[id];
  if (c && c.startedAt === ZERO_TIME) {
    const choice = networkChoice(c.hostConfig);
    const primary = choice.kind === 'network' ? Object.values(state.networks).find((n) => n.id === choice.ref || n.name === choice.ref) : undefined;
    if (primary && primary.id !== networkId && !primary.endpoints[id]) used.add('eth0');
  }
  for (let n = 0; ; n++) if (!used.has(`eth${n}`)) return `eth${n}`;
}

export function isUserNetwork(network: Pick<NetworkState, 'name'>): boolean {
  return network.name !== DEFAULT_BRIDGE;
}

/**
 * Gives the container an address on a network (ContainerNetworkConnected on the network's stream,
 * appended with the version the plan read: two connects racing for one address cannot both win;
 * the loser plans again). Returns the endpoint; a container holding an address there keeps it. A
 * container connected already but holding none (stopped since) gets one again with its aliases,
 * interface and --ip, its last address when that is free. With `hold: false` (a `network connect`
 * of a container that does not run) it is recorded as connected without holding the address
 * (`held: false`, no Docker event): it gets an address when it starts.
 */
/** The key of `EngineContext.draining` for an address on a network. */
export function drainingKey(networkId: string, ip: string): string {
  return `${networkId} ${ip}`;
}

/** The addresses draining on `networkId` (EngineContext.draining), by the container that gave each back. */
function drainingOn(ctx: EngineContext, networkId: string): Map<string, string> {
  const out = new Map<string, string>();
  const prefix = drainingKey(networkId, '');
  for (const [key, entry] of ctx.draining) if (key.startsWith(prefix)) out.set(key.slice(prefix.length), entry.containerId);
  return out;
}

export async function connectEndpoint(ctx: EngineContext, containerId: string, networkId: string, config: Partial<EndpointConfig>, hold = true): Promise<Endpoint> {
  for (;;) {
    // One connect per network at a time in this daemon: the version check stays as the guard, without thrashing.
    const outcome = await ctx.serial(networkStream(networkId), () => connectLocked(ctx, containerId, networkId, config, hold));
    if (outcome.kind === 'connected') return outcome.endpoint;
    // A draining address asked for by --ip is waited for OUTSIDE the network's lock: the exit that
    // drains it may need that lock before its pair's deletion settles (an AutoRemove container's
    // removal disconnects it from the network), so waiting under the lock could wait forever.
    await outcome.settled;
  }
}

/** What one try of a connect under the network's lock came to. */
type ConnectOutcome = { readonly kind: 'connected'; readonly endpoint: Endpoint } | { readonly kind: 'wait'; readonly settled: Promise<void> };

async function connectLocked(ctx: EngineContext, containerId: string, networkId: string, config: Partial<EndpointConfig>, hold: boolean): Promise<ConnectOutcome> {
  for (let attempt = 0; ; attempt++) {
    const state = ctx.state();
    const network = state.networks[networkId];
    if (!network) throw new NotFoundError(`network ${networkId} not found`);
    const known = network.endpoints[containerId];
    if (known?.held) return { kind: 'connected', endpoint: known };
    const aliases = [...(config.Aliases ?? known?.aliases ?? [])];
    if (aliases.length > 0 && !isUserNetwork(network)) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
    const given = config.IPv4Address !== undefined && config.IPv4Address !== '' ? config.IPv4Address : undefined;
    const wanted = given ?? known?.requestedIp;
    if (wanted !== undefined && !isUserNetwork(network)) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    // Addresses an exit gave back whose old pair is still on the bridge: none is given to this
    // container meanwhile; one it asks for by --ip is waited for (the old pair's deletion settles),
    // by connectEndpoint, after this try has let go of the network's lock.
    const draining = drainingOn(ctx, network.id);
    const waitFor = wanted !== undefined ? ctx.draining.get(drainingKey(network.id, wanted)) : undefined;
    if (waitFor && waitFor.containerId !== containerId) return { kind: 'wait', settled: waitFor.settled };
    let ip: string;
    try {
      ip = allocateAddress(network, containerId, wanted, draining);
    } catch (err) {
      if (err instanceof IpamError) throw err.status === 409 ? new ConflictError(err.message) : new InvalidArgumentError(err.message);
      throw err;
    }
    const data = {
      network: network.id, id: containerId, ip, mac: macForAddress(ip), aliases,
      interface: known?.interface ?? nextInterface(state, containerId, network.id), ...(wanted !== undefined ? { requestedIp: wanted } : {}),
      ...(hold ? {} : { held: false as const }),
    };
    try {
      await ctx.store.append(networkStream(network.id), [{ type: 'ContainerNetworkConnected', data }], network.version);
    } catch (err) {
      if (err instanceof ConcurrencyError && attempt < 20) continue;
      throw err;
    }
    return { kind: 'connected', endpoint: ctx.state().networks[network.id]!.endpoints[containerId]! };
  }
}

/** ContainerNetworkReleased on the network's stream: the address goes back to the pool, the container stays connected; a no-op when it holds none. */
export function releaseEndpoint(ctx: EngineContext, containerId: string, networkId: string): Promise<void> {
  return ctx.serial(networkStream(networkId), async () => {
    for (let attempt = 0; ; attempt++) {
      const network = ctx.state().networks[networkId];
      if (!network?.endpoints[containerId]?.held) return;
      try {
        await ctx.store.append(networkStream(network.id), [{ type: 'ContainerNetworkReleased', data: { network: network.id, id: containerId } }], network.version);
        return;
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < 20) continue;
        throw err;
      }
    }
  });
}

/** ContainerNetworkDisconnected on the network's stream (the address goes back to the pool); a no-op when not connected. */
export function disconnectEndpoint(ctx: EngineContext, containerId: string, networkId: string): Promise<void> {
  return ctx.serial(networkStream(networkId), () => disconnectLocked(ctx, containerId, networkId));
}

async function disconnectLocked(ctx: EngineContext, containerId: string, networkId: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const network = ctx.state().networks[networkId];
    if (!network?.endpoints[containerId]) return;
    try {
      await ctx.store.append(networkStream(network.id), [{ type: 'ContainerNetworkDisconnected', data: { network: network.id, id: containerId } }], network.version);
      return;
    } catch (err) {
      if (err instanceof ConcurrencyError && attempt < 20) continue;
      throw err;
    }
  }
}
