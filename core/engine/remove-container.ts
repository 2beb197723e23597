import type { ExitStatus } from '../../events/index.js';
import { failpoint, failpointAfter, type FailpointName } from '../failpoints.js';
import { DriverKinds } from '../plugins/kinds.js';
import { decideKill, decideRemove } from '../state/decide.js';
import type { ContainerState } from '../state/engine-state.js';
import { anonymousVolumesToRemove } from '../state/volume-rules.js';
import { removeNetworking } from './container-network-release.js';
import type { EngineContext } from './engine-context.js';
import { recordExit } from './exit-recorder.js';
import { Journal } from './journal.js';
import { nowRfc3339Nano } from './process-hub.js';
import { removeAnonymousVolume } from './volume-service.js';

/** How long `rm -f` waits for a failed start's final event that waits for the disk (retried every second) before it refuses. */
const START_SETTLE_MS = 5_000;

/**
 * The removal's process manager, under the container's lock. A running container is killed first
 * when forced (its own command: ContainerKillRequested, the exit recorded), as Docker shows kill,
 * die, destroy. Then the intent, ContainerRemoving, is appended durably; after it the container
 * only goes: each driver lets go of what it holds (ContainerRemoveStepDone each), then
 * ContainerRemoved. With `removeVolumes` (rm -v, --rm) its anonymous volumes go too, after the
 * drivers (each its own VolumeRemoving, VolumeRemoved). Every step is idempotent, so a daemon that
 * died midway runs them all again (core/engine/reconciler.ts) and finishes.
 */
export async function removeLocked(ctx: EngineContext, id: string, force: boolean, removeVolumes = false): Promise<void> {
  if (force) await ctx.startSettled(id, START_SETTLE_MS);
  const c = ctx.state().containers[id];
  if (!c) return;
  decideRemove(c, force); // refuses before anything is killed
  ctx.cancelRestart(id);
  if (c.status === 'running' || c.status === 'paused') await killForRemoval(ctx, c);
  ctx.finishAttached(id); // also clients attached to a container that was not running
  const latest = ctx.state().containers[id];
  if (!latest) return;
  if (latest.status !== 'removing') {
    await ctx.appendDecided(id, (now) => decideRemove(now, force, removeVolumes));
    failpoint('rm.after-intent');
  }
  await finishRemoval(ctx, id);
}

/** The driver steps and the final event of a removal whose intent is in the log (also the reconciler's way to finish one). */
export async function finishRemoval(ctx: EngineContext, id: string): Promise<void> {
  const c = ctx.state().containers[id];
  if (!c) return;
  const journal = new Journal(ctx.store, id);
  const step = async (kind: string, driverId: string, point: FailpointName, work: () => Promise<void>): Promise<void> => {
    await work();
    journal.record([{ type: 'ContainerRemoveStepDone', data: { id, kind, driverId } }]);
    await failpointAfter(point, () => journal.flush());
  };
  const isolator = ctx.isolator();
  await step(DriverKinds.isolator, isolator.id, 'rm.after-isolator', () => isolator.cleanup(id, c.shimPid));
  // Its addresses back to the pools (ContainerNetworkDisconnected), ports and veths released, its /etc files gone;
  // without a network driver (no networks on this host) only the files, and no step is recorded.
  const network = ctx.registry.get(DriverKinds.network);
  if (network) await step(DriverKinds.network, network.id, 'rm.after-network', () => removeNetworking(ctx, id));
  else await removeNetworking(ctx, id);
  const limiter = ctx.limiter();
  if (limiter) await step(DriverKinds.limiter, limiter.id, 'rm.after-limiter', () => limiter.remove(id));
  const storage = ctx.storage();
  await step(DriverKinds.storage, storage.id, 'rm.after-storage', () => storage.remove(id));
  const log = ctx.logDriver(c.hostConfig.LogConfig.Type);
  await step(DriverKinds.log, log.id, 'rm.after-log', () => log.remove(id));
  if (c.removeVolumes) {
    const names = anonymousVolumesToRemove(ctx.state(), c);
    for (const name of names) await removeAnonymousVolume(ctx, name, id);
    if (names.length > 0) await failpointAfter('rm.after-volumes', () => journal.flush());
  }
  for (const execId of c.execIds) ctx.execs.delete(execId);
  await failpointAfter('rm.before-final', () => journal.flush());
  await journal.commitFinal([{ type: 'ContainerRemoved', data: { id } }]);
}

/** A forced removal of a running container: kill (recorded), wait for the process, record its exit. */
async function killForRemoval(ctx: EngineContext, c: ContainerState): Promise<void> {
  const id = c.id;
  await ctx.appendDecided(id, (now) => decideKill(now, 'SIGKILL'));
  if (c.status === 'paused') await ctx.limiter()?.thaw(id).catch(() => undefined);
  const hub = ctx.hubs.get(id);
  if (hub) hub.signal(9);
  else await ctx.isolator().kill(id, c.pid, 9);
  const status: ExitStatus = hub
    ? await hub.whenExited()
    : { exitCode: 137, signal: 9, oomKilled: false, finishedAt: nowRfc3339Nano() };
  await recordExit(ctx, id, status, { ...(hub ? { hub } : {}), thenPolicy: false });
}
