/**
 * Networks as resources: create, look up, remove, prune, the default `bridge` network, and the
 * network part of recovery. A network is its NetworkCreated in the log (stream `network-<id>`);
 * the driver (network.v1) makes the host match. This service calls the driver and appends; what
 * it decides by is network-rules.ts, its lookups network-lookups.ts, the steps of its start
 * network-recovery.ts.
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
import { specOfNetwork } from '../network/recovery.js';
import type { NetworkDriver } from '../plugins/network-driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { EventStore } from './event-store.js';
import { newId } from './names.js';
import { type FoundNetwork, tryFindAnyNetwork, tryFindNetwork } from './network-lookups.js';
import { recordPredefinedNetworks, recoverNetworks, releaseStaleAddresses } from './network-recovery.js';
import { checkNetworkName, type CreateNetworkRequest, DEFAULT_BRIDGE, mtuOf, type NetworkPruneFilters, networksToPrune, removableNetwork } from './network-rules.js';

export interface NetworkServiceOptions {
  /** The host's routes, for the subnet choice (default: /proc/net/route). */
  readonly hostRoutes?: () => Promise<Subnet[]>;
  /** Where the host-wide creation lock lives (default /run/lock). */
  readonly lockDirectory?: string;
}

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
    return tryFindNetwork(this.store.state(), ref);
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
    return tryFindAnyNetwork(this.store.state(), ref);
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
    checkNetworkName(request.name);
    return this.serial(() => this.createLocked(request, 'user'));
  }

  /** Removes a network no running container is connected to (stopped ones connected lose it: their start then fails, as Docker's). */
  remove(ref: string): Promise<void> {
    return this.serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const network = removableNetwork(this.findAny(ref));
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
  async prune(filters: NetworkPruneFilters = {}): Promise<string[]> {
    const removed: string[] = [];
    for (const n of networksToPrune(this.list(), filters)) {
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
   * After the reconciler: the network part of recovery (network-recovery.ts: `host` and `none`
   * recorded; addresses of containers that no longer run released; every network of the fold
   * ensured again, its resolver with it; veths and ports of containers that no longer run undone;
   * bridges of networks this log removed taken away), then the default bridge. A host without a
   * usable network driver has no networks; the daemon serves on and says why.
   */
  async start(): Promise<void> {
    try {
      await this.serial(() => recordPredefinedNetworks(this.store));
    } catch (err) {
      this.logger.error(`the networks host and none could not be recorded: ${messageOf(err)}`);
    }
    try {
      await releaseStaleAddresses(this.store, this.logger);
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
      await recoverNetworks(this.store, this.logger, driver);
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

  /** The default bridge: recorded the first time (its subnet chosen then and kept in the log); ensured by recovery after that. */
  private async ensureDefaultBridge(driver: NetworkDriver, ensureExisting: boolean): Promise<void> {
    await this.serial(async () => {
      const existing = Object.values(this.store.state().networks).find((n) => n.name === DEFAULT_BRIDGE);
      if (!existing) await this.createLocked({ name: DEFAULT_BRIDGE }, 'default');
      else if (ensureExisting) await driver.ensureNetwork(specOfNetwork(existing));
    });
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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
