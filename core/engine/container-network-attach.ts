/**
 * The start's network.v1 step: the namespace a container gets, the networks it is connected to
 * at its first start, an address again on every network it is connected to, its published ports
 * and its /etc files (container-etc-files.ts), then the veth pairs at the shim's hold. What an exit
 * and a removal undo is in container-network-release.ts; the endpoints both use, in
 * container-endpoints.ts.
 *
 * The start wires the namespace while the shim holds the container's init before its command runs
 * (ProcessSpec.beforeCommand): the step before the isolator plans and records the addresses,
 * publishes the ports (they only need the address) and writes /etc/hosts, /etc/hostname and
 * /etc/resolv.conf; the isolator binds those files and, at the hold, calls the step's `wire`,
 * which makes the veth pairs inside the init's namespace (named by its pid, checked to be the
 * shim's child, so that a pid reused since cannot lead the pair elsewhere).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { EndpointConfig, JsonValue, PublishedPort } from '../../events/index.js';
import { type NetworkState } from '../network/network-state.js';
import { portRequestsFrom, portsInUse, type PortBindingField } from '../network/published-ports.js';
import { specOfNetwork } from '../network/recovery.js';
import type { BindSpec, NetworkNamespace } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { PortRequest } from '../plugins/network-driver.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { ZERO_TIME } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import { connectEndpoint, containerFilesDir, disconnectEndpoint, driverOf, endpointsOf, networkChoice, type WiredEndpoint } from './container-endpoints.js';
import { releaseNetworking } from './container-network-release.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ConflictError, NetworkGoneError, NotFoundError } from './errors.js';
import type { Journal } from './journal.js';
import { sharedFiles, writeFiles, writeHostFiles } from './container-etc-files.js';

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
