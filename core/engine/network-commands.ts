/**
 * The network parts of the container commands: what a create records of `--network`, `-p` and
 * NetworkingConfig (checked before anything exists), `network connect` / `network disconnect` of a
 * container, and the names the embedded resolvers answer with (a lookup over the fold). The start's
 * network step is in container-network-attach.ts, what an exit and a removal release in
 * container-network-release.ts, the locked connect and disconnect of one endpoint in
 * container-endpoints.ts.
 */
import { existsSync } from 'node:fs';
import { networkStream, type EndpointConfig, type HostConfig } from '../../events/index.js';
import { aliasProblem, hostsWithEntry, hostsWithoutAddress } from '../network/container-files.js';
import { resolveName, type NetworkState } from '../network/network-state.js';
import { portRequestsFrom } from '../network/published-ports.js';
import { specOfNetwork } from '../network/recovery.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { NameSource } from '../plugins/network-driver.js';
import type { ContainerState } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from './errors.js';
import { DEFAULT_BRIDGE } from './network-rules.js';
import { connectEndpoint, disconnectEndpoint, driverOf, isUserNetwork, networkChoice } from './container-endpoints.js';
import { editRunningHosts } from './running-hosts.js';

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
    refuseBadAliases(config.Aliases);
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

/** A 400 naming the first alias that is no DNS name (container-files.ts aliasProblem): never a line or a name injected into /etc/hosts or the resolver. */
function refuseBadAliases(aliases: readonly string[] | undefined): void {
  for (const alias of aliases ?? []) {
    const problem = aliasProblem(alias);
    if (problem !== null) throw new InvalidArgumentError(problem);
  }
}

/** Whether the container has a network namespace of its own that networks can be connected to. */
function connectable(c: ContainerState): void {
  const choice = networkChoice(c.hostConfig);
  if (choice.kind === 'host') throw new InvalidArgumentError('container cannot be disconnected from host network or connected to host network');
  if (choice.kind === 'container' || choice.kind === 'none') {
    throw new InvalidArgumentError(`container sharing network namespace with another container or host cannot be connected to any other network (--network ${c.hostConfig.NetworkMode ?? ''})`);
  }
}

/** Docker's refusals for `network connect|disconnect host|none` (moby's ErrConflictHostNetwork, ErrConflictNoNetwork). */
function modeNetworkRefusal(name: 'host' | 'none'): InvalidArgumentError {
  return new InvalidArgumentError(name === 'host'
    ? 'container cannot be disconnected from host network or connected to host network'
    : 'container cannot be connected to multiple networks with one of the networks in private mode');
}

/**
 * `network connect`: the container is connected to the network (recorded at once, running or not);
 * a running one gets an address and its veth pair now, in its namespace, on the next free ethN, and
 * the line of that address in its /etc/hosts; one
 * that does not run gets its address when it starts (its interface name is chosen now).
 */
export async function connectContainer(ctx: EngineContext, networkRef: string, containerRef: string, config: Partial<EndpointConfig>): Promise<void> {
  refuseBadAliases(config.Aliases);
  const found = ctx.networks.findAny(networkRef);
  const c = findContainer(ctx.state(), containerRef);
  if (found.kind === 'predefined') throw modeNetworkRefusal(found.network.name);
  const network = found.network;
  await ctx.serial(c.id, async () => {
    const now = findContainer(ctx.state(), c.id);
    connectable(now);
    if (network.endpoints[now.id] || ctx.state().networks[network.id]?.endpoints[now.id]) {
      throw new ForbiddenError(`endpoint with name ${now.name} already exists in network ${network.name}`);
    }
    const driver = driverOf(ctx, network);
    const running = now.status === 'running' || now.status === 'paused';
    // A container that does not run is connected without holding an address: it gets one when it starts.
    const endpoint = await connectEndpoint(ctx, now.id, network.id, config, running);
    if (!running) return;
    try {
      const current = ctx.state().networks[network.id]!;
      if (!existsSync(`/sys/class/net/${current.bridge}`)) await driver.ensureNetwork(specOfNetwork(current));
      await driver.attach({
        // The init checked by its parent, the shim: a pid reused since its death (before the exit's record) is refused.
        containerId: now.id, network: specOfNetwork(current), netns: { pid: now.pid, parent: now.shimPid },
        interface: endpoint.interface, ip: endpoint.ip, mac: endpoint.mac, defaultRoute: false,
      });
    } catch (err) {
      await disconnectEndpoint(ctx, now.id, network.id).catch(() => undefined);
      throw err;
    }
    // Its /etc/hosts gets the new address, as Docker adds it (running-hosts.ts: the bound host copy, edited in place).
    await editRunningHosts(ctx, now, (text, hostname) => hostsWithEntry(text, hostname, endpoint));
  });
}

/** The network, removed while the container was stopped, that `ref` names (its id, name or an id prefix). */
function removedNetworkOf(c: ContainerState, ref: string): { readonly id: string; readonly name: string } | undefined {
  return (c.removedNetworks ?? []).find((n) => n.id === ref || n.name === ref || (ref !== '' && n.id.startsWith(ref)));
}

/** Lets the container go of a removed network it still holds (no Docker event); call under the container's lock. */
async function letGoOfRemoved(ctx: EngineContext, containerId: string, networkId: string): Promise<void> {
  await ctx.store.append(networkStream(networkId), [{ type: 'ContainerNetworkDisconnected', data: { network: networkId, id: containerId, removed: true } }], 'any');
}

/**
 * `network disconnect`: a running container loses its veth pair on the network (and its ports, when
 * they were published on it) and that address's line in its /etc/hosts, then it is disconnected
 * (the address back to the pool). `force` also disconnects a
 * container that is gone (an endpoint left by a crash). A network removed while the container was
 * stopped (its `removedNetworks`) is disconnected by its name or id too, as Docker lets it go: its
 * start no longer fails for it; by its name also when a network created since has that name and
 * the container is not on the new one.
 */
export async function disconnectContainer(ctx: EngineContext, networkRef: string, containerRef: string, force: boolean): Promise<void> {
  const found = ctx.networks.tryFindAny(networkRef);
  if (!found) {
    const c = findContainer(ctx.state(), containerRef);
    const removed = removedNetworkOf(c, networkRef);
    if (!removed) throw new NotFoundError(`network ${networkRef} not found`);
    await ctx.serial(c.id, () => letGoOfRemoved(ctx, c.id, removed.id));
    return;
  }
  if (found.kind === 'predefined') {
    const c = findContainer(ctx.state(), containerRef);
    if (networkChoice(c.hostConfig).kind !== found.network.name) throw new ForbiddenError(`container ${c.id} is not connected to network ${found.network.name}`);
    throw modeNetworkRefusal(found.network.name);
  }
  const network = found.network;
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
    if (!current?.endpoints[now.id]) {
      // A network created since under the name of one removed while the container was stopped: the
      // container is not on the new one, so the name lets go of the removed one (dockerd matches its settings by name).
      const removed = removedNetworkOf(now, networkRef);
      if (removed) return letGoOfRemoved(ctx, now.id, removed.id);
      throw new ForbiddenError(`container ${now.id} is not connected to network ${network.name}`);
    }
    if (now.status === 'running' || now.status === 'paused') {
      const driver = driverOf(ctx, current);
      const published = ctx.state().published[now.id];
      if (published?.network === current.id) {
        await driver.unpublish(now.id, current.endpoints[now.id]!.ip, published.ports);
        await ctx.append(now, [{ type: 'ContainerPortsUnpublished', data: { id: now.id } }]);
      }
      await driver.detach(now.id, specOfNetwork(current));
      const { ip } = current.endpoints[now.id]!;
      await editRunningHosts(ctx, now, (text, hostname) => hostsWithoutAddress(text, hostname, ip));
    }
    await disconnectEndpoint(ctx, now.id, current.id);
  });
}

/**
 * The embedded resolvers' names, from the fold: on a user network, the running containers on it by
 * name, alias and short id (a stopped container holds no address and answers no name, as Docker's
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
          .filter((ip) => Object.values(network.endpoints).some((e) => e.held && e.ip === ip && running(e.containerId)));
      const here = namesOn(asked);
      if (here.length > 0 || from === undefined) return here;
      // The asker's other user networks (it asks the resolver of its first network for all of them).
      const asker = Object.values(asked.endpoints).find((e) => e.held && e.ip === from)?.containerId;
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
