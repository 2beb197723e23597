import type { ExitStatus } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import { failpoint } from '../failpoints.js';
import { decideExit } from '../state/decide.js';
import type { ContainerState } from '../state/engine-state.js';
import { restartDelayMs } from '../state/restart-policy.js';
import { appendNetworkReleases, type ExitNetworkRelease, releaseNetworkAtExit } from './container-network.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import type { ProcessHub } from './process-hub.js';
import { removeLocked } from './remove-container.js';
import { startLocked } from './start-container.js';
import { releaseContainerVolumes } from './volume-mounts.js';

/**
 * The one place that records a container's exit, whoever noticed it: the hub (the shim said EXIT),
 * a forced removal (it killed the process and waited), or the reconciler (it exited while no
 * daemon ran). Call it under the container's lock. As Docker's exit handling cleans up before it
 * marks the container stopped, it first releases what the run held on the host, all at the same
 * time (they share nothing, and its processes are gone): its ports unpublished and the deletion of
 * its veth pairs asked for (container-network.ts releaseNetworkAtExit), its cgroups removed, the
 * on-demand volumes it was the last user of unmounted. Then one commit records it all:
 * ContainerExited (once per run: the rule is decideExit) with ContainerPortsUnpublished on the
 * container's stream, and ContainerNetworkReleased on each network it held an address on. Then it
 * ends the hub and does what the container's settings say: AutoRemove removes it, a restart policy
 * schedules the next start. A daemon that dies before the commit finds the container running with
 * its shim gone and records the exit again; each release is idempotent.
 */
export async function recordExit(ctx: EngineContext, id: string, status: ExitStatus, options: { hub?: ProcessHub; thenPolicy: boolean }): Promise<void> {
  const limiter = ctx.limiter();
  let oomKilled = status.oomKilled;
  try {
    if (limiter) oomKilled = oomKilled || (await limiter.oomKilled(id));
  } catch { /* the cgroup is gone already */ }
  const c = ctx.state().containers[id];
  if (c?.stopping) failpoint('stop.before-final');
  const none: ExitNetworkRelease = { containerEvents: [], networks: [] };
  const [network] = await Promise.all([
    releaseNetworkAtExit(ctx, id).catch((e: unknown) => {
      ctx.logger.warn(`releasing the network of ${ctx.short(id)} failed: ${messageOf(e)}`);
      return none;
    }),
    limiter?.remove(id).catch((e: unknown) => ctx.logger.warn(`cgroup removal for ${ctx.short(id)} failed: ${messageOf(e)}`)),
    releaseContainerVolumes(ctx, id),
  ]);
  let recorded = false;
  if (c) {
    await ctx.appendDecided(id, (now) => {
      const exit = decideExit(now, { ...status, oomKilled });
      return exit.length > 0 ? [...exit, ...network.containerEvents] : [];
    }, () => {
      recorded = true;
      return appendNetworkReleases(ctx, id, network.networks);
    });
  }
  if (!recorded) {
    // No exit to record (it was recorded already): the releases go on their own.
    if (network.containerEvents.length > 0) await ctx.store.append(containerStream(id), network.containerEvents, 'any');
    await Promise.all(appendNetworkReleases(ctx, id, network.networks));
  }
  if (options.hub) {
    await options.hub.finish();
    if (ctx.hubs.get(id) === options.hub) ctx.hubs.delete(id);
  } else if (c) {
    // No hub: the shim is gone or waits for a daemon that will not come; its bundle goes.
    await ctx.isolator().cleanup(id, c.shimPid).catch((e: unknown) => ctx.logger.warn(`cleanup of ${ctx.short(id)}'s shim failed: ${messageOf(e)}`));
  }
  ctx.finishAttached(id);
  if (!options.thenPolicy) return;
  const after = ctx.state().containers[id];
  if (after?.hostConfig.AutoRemove) await removeLocked(ctx, id, true, true);
  else if (after?.status === 'restarting') scheduleRestart(ctx, after);
}

/** The hub saw its process exit: record it under the container's lock. */
export async function onHubExit(ctx: EngineContext, id: string, hub: ProcessHub, status: ExitStatus): Promise<void> {
  await ctx.serial(id, () => recordExit(ctx, id, status, { hub, thenPolicy: true }))
    .catch((e: unknown) => ctx.logger.error(`recording the exit of ${ctx.short(id)} failed: ${messageOf(e)}`));
}

/**
 * Starts a container again after the delay its restart policy asks for, if it is still
 * "restarting" then (a stop, a start or a removal meanwhile ends that). The decision itself is
 * the fold's (core/state/restart-policy.ts): this only keeps the timer.
 */
export function scheduleRestart(ctx: EngineContext, c: ContainerState): void {
  ctx.cancelRestart(c.id);
  const ran = Date.parse(c.finishedAt) - Date.parse(c.startedAt);
  const wait = restartDelayMs(c.restartCount, Number.isFinite(ran) ? ran : 0);
  const timer = setTimeout(() => {
    ctx.restartTimers.delete(c.id);
    void ctx.serial(c.id, async () => {
      const now = ctx.state().containers[c.id];
      if (now?.status !== 'restarting') return;
      await startLocked(ctx, c.id, true);
    }).catch((e: unknown) => ctx.logger.warn(`restart of ${ctx.short(c.id)} by its restart policy failed: ${messageOf(e)}`));
  }, wait);
  timer.unref();
  ctx.restartTimers.set(c.id, timer);
}
