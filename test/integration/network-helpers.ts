/**
 * What the network integration tests share: a bridge driver on a table of its own, networks and
 * addresses planned by the real IPAM over an in-memory list of network events (the fold is the
 * only record, as in the engine), and attach/detach that append the events as the engine will.
 */
import { randomBytes } from 'node:crypto';
import type { NetworkEvent } from '../../events/index.js';
import { allocateAddress, macForAddress, planNetwork } from '../../core/network/ipam.js';
import { foldNetworks, resolveName, type NetworkState, type NetworksState } from '../../core/network/network-state.js';
import { specOfNetwork } from '../../core/network/recovery.js';
import { BridgeNetworkDriver, type BridgeNetworkOptions } from '../../plugins/network-bridge/bridge-network-driver.js';
import { bridgeNameFor } from '../../plugins/network-bridge/network-names.js';
import { randomId, type TestNetns } from '../fixtures/netns.js';

export const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const specOf = specOfNetwork;

/** A driver on table `mini-docker-t<random>` with the fold it is driven from. */
export class NetworkHarness {
  readonly table = `mini-docker-t${randomBytes(3).toString('hex')}`;
  readonly driver: BridgeNetworkDriver;
  private readonly events: NetworkEvent[] = [];
  /** Container names, as the container fold would give them. */
  readonly containerNames = new Map<string, string>();

  constructor(options: Omit<BridgeNetworkOptions, 'table'> = {}) {
    this.driver = new BridgeNetworkDriver({ ...options, table: this.table });
    this.driver.serveNames({
      lookup: (networkId, name) => {
        const network = this.state().networks[networkId];
        return network ? resolveName(network, name, (id) => this.containerNames.get(id)) : [];
      },
    });
  }

  state(): NetworksState {
    return foldNetworks(this.events);
  }

  append(event: NetworkEvent): void {
    this.events.push(event);
  }

  async createNetwork(name: string, options: { subnet: string; internal?: boolean; dns?: boolean; mtu?: number }): Promise<NetworkState> {
    const id = randomId();
    const plan = planNetwork({ subnet: options.subnet }, this.state(), []);
    this.append({
      type: 'NetworkCreated',
      data: {
        id, name, driver: 'bridge', ...plan, internal: options.internal ?? false, labels: {}, bridge: bridgeNameFor(id),
        mtu: options.mtu ?? 1500, dns: options.dns ?? true,
      },
    });
    const network = this.state().networks[id]!;
    await this.driver.ensureNetwork(specOf(network));
    return network;
  }

  async removeNetwork(network: NetworkState): Promise<void> {
    await this.driver.removeNetwork(specOf(network));
    this.append({ type: 'NetworkRemoved', data: { id: network.id } });
  }

  /**
   * Connects a namespace as a container: the address is planned and its event appended in one
   * synchronous step (so two connects never see the same free address), then the driver wires it.
   */
  async connect(network: NetworkState, ns: TestNetns, options: { name?: string; aliases?: string[]; ip?: string; iface?: string } = {}): Promise<{ id: string; ip: string }> {
    const id = randomId();
    const current = this.state().networks[network.id]!;
    const ip = allocateAddress(current, id, options.ip);
    const mac = macForAddress(ip);
    const iface = options.iface ?? 'eth0';
    this.append({ type: 'ContainerNetworkConnected', data: { network: network.id, id, ip, mac, aliases: options.aliases ?? [], interface: iface } });
    if (options.name) this.containerNames.set(id, options.name);
    try {
      await this.driver.attach({ containerId: id, network: specOf(current), netns: ns.path, interface: iface, ip, mac });
    } catch (e) {
      this.append({ type: 'ContainerNetworkDisconnected', data: { network: network.id, id } });
      throw e;
    }
    return { id, ip };
  }

  async disconnect(network: NetworkState, containerId: string): Promise<void> {
    await this.driver.detach(containerId, specOf(network));
    this.append({ type: 'ContainerNetworkDisconnected', data: { network: network.id, id: containerId } });
  }
}
