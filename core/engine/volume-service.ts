import { chmod, chown, lstat, readdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { volumeStream, type VolumeCreating } from '../../events/index.js';
import { extractTar, resolveInRoot, writeTar } from '../archive/index.js';
import { failpoint, failpointAfter } from '../failpoints.js';
import { DriverKinds } from '../plugins/kinds.js';
import { mountedOnDemand, type VolumeDriver, type VolumeOwner } from '../plugins/volume-driver.js';
import { toHostIds, type IdMapping } from '../security/id-map.js';
import { fillsFromImage } from './copy-up-rule.js';
import type { ImageState, VolumeSpec, VolumeState } from '../state/engine-state.js';
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

/**
 * What `volume create` (or a container's create) asks for: the volume's spec as VolumeCreating
 * will record it, with "" as the name of a new anonymous volume (given a random 64-hex name) and
 * `container` the container whose create makes it.
 */
export interface VolumeCreateRequest extends VolumeSpec {
  /** Fill the new volume with what the image has at this path (Docker's copy-up); `userns`: the container's id mapping, which the copied owners are shifted by. */
  readonly copyUp?: { readonly image: ImageState; readonly path: string; readonly userns: IdMapping | null };
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

/**
 * Who owns a new volume's root: under `--userns-remap`, the daemon's remapped root (as dockerd's
 * root identity), so a remapped container's root can write into it; otherwise the host's root.
 */
export function volumeOwner(ctx: EngineContext): VolumeOwner | undefined {
  const remap = ctx.infoBase.usernsRemap;
  return remap ? { uid: remap.uid, gid: remap.gid } : undefined;
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

/** What a copy-up is told besides its source and target. */
interface CopyUpOptions {
  /** The container's id mapping (`--userns-remap`): every copied owner, and the root's, shifted to its range. */
  readonly userns: IdMapping | null;
  /** Called once it is known there is something to copy, before the first file is (the intent of a first mount's copy-up). */
  readonly beforeCopy?: () => Promise<void>;
  /** Called after each extracted entry. */
  readonly onEntry?: (count: number) => void | Promise<void>;
}

/**
 * Docker's copy-up: what the image has at `path` (resolved inside the image's root, symlinks
 * included) is copied into the volume's folder with owners, modes, times and xattrs (a tar stream
 * through the archive helpers), and the volume's root takes the mode and owner of the image's
 * folder; under `--userns-remap` the owners are the container's ids shifted to its range. Only
 * an empty volume is filled. The image is read through a read-only view of a writable layer of
 * its own (a temporary id, removed at the end; recovery removes one a crash left). Returns
 * whether anything was copied.
 */
async function copyUp(ctx: EngineContext, image: ImageState, path: string, mountpoint: string, options: CopyUpOptions): Promise<boolean> {
  if ((await readdir(mountpoint)).length > 0) return false; // only an empty volume is filled
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
        return false; // the image has nothing at that path
      }
      const stats = await lstat(source).catch(() => undefined);
      if (!stats?.isDirectory()) return false;
      await options.beforeCopy?.();
      const pipe = new PassThrough({ highWaterMark: 1 << 20 });
      const warn = (m: string): void => ctx.logger.warn(`copy-up of ${path}: ${m}`);
      const writing = writeTar(source, pipe, { onWarning: warn }).catch((err: unknown) => {
        pipe.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      });
      const userns = options.userns;
      let entries = 0;
      await Promise.all([writing, extractTar(pipe, mountpoint, {
        onWarning: warn,
        ...(userns ? { mapIds: (ids: { uid: number; gid: number }) => toHostIds(userns, ids) } : {}),
        ...(options.onEntry ? { onEntry: () => options.onEntry?.(++entries) } : {}),
      })]);
      const owner = userns ? toHostIds(userns, { uid: stats.uid, gid: stats.gid }) : { uid: stats.uid, gid: stats.gid };
      await chown(mountpoint, owner.uid, owner.gid);
      await chmod(mountpoint, stats.mode & 0o7777);
      return true;
    } finally {
      await view.release();
    }
  } finally {
    await storage.remove(scratch);
  }
}

/** Resolves once `dir` holds an entry (for an armed failpoint only: polls every 10 ms, at most 5 s). */
async function untilNotEmpty(dir: string): Promise<void> {
  for (let i = 0; i < 500 && (await readdir(dir)).length === 0; i++) await sleep(10);
}

/**
 * Docker's copy-up of an existing volume at its first mount: a volume `volume create` made that no
 * container has mounted yet (copyUp "pending") and that is still empty is filled with what the
 * image has at `path`. Call it under the volume's lock, in the create of the container that mounts
 * it. Written ahead: VolumeCopyUpStarting (durable before the first file), the copy, then
 * VolumeCopiedUp; a copy that fails is undone (the volume emptied, VolumeCopyUpUndone) and the
 * error thrown; one a crash cut is undone by recovery. The create's ContainerCreated then marks the
 * volume mounted, so it is never filled again (nor when the image had nothing there, or nocopy).
 * A volume its driver mounts only while a container runs (a tmpfs) is not filled: its content
 * would not outlive the create, as with Docker. Nor is one backed by a device (`--opt device=`: a
 * bound host folder, a block device): its data is the user's, never emptied by an undo
 * (copy-up-rule.ts).
 */
export async function copyUpAtFirstMount(
  ctx: EngineContext, name: string, containerId: string, image: ImageState, path: string, userns: IdMapping | null,
): Promise<void> {
  const v = ctx.state().volumes[name];
  if (v?.status !== 'created' || v.copyUp !== 'pending') return;
  if (!fillsFromImage(v.options, mountedOnDemand(volumeDriver(ctx, v.driver), v.options))) return;
  let started = false;
  try {
    await copyUp(ctx, image, path, v.mountpoint, {
      userns,
      beforeCopy: async () => {
        const root = await stat(v.mountpoint);
        await ctx.store.append(volumeStream(name), [{
          type: 'VolumeCopyUpStarting',
          data: { name, container: containerId, image: image.id, path, root: { uid: root.uid, gid: root.gid, mode: root.mode & 0o7777 } },
        }], 'any');
        started = true;
      },
      // Armed only: the point waits until entries are on disk (the extraction writes file data
      // behind its headers), so the kill comes with the volume half filled as it says.
      onEntry: (count) => (count === 2 ? failpointAfter('volume.after-copy-up-entries', () => untilNotEmpty(v.mountpoint)) : undefined),
    });
  } catch (err) {
    if (started) await undoCopyUp(ctx, name).catch((e: unknown) => ctx.logger.warn(`emptying volume ${name} after its copy-up failed: ${messageOf(e)}`));
    throw new InvalidArgumentError(`copying the image's ${path} into volume ${name}: ${messageOf(err)}`);
  }
  if (started) await ctx.store.append(volumeStream(name), [{ type: 'VolumeCopiedUp', data: { name } }], 'any');
}

/**
 * Undoes a first mount's copy-up that did not end (VolumeCopyUpStarting without VolumeCopiedUp):
 * the volume was empty before it, so everything in it goes; its root gets back its owner and
 * mode; VolumeCopyUpUndone. The volume is "not yet mounted" again: the next create fills it.
 * A volume backed by a device (a log an older daemon wrote: this one never fills those) is left
 * as it is, with a warning: its folder is the user's, who may have written there since.
 */
async function undoCopyUp(ctx: EngineContext, name: string): Promise<void> {
  const v = ctx.state().volumes[name];
  if (v?.copyUp !== 'copying') return;
  if (!fillsFromImage(v.options, mountedOnDemand(volumeDriver(ctx, v.driver), v.options))) {
    ctx.logger.warn(`volume ${name}: its copy-up from an image was cut, but its folder ${v.mountpoint} is a device's (the user's data): left as it is; remove what the image put there yourself`);
    await ctx.store.append(volumeStream(name), [{ type: 'VolumeCopyUpUndone', data: { name } }], 'any');
    return;
  }
  for (const entry of await readdir(v.mountpoint).catch(() => [] as string[])) {
    await rm(join(v.mountpoint, entry), { recursive: true, force: true });
  }
  if (v.copyUpRoot) {
    await chown(v.mountpoint, v.copyUpRoot.uid, v.copyUpRoot.gid);
    await chmod(v.mountpoint, v.copyUpRoot.mode);
  }
  await ctx.store.append(volumeStream(name), [{ type: 'VolumeCopyUpUndone', data: { name } }], 'any');
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

