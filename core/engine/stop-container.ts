import { filter, firstValueFrom } from 'rxjs';
import { containerStream } from '../../events/index.js';
import { failpoint } from '../failpoints.js';
import { decideKill, decideStop } from '../state/decide.js';
import type { ContainerState } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import type { EngineContext } from './engine-context.js';
import { parseSignal } from './names.js';
import { startLocked } from './start-container.js';

/**
 * stop: the intent (ContainerStopRequested) is appended before the signal goes; the final event
 * is the exit, recorded by the exit recorder when the process ends (after the grace period,
 * SIGKILL). A daemon that died in between finds the container `stopping` and stops it again.
 */
export async function stopContainer(ctx: EngineContext, id: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void> {
  const signal = options.signal ?? 'SIGTERM';
  const timeout = options.timeoutSeconds ?? 10;
  const sent = await ctx.serial(id, async () => {
    const number = parseSignal(signal);
    const c = await ctx.appendDecided(id, (now) => decideStop(now, signal, timeout));
    failpoint('stop.after-intent');
    if (c.status === 'restarting') return undefined; // the stop cancelled the restart
    if (c.status === 'paused') await ctx.limiter()?.thaw(id);
    await signalContainer(ctx, c, number);
    failpoint('stop.after-signal');
    return c;
  });
  if (!sent) {
    ctx.cancelRestart(id);
    return;
  }
  const hub = ctx.hubs.get(id);
  const exited = hub
    ? await Promise.race([hub.whenExited().then(() => true), delay(timeout * 1000).then(() => false)])
    : await Promise.race([untilExitRecorded(ctx, id).then(() => true), delay(timeout * 1000).then(() => false)]);
  if (!exited) await signalContainer(ctx, sent, 9);
  await untilExitRecorded(ctx, id);
  // The exit's record goes on under the container's lock (networking, cgroups, on-demand volumes
  // released): the stop answers once that is done, as Docker's stop returns after the cleanup.
  await ctx.serial(id, async () => undefined);
}

export async function killContainer(ctx: EngineContext, id: string, signal: string): Promise<void> {
  await ctx.serial(id, async () => {
    const n = parseSignal(signal);
    const c = await ctx.appendDecided(id, (now) => decideKill(now, signal));
    failpoint('kill.after-intent');
    await signalContainer(ctx, c, n);
  });
}

export async function restartContainer(ctx: EngineContext, id: string, options: { timeoutSeconds?: number }): Promise<void> {
  const c = findContainer(ctx.state(), id);
  if (c.status === 'running' || c.status === 'paused') await stopContainer(ctx, c.id, options);
  // A pending exit record (the hub's exit handler) first, so the start starts from exited.
  await untilExitRecorded(ctx, c.id);
  await ctx.serial(c.id, async () => undefined);
  await ctx.serial(c.id, () => startLocked(ctx, c.id));
}

export async function signalContainer(ctx: EngineContext, c: ContainerState, signal: number): Promise<void> {
  const hub = ctx.hubs.get(c.id);
  if (hub) hub.signal(signal);
  else await ctx.isolator().kill(c.id, c.pid, signal);
}

/** Resolves once the container's current run has an exit event (or it is gone). */
export function untilExitRecorded(ctx: EngineContext, id: string): Promise<void> {
  const c = ctx.state().containers[id];
  if (!c || (c.status !== 'running' && c.status !== 'paused')) return Promise.resolve();
  return firstValueFrom(ctx.store.events.pipe(filter((e) => e.streamId === containerStream(id) && (e.type === 'ContainerExited' || e.type === 'ContainerRemoved'))))
    .then(() => undefined);
}

/** A timer that does not keep the daemon alive: a stop's grace period must not delay a shutdown. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
