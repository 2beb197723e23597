/**
 * Volumes: create, remove, prune and recovery, each written ahead like a container's commands.
 * A create appends its intent (VolumeCreating) durably, then the driver makes the volume (and,
 * for a container's new volume, the image's content at its path is copied in: volume-copy-up.ts),
 * then VolumeCreated; a removal appends VolumeRemoving, the driver removes, then VolumeRemoved. A
 * daemon that died in between finds the intent without its end at the next start
 * (`recoverVolumes`) and removes what the driver may have made, so no half volume is ever listed.
 *
 * One command at a time per volume name (`ctx.serial('volume:<name>')`, volume-context.ts); a
 * container's create and a volume's removal take the same lock, so "in use" cannot change between
 * the check and the append.
 */
import { volumeStream, type VolumeCreating } from '../../events/index.js';
import { failpoint } from '../failpoints.js';
import { DriverKinds } from '../plugins/kinds.js';
import { mountedOnDemand } from '../plugins/volume-driver.js';
import type { IdMapping } from '../security/id-map.js';
import { fillsFromImage } from './copy-up-rule.js';
import type { ImageState, VolumeSpec, VolumeState } from '../state/engine-state.js';
import { decideVolumeCreate, decideVolumeRemove, findVolume, volumeUsers, volumesToPrune } from '../state/volume-rules.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { InvalidArgumentError } from './errors.js';
import { newId } from './names.js';
import { copyUp, undoCopyUp } from './volume-copy-up.js';
import { volumeDriver, volumeLock, volumeOwner } from './volume-context.js';

/**
 * What `volume create` (or a container's create) asks for: the volume's spec as VolumeCreating
 * will record it, with "" as the name of a new anonymous volume (given a random 64-hex name) and
 * `container` the container whose create makes it.
 */
export interface VolumeCreateRequest extends VolumeSpec {
  /** Fill the new volume with what the image has at this path (Docker's copy-up); `userns`: the container's id mapping, which the copied owners are shifted by. */
  readonly copyUp?: { readonly image: ImageState; readonly path: string; readonly userns: IdMapping | null };
}

/** Creates a volume, or returns the one of that name (same driver). Call under the volume's lock for a container's create; `createVolume` takes it. */
export async function createVolumeLocked(ctx: EngineContext, request: VolumeCreateRequest): Promise<{ volume: VolumeState; created: boolean }> {
  const name = request.name === '' ? newId() : request.name;
  const driver = volumeDriver(ctx, request.driver);
  try {
    driver.validateOptions(request.options);
  } catch (err) {
    throw new InvalidArgumentError(`create ${name}: ${messageOf(err)}`);
  }
  const data: VolumeCreating['data'] = {
    name, driver: driver.name, labels: { ...request.labels }, options: { ...request.options }, anonymous: request.anonymous,
    ...(request.container !== undefined ? { container: request.container } : {}),
  };
  const intent = decideVolumeCreate(ctx.state(), data);
  if (intent.length === 0) return { volume: findVolume(ctx.state(), name), created: false };
  await ctx.store.append(volumeStream(name), intent, 'any');
  failpoint('volume.after-intent');
  try {
    const made = await driver.create(name, request.options, volumeOwner(ctx));
    if (request.copyUp && fillsFromImage(request.options, mountedOnDemand(driver, request.options))) {
      await copyUp(ctx, request.copyUp.image, request.copyUp.path, made.mountpoint, { userns: request.copyUp.userns });
    }
    failpoint('volume.after-create');
    await ctx.store.append(volumeStream(name), [{ type: 'VolumeCreated', data: { name, mountpoint: made.mountpoint } }], 'any');
  } catch (err) {
    await driver.remove(name).catch((e: unknown) => ctx.logger.warn(`removing the volume ${name} after its create failed: ${messageOf(e)}`));
    await ctx.store.append(volumeStream(name), [{ type: 'VolumeRemoved', data: { name } }], 'any');
    throw new InvalidArgumentError(`create ${name}: ${messageOf(err)}`);
  }
  return { volume: findVolume(ctx.state(), name), created: true };
}

/** `volume create`: under the name's lock (a random name needs none: nobody else can know it). */
export function createVolume(ctx: EngineContext, request: VolumeCreateRequest): Promise<VolumeState> {
  const name = request.name === '' ? newId() : request.name;
  return ctx.serial(volumeLock(name), async () => (await createVolumeLocked(ctx, { ...request, name })).volume);
}

/** `volume rm`: refused while a container uses it; with `force` a missing volume is no error. */
export async function removeVolume(ctx: EngineContext, name: string, force: boolean): Promise<void> {
  await ctx.serial(volumeLock(name), async () => {
    if (force && !ctx.state().volumes[name]) return;
    const intent = decideVolumeRemove(ctx.state(), name);
    if (intent.length > 0) await ctx.store.append(volumeStream(name), intent, 'any');
    await finishVolumeRemoval(ctx, name);
  });
}

/** The driver's part and the final event of a removal whose intent is in the log (or of a create cut short). */
export async function finishVolumeRemoval(ctx: EngineContext, name: string): Promise<void> {
  const v = ctx.state().volumes[name];
  if (!v) return;
  await volumeDriver(ctx, v.driver).remove(name);
  await ctx.store.append(volumeStream(name), [{ type: 'VolumeRemoved', data: { name } }], 'any');
}

/** `volume prune`: the unused volumes the filters select (anonymous ones unless all=true); their names and the bytes they took. */
export async function pruneVolumes(ctx: EngineContext, filters: ReadonlyMap<string, readonly string[]>): Promise<{ deleted: string[]; spaceReclaimed: number }> {
  const deleted: string[] = [];
  let spaceReclaimed = 0;
  for (const v of volumesToPrune(ctx.state(), filters)) {
    const size = await volumeSize(ctx, v);
    try {
      await removeVolume(ctx, v.name, false);
    } catch (err) {
      ctx.logger.warn(`volume prune: ${messageOf(err)}`);
      continue; // a container took it meanwhile
    }
    deleted.push(v.name);
    spaceReclaimed += Math.max(0, size);
  }
  return { deleted, spaceReclaimed };
}

/** The bytes a volume takes (-1 when its driver cannot tell). */
export async function volumeSize(ctx: EngineContext, v: VolumeState): Promise<number> {
  try {
    return (await volumeDriver(ctx, v.driver).usage(v.name)).size;
  } catch {
    return -1;
  }
}

/**
 * At daemon start: a first mount's copy-up without its end is undone (the volume emptied), a
 * create without VolumeCreated is undone (what the driver made removed,
 * VolumeRemoved), a removal without VolumeRemoved is finished, and a volume a driver keeps that
 * the log does not know is removed, with a warning naming it.
 */
export async function recoverVolumes(ctx: EngineContext): Promise<void> {
  for (const v of Object.values(ctx.state().volumes)) {
    if (v.status === 'created' && v.copyUp === 'copying') {
      ctx.logger.warn(`volume ${v.name}: the daemon stopped while it was being filled from an image at its first mount; emptying it (the next container that mounts it fills it)`);
      await ctx.serial(volumeLock(v.name), () => undoCopyUp(ctx, v.name));
    }
    if (v.status === 'created') continue;
    ctx.logger.warn(`volume ${v.name}: the daemon stopped while it was ${v.status === 'creating' ? 'being created; removing what was made' : 'being removed; finishing the removal'}`);
    await ctx.serial(volumeLock(v.name), () => finishVolumeRemoval(ctx, v.name));
  }
  for (const driver of ctx.registry.allOf(DriverKinds.volume)) {
    for (const name of await driver.held()) {
      if (ctx.state().volumes[name]) continue;
      ctx.logger.warn(`${driver.id} keeps a volume ${name}, which the log does not know: removing it`);
      await driver.remove(name);
    }
  }
}

/**
 * An anonymous volume a container's removal takes with it (`rm -v`): VolumeRemoving, the driver,
 * VolumeRemoved; kept (with a warning) when another container uses it too (`--volumes-from`).
 */
export async function removeAnonymousVolume(ctx: EngineContext, name: string, containerId: string): Promise<void> {
  await ctx.serial(volumeLock(name), async () => {
    const v = ctx.state().volumes[name];
    if (!v) return;
    const others = volumeUsers(ctx.state(), name).filter((id) => id !== containerId);
    if (others.length > 0) {
      ctx.logger.warn(`volume ${name} is kept: container ${ctx.short(others[0]!)} uses it too`);
      return;
    }
    if (v.status !== 'removing') await ctx.store.append(volumeStream(name), [{ type: 'VolumeRemoving', data: { name } }], 'any');
    await finishVolumeRemoval(ctx, name);
  });
}
