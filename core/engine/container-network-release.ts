/**
 * What an exit and a removal take away of a container's networking: its published ports, its veth
 * pairs and its addresses (released: it stays connected), and at rm its connections and /etc
 * files. The start's step that made them is in container-network-attach.ts; the endpoints both
 * use, in container-endpoints.ts.
 */
import { rm } from 'node:fs/promises';
import type { EngineEvent, PublishedPort } from '../../events/index.js';
import { containerStream, networkStream } from '../../events/index.js';
import { specOfNetwork } from '../network/recovery.js';
import type { EngineState } from '../state/engine-state.js';
import { tryFindContainer } from '../state/lookup.js';
import { containerFilesDir, disconnectEndpoint, drainingKey, driverOf, endpointsOf, networkChoice, releaseEndpoint } from './container-endpoints.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import type { Journal } from './journal.js';

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
  /**
   * Asks the driver to delete the veth pairs (their namespace, held by the driver since the attach,
   * goes with them), not waiting for it: the exit's record calls it last, under the container's
   * lock, so a start queued behind the exit finds the detach pending; the bridge driver marks it
   * pending at once and sends its requests on the next turn of the event loop, after a `stop`'s
   * answer (a no-op when the deletions were waited for already).
   */
  readonly deletePairs: () => void;
}

/**
 * The network part of an exit, on the host: its published ports unpublished (one nft transaction),
 * and its veth pairs' deletion handed back to the exit's record as `deletePairs`, which it calls
 * after everything else (the bridge driver's requests then go out after a `stop`'s answer). The driver holds the container's network
 * namespace from the attach until the pair's deletion (docs/networking.md, "The namespace's
 * hold"), so the kernel's teardown of the namespace and its pair (cleanup_net: the pair
 * unregistered, RCU grace periods under rtnl_lock, 1-2 ms of CPU on a 2-core host) does not run
 * beside the exit's record, as it did when the namespace died with the container's last process;
 * and the deletion itself waits for RCU grace periods (tens of milliseconds on an idle host),
 * which neither the record nor the stop waits for. Nothing is reused too early: the host end's
 * name, which a start of the same container makes again, is waited for by the attach (a deletion
 * still queued) or taken back (the old pair still there); the address is given back in the record,
 * and no other container gets it until the old pair, in a namespace with no process left, is
 * deleted right after the answer (the draining set); if the ports' unpublish fails, that network's
 * address is not given back at all and ContainerPortsUnpublished is not recorded (rm tries again). A
 * daemon that dies first ends the driver's session, which lets go of the namespace (the kernel
 * then deletes the pair), and finds a pair still there in its recovery (`list()`: a veth of a
 * container that does not run) and deletes it. One exception: while another container runs in
 * this one's namespace (`--network container:`), the namespace and the addresses in it live on, so
 * the exit waits for the deletions, and an address whose deletion failed is not released (rm
 * detaches and releases it). Returns the events that record the release, appended by the exit's
 * record with ContainerExited (usually in the same commit, engine-context.ts appendDecided):
 * ContainerPortsUnpublished on the container's stream, and ContainerNetworkReleased on each network
 * whose address it gives back (`appendNetworkReleases`).
 */
export async function releaseNetworkAtExit(ctx: EngineContext, id: string): Promise<ExitNetworkRelease> {
  const state = ctx.state();
  const published = state.published[id];
  const endpoints = endpointsOf(state, id);
  const held = endpoints.filter((e) => e.endpoint.held);
  // The pairs' deletion is set up before anything can fail: whatever happens to the rest, the
  // exit's record calls it, so a held namespace is always let go.
  const detach = (): Promise<boolean>[] => held.map((e) => driverOf(ctx, e.network).detach(id, specOfNetwork(e.network)).then(() => true, (err: unknown) => {
    ctx.logger.warn(`detach of ${ctx.short(id)} from ${e.network.name}: ${messageOf(err)} (rm tries again)`);
    return false;
  }));
  const shared = namespaceSharedWith(state, id);
  let drained: Array<() => void> = [];
  if (!shared) {
    // Each address is given back in the record while its old pair (same address, same MAC) may
    // still be on the bridge until the deletion settles: until then no other container gets it
    // (ipam.ts allocateAddress), or its traffic would reach the old namespace.
    drained = held.map((e) => drainAddress(ctx, e.network.id, e.endpoint.ip, id));
  }
  let unpublishFailed = false;
  if (published && published.ports.length > 0) {
    const network = state.networks[published.network];
    const ip = network?.endpoints[id]?.ip;
    try {
      if (network && ip) await driverOf(ctx, network).unpublish(id, ip, published.ports);
    } catch (e) {
      // Not recorded as done, and that network's address is not given back: the rules would send
      // its ports to whoever got the address next. rm (or the next daemon's recovery) tries again.
      unpublishFailed = true;
      ctx.logger.warn(`unpublishing the ports of ${ctx.short(id)} failed: ${messageOf(e)} (rm tries again)`);
    }
  }
  const containerEvents: EngineEvent[] = published && !unpublishFailed ? [{ type: 'ContainerPortsUnpublished', data: { id } }] : [];
  const releasable = held.filter((e) => !(unpublishFailed && e.network.id === published?.network));
  // A container still running in this one's namespace (--network container:) keeps it, its
  // interfaces and addresses alive: an address is given back only once its pair is deleted.
  if (shared) {
    const detached = await Promise.all(detach());
    return { containerEvents, networks: held.filter((e, i) => detached[i] === true && releasable.includes(e)).map((e) => e.network.id), deletePairs: () => undefined };
  }
  let asked = false;
  return {
    containerEvents,
    networks: releasable.map((e) => e.network.id),
    deletePairs: () => {
      if (asked) return;
      asked = true;
      detach().forEach((done, i) => void done.finally(drained[i]));
    },
  };
}

/** Marks `ip` on `networkId` as draining (its old pair still up) until the returned function is called. */
function drainAddress(ctx: EngineContext, networkId: string, ip: string, containerId: string): () => void {
  const key = drainingKey(networkId, ip);
  let done!: () => void;
  const entry = { containerId, settled: new Promise<void>((resolve) => (done = resolve)) };
  ctx.draining.set(key, entry);
  return () => {
    if (ctx.draining.get(key) === entry) ctx.draining.delete(key);
    done();
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
