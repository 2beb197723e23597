import { DAEMON_STREAM, type EngineEvent, type JsonValue } from '../../events/index.js';
import { DriverKinds } from '../plugins/kinds.js';
import { releaseNetworking } from './container-network-release.js';
import type { Logger } from '../plugins/logger.js';
import type { ContainerState, ExecState } from '../state/engine-state.js';
import { startOnDaemonStart } from '../state/restart-policy.js';
import type { ContainerEngine } from './container-engine.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import type { EventStore } from './event-store.js';
import { recordExit } from './exit-recorder.js';
import { Journal } from './journal.js';
import { nowRfc3339Nano } from './process-hub.js';
import { finishRemoval } from './remove-container.js';
import { reattach, removeAfterFailedStart, startLocked } from './start-container.js';
import { startCommand, startFailureExitCode } from './start-failure.js';
import { stopContainer } from './stop-container.js';
import { recoverVolumeMounts } from './volume-mounts.js';
import { recoverVolumes } from './volume-service.js';

/**
 * Recovery at daemon start, from the log and from what exists on the host:
 *
 * 1. Intents without their final event: a removal is finished (its steps are idempotent); a
 *    start whose shim is alive is completed (ContainerStarted), any other is undone (its steps
 *    undone, ContainerStartFailed, then an AutoRemove container removed); a commit thaws the container and ends as committed (the image
 *    exists) or failed; an exec that was starting or running ends: with its true exit code when
 *    it ended while no daemon ran (the isolator kept its record), else killed, with the reason.
 * 2. Running containers: a live shim is reattached (and thawed, unless paused: a copy that the
 *    daemon's death cut left it frozen); one that exited while no daemon ran gets its
 *    true exit from the shim's exit file; a stop that was under way is carried out.
 * 3. What drivers hold that the log does not account for (shims and bundles, cgroups, container
 *    layers, logs of unknown containers, volumes) is removed, with a warning naming it; a volume
 *    whose create was cut is removed, one whose removal was cut is removed for good.
 * Then DaemonReconciled, and the containers whose restart policy says so start.
 */
export async function reconcile(engine: ContainerEngine, store: EventStore, logger: Logger): Promise<{ running: string[]; exited: string[] }> {
  const ctx = engine.context;
  const attempt = async (what: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      logger.error(`${what} failed: ${messageOf(err)}`);
    }
  };
  for (const c of Object.values(store.state().containers)) {
    if (c.status === 'removing') await attempt(`finishing the removal of ${ctx.short(c.id)}`, () => ctx.serial(c.id, () => finishRemoval(ctx, c.id)));
    else if (c.starting) await attempt(`recovering the start of ${ctx.short(c.id)}`, () => ctx.serial(c.id, () => recoverStart(ctx, c)));
  }
  await attempt('recovering volumes whose create or removal was cut', () => recoverVolumes(ctx));
  for (const c of Object.values(store.state().containers)) {
    if (c.committing) await attempt(`ending the commit of ${ctx.short(c.id)}`, () => recoverCommit(ctx, c));
  }
  for (const x of Object.values(store.state().execs)) {
    if (x.starting || x.running) await attempt(`ending exec ${ctx.short(x.execId)}`, () => endLostExec(ctx, x));
  }

  const running: string[] = [];
  const exited: string[] = [];
  const isolator = ctx.isolator();
  for (const c of Object.values(store.state().containers)) {
    if (c.status !== 'running' && c.status !== 'paused') continue;
    await attempt(`reconciling container ${ctx.short(c.id)}`, async () => {
      if (isolator.isAlive(c.id, c.shimPid)) {
        // Running in the log means not frozen: a copy (cp) freezes it while it works, and a daemon
        // that died then left it so. Thawing a container that is not frozen changes nothing.
        if (c.status === 'running' && !c.committing) await ctx.limiter()?.thaw(c.id).catch(() => undefined);
        await reattach(ctx, c.id);
        running.push(c.id);
        if (c.stopping) {
          logger.info(`container ${ctx.short(c.id)}: a stop was under way when the daemon stopped; stopping it`);
          void stopContainer(ctx, c.id, c.stopping).catch((e: unknown) => logger.warn(`stop of ${ctx.short(c.id)} failed: ${messageOf(e)}`));
        }
        return;
      }
      let status = await isolator.exitStatus(c.id);
      if (!status) {
        logger.warn(`container ${ctx.short(c.id)}: its shim (pid ${c.shimPid}) is gone and left no exit status; recording exit code 255`);
        status = { exitCode: 255, signal: null, oomKilled: false, finishedAt: nowRfc3339Nano() };
      }
      await ctx.serial(c.id, () => recordExit(ctx, c.id, status, { thenPolicy: true }));
      exited.push(c.id);
    });
  }
  await attempt('unmounting volumes no running container holds', () => recoverVolumeMounts(ctx));
  await attempt('removing what no container in the log accounts for', () => removeOrphans(ctx));
  await store.append(DAEMON_STREAM, [{ type: 'DaemonReconciled', data: { running, exited } }], 'any');
  const restarted = await startByPolicy(ctx);
  if (restarted.length > 0) logger.info(`started by their restart policy: ${restarted.map((id) => ctx.short(id)).join(', ')}`);
  return { running, exited };
}

/** A start the daemon did not finish: completed when its shim runs, otherwise undone (and an AutoRemove container removed, as after any failed start). */
async function recoverStart(ctx: EngineContext, c: ContainerState): Promise<void> {
  const isolator = ctx.isolator();
  const journal = new Journal(ctx.store, c.id);
  const started = c.startSteps.find((s) => s.kind === DriverKinds.isolator)?.output ?? null;
  const pid = numberField(started, 'pid');
  const shimPid = numberField(started, 'shimPid');
  if (pid > 0 && isolator.isAlive(c.id, shimPid) && (await isolator.exitStatus(c.id)) === null) {
    ctx.logger.warn(`container ${ctx.short(c.id)}: the daemon stopped while it was starting; its process runs (pid ${pid}): recording it as started`);
    // Running now in the log: the next pass reattaches it like any running container.
    await journal.commit([{ type: 'ContainerStarted', data: { id: c.id, pid, shimPid, drivers: c.startSteps.map((s) => s.driverId) } }]);
    return;
  }
  ctx.logger.warn(`container ${ctx.short(c.id)}: the daemon stopped while it was starting; undoing the steps that ran`);
  await isolator.cleanup(c.id, shimPid);
  await ctx.limiter()?.remove(c.id);
  // Ports the network step published (ContainerPortsUnpublished); its addresses stay the container's, as after any stop.
  await releaseNetworking(ctx, c.id).catch((e: unknown) => ctx.logger.warn(`container ${ctx.short(c.id)}: releasing its network: ${messageOf(e)}`));
  const undone: EngineEvent[] = [...c.startSteps].reverse().map((s) => ({ type: 'ContainerStartStepUndone', data: { id: c.id, kind: s.kind, driverId: s.driverId } }));
  // A step had failed (the crash came while its start was being undone): that failure is the start's,
  // its exit code by the same rule as a start that ends without a crash; else the daemon's stop is.
  const failure = c.startFailure ?? { driverId: 'engine', message: 'the daemon stopped while the container was starting; the steps that ran were undone', processStartCode: null };
  await journal.commit([...undone, {
    type: 'ContainerStartFailed',
    data: { id: c.id, driver: failure.driverId, message: failure.message, exitCode: startFailureExitCode(failure, startCommand(c.config), c.exitCode) },
  }]);
  // An AutoRemove (--rm) container goes, as after a failed start without a crash (a failure is logged).
  if (c.hostConfig.AutoRemove) await removeAfterFailedStart(ctx, c.id);
}

/** A number in a recorded step output ({pid, shimPid}), 0 when absent. */
function numberField(output: JsonValue, key: string): number {
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return 0;
  const value = (output as { readonly [key: string]: JsonValue })[key];
  return typeof value === 'number' ? value : 0;
}

/** A commit the daemon did not finish: the container thawed; committed if its image exists, else failed. */
async function recoverCommit(ctx: EngineContext, c: ContainerState): Promise<void> {
  const committing = c.committing;
  if (!committing) return;
  if (committing.paused && (c.status === 'running' || c.status === 'paused')) await ctx.limiter()?.thaw(c.id).catch(() => undefined);
  const since = Date.parse(committing.since) - 1000;
  const image = Object.values(ctx.state().images).find((i) => i.origin === 'commit' && i.source === c.id && Date.parse(i.created) >= since);
  const journal = new Journal(ctx.store, c.id);
  if (image) await journal.commit([{ type: 'ContainerCommitted', data: { id: c.id, imageId: image.id, ref: image.tags[0] ?? null } }]);
  else await journal.commit([{ type: 'ContainerCommitFailed', data: { id: c.id, message: 'the daemon stopped during the commit' } }]);
}

/**
 * An exec whose daemon died: the isolator ends what is left of it. When its runner recorded the
 * exit (the exec ended while no daemon listened), that is its true exit code; otherwise a process
 * of it still in the container is killed, and it ends as exited with the reason.
 */
async function endLostExec(ctx: EngineContext, x: ExecState): Promise<void> {
  const c = ctx.state().containers[x.containerId];
  if (!c) return;
  const journal = new Journal(ctx.store, c.id);
  const end = await ctx.isolator().endExec(c.id, x.execId, { pid: x.pid, initPid: c.pid, ...(x.startTime !== null ? { startTime: x.startTime } : {}) });
  if (end.ended === 'recorded') {
    ctx.logger.info(`exec ${ctx.short(x.execId)} of ${ctx.short(c.id)} ended while no daemon ran: exit code ${end.status.exitCode}`);
    await journal.commit([{ type: 'ExecExited', data: { id: c.id, execId: x.execId, exitCode: end.status.exitCode } }]);
    return;
  }
  const killed = end.ended === 'killed';
  const reason = x.running
    ? `the daemon stopped while the exec ran; its exit status is unknown${killed ? ' (its process was killed)' : ''}`
    : 'the daemon stopped while the exec was starting';
  await journal.commit([{ type: 'ExecExited', data: { id: c.id, execId: x.execId, exitCode: killed ? 137 : 255, reason } }]);
}

/** Removes what a driver holds for a container the log does not have (or no longer runs), naming it. */
async function removeOrphans(ctx: EngineContext): Promise<void> {
  const known = (id: string): ContainerState | undefined => ctx.state().containers[id];
  const live = (id: string): boolean => {
    const c = known(id);
    return c !== undefined && (c.status === 'running' || c.status === 'paused');
  };
  const isolator = ctx.isolator();
  for (const held of await isolator.held()) {
    if (live(held.containerId)) continue;
    if (!known(held.containerId)) ctx.logger.warn(`${isolator.id} holds a bundle${held.shimPid > 0 ? ` and a live shim (pid ${held.shimPid})` : ''} for container ${held.containerId}, which the log does not know: removing them`);
    else if (held.shimPid > 0) ctx.logger.warn(`${isolator.id}: a shim (pid ${held.shimPid}) is alive for container ${ctx.short(held.containerId)}, which is not running: removing it`);
    else continue; // the bundle of a stopped container: its exit file; rm or the next start removes it
    await isolator.cleanup(held.containerId, held.shimPid);
  }
  const limiter = ctx.limiter();
  if (limiter) {
    for (const id of await limiter.held()) {
      if (live(id)) continue;
      ctx.logger.warn(`${limiter.id} holds cgroups for container ${id}, which ${known(id) ? 'is not running' : 'the log does not know'}: removing them`);
      await limiter.remove(id);
    }
  }
  const storage = ctx.storage();
  for (const id of await storage.held()) {
    if (known(id)) continue;
    ctx.logger.warn(`${storage.id} holds a writable layer for container ${id}, which the log does not know: removing it`);
    await storage.remove(id);
  }
  for (const log of ctx.registry.allOf(DriverKinds.log)) {
    for (const id of await log.held()) {
      if (known(id)) continue;
      ctx.logger.warn(`${log.id} keeps logs of container ${id}, which the log does not know: removing them`);
      await log.remove(id);
    }
  }
}

/** After a daemon start: containers whose restart policy says so start (again), as Docker does. */
async function startByPolicy(ctx: EngineContext): Promise<string[]> {
  const started: string[] = [];
  for (const c of Object.values(ctx.state().containers)) {
    if (!startOnDaemonStart(c)) continue;
    try {
      await ctx.serial(c.id, () => startLocked(ctx, c.id, true));
      started.push(c.id);
    } catch (e) {
      ctx.logger.warn(`starting ${ctx.short(c.id)} by its restart policy failed: ${messageOf(e)}`);
    }
  }
  return started;
}
