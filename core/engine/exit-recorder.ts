import type { ExitStatus } from '../../events/index.js';
import { failpoint } from '../failpoints.js';
import { decideExit } from '../state/decide.js';
import type { ContainerState } from '../state/engine-state.js';
import { restartDelayMs } from '../state/restart-policy.js';
import { releaseNetworking } from './container-network.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import type { ProcessHub } from './process-hub.js';
import { removeLocked } from './remove-container.js';
import { startLocked } from './start-container.js';
import { releaseContainerVolumes } from './volume-mounts.js';

/**
 * The one place that records a container's exit, whoever noticed it: the hub (the shim said EXIT),
 * a forced removal (it killed the process and waited), or the reconciler (it exited while no
 * daemon ran). Call it under the container's lock. It appends ContainerExited (once per run: the
 * rule is decideExit), ends the hub, unpublishes its ports (ContainerPortsUnpublished), detaches
 * its veths and releases its addresses (ContainerNetworkReleased), releases the cgroups and the
 * on-demand volumes it was the last user of, and then does what the container's
 * settings say: AutoRemove removes it, a restart policy schedules the next start.
 */
export async function recordExit(ctx: EngineContext, id: string, status: ExitStatus, options: { hub?: ProcessHub; thenPolicy: boolean }): Promise<void> {
  const limiter = ctx.limiter();
  let oomKilled = status.oomKilled;
  try {
    if (limiter) oomKilled = oomKilled || (await limiter.oomKilled(id));
  } catch { /* the cgroup is gone already */ }
  const c = ctx.state().containers[id];
  if (c?.stopping) failpoint('stop.before-final');
  if (c) await ctx.appendDecided(id, (now) => decideExit(now, { ...status, oomKilled }));
  if (options.hub) {
    await options.hub.finish();
    if (ctx.hubs.get(id) === options.hub) ctx.hubs.delete(id);
  } else if (c) {
    // No hub: the shim is gone or waits for a daemon that will not come; its bundle goes.
    await ctx.isolator().cleanup(id, c.shimPid).catch((e: unknown) => ctx.logger.warn(`cleanup of ${ctx.short(id)}'s shim failed: ${messageOf(e)}`));
  }
  ctx.finishAttached(id);
  // Three releases that share nothing, at the same time (its processes are gone, so none waits for
  // another): its ports closed, its veths gone and its addresses back to the pools (it stays
  // connected); its cgroups; its tmpfs or block-device volumes, when it was their last user.
  await Promise.all([
    releaseNetworking(ctx, id).catch((e: unknown) => ctx.logger.warn(`releasing the network of ${ctx.short(id)} failed: ${messageOf(e)}`)),
    limiter?.remove(id).catch((e: unknown) => ctx.logger.warn(`cgroup removal for ${ctx.short(id)} failed: ${messageOf(e)}`)),
    releaseContainerVolumes(ctx, id),
  ]);
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
