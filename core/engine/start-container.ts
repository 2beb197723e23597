import type { JsonValue } from '../../events/index.js';
import { failpoint, failpointAfter } from '../failpoints.js';
import { ProcessStartError, type ProcessIO } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import { decideStart } from '../state/decide.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import { type ContainerSecurity, deviceAccess, startSecurity } from '../security/container-security.js';
import { containerBinds, makeBindSources } from './container-volumes.js';
import { networkStep, recordedNetworkOutput } from './container-network-attach.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ConflictError, NetworkGoneError, StartFailedError } from './errors.js';
import { onHubExit } from './exit-recorder.js';
import { Journal } from './journal.js';
import { usernsFor } from '../security/userns-remap.js';
import { mountContainerVolumes, releaseContainerVolumes } from './volume-mounts.js';
import { pickLimits } from './limits.js';
import { ProcessHub } from './process-hub.js';
import { removeLocked } from './remove-container.js';
import { startCommand, startFailureExitCode, startFailureOf } from './start-failure.js';
import { runStartPipeline, StartStepError, type StartSteps, type StepOutputs } from './start-pipeline.js';

/**
 * The start's process manager. Under the container's lock: the rule (decideStart) gives the
 * intent, ContainerStarting, appended durably before any driver acts; then the drivers run in
 * START_ORDER's stages, each step's input the typed outputs of the stages before and each outcome an event; then
 * ContainerStarted (or, after the steps that ran were undone, ContainerStartFailed).
 */
export async function startLocked(ctx: EngineContext, id: string, byPolicy = false): Promise<void> {
  const c = findContainer(ctx.state(), id);
  decideStart(c, byPolicy); // refuses before anything is prepared
  ctx.cancelRestart(id);
  const image = ctx.state().images[c.image.id];
  if (!image) throw new ConflictError(`image ${c.image.id} of container ${c.name} was removed: create the container again`);
  const journal = new Journal(ctx.store, id);
  const steps = startSteps(ctx, c, image, journal);
  await ctx.appendDecided(id, (now) => decideStart(now, byPolicy));
  failpoint('start.after-intent');

  let result: Awaited<ReturnType<typeof runStartPipeline>>;
  try {
    result = await runStartPipeline(id, steps, journal, (m) => ctx.logger.warn(m));
  } catch (err) {
    const cause = err instanceof StartStepError ? err.cause : err;
    const driver = err instanceof StartStepError ? err.driverId : 'engine';
    // A network it needs is gone (removed while it was stopped, or the one it named at create): moby's 404
    // with the lookup's message. The client's exit code (125/126/127) is the isolator's; the state's is moby's rule.
    const gone = cause instanceof NetworkGoneError;
    const exitCode = cause instanceof ProcessStartError ? cause.exitCode : 125;
    const message = messageOf(cause);
    await failpointAfter('start.after-undo', () => journal.flush());
    await failStart(ctx, c, journal, driver, cause);
    if (gone) throw new NetworkGoneError(message);
    throw new StartFailedError(`failed to start container ${ctx.short(id)}: ${message}`, exitCode);
  }

  const { outputs, drivers } = result;
  let io: ProcessIO;
  try {
    io = await connectOrUndo(ctx, id, steps, outputs);
  } catch (err) {
    await failStart(ctx, c, journal, ctx.isolator().id, err);
    throw new StartFailedError(`failed to start container ${ctx.short(id)}: ${messageOf(err)}`, 125);
  }
  const hub = ProcessHub.connect(io, outputs['log.v1'].writer, (e) => ctx.logger.error(`log write for ${ctx.short(id)} failed: ${String(e)}`));
  ctx.wireHub(id, hub);
  await failpointAfter('start.before-final', () => journal.flush());
  const { pid, shimPid } = outputs['isolator.v1'];
  try {
    await journal.commit([{ type: 'ContainerStarted', data: { id, pid, shimPid, drivers, ...(byPolicy ? { restart: true } : {}) } }]);
  } catch (err) {
    // Not recorded (a full disk): a container the log does not know as running must not run.
    ctx.hubs.delete(id);
    await undoStarted(steps, outputs);
    await failStart(ctx, c, journal, 'engine', err).catch(() => undefined); // the log refused ContainerStarted: it may refuse this too
    throw err;
  }
  for (const chunk of ctx.pendingStdin.get(id) ?? []) hub.write(chunk);
  ctx.pendingStdin.delete(id);
  if (ctx.pendingStdinClose.delete(id)) hub.closeStdin();
  void hub.whenExited().then((status) => onHubExit(ctx, id, hub, status));
}

/**
 * The end of a start that failed after its intent, its steps undone (a step failed, the connection
 * to the shim failed, or ContainerStarted could not be recorded): ContainerStartFailed with `cause`'s
 * message and the exit code of moby's rule, the volumes it mounted released, the clients attached to
 * it let go, then an AutoRemove (--rm) container removed with its anonymous volumes, as dockerd does
 * (the docker CLI's `run --rm` waits for the removal even after a failed start). When the log refuses
 * ContainerStartFailed (a full disk: the journal appends it again until it fits), that error is thrown
 * once the volumes and clients are let go, and the container, still starting in the log, is not removed.
 */
async function failStart(ctx: EngineContext, c: ContainerState, journal: Journal, driver: string, cause: unknown): Promise<void> {
  const id = c.id;
  try {
    await journal.commitFinal([{ type: 'ContainerStartFailed', data: { id, driver, message: messageOf(cause), exitCode: startFailureExitCode(startFailureOf(cause), startCommand(c.config), c.exitCode) } }]);
  } finally {
    await releaseContainerVolumes(ctx, id);
    ctx.finishAttached(id);
  }
  if (c.hostConfig.AutoRemove) await removeAfterFailedStart(ctx, id);
}

/** An AutoRemove (--rm) container whose start failed is removed with its anonymous volumes (under its lock); a removal that fails is logged, the container stays. */
export async function removeAfterFailedStart(ctx: EngineContext, id: string): Promise<void> {
  await removeLocked(ctx, id, true, true).catch((e: unknown) => ctx.logger.warn(`auto-remove of ${ctx.short(id)} after its failed start failed: ${messageOf(e)}`));
}

/** The daemon's connection to the shim that just started; when it cannot be made, the steps are undone. */
async function connectOrUndo(ctx: EngineContext, id: string, steps: StartSteps, outputs: StepOutputs): Promise<ProcessIO> {
  try {
    return await ctx.isolator().connect(id);
  } catch (err) {
    await undoStarted(steps, outputs);
    throw err;
  }
}

/** Undoes a start whose steps all ran: the shim and its process, the log writer, the network (ports, veths, what it connected), the cgroups (the writable layer stays until rm). */
async function undoStarted(steps: StartSteps, outputs: StepOutputs): Promise<void> {
  await steps[DriverKinds.isolator].undo(outputs[DriverKinds.isolator]).catch(() => undefined);
  await steps[DriverKinds.log].undo(outputs[DriverKinds.log]).catch(() => undefined);
  await steps[DriverKinds.network].undo(outputs[DriverKinds.network]).catch(() => undefined);
  await steps[DriverKinds.limiter].undo(outputs[DriverKinds.limiter]).catch(() => undefined);
}

/** The steps of one start, one per kind of START_ORDER; each reads only what the steps of the stages before it returned. */
function startSteps(ctx: EngineContext, c: ContainerState, image: ImageState, journal: Journal): StartSteps {
  const id = c.id;
  const storage = ctx.storage();
  const isolator = ctx.isolator();
  const limiter = ctx.limiter();
  const logDriver = ctx.logDriver(c.hostConfig.LogConfig.Type);
  const limits = pickLimits(c.hostConfig);
  const network = networkStep(ctx, c, image, journal);
  // What the container's HostConfig asks of its privileges and devices: derived once, on first use
  // inside a step, so that a missing --device fails the start there (125), naming the device.
  let security: ContainerSecurity | undefined;
  const securityOf = (): ContainerSecurity => (security ??= startSecurity(c.hostConfig));
  return {
    [DriverKinds.storage]: {
      driverId: storage.id,
      run: async () => ({ mounts: await storage.prepare(id, image.layers.map((l) => l.diffId)) }),
      recorded: (out) => out.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, options: [...m.options] })),
      undo: async () => undefined, // the writable layer belongs to the container until rm
    },
    [DriverKinds.limiter]: limiter
      ? {
        driverId: limiter.id,
        run: async () => ({ cgroups: await limiter.create(id, limits, deviceAccess(securityOf())) }),
        recorded: (out) => [...out.cgroups],
        undo: () => limiter.remove(id),
      }
      : { driverId: null, run: async () => ({ cgroups: [] }), recorded: () => null, undo: async () => undefined },
    [DriverKinds.network]: { driverId: network.driverId, run: () => network.run(), recorded: recordedNetworkOutput, undo: (out) => network.undo(out) },
    [DriverKinds.log]: {
      driverId: logDriver.id,
      run: async () => ({ writer: await logDriver.open(id, c.hostConfig.LogConfig.Config) }),
      recorded: (out): JsonValue => ({ storedOffset: out.writer.storedOffset }),
      undo: (out) => out.writer.close(),
    },
    [DriverKinds.isolator]: {
      driverId: isolator.id,
      run: async (input) => {
        const mounts = input[DriverKinds.storage].mounts;
        const root = mounts.find((m) => m.type === 'overlay') ?? mounts[0];
        if (!root) throw new Error(`${storage.id} returned no root mount`);
        const net = input[DriverKinds.network];
        // A volume is a bind of its folder; a parent path is bound before what is mounted under it.
        // The /etc files come first, so a user's bind over /etc/hosts wins, as in Docker.
        const { binds: own, hostBinds } = containerBinds(ctx.state(), c);
        await mountContainerVolumes(ctx, id); // a tmpfs or block-device volume: mounted for its first user
        const binds = [...net.files, ...own];
        const userns = usernsFor(c.hostConfig.UsernsMode, ctx.infoBase.usernsRemap ?? null);
        await makeBindSources(ctx, hostBinds);
        const env = [...c.config.Env, `HOSTNAME=${c.config.Hostname}`];
        if (c.config.Tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
        return isolator.start({
          containerId: id, args: [...(c.config.Entrypoint ?? []), ...c.config.Cmd], env, cwd: c.config.WorkingDir || '/',
          user: c.config.User, hostname: c.config.Hostname, tty: c.config.Tty, stdin: c.config.OpenStdin, mounts,
          rootfs: root.target, binds, cgroups: input[DriverKinds.limiter].cgroups, outputOffset: input[DriverKinds.log].writer.storedOffset,
          ...(c.hostConfig.SecurityOpt ? { securityOpt: c.hostConfig.SecurityOpt } : {}),
          network: net.namespace,
          ...(net.wire ? { beforeCommand: net.wire } : {}),
          security: securityOf(),
          ...(userns ? { userns } : {}),
          ...(c.hostConfig.ConsoleSize && c.hostConfig.ConsoleSize[0] > 0 ? { consoleSize: c.hostConfig.ConsoleSize } : {}),
        });
      },
      recorded: (out) => ({ pid: out.pid, shimPid: out.shimPid }),
      undo: (out) => isolator.cleanup(id, out.shimPid),
    },
  };
}

/** Connects to a running container's shim after a daemon start: its output flows again, its exit is recorded. */
export async function reattach(ctx: EngineContext, id: string): Promise<void> {
  const c = findContainer(ctx.state(), id);
  const writer = await ctx.logDriver(c.hostConfig.LogConfig.Type).open(id, c.hostConfig.LogConfig.Config);
  const io = await ctx.isolator().connect(id);
  const hub = ProcessHub.connect(io, writer, (e) => ctx.logger.error(`log write for ${ctx.short(id)} failed: ${String(e)}`));
  ctx.wireHub(id, hub);
  void hub.whenExited().then((status) => onHubExit(ctx, id, hub, status));
}
