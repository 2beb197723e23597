/**
 * Containers on networks: the start's network.v1 step, what an exit and a removal undo, and
 * `network connect` / `network disconnect`. Which network a container is on, with which address,
 * is only in the fold (ContainerNetworkConnected / ContainerNetworkDisconnected on the network's
 * stream, core/network/network-state.ts); the driver (network.v1) makes the host match.
 *
 * The model, as the brief of docs/networking.md says: a container holds its address on a network
 * from its first start (or `network connect`) until `network disconnect` or `rm`, across stops; a
 * stop takes its veth pair (gone with its namespace) and its published ports away, a start wires
 * them again with the same address. The networks a container asked for at create (`--network`,
 * NetworkingConfig) are connected at its first start; later starts wire what the fold holds.
 *
 * The start wires the namespace while the shim holds the container's init before its command runs
 * (ProcessSpec.beforeCommand): the step before the isolator plans and records the addresses,
 * publishes the ports (they only need the address) and writes /etc/hosts, /etc/hostname and
 * /etc/resolv.conf; the isolator binds those files and, at the hold, calls the step's `wire`,
 * which makes the veth pairs inside `/proc/<init pid>/ns/net`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import type { EndpointConfig, HostConfig, JsonValue, PublishedPort } from '../../events/index.js';
import { containerStream, networkStream } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { containerHostname, extraHostsFrom, hostnameFile, hostsFile, resolvConf } from '../network/container-files.js';
import { allocateAddress, IpamError, macForAddress } from '../network/ipam.js';
import { resolveName, type Endpoint, type NetworkState } from '../network/network-state.js';
import { portRequestsFrom, portsInUse, type PortBindingField } from '../network/published-ports.js';
import { specOfNetwork } from '../network/recovery.js';
import type { BindSpec, NetworkNamespace } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { NameSource, NetworkDriver, PortRequest } from '../plugins/network-driver.js';
import type { ContainerState, EngineState, ImageState } from '../state/engine-state.js';
import { ZERO_TIME } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { Journal } from './journal.js';
import { DEFAULT_BRIDGE } from './network-service.js';

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
  /** Makes the veth pairs in the held init's namespace (null: nothing to wire). */
  readonly wire: ((initPid: number) => Promise<void>) | null;
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

function isUserNetwork(network: Pick<NetworkState, 'name'>): boolean {
  return network.name !== DEFAULT_BRIDGE;
}

/**
 * Records the container's address on a network (ContainerNetworkConnected on the network's stream,
 * appended with the version the plan read: two connects racing for one address cannot both win;
 * the loser plans again). Returns the endpoint; a container already on it keeps its endpoint.
 */
export function connectEndpoint(ctx: EngineContext, containerId: string, networkId: string, config: Partial<EndpointConfig>): Promise<Endpoint> {
  // One connect per network at a time in this daemon: the version check stays as the guard, without thrashing.
  return ctx.serial(networkStream(networkId), () => connectLocked(ctx, containerId, networkId, config));
}

async function connectLocked(ctx: EngineContext, containerId: string, networkId: string, config: Partial<EndpointConfig>): Promise<Endpoint> {
  for (let attempt = 0; ; attempt++) {
    const state = ctx.state();
    const network = state.networks[networkId];
    if (!network) throw new NotFoundError(`network ${networkId} not found`);
    const held = network.endpoints[containerId];
    if (held) return held;
    const aliases = [...(config.Aliases ?? [])];
    if (aliases.length > 0 && !isUserNetwork(network)) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
    const wanted = config.IPv4Address !== undefined && config.IPv4Address !== '' ? config.IPv4Address : undefined;
    if (wanted !== undefined && !isUserNetwork(network)) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    let ip: string;
    try {
      ip = allocateAddress(network, containerId, wanted);
    } catch (err) {
      if (err instanceof IpamError) throw err.status === 409 ? new ConflictError(err.message) : new InvalidArgumentError(err.message);
      throw err;
    }
    const data = { network: network.id, id: containerId, ip, mac: macForAddress(ip), aliases, interface: nextInterface(state, containerId, network.id) };
    try {
      await ctx.store.append(networkStream(network.id), [{ type: 'ContainerNetworkConnected', data }], network.version);
    } catch (err) {
      if (err instanceof ConcurrencyError && attempt < 20) continue;
      throw err;
    }
    return ctx.state().networks[network.id]!.endpoints[containerId]!;
  }
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
          return { namespace: { mode: 'container', pid: other.pid }, endpoints: [], ports: [], connected: [], files: sharedFiles(containerFilesDir(ctx, other.id)), wire: null };
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
        if (ports.length > 0) await releaseNetworking(ctx, id, ports, journal).catch((e: unknown) => ctx.logger.warn(`undo of ${ctx.short(id)}'s ports: ${messageOf(e)}`));
        for (const n of connected.reverse()) await disconnectEndpoint(ctx, id, n).catch((e: unknown) => ctx.logger.warn(`undo of ${ctx.short(id)}'s connect: ${messageOf(e)}`));
      };
      try {
        if (c.startedAt === ZERO_TIME) {
          // First start: the networks it asked for at create, its --network first (eth0).
          const wanted: [string, Partial<EndpointConfig>][] = [[choice.ref, c.endpointsConfig?.[choice.ref] ?? {}]];
          for (const [ref, config] of Object.entries(c.endpointsConfig ?? {})) if (ref !== choice.ref) wanted.push([ref, config]);
          for (const [ref, config] of wanted) {
            const network = ctx.networks.find(ref);
            if (network.endpoints[id]) continue;
            await connectEndpoint(ctx, id, network.id, config);
            connected.push(network.id);
          }
        }
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
        const wire = endpoints.length === 0 ? null : async (initPid: number): Promise<void> => {
          for (const e of endpoints) {
            await driverOf(ctx, e.network).attach({
              containerId: id, network: specOfNetwork(e.network), netns: `/proc/${initPid}/ns/net`,
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

/** The container's own files (written at each start) as binds. */
function fileBinds(dir: string): BindSpec[] {
  return [
    { source: join(dir, 'hosts'), target: '/etc/hosts', readOnly: false },
    { source: join(dir, 'hostname'), target: '/etc/hostname', readOnly: false },
    { source: join(dir, 'resolv.conf'), target: '/etc/resolv.conf', readOnly: false },
  ];
}

/** --network container:NAME: the other container's files, as Docker shares them. */
function sharedFiles(dir: string): BindSpec[] {
  return fileBinds(dir).filter((b) => existsSync(b.source));
}

async function hostResolvConf(): Promise<string> {
  try {
    return await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

async function writeFiles(dir: string, c: ContainerState, endpoints: readonly WiredEndpoint[], primary: WiredEndpoint | null): Promise<BindSpec[]> {
  const hostname = containerHostname(c.id, c.config.Hostname);
  const gateway = primary?.network.gateway ?? '';
  const extraHosts = c.hostConfig.ExtraHosts ?? [];
  if (gateway === '' && extraHosts.some((h) => h.endsWith(':host-gateway'))) {
    throw new InvalidArgumentError('--add-host host-gateway needs a network with a gateway: not with --network none');
  }
  const resolver = primary && primary.network.dns ? primary.network.gateway : null;
  await Promise.all([
    writeFile(join(dir, 'hosts'), hostsFile({ hostname, addresses: endpoints.map((e) => e.endpoint.ip), extraHosts: extraHostsFrom(extraHosts, gateway) })),
    writeFile(join(dir, 'hostname'), hostnameFile(hostname)),
    writeFile(join(dir, 'resolv.conf'), resolvConf({
      host: await hostResolvConf(), dns: c.hostConfig.Dns ?? [], dnsSearch: c.hostConfig.DnsSearch ?? [],
      dnsOptions: c.hostConfig.DnsOptions ?? [], embeddedResolver: resolver,
    })),
  ]);
  return fileBinds(dir);
}

/** --network host: the host's own files, copied (as Docker). */
async function writeHostFiles(dir: string): Promise<BindSpec[]> {
  const read = async (path: string, fallback: string): Promise<string> => readFile(path, 'utf8').catch(() => fallback);
  await Promise.all([
    writeFile(join(dir, 'hosts'), await read('/etc/hosts', '127.0.0.1\tlocalhost\n')),
    writeFile(join(dir, 'hostname'), hostnameFile(hostHostname())),
    writeFile(join(dir, 'resolv.conf'), await hostResolvConf()),
  ]);
  return fileBinds(dir);
}

/**
 * Takes away what a running container had on the host: its published ports (ContainerPortsUnpublished,
 * through the journal when a start is undone, else appended) and its veth pairs (gone with its
 * namespace already, when it exited; detach is idempotent). Its addresses stay its own.
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
  for (const e of endpoints) {
    await driverOf(ctx, e.network).detach(id, specOfNetwork(e.network)).catch((err: unknown) => ctx.logger.warn(`detach of ${ctx.short(id)} from ${e.network.name}: ${messageOf(err)}`));
  }
}

/** The removal's network step: ports and veths released, every address given back, the /etc files deleted. */
export async function removeNetworking(ctx: EngineContext, id: string): Promise<void> {
  await releaseNetworking(ctx, id);
  for (const e of endpointsOf(ctx.state(), id)) await disconnectEndpoint(ctx, id, e.network.id);
  await rm(containerFilesDir(ctx, id), { recursive: true, force: true });
}

/** The networking part of a create, checked before anything exists (Docker's messages) and made ready to record. */
export function networkingForCreate(ctx: EngineContext, hc: Partial<HostConfig>, endpointsConfig: Readonly<Record<string, EndpointConfig>> | undefined): {
  hostConfig: Pick<HostConfig, 'NetworkMode' | 'PortBindings' | 'PublishAllPorts' | 'Dns' | 'DnsSearch' | 'DnsOptions' | 'ExtraHosts'>;
  endpointsConfig: Readonly<Record<string, EndpointConfig>> | undefined;
  warnings: string[];
} {
  const choice = networkChoice(hc);
  const warnings: string[] = [];
  const ports = Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts === true;
  // The docker CLI names the default network "default" in EndpointsConfig too; empty settings say nothing.
  const endpoints: Record<string, EndpointConfig> = {};
  for (const [ref, config] of Object.entries(endpointsConfig ?? {})) {
    const key = ref === 'default' ? DEFAULT_BRIDGE : ref;
    const primaryRef = choice.kind === 'network' ? choice.ref : undefined;
    if (config.Aliases.length === 0 && config.IPv4Address === '' && (key === primaryRef || choice.kind !== 'network')) continue;
    endpoints[key] = config;
  }
  if (choice.kind === 'container') {
    findContainer(ctx.state(), choice.ref); // Docker's "No such container" now, not at start
    if (ports) throw new InvalidArgumentError('conflicting options: port publishing and the container type network mode');
    if ((hc.Dns ?? []).length > 0 || (hc.DnsSearch ?? []).length > 0 || (hc.DnsOptions ?? []).length > 0) throw new InvalidArgumentError('conflicting options: dns and the network mode');
    if ((hc.ExtraHosts ?? []).length > 0) throw new InvalidArgumentError('conflicting options: custom host-to-IP mapping and the network mode');
  }
  if (choice.kind === 'host' && ports) warnings.push('Published ports are discarded when using host network mode');
  if (choice.kind !== 'network' && Object.keys(endpoints).length > 0) {
    throw new InvalidArgumentError(`container cannot be connected to network endpoints with --network ${hc.NetworkMode ?? ''}`);
  }
  if (choice.kind === 'network') {
    // The default bridge may be missing only on a host without a network driver (the container then gets lo only).
    const primary = ctx.networks.tryFind(choice.ref);
    if (!primary && !(choice.ref === DEFAULT_BRIDGE && !ctx.registry.get(DriverKinds.network))) throw new NotFoundError(`network ${choice.ref} not found`);
    for (const [ref, config] of Object.entries(endpoints)) {
      const network = ref === choice.ref ? primary : ctx.networks.find(ref);
      const user = network ? isUserNetwork(network) : false;
      if (config.Aliases.length > 0 && !user) throw new InvalidArgumentError('network-scoped alias is supported only for containers in user defined networks');
      if (config.IPv4Address !== '' && !user) throw new InvalidArgumentError('user specified IP address is supported on user defined networks only');
    }
    try {
      portRequestsFrom(hc.PortBindings ?? {});
    } catch (err) {
      throw new InvalidArgumentError(messageOf(err));
    }
  }
  const given = hc.NetworkMode ?? '';
  const mode = given === '' || given === 'default' ? DEFAULT_BRIDGE : given;
  const list = (v: readonly string[] | undefined): readonly string[] | undefined => (v && v.length > 0 ? [...v] : undefined);
  const keep = choice.kind === 'network';
  const hostConfig = {
    NetworkMode: mode,
    ...(keep && hc.PortBindings && Object.keys(hc.PortBindings).length > 0 ? { PortBindings: hc.PortBindings } : {}),
    ...(keep && hc.PublishAllPorts ? { PublishAllPorts: true } : {}),
    ...(list(hc.Dns) ? { Dns: list(hc.Dns)! } : {}),
    ...(list(hc.DnsSearch) ? { DnsSearch: list(hc.DnsSearch)! } : {}),
    ...(list(hc.DnsOptions) ? { DnsOptions: list(hc.DnsOptions)! } : {}),
    ...(list(hc.ExtraHosts) ? { ExtraHosts: list(hc.ExtraHosts)! } : {}),
  };
  return { hostConfig, endpointsConfig: Object.keys(endpoints).length > 0 ? endpoints : undefined, warnings };
}

/** Whether the container has a network namespace of its own that networks can be connected to. */
function connectable(c: ContainerState): void {
  const choice = networkChoice(c.hostConfig);
  if (choice.kind === 'host') throw new InvalidArgumentError('container cannot be disconnected from host network or connected to host network');
  if (choice.kind === 'container' || choice.kind === 'none') {
    throw new InvalidArgumentError(`container sharing network namespace with another container or host cannot be connected to any other network (--network ${c.hostConfig.NetworkMode ?? ''})`);
  }
}

/**
 * `network connect`: the container gets an address on the network (recorded at once, running or
 * not); a running one gets its veth pair now, in its namespace, on the next free ethN.
 */
export async function connectContainer(ctx: EngineContext, networkRef: string, containerRef: string, config: Partial<EndpointConfig>): Promise<void> {
  const network = ctx.networks.find(networkRef);
  const c = findContainer(ctx.state(), containerRef);
  await ctx.serial(c.id, async () => {
    const now = findContainer(ctx.state(), c.id);
    connectable(now);
    if (network.endpoints[now.id] || ctx.state().networks[network.id]?.endpoints[now.id]) {
      throw new ForbiddenError(`endpoint with name ${now.name} already exists in network ${network.name}`);
    }
    const driver = driverOf(ctx, network);
    const endpoint = await connectEndpoint(ctx, now.id, network.id, config);
    if (now.status !== 'running' && now.status !== 'paused') return;
    try {
      const current = ctx.state().networks[network.id]!;
      if (!existsSync(`/sys/class/net/${current.bridge}`)) await driver.ensureNetwork(specOfNetwork(current));
      await driver.attach({
        containerId: now.id, network: specOfNetwork(current), netns: `/proc/${now.pid}/ns/net`,
        interface: endpoint.interface, ip: endpoint.ip, mac: endpoint.mac, defaultRoute: false,
      });
    } catch (err) {
      await disconnectEndpoint(ctx, now.id, network.id).catch(() => undefined);
      throw err;
    }
  });
}

/**
 * `network disconnect`: a running container loses its veth pair on the network (and its ports, when
 * they were published on it), then the address goes back to the pool. `force` also disconnects a
 * container that is gone (an endpoint left by a crash).
 */
export async function disconnectContainer(ctx: EngineContext, networkRef: string, containerRef: string, force: boolean): Promise<void> {
  const network = ctx.networks.find(networkRef);
  let target: ContainerState | undefined;
  try {
    target = findContainer(ctx.state(), containerRef);
  } catch (err) {
    if (!force) throw err;
  }
  if (!target) {
    // Forced, and no such container: an endpoint whose container id starts with the ref.
    const stale = Object.keys(network.endpoints).find((id) => id.startsWith(containerRef));
    if (!stale) throw new NotFoundError(`No such container: ${containerRef}`);
    await disconnectEndpoint(ctx, stale, network.id);
    return;
  }
  const id = target.id;
  await ctx.serial(id, async () => {
    const now = ctx.state().containers[id];
    if (!now) return;
    const current = ctx.state().networks[network.id];
    if (!current?.endpoints[now.id]) throw new ForbiddenError(`container ${now.id} is not connected to network ${network.name}`);
    if (now.status === 'running' || now.status === 'paused') {
      const driver = driverOf(ctx, current);
      const published = ctx.state().published[now.id];
      if (published?.network === current.id) {
        await driver.unpublish(now.id, current.endpoints[now.id]!.ip, published.ports);
        await ctx.append(now, [{ type: 'ContainerPortsUnpublished', data: { id: now.id } }]);
      }
      await driver.detach(now.id, specOfNetwork(current));
    }
    await disconnectEndpoint(ctx, now.id, current.id);
  });
}

/**
 * The embedded resolvers' names, from the fold: on a user network, the running containers on it by
 * name, alias and short id (a stopped container keeps its address but answers no name, as Docker's
 * endpoint goes with its sandbox). Given once to every network driver, at daemon start.
 */
export function serveContainerNames(ctx: EngineContext): void {
  const source: NameSource = {
    lookup: (networkId, name, from) => {
      const state = ctx.state();
      const asked = state.networks[networkId];
      if (!asked) return [];
      const running = (id: string): boolean => state.containers[id]?.status === 'running' || state.containers[id]?.status === 'paused';
      const namesOn = (network: NetworkState): readonly string[] =>
        resolveName(network, name, (id) => (running(id) ? state.containers[id]?.name : undefined))
          .filter((ip) => Object.values(network.endpoints).some((e) => e.ip === ip && running(e.containerId)));
      const here = namesOn(asked);
      if (here.length > 0 || from === undefined) return here;
      // The asker's other user networks (it asks the resolver of its first network for all of them).
      const asker = Object.values(asked.endpoints).find((e) => e.ip === from)?.containerId;
      if (!asker) return [];
      for (const network of Object.values(state.networks)) {
        if (network.id === asked.id || !network.endpoints[asker]) continue;
        const found = namesOn(network);
        if (found.length > 0) return found;
      }
      return [];
    },
  };
  for (const driver of ctx.registry.allOf(DriverKinds.network)) driver.serveNames(source);
}
