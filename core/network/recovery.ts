/**
 * What a daemon does with the network driver's host state after a crash, as a pure plan: the
 * driver's `list()` against the fold. What the log says is in force is adopted (kept as it is);
 * what belongs to a container of this log that is no longer running or connected is undone; what
 * carries ids this log never recorded belongs to another daemon on the host and is left alone.
 */
import type { PublishedPort } from '../../events/index.js';
import type { HeldNetworkResources, NetworkDriver, NetworkSpec } from '../plugins/network-driver.js';
import type { NetworkState, NetworksState } from './network-state.js';

export interface NetworkRecoveryInput {
  readonly held: HeldNetworkResources;
  readonly state: NetworksState;
  /** Whether the container's process runs now (after the reconciler). */
  readonly running: (containerId: string) => boolean;
  /** Whether this daemon's log has ever recorded the container. */
  readonly known: (containerId: string) => boolean;
}

export interface NetworkRecoveryPlan {
  /** Every network of the fold: ensure again (idempotent; restarts its resolver, which died with the daemon). */
  readonly ensure: readonly NetworkState[];
  /** veths of this log's containers that are not running or no longer connected. */
  readonly detach: readonly { readonly containerId: string; readonly network: NetworkState }[];
  /** Ports in the table of this log's containers that have none in force, or are not running. */
  readonly unpublish: readonly { readonly containerId: string; readonly containerIp: string; readonly ports: readonly PublishedPort[] }[];
  /** Kept as they are. */
  readonly adopted: { readonly veths: number; readonly ports: number };
  /** Not this log's: bridges of networks the fold does not hold, devices and ports of unknown containers. */
  readonly foreign: { readonly bridges: readonly string[]; readonly veths: readonly string[]; readonly ports: number };
  /**
   * Bridges naming a network the fold does not hold: a removal that died between NetworkRemoved and
   * the driver's removal (the network service removes those whose NetworkCreated is in its log), or
   * another daemon's (left alone).
   */
  readonly orphanBridges: readonly { readonly name: string; readonly network: string }[];
}

const samePort = (a: PublishedPort, b: PublishedPort): boolean =>
  a.protocol === b.protocol && a.hostIp === b.hostIp && a.hostPort === b.hostPort && a.containerPort === b.containerPort;

export function planNetworkRecovery(input: NetworkRecoveryInput): NetworkRecoveryPlan {
  const { held, state, running, known } = input;
  const detach: { containerId: string; network: NetworkState }[] = [];
  const foreignVeths: string[] = [];
  let adoptedVeths = 0;
  for (const veth of held.veths) {
    const network = veth.network ? state.networks[veth.network] : undefined;
    if (!veth.containerId || !known(veth.containerId) || !network) {
      foreignVeths.push(veth.name);
      continue;
    }
    if (network.endpoints[veth.containerId] && running(veth.containerId)) adoptedVeths++;
    else detach.push({ containerId: veth.containerId, network });
  }

  const undo = new Map<string, { containerId: string; containerIp: string; ports: PublishedPort[] }>();
  let adoptedPorts = 0;
  let foreignPorts = 0;
  for (const p of held.ports) {
    if (!known(p.containerId)) {
      foreignPorts++;
      continue;
    }
    const inForce = state.published[p.containerId]?.ports.some((q) => samePort(q, p.port)) ?? false;
    if (inForce && running(p.containerId)) {
      adoptedPorts++;
      continue;
    }
    const key = `${p.containerId} ${p.containerIp}`;
    const entry = undo.get(key) ?? { containerId: p.containerId, containerIp: p.containerIp, ports: [] };
    entry.ports.push(p.port);
    undo.set(key, entry);
  }

  return {
    ensure: Object.values(state.networks),
    detach,
    unpublish: [...undo.values()],
    adopted: { veths: adoptedVeths, ports: adoptedPorts },
    foreign: {
      bridges: held.bridges.filter((b) => !b.network || !state.networks[b.network]).map((b) => b.name),
      veths: foreignVeths,
      ports: foreignPorts,
    },
    orphanBridges: held.bridges.flatMap((b) => (b.network && !state.networks[b.network] ? [{ name: b.name, network: b.network }] : [])),
  };
}

/** Carries a plan out with the driver: networks ensured first, then the undos (each idempotent). */
export async function applyNetworkRecovery(driver: NetworkDriver, plan: NetworkRecoveryPlan): Promise<void> {
  for (const network of plan.ensure) await driver.ensureNetwork(specOfNetwork(network));
  for (const u of plan.unpublish) await driver.unpublish(u.containerId, u.containerIp, u.ports);
  for (const d of plan.detach) await driver.detach(d.containerId, specOfNetwork(d.network));
}

/** What the driver needs of a network of the fold. */
export function specOfNetwork(network: NetworkState): NetworkSpec {
  const { id, bridge, subnet, gateway, mtu, internal, dns } = network;
  return { id, bridge, subnet, gateway, mtu, internal, dns };
}
