import type { ExitStatus } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import { failpoint, failpointAfter } from '../failpoints.js';
import { decideExit } from '../state/decide.js';
import type { ContainerState } from '../state/engine-state.js';
import { restartDelayMs } from '../state/restart-policy.js';
import { appendNetworkReleases, type ExitNetworkRelease, releaseNetworkAtExit } from './container-network-release.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import type { ProcessHub } from './process-hub.js';
import { removeLocked } from './remove-container.js';
import { startLocked } from './start-container.js';
import { releaseContainerVolumes } from './volume-mounts.js';

/**
 * The one place that records a container's exit, whoever noticed it: the hub (the shim said EXIT),
 * a forced removal (it killed the process and waited), or the reconciler (it exited while no
 * daemon ran). Call it under the container's lock. What the run held on the host is released at
 * the same time as the exit is recorded (they share nothing, and its processes are gone): its ports
 * unpublished (container-network-release.ts releaseNetworkAtExit: quick, and done before the
 * record, which carries it), its memory cgroup read for whether the kernel's OOM
 * killer ended it, the on-demand volumes it was the last user of unmounted. One commit, usually,
 * records the exit and the network's release: ContainerExited (once per run: the rule is
 * decideExit) with ContainerPortsUnpublished on the container's stream, and
 * ContainerNetworkReleased on each network it gives an address back on; when the exit's append is
 * refused as a version conflict (an exec's event landed first), the releases commit on their own
 * and the exit is decided again into the next commit (EngineContext.appendDecided). The cgroups are
 * removed beside the commit when the memory cgroup said the OOM killer ended nothing (a daemon that
 * dies before the commit reads "no" again from a cgroup that is gone); when it did, or the verdict
 * could not be read, they are all removed after the commit (a daemon that dies before it reads the
 * verdict again). The hub ends after the commit, beside the volumes. Once all of it is done (a `stop` answers
 * then, as Docker's stop returns after the exit's cleanup), it does what the container's settings
 * say: AutoRemove removes it, a restart policy schedules the next start. Last, still under the
 * container's lock, the deletion of its veth pairs is asked of the network driver, not waited for
 * (the bridge driver sends it on the next turn of the event loop, after a `stop`'s answer): the
 * driver held the container's network namespace since the attach, so the kernel's teardown of the
 * namespace and its pair runs then, not beside the record (waited for before the record instead
 * while another container runs in its namespace). A daemon that dies before the commit finds the
 * container running with its shim gone and records the exit again; each release is idempotent.
 */
export async function recordExit(ctx: EngineContext, id: string, status: ExitStatus, options: { hub?: ProcessHub; thenPolicy: boolean }): Promise<void> {
  const limiter = ctx.limiter();
  const c = ctx.state().containers[id];
  if (c?.stopping) failpoint('stop.before-final');
  // The memory cgroup says whether the OOM killer ended it: read before the cgroups go.
  const oomRead: Promise<boolean | null> = limiter ? limiter.oomKilled(id).catch(() => null) : Promise.resolve(false);
  const volumes = releaseContainerVolumes(ctx, id);
  const none: ExitNetworkRelease = { containerEvents: [], networks: [], deletePairs: () => undefined };
  const network = await releaseNetworkAtExit(ctx, id).catch((e: unknown) => {
    ctx.logger.warn(`releasing the network of ${ctx.short(id)} failed: ${messageOf(e)}`);
    return none;
  });
  try {
    await recordReleased(ctx, id, c, status, options, { oomRead, volumes }, network);
  } finally {
    // The veth pairs (and the namespace the driver held for them) last, asked for here, still under
    // the container's lock, so the driver marks each detach pending at once (a start queued on the
    // lock waits for it before it attaches the same host end); the driver sends the requests on
    // the next turn of the event loop, after the answer the stop's continuation writes.
    network.deletePairs();
  }
}

async function recordReleased(
  ctx: EngineContext, id: string, c: ContainerState | undefined, status: ExitStatus, options: { hub?: ProcessHub; thenPolicy: boolean },
  { oomRead, volumes }: { readonly oomRead: Promise<boolean | null>; readonly volumes: Promise<void> }, network: ExitNetworkRelease,
): Promise<void> {
  const limiter = ctx.limiter();
  const read = await oomRead;
  const oomKilled = status.oomKilled || read === true;
  // The cgroups go while the record is committed when the OOM killer ended nothing (the run's
  // processes are gone, and the verdict, read, cannot change: a daemon that dies before the commit
  // reads "no" again from a memory cgroup that is gone). Asked once the commit's write is issued
  // (setImmediate: the log writes a commit a microtask after the append), so the rmdirs run during
  // its fdatasync instead of ahead of its write in the thread pool. When it did, or the verdict
  // could not be read, they all go after the commit (a daemon that dies before it reads the
  // verdict again from the memory cgroup).
  const beside = !oomKilled && read === false;
  let removal: Promise<void> | undefined;
  const removeBeside = (): Promise<void> => (removal ??= new Promise((resolve) => setImmediate(resolve)).then(() => limiter?.remove(id)));
  // The crash window of the removal beside the commit: cgroups gone, ContainerExited not durable.
  if (beside && c?.stopping) await failpointAfter('stop.after-cgroups', removeBeside);
  let recorded = false;
  if (c) {
    await ctx.appendDecided(id, (now) => {
      const exit = decideExit(now, { ...status, oomKilled });
      return exit.length > 0 ? [...exit, ...network.containerEvents] : [];
    }, () => {
      recorded = true;
      if (beside) void removeBeside().catch(() => undefined); // a failure is tried again below
      return appendNetworkReleases(ctx, id, network.networks);
    });
  }
  if (!recorded) {
    // No exit to record (it was recorded already): the releases go on their own.
    if (network.containerEvents.length > 0) await ctx.store.append(containerStream(id), network.containerEvents, 'any');
    await Promise.all(appendNetworkReleases(ctx, id, network.networks));
  }
  // Those not removed beside the commit go once the exit is recorded.
  const cgroups = (beside ? removeBeside().catch(() => limiter?.remove(id)) : Promise.resolve().then(() => limiter?.remove(id)))
    .catch((e: unknown) => ctx.logger.warn(`cgroup removal for ${ctx.short(id)} failed: ${messageOf(e)}`));
  // Its output ends once the exit is recorded (an attached client then reads it as exited), beside the cgroups and volumes.
  const ended = (async () => {
    if (options.hub) {
      await options.hub.finish();
      if (ctx.hubs.get(id) === options.hub) ctx.hubs.delete(id);
    } else if (c) {
      // No hub: the shim is gone or waits for a daemon that will not come; its bundle goes.
      await ctx.isolator().cleanup(id, c.shimPid).catch((e: unknown) => ctx.logger.warn(`cleanup of ${ctx.short(id)}'s shim failed: ${messageOf(e)}`));
    }
  })();
  await Promise.all([cgroups, volumes, ended]);
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
