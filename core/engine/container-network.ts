/**
 * Containers on networks: the start's network.v1 step, what an exit and a removal undo, and the
 * locked connect and disconnect of one endpoint (the commands `network connect` / `disconnect`,
 * the create's checks and the names served are in network-commands.ts; the /etc files in
 * container-etc-files.ts). Which network a container is on, with which address,
 * is only in the fold (ContainerNetworkConnected / ContainerNetworkReleased /
 * ContainerNetworkDisconnected on the network's stream, core/network/network-state.ts); the driver
 * (network.v1) makes the host match.
 *
 * The model, as docs/networking.md says: a container is connected to a network from its first
 * start (or `network connect`) until `network disconnect` or `rm`, and holds an address there only
 * while it runs, as Docker: an exit takes its veth pair (gone with its namespace), its published
 * ports and its addresses (ContainerNetworkReleased), a start gets an address again on every
 * network it is connected to (its --ip, else its last one when free) and wires it. The networks a
 * container asked for at create (`--network`, NetworkingConfig) are connected at its first start.
 *
 * The start wires the namespace while the shim holds the container's init before its command runs
 * (ProcessSpec.beforeCommand): the step before the isolator plans and records the addresses,
 * publishes the ports (they only need the address) and writes /etc/hosts, /etc/hostname and
 * /etc/resolv.conf; the isolator binds those files and, at the hold, calls the step's `wire`,
 * which makes the veth pairs inside the init's namespace (named by its pid, checked to be the
 * shim's child, so that a pid reused since cannot lead the pair elsewhere).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EndpointConfig, EngineEvent, HostConfig, JsonValue, PublishedPort } from '../../events/index.js';
import { containerStream, networkStream } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { allocateAddress, IpamError, macForAddress } from '../network/ipam.js';
import { type Endpoint, type NetworkState } from '../network/network-state.js';
import { portRequestsFrom, portsInUse, type PortBindingField } from '../network/published-ports.js';
import { specOfNetwork } from '../network/recovery.js';
import type { BindSpec, NetworkNamespace } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { NetworkDriver, PortRequest } from '../plugins/network-driver.js';
import type { ContainerState, EngineState, ImageState } from '../state/engine-state.js';
import { ZERO_TIME } from '../state/engine-state.js';
import { findContainer, tryFindContainer } from '../state/lookup.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ConflictError, InvalidArgumentError, NetworkGoneError, NotFoundError } from './errors.js';
import type { Journal } from './journal.js';
import { DEFAULT_BRIDGE } from './network-service.js';
import { sharedFiles, writeFiles, writeHostFiles } from './container-etc-files.js';

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

/** The network step's output (start-pipeline.ts StepOutputs['network.v1']). */
export interface NetworkStepOutput {
  /** The network namespace the isolator gives the container. */
  readonly namespace: NetworkNamespace;
  /** Its endpoints, eth0 first. */
  readonly endpoints: readonly WiredEndpoint[];
  /** Published ports as installed (ContainerPortsPublished recorded them). */
  readonly ports: readonly PublishedPort[];
  /** Networks this start connected (their ContainerNetworkConnected is new): an undo disconnects them. */
  readonly connected: readonly string[];
  /** /etc/hosts, /etc/hostname, /etc/resolv.conf for the isolator to bind. */
  readonly files: readonly BindSpec[];
  /** Makes the veth pairs in the held init's namespace, the init checked by its parent the shim (null: nothing to wire). */
  readonly wire: ((initPid: number, shimPid: number) => Promise<void>) | null;
}

/** What the step's event records of its output. */
export function recordedNetworkOutput(out: NetworkStepOutput): JsonValue {
  return {
    namespace: out.namespace.mode,
    endpoints: out.endpoints.map((e) => ({ network: e.network.id, interface: e.endpoint.interface, ip: e.endpoint.ip })),
    ports: out.ports.map((p) => ({ containerPort: p.containerPort, protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort })),
  };
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
export function connectEndpoint(ctx: EngineContext, containerId: string, networkId: string, config: Partial<EndpointConfig>, hold = true): Promise<Endpoint> {
  // One connect per network at a time in this daemon: the version check stays as the guard, without thrashing.
  return ctx.serial(networkStream(networkId), () => connectLocked(ctx, containerId, networkId, config, hold));
}

async function connectLocked(ctx: EngineContext, containerId: string, networkId: string, config: Partial<EndpointConfig>, hold: boolean): Promise<Endpoint> {
  for (let attempt = 0; ; attempt++) {
    const state = ctx.state();
    const network = state.networks[networkId];
    if (!network) throw new NotFoundError(`network ${networkId} not found`);
    const known = network.endpoints[containerId];
    if (known?.held) return known;
    const aliases = [...(config.Aliases ?? known?.aliases ?? [])];
    if (aliases.length > 0 && !isUserNetwork(network)) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
    const given = config.IPv4Address !== undefined && config.IPv4Address !== '' ? config.IPv4Address : undefined;
    const wanted = given ?? known?.requestedIp;
    if (wanted !== undefined && !isUserNetwork(network)) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    let ip: string;
    try {
      ip = allocateAddress(network, containerId, wanted);
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
    return ctx.state().networks[network.id]!.endpoints[containerId]!;
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

/** `-p` and `-P` as the driver's requests: PortBindings, then every other exposed port on a random host port with -P. */
export function portRequestsOf(c: Pick<ContainerState, 'hostConfig' | 'config'>, image: Pick<ImageState, 'config'> | undefined): PortRequest[] {
  const bindings: Record<string, readonly PortBindingField[] | null> = { ...(c.hostConfig.PortBindings ?? {}) };
  if (c.hostConfig.PublishAllPorts) {
    const exposed = { ...(image?.config.ExposedPorts ?? {}), ...(c.config.ExposedPorts ?? {}) };
    for (const key of Object.keys(exposed)) {
      const normal = key.includes('/') ? key : `${key}/tcp`;
      if (!(normal in bindings)) bindings[normal] = [{ HostIp: '', HostPort: '' }];
    }
  }
  return portRequestsFrom(bindings);
}

/** A network the container named at create, found by that name; gone (removed since): NetworkGoneError. */
function networkNamedAtCreate(ctx: EngineContext, ref: string): NetworkState {
  try {
    return ctx.networks.find(ref);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NetworkGoneError(err.message);
    throw err;
  }
}

/**
 * The network.v1 step of a start. `run` resolves the namespace, connects the networks the
 * container asked for at its first start, publishes its ports and writes its /etc files; the
 * isolator calls `wire` at the shim's hold. `undo` unpublishes, detaches, and disconnects what
 * this start connected.
 */
export function networkStep(ctx: EngineContext, c: ContainerState, image: ImageState | undefined, journal: Journal): {
  readonly driverId: string | null;
  run(): Promise<NetworkStepOutput>;
  undo(out: NetworkStepOutput): Promise<void>;
} {
  const id = c.id;
  const choice = networkChoice(c.hostConfig);
  const driver = ctx.registry.get(DriverKinds.network);
  const usesDriver = choice.kind === 'network' && driver !== undefined;
  return {
    driverId: usesDriver ? driver.id : null,
    run: async () => {
      // A network removed while it was stopped (Docker keeps it in its settings): no start until `network disconnect` of it.
      const removed = c.removedNetworks?.[0];
      if (removed) throw new NetworkGoneError(`network ${removed.id} not found`);
      const dir = containerFilesDir(ctx, id);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      switch (choice.kind) {
        case 'none':
          return { namespace: { mode: 'new' }, endpoints: [], ports: [], connected: [], files: await writeFiles(dir, c, [], null), wire: null };
        case 'host':
          return { namespace: { mode: 'host' }, endpoints: [], ports: [], connected: [], files: await writeHostFiles(dir), wire: null };
        case 'container': {
          const other = findContainer(ctx.state(), choice.ref);
          if (other.status !== 'running' && other.status !== 'paused') throw new ConflictError(`cannot join network of a non running container: ${other.name}`);
          return { namespace: { mode: 'container', pid: other.pid, parent: other.shimPid }, endpoints: [], ports: [], connected: [], files: sharedFiles(containerFilesDir(ctx, other.id)), wire: null };
        }
        case 'network':
          break;
      }
      if (!driver) {
        // A host without a usable network driver (no nftables, not root): the container gets lo only, and the log says why.
        ctx.logger.warn(`container ${ctx.short(id)} runs without a network: ${ctx.registry.whyMissing(DriverKinds.network)}`);
        return { namespace: { mode: 'new' }, endpoints: [], ports: [], connected: [], files: await writeFiles(dir, c, [], null), wire: null };
      }
      const connected: string[] = [];
      let ports: readonly PublishedPort[] = [];
      const undoPartial = async (): Promise<void> => {
        await releaseNetworking(ctx, id, ports, journal).catch((e: unknown) => ctx.logger.warn(`undo of ${ctx.short(id)}'s network: ${messageOf(e)}`));
        for (const n of connected.reverse()) await disconnectEndpoint(ctx, id, n).catch((e: unknown) => ctx.logger.warn(`undo of ${ctx.short(id)}'s connect: ${messageOf(e)}`));
      };
      try {
        if (c.startedAt === ZERO_TIME) {
          // First start: the networks it asked for at create, its --network first (eth0).
          const wanted: [string, Partial<EndpointConfig>][] = [[choice.ref, c.endpointsConfig?.[choice.ref] ?? {}]];
          for (const [ref, config] of Object.entries(c.endpointsConfig ?? {})) if (ref !== choice.ref) wanted.push([ref, config]);
          for (const [ref, config] of wanted) {
            const network = networkNamedAtCreate(ctx, ref);
            if (network.endpoints[id]) continue;
            await connectEndpoint(ctx, id, network.id, config);
            connected.push(network.id);
          }
        }
        // Every network it is connected to and holds no address on (it exited since, or was connected while stopped): an address again, its last one when free.
        for (const e of endpointsOf(ctx.state(), id)) if (!e.endpoint.held) await connectEndpoint(ctx, id, e.network.id, {});
        const endpoints = endpointsOf(ctx.state(), id);
        for (const e of endpoints) {
          if (!existsSync(`/sys/class/net/${e.network.bridge}`)) await driverOf(ctx, e.network).ensureNetwork(specOfNetwork(e.network));
        }
        const primary = endpoints[0];
        const requests = portRequestsOf(c, image);
        if (primary && requests.length > 0) {
          ports = await driverOf(ctx, primary.network).publish(id, primary.endpoint.ip, requests, portsInUse(ctx.state(), id));
          journal.record([{ type: 'ContainerPortsPublished', data: { id, network: primary.network.id, ports } }]);
        }
        const files = await writeFiles(dir, c, endpoints, primary ?? null);
        const wire = endpoints.length === 0 ? null : async (initPid: number, shimPid: number): Promise<void> => {
          for (const e of endpoints) {
            await driverOf(ctx, e.network).attach({
              containerId: id, network: specOfNetwork(e.network), netns: { pid: initPid, parent: shimPid },
              interface: e.endpoint.interface, ip: e.endpoint.ip, mac: e.endpoint.mac, defaultRoute: e === primary,
            });
          }
        };
        return { namespace: { mode: 'new' }, endpoints, ports, connected, files, wire };
      } catch (err) {
        await undoPartial();
        throw err;
      }
    },
    undo: async (out) => {
      await releaseNetworking(ctx, id, out.ports, journal);
      for (const n of [...out.connected].reverse()) await disconnectEndpoint(ctx, id, n);
    },
  };
}

/**
 * Takes away what a running container had: its published ports (ContainerPortsUnpublished, through
 * the journal when a start is undone, else appended), its veth pairs (gone with its namespace
 * already, when it exited; detach is idempotent), then its addresses (ContainerNetworkReleased on
 * each network: back to the pool, as Docker releases them at stop; it stays connected, and its
 * --ip stays reserved).
 */
export async function releaseNetworking(ctx: EngineContext, id: string, ports?: readonly PublishedPort[], journal?: Journal): Promise<void> {
  const state = ctx.state();
  const published = state.published[id];
  const endpoints = endpointsOf(state, id);
  const toUnpublish = ports ?? published?.ports ?? [];
  if (toUnpublish.length > 0 || published) {
    const network = published ? state.networks[published.network] : endpoints[0]?.network;
    const ip = network?.endpoints[id]?.ip;
    if (network && ip && toUnpublish.length > 0) await driverOf(ctx, network).unpublish(id, ip, toUnpublish);
    if (journal) {
      if (ports && ports.length > 0) journal.record([{ type: 'ContainerPortsUnpublished', data: { id } }]);
    } else if (published) {
      const c = ctx.state().containers[id];
      if (c) await ctx.append(c, [{ type: 'ContainerPortsUnpublished', data: { id } }]);
      else await ctx.store.append(containerStream(id), [{ type: 'ContainerPortsUnpublished', data: { id } }], 'any');
    }
  }
  // Every endpoint, also one that holds no address: the exit asked for its pair's deletion without
  // waiting, and one that failed is retried here (a detach of a pair that is gone is a no-op).
  for (const e of endpoints) {
    await driverOf(ctx, e.network).detach(id, specOfNetwork(e.network)).catch((err: unknown) => ctx.logger.warn(`detach of ${ctx.short(id)} from ${e.network.name}: ${messageOf(err)}`));
  }
  for (const e of endpoints) if (e.endpoint.held) await releaseEndpoint(ctx, id, e.network.id);
}

/** What an exit released of a container's network, for its record: the events on its own stream, and the networks whose address it gave back. */
export interface ExitNetworkRelease {
  readonly containerEvents: readonly EngineEvent[];
  readonly networks: readonly string[];
}

/**
 * The network part of an exit, on the host: its published ports unpublished (one nft transaction),
 * and the deletion of its veth pairs asked of the driver without waiting for it. A pair whose
 * namespace died with the container's last process is deleted by the kernel itself, and either
 * deletion waits for the kernel's RCU grace periods (tens of milliseconds on an idle host): the
 * exit's record (and a `stop`) does not wait for that. Nothing is reused too early: the address
 * lived in the dead namespace, and the host end's name, which a start of the same container makes
 * again, is taken back by the attach if the old pair is still there (docs/networking.md). A daemon
 * that dies first finds the pair in its recovery (`list()`: a veth of a container that does not
 * run) and deletes it. One exception: while another container runs in this one's namespace
 * (`--network container:`), the namespace and the addresses in it live on, so the exit waits for
 * the deletions, and an address whose deletion failed is not released (rm detaches and releases
 * it). Returns the events that record the release, appended by the exit's record with
 * ContainerExited (usually in the same commit, engine-context.ts appendDecided):
 * ContainerPortsUnpublished on the container's stream, and ContainerNetworkReleased on each network
 * whose address it gives back (`appendNetworkReleases`).
 */
export async function releaseNetworkAtExit(ctx: EngineContext, id: string): Promise<ExitNetworkRelease> {
  const state = ctx.state();
  const published = state.published[id];
  const endpoints = endpointsOf(state, id);
  if (published && published.ports.length > 0) {
    const network = state.networks[published.network];
    const ip = network?.endpoints[id]?.ip;
    if (network && ip) await driverOf(ctx, network).unpublish(id, ip, published.ports);
  }
  const held = endpoints.filter((e) => e.endpoint.held);
  const detaches = held.map((e) => driverOf(ctx, e.network).detach(id, specOfNetwork(e.network)).then(() => true, (err: unknown) => {
    ctx.logger.warn(`detach of ${ctx.short(id)} from ${e.network.name}: ${messageOf(err)} (rm tries again)`);
    return false;
  }));
  // A container still running in this one's namespace (--network container:) keeps it, its
  // interfaces and addresses alive: an address is given back only once its pair is deleted.
  const detached = namespaceSharedWith(state, id) ? await Promise.all(detaches) : held.map(() => true);
  return {
    containerEvents: published ? [{ type: 'ContainerPortsUnpublished', data: { id } }] : [],
    networks: held.filter((_e, i) => detached[i]).map((e) => e.network.id),
  };
}

/** Whether a running or paused container other than `id` runs in `id`'s network namespace (`--network container:<id>`). */
function namespaceSharedWith(state: EngineState, id: string): boolean {
  return Object.values(state.containers).some((c) => {
    if (c.id === id || (c.status !== 'running' && c.status !== 'paused')) return false;
    const choice = networkChoice(c.hostConfig);
    if (choice.kind !== 'container') return false;
    try {
      return tryFindContainer(state, choice.ref)?.id === id;
    } catch {
      return false; // an ambiguous reference names no one container
    }
  });
}

/**
 * ContainerNetworkReleased on each network, appended at once and without a version check: a
 * release only gives an address back, so it cannot conflict (a connect that planned on the
 * version before it is refused and plans again), and appends issued in the same tick share one
 * commit of the file log, so the exit's record issues these beside its ContainerExited (one commit
 * unless the exit's own append is refused as a version conflict: then they commit first, alone).
 */
export function appendNetworkReleases(ctx: EngineContext, id: string, networks: readonly string[]): Promise<unknown>[] {
  return networks.map((network) => ctx.store.append(networkStream(network), [{ type: 'ContainerNetworkReleased', data: { network, id } }], 'any'));
}

/** The removal's network step: ports and veths released, every address given back, the /etc files deleted. */
export async function removeNetworking(ctx: EngineContext, id: string): Promise<void> {
  await releaseNetworking(ctx, id);
  for (const e of endpointsOf(ctx.state(), id)) await disconnectEndpoint(ctx, id, e.network.id);
  await rm(containerFilesDir(ctx, id), { recursive: true, force: true });
}

