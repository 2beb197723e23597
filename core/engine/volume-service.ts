import { chmod, chown, lstat, readdir } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { volumeStream, type VolumeCreating } from '../../events/index.js';
import { extractTar, resolveInRoot, writeTar } from '../archive/index.js';
import { failpoint } from '../failpoints.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { VolumeDriver } from '../plugins/volume-driver.js';
import type { ImageState, VolumeState } from '../state/engine-state.js';
import { decideVolumeCreate, decideVolumeRemove, findVolume, volumeUsers, volumesToPrune } from '../state/volume-rules.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import { newId } from './names.js';

/**
 * Volumes: create, remove, prune and recovery, each written ahead like a container's commands.
 * A create appends its intent (VolumeCreating) durably, then the driver makes the volume (and,
 * for a container's new volume, the image's content at its path is copied in), then VolumeCreated;
 * a removal appends VolumeRemoving, the driver removes, then VolumeRemoved. A daemon that died in
 * between finds the intent without its end at the next start (`recoverVolumes`) and removes what
 * the driver may have made, so no half volume is ever listed.
 *
 * One command at a time per volume name (`ctx.serial('volume:<name>')`); a container's create and
 * a volume's removal take the same lock, so "in use" cannot change between the check and the append.
 */

/** What `volume create` (or a container's create) asks for. */
export interface VolumeCreateRequest {
  /** "" for a new anonymous volume (a random 64-hex name). */
  readonly name: string;
  readonly driver: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: Readonly<Record<string, string>>;
  readonly anonymous: boolean;
  /** The container whose create makes it. */
  readonly container?: string;
  /** Fill the new volume with what the image has at this path (Docker's copy-up). */
  readonly copyUp?: { readonly image: ImageState; readonly path: string };
}

export function volumeLock(name: string): string {
  return `volume:${name}`;
}

/** The driver `--driver NAME` selects ("local"). */
export function volumeDriver(ctx: EngineContext, name: string): VolumeDriver {
  const d = ctx.registry.allOf(DriverKinds.volume).find((x) => x.name === name);
  if (!d) throw new NotFoundError(`error looking up volume plugin ${name}: plugin "${name}" not found (${ctx.registry.whyMissing(DriverKinds.volume)})`);
  return d;
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
    const made = await driver.create(name, request.options);
    if (request.copyUp) await copyUp(ctx, request.copyUp.image, request.copyUp.path, made.mountpoint);
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
 * At daemon start: a create without VolumeCreated is undone (what the driver made removed,
 * VolumeRemoved), a removal without VolumeRemoved is finished, and a volume a driver keeps that
 * the log does not know is removed, with a warning naming it.
 */
export async function recoverVolumes(ctx: EngineContext): Promise<void> {
  for (const v of Object.values(ctx.state().volumes)) {
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
 * Docker's copy-up: what the image has at `path` (resolved inside the image's root, symlinks
 * included) is copied into the new volume's folder with owners, modes, times and xattrs (a tar
 * stream through the archive helpers), and the volume's root takes the mode and owner of the
 * image's folder. The image is read through a read-only view of a writable layer of its own
 * (a temporary id, removed at the end; recovery removes one a crash left).
 */
async function copyUp(ctx: EngineContext, image: ImageState, path: string, mountpoint: string): Promise<void> {
  if ((await readdir(mountpoint)).length > 0) return; // only a new, empty volume is filled
  const storage = ctx.storage();
  const layers = image.layers.map((l) => l.diffId);
  const scratch = newId();
  await storage.prepare(scratch, layers);
  try {
    const view = await storage.mountReadOnly(scratch, layers);
    try {
      let source: string;
      try {
        source = await resolveInRoot(view.path, path, { followFinal: true, create: false });
      } catch {
        return; // the image has nothing at that path
      }
      const stats = await lstat(source).catch(() => undefined);
      if (!stats?.isDirectory()) return;
      const pipe = new PassThrough({ highWaterMark: 1 << 20 });
      const warn = (m: string): void => ctx.logger.warn(`copy-up of ${path}: ${m}`);
      const writing = writeTar(source, pipe, { onWarning: warn }).catch((err: unknown) => {
        pipe.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      });
      await Promise.all([writing, extractTar(pipe, mountpoint, { onWarning: warn })]);
      await chown(mountpoint, stats.uid, stats.gid);
      await chmod(mountpoint, stats.mode & 0o7777);
    } finally {
      await view.release();
    }
  } finally {
    await storage.remove(scratch);
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

