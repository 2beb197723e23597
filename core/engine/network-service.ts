/**
 * Networks as resources: create, look up, remove, prune, the default `bridge` network, and the
 * network part of recovery. A network is its NetworkCreated in the log (stream `network-<id>`);
 * the driver (network.v1) makes the host match.
 *
 * Intent first, both ways: `create` appends NetworkCreated (subnet and gateway planned by IPAM over
 * the fold) and only then asks the driver for the bridge, its rules and its resolver; a driver
 * failure removes what it made and appends NetworkRemoved. `remove` appends NetworkRemoved with the
 * network stream's version it read (a container connecting at the same moment appends to that
 * stream too, so one of them fails and the refusal "has active endpoints" cannot be raced) and
 * only then removes the bridge. A daemon that dies in between leaves the log ahead of the host:
 * at the next start `recover()` ensures every network of the fold again and removes the bridges of
 * networks the log created and then removed.
 */
import { networkStream, type NetworkCreated } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { failpoint } from '../failpoints.js';
import { bridgeNameFor } from '../network/bridge-name.js';
import { withHostNetworkLock } from '../network/host-network-lock.js';
import { readHostRoutes } from '../network/host-routes.js';
import { planNetwork } from '../network/ipam.js';
import type { Subnet } from '../network/ipv4.js';
import type { NetworkState, PredefinedNetwork } from '../network/network-state.js';
import { applyNetworkRecovery, planNetworkRecovery, specOfNetwork } from '../network/recovery.js';
import type { NetworkDriver } from '../plugins/network-driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { EventStore } from './event-store.js';
import { newId } from './names.js';

/** The network every container joins unless told otherwise, as Docker's; it has no name resolution. */
export const DEFAULT_BRIDGE = 'bridge';
/** Names Docker reserves: the default bridge, and the `--network host` and `--network none` modes. */
export const PREDEFINED_NETWORKS: readonly string[] = [DEFAULT_BRIDGE, 'host', 'none'];
/** The pre-defined networks that are modes, not bridges, with their drivers as Docker names them. */
export const MODE_NETWORKS: readonly { readonly name: 'host' | 'none'; readonly driver: 'host' | 'null' }[] = [
  { name: 'host', driver: 'host' },
  { name: 'none', driver: 'null' },
];
/** What a network reference names: a bridge network (the default one or a user network), or `host` / `none`. */
export type FoundNetwork =
  | { readonly kind: 'bridge'; readonly network: NetworkState }
  | { readonly kind: 'predefined'; readonly network: PredefinedNetwork };
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

export interface NetworkServiceOptions {
  /** The host's routes, for the subnet choice (default: /proc/net/route). */
  readonly hostRoutes?: () => Promise<Subnet[]>;
  /** Where the host-wide creation lock lives (default /run/lock). */
  readonly lockDirectory?: string;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export class NetworkService {
  /** Creations and removals one at a time in this daemon (a name is checked, then taken). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly registry: PluginRegistry,
    private readonly logger: Logger,
    private readonly options: NetworkServiceOptions = {},
  ) {}

  // ---- lookups ------------------------------------------------------------------------------

  list(): NetworkState[] {
    return Object.values(this.store.state().networks);
  }

  /** A network by full id, name, or unique id prefix (Docker's order); undefined when none. */
  tryFind(ref: string): NetworkState | undefined {
    if (ref === '') return undefined;
    const networks = this.store.state().networks;
    const byId = networks[ref];
    if (byId) return byId;
    const all = Object.values(networks);
    const byName = all.find((n) => n.name === ref);
    if (byName) return byName;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = all.filter((n) => n.id.startsWith(ref));
    if (matches.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  /** `host` and `none` as recorded (none before the daemon's first start on this log). */
  predefined(): PredefinedNetwork[] {
    return Object.values(this.store.state().predefined);
  }

  /**
   * Any network, `host` and `none` too, by full id, name, then unique id prefix (network inspect
   * and rm); a network that is not there is Docker's 404.
   */
  findAny(ref: string): FoundNetwork {
    const found = this.tryFindAny(ref);
    if (!found) throw new NotFoundError(`network ${ref} not found`);
    return found;
  }

  /** As findAny; undefined when nothing matches (an ambiguous prefix still throws). */
  tryFindAny(ref: string): FoundNetwork | undefined {
    const all: FoundNetwork[] = [
      ...this.list().map((network) => ({ kind: 'bridge' as const, network })),
      ...this.predefined().map((network) => ({ kind: 'predefined' as const, network })),
    ];
    return ref === '' ? undefined
      : all.find((f) => f.network.id === ref) ?? all.find((f) => f.network.name === ref) ?? this.byPrefix(all, ref);
  }

  private byPrefix(all: readonly FoundNetwork[], ref: string): FoundNetwork | undefined {
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = all.filter((f) => f.network.id.startsWith(ref));
    if (matches.length > 1) throw new InvalidArgumentError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  /** As tryFind; a network that is not there is Docker's 404 "network NAME not found". */
  find(ref: string): NetworkState {
    const found = this.tryFind(ref);
    if (!found) throw new NotFoundError(`network ${ref} not found`);
    return found;
  }

  // ---- create, remove, prune ----------------------------------------------------------------

  /** Records and makes a network; resolves with its id once the bridge is up. */
  async create(request: CreateNetworkRequest): Promise<string> {
    if (request.name === '') throw new InvalidArgumentError('a network needs a name: network create NAME');
    if (!NAME.test(request.name)) {
      throw new InvalidArgumentError(`invalid network name ${JSON.stringify(request.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    // moby's PredefinedNetworkError, 403 (with its trailing blank), before any lookup of the name.
    if (PREDEFINED_NETWORKS.includes(request.name)) throw new ForbiddenError(`operation is not permitted on predefined ${request.name} network `);
    return this.serial(() => this.createLocked(request, 'user'));
  }

  /** Removes a network no running container is connected to (stopped ones connected lose it: their start then fails, as Docker's). */
  remove(ref: string): Promise<void> {
    return this.serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const found = this.findAny(ref);
        if (found.kind === 'predefined') throw new ForbiddenError(`${found.network.name} is a pre-defined network and cannot be removed`);
        const network = found.network;
        if (network.name === DEFAULT_BRIDGE) throw new ForbiddenError(`${DEFAULT_BRIDGE} is a pre-defined network and cannot be removed`);
        // As Docker, only running containers have endpoints: stopped ones connected do not keep it (their next start fails, network-commands.ts).
        const active = heldEndpoints(network);
        if (active > 0) throw new ConflictError(`error while removing network: network ${network.name} id ${network.id} has active endpoints`);
        try {
          await this.store.append(networkStream(network.id), [{ type: 'NetworkRemoved', data: { id: network.id } }], network.version);
        } catch (err) {
          // A container connected meanwhile: judge again on the new state.
          if (err instanceof ConcurrencyError && attempt < 3) continue;
          throw err;
        }
        failpoint('network.after-removed');
        await this.removeFromHost(network);
        return;
      }
    });
  }

  /**
   * Removes every user network no running container is connected to (never the default bridge), those
   * whose labels match `label` filters ("k", "k=v"; `label!` negates) and created before `until`.
   * Returns the names removed, in the order they were created.
   */
  async prune(filters: { readonly label?: readonly string[]; readonly labelNot?: readonly string[]; readonly until?: number } = {}): Promise<string[]> {
    const matches = (labels: Readonly<Record<string, string>>, f: string): boolean => {
      const eq = f.indexOf('=');
      return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
    };
    const candidates = this.list()
      .filter((n) => n.name !== DEFAULT_BRIDGE && heldEndpoints(n) === 0)
      .filter((n) => (filters.label ?? []).every((f) => matches(n.labels, f)))
      .filter((n) => !(filters.labelNot ?? []).some((f) => matches(n.labels, f)))
      .filter((n) => filters.until === undefined || Date.parse(n.created) < filters.until)
      .sort((a, b) => a.created.localeCompare(b.created));
    const removed: string[] = [];
    for (const n of candidates) {
      try {
        await this.remove(n.id);
        removed.push(n.name);
      } catch (err) {
        // connected meanwhile, or removed by another request: prune the others
        if (!(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
      }
    }
    return removed;
  }

  // ---- the daemon's start -------------------------------------------------------------------

  /**
   * After the reconciler: the network part of recovery (every network of the fold ensured again,
   * its resolver with it; veths and ports of containers that no longer run undone; bridges of
   * networks this log removed taken away), then the default bridge. A host without a usable
   * network driver has no networks; the daemon serves on and says why.
   */
  async start(): Promise<void> {
    try {
      await this.recordPredefined();
    } catch (err) {
      this.logger.error(`the networks host and none could not be recorded: ${messageOf(err)}`);
    }
    try {
      await this.releaseStaleAddresses();
    } catch (err) {
      this.logger.error(`releasing the addresses of containers that no longer run failed: ${messageOf(err)}`);
    }
    const driver = this.registry.get(DriverKinds.network);
    if (!driver) {
      this.logger.warn(`no default ${DEFAULT_BRIDGE} network: ${this.registry.whyMissing(DriverKinds.network)}`);
      return;
    }
    let recovered = false;
    try {
      await this.recover(driver);
      recovered = true;
    } catch (err) {
      this.logger.error(`network recovery failed: ${messageOf(err)}`);
    }
    try {
      await this.ensureDefaultBridge(driver, !recovered);
    } catch (err) {
      this.logger.error(`the default ${DEFAULT_BRIDGE} network could not be made: ${messageOf(err)}`);
    }
  }

  /**
   * After the reconciler: an address held by a container that does not run (a daemon that died
   * between an exit's record and its ContainerNetworkReleased, or a log from before addresses
   * were released at exit) goes back to the pool (ContainerNetworkReleased); one held for a
   * container the fold no longer has (a removal that died midway) is disconnected. So every
   * address the fold holds belongs to a running container.
   */
  private async releaseStaleAddresses(): Promise<void> {
    const running = (id: string): boolean => {
      const status = this.store.state().containers[id]?.status;
      return status === 'running' || status === 'paused';
    };
    for (const networkId of Object.keys(this.store.state().networks)) {
      for (let conflicts = 0; ;) {
        const network = this.store.state().networks[networkId];
        const gone = (id: string): boolean => this.store.state().containers[id] === undefined;
        const stale = network ? Object.values(network.endpoints).find((e) => (e.held && !running(e.containerId)) || gone(e.containerId)) : undefined;
        if (!network || !stale) break;
        const data = { network: network.id, id: stale.containerId };
        const removed = gone(stale.containerId);
        this.logger.warn(`network ${network.name}: container ${stale.containerId.slice(0, 12)} ${removed ? 'is removed: disconnected' : `no longer runs: ${stale.ip} released`}`);
        try {
          await this.store.append(networkStream(network.id), [removed ? { type: 'ContainerNetworkDisconnected', data } : { type: 'ContainerNetworkReleased', data }], network.version);
        } catch (err) {
          // A restart policy's start appended meanwhile: judge again on the new state.
          if (err instanceof ConcurrencyError && ++conflicts < 20) continue;
          throw err;
        }
      }
    }
  }

  /**
   * `host` and `none`: recorded the first time (PredefinedNetworkCreated, a new id each, kept in the
   * log ever after, as dockerd keeps them in its store). They need no driver: a daemon without a
   * usable network driver has them too.
   */
  private async recordPredefined(): Promise<void> {
    await this.serial(async () => {
      for (const { name, driver } of MODE_NETWORKS) {
        if (this.store.state().predefined[name]) continue;
        const id = newId();
        await this.store.append(networkStream(id), [{ type: 'PredefinedNetworkCreated', data: { id, name, driver } }], 'no-stream');
      }
    });
  }

  /** The default bridge: recorded the first time (its subnet chosen then and kept in the log); ensured by recovery after that. */
  private async ensureDefaultBridge(driver: NetworkDriver, ensureExisting: boolean): Promise<void> {
    await this.serial(async () => {
      const existing = Object.values(this.store.state().networks).find((n) => n.name === DEFAULT_BRIDGE);
      if (!existing) await this.createLocked({ name: DEFAULT_BRIDGE }, 'default');
      else if (ensureExisting) await driver.ensureNetwork(specOfNetwork(existing));
    });
  }

  private async recover(driver: NetworkDriver): Promise<void> {
    const state = this.store.state();
    const referenced = new Set([
      ...Object.keys(state.containers), ...Object.keys(state.published),
      ...Object.values(state.networks).flatMap((n) => Object.keys(n.endpoints)),
    ]);
    const plan = planNetworkRecovery({
      held: await driver.list(),
      state,
      running: (id) => state.containers[id]?.status === 'running' || state.containers[id]?.status === 'paused',
      known: (id) => referenced.has(id),
    });
    await applyNetworkRecovery(driver, plan);
    if (plan.orphanBridges.length === 0) return;
    // Which of them this log created (then removed): read its NetworkCreated for the subnet the rules are keyed by.
    const wanted = new Set(plan.orphanBridges.map((b) => b.network));
    const ours: NetworkCreated['data'][] = [];
    for await (const e of this.store.log.read()) {
      if (e.type === 'NetworkCreated' && wanted.has(e.data.id)) ours.push(e.data);
    }
    for (const n of ours) {
      this.logger.warn(`removing the bridge ${n.bridge} of network ${n.name} (${n.id.slice(0, 12)}): the log says it was removed`);
      await driver.removeNetwork({ id: n.id, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, mtu: n.mtu, internal: n.internal, dns: n.dns });
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /** The driver `network create --driver NAME` selects. */
  private driverNamed(name: string): NetworkDriver {
    const all = this.registry.allOf(DriverKinds.network);
    const found = all.find((d) => d.id === `${DriverKinds.network}.${name}`);
    if (found) return found;
    if (all.length === 0) throw new ConflictError(`no network driver is available: ${this.registry.whyMissing(DriverKinds.network)}`);
    throw new NotFoundError(`plugin "${name}" not found: the network drivers of this daemon are ${all.map((d) => d.id.slice(DriverKinds.network.length + 1)).join(', ')}`);
  }

  /**
   * Plans, records, then ensures (undone on failure); under the host-wide lock so the next choice
   * sees this bridge's route. A user network has the embedded resolver; the default bridge has none.
   */
  private async createLocked(request: CreateNetworkRequest, kind: 'user' | 'default'): Promise<string> {
    if (Object.values(this.store.state().networks).some((n) => n.name === request.name)) {
      throw new ConflictError(`network with name ${request.name} already exists`);
    }
    const driverName = request.driver ?? 'bridge';
    const driver = this.driverNamed(driverName);
    const mtu = mtuOf(request.options ?? {});
    return withHostNetworkLock(async () => {
      const routes = await (this.options.hostRoutes ?? readHostRoutes)();
      const plan = planNetwork({
        ...(request.subnet !== undefined && request.subnet !== '' ? { subnet: request.subnet } : {}),
        ...(request.gateway !== undefined && request.gateway !== '' ? { gateway: request.gateway } : {}),
      }, this.store.state(), routes);
      const id = newId();
      const data: NetworkCreated['data'] = {
        id, name: request.name, driver: driverName, subnet: plan.subnet, gateway: plan.gateway, internal: request.internal ?? false,
        labels: request.labels ?? {}, bridge: bridgeNameFor(id), mtu, dns: kind === 'user',
      };
      await this.store.append(networkStream(id), [{ type: 'NetworkCreated', data }], 'no-stream');
      if (kind === 'user') failpoint('network.after-created');
      const network = this.store.state().networks[id]!;
      try {
        await driver.ensureNetwork(specOfNetwork(network));
      } catch (err) {
        await driver.removeNetwork(specOfNetwork(network)).catch((e: unknown) => this.logger.warn(`undoing network ${request.name}: ${messageOf(e)}`));
        await this.store.append(networkStream(id), [{ type: 'NetworkRemoved', data: { id } }], network.version);
        throw new Error(`cannot create network ${request.name}: ${messageOf(err)}`);
      }
      return id;
    }, { warn: (m) => this.logger.warn(m), ...(this.options.lockDirectory ? { directory: this.options.lockDirectory } : {}) });
  }

  /** The driver's half of a removal that is already in the log; a failure is left to the next start's recovery. */
  private async removeFromHost(network: NetworkState): Promise<void> {
    const driver = this.registry.allOf(DriverKinds.network).find((d) => d.id === `${DriverKinds.network}.${network.driver}`);
    if (!driver) {
      this.logger.warn(`network ${network.name} removed from the log; its driver ${network.driver} is not available to remove ${network.bridge}`);
      return;
    }
    try {
      await driver.removeNetwork(specOfNetwork(network));
    } catch (err) {
      this.logger.warn(`network ${network.name} removed; its bridge ${network.bridge} is left until the next start: ${messageOf(err)}`);
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function mtuOf(options: Readonly<Record<string, string>>): number {
  for (const key of Object.keys(options)) {
    if (key !== MTU_OPTION) throw new InvalidArgumentError(`network option ${key} is not supported: only ${MTU_OPTION}`);
  }
  const text = options[MTU_OPTION];
  if (text === undefined || text === '') return DEFAULT_MTU;
  const mtu = Number(text);
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidArgumentError(`invalid ${MTU_OPTION} ${text}: expected a whole number from 68 to 65535`);
  return mtu;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
