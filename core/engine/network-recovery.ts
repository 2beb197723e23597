/**
 * The network part of the daemon's start, after the reconciler (NetworkService.start,
 * network-service.ts, runs these in order): `host` and `none` recorded once, addresses of
 * containers that no longer run given back, and the host made to match the fold again (the plan
 * is core/network/recovery.ts; this applies it and removes the bridges of networks the log removed).
 */
import { networkStream, type NetworkCreated } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { applyNetworkRecovery, planNetworkRecovery } from '../network/recovery.js';
import type { Logger } from '../plugins/logger.js';
import type { NetworkDriver } from '../plugins/network-driver.js';
import type { EventStore } from './event-store.js';
import { newId } from './names.js';
import { MODE_NETWORKS, staleEndpoint } from './network-rules.js';

/**
 * An address held by a container that does not run (a daemon that died between an exit's record
 * and its ContainerNetworkReleased, or a log from before addresses were released at exit) goes
 * back to the pool (ContainerNetworkReleased); one held for a container the fold no longer has (a
 * removal that died midway) is disconnected. So every address the fold holds belongs to a
 * running container.
 */
export async function releaseStaleAddresses(store: EventStore, logger: Logger): Promise<void> {
  for (const networkId of Object.keys(store.state().networks)) {
    for (let conflicts = 0; ;) {
      const network = store.state().networks[networkId];
      const stale = network ? staleEndpoint(store.state(), network) : undefined;
      if (!network || !stale) break;
      const { endpoint, removed } = stale;
      const data = { network: network.id, id: endpoint.containerId };
      logger.warn(`network ${network.name}: container ${endpoint.containerId.slice(0, 12)} ${removed ? 'is removed: disconnected' : `no longer runs: ${endpoint.ip} released`}`);
      try {
        await store.append(networkStream(network.id), [removed ? { type: 'ContainerNetworkDisconnected', data } : { type: 'ContainerNetworkReleased', data }], network.version);
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
 * usable network driver has them too. Call it in the service's queue.
 */
export async function recordPredefinedNetworks(store: EventStore): Promise<void> {
  for (const { name, driver } of MODE_NETWORKS) {
    if (store.state().predefined[name]) continue;
    const id = newId();
    await store.append(networkStream(id), [{ type: 'PredefinedNetworkCreated', data: { id, name, driver } }], 'no-stream');
  }
}

/**
 * Every network of the fold ensured again, its resolver with it; veths and ports of containers
 * that no longer run undone; bridges of networks this log created then removed taken away.
 */
export async function recoverNetworks(store: EventStore, logger: Logger, driver: NetworkDriver): Promise<void> {
  const state = store.state();
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
  for await (const e of store.log.read()) {
    if (e.type === 'NetworkCreated' && wanted.has(e.data.id)) ours.push(e.data);
  }
  for (const n of ours) {
    logger.warn(`removing the bridge ${n.bridge} of network ${n.name} (${n.id.slice(0, 12)}): the log says it was removed`);
    await driver.removeNetwork({ id: n.id, bridge: n.bridge, subnet: n.subnet, gateway: n.gateway, mtu: n.mtu, internal: n.internal, dns: n.dns });
  }
}
