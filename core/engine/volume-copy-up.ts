/**
 * Docker's copy-up into volumes: what an image has at a path copied into an empty volume, at the
 * create of the container that makes the volume (volume-service.ts `createVolumeLocked`) or at
 * the first mount of a volume `volume create` made (`copyUpAtFirstMount`), written ahead and
 * undone when cut (`undoCopyUp`, also by recovery). Whether a volume is filled at all is
 * copy-up-rule.ts.
 */
import { chmod, chown, lstat, readdir, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { volumeStream } from '../../events/index.js';
import { extractTar, resolveInRoot, writeTar } from '../archive/index.js';
import { failpointAfter } from '../failpoints.js';
import { mountedOnDemand } from '../plugins/volume-driver.js';
import { toHostIds, type IdMapping } from '../security/id-map.js';
import { fillsFromImage } from './copy-up-rule.js';
import type { ImageState } from '../state/engine-state.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { InvalidArgumentError } from './errors.js';
import { newId } from './names.js';
import { volumeDriver } from './volume-context.js';

/** What a copy-up is told besides its source and target. */
export interface CopyUpOptions {
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
export async function copyUp(ctx: EngineContext, image: ImageState, path: string, mountpoint: string, options: CopyUpOptions): Promise<boolean> {
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
export async function undoCopyUp(ctx: EngineContext, name: string): Promise<void> {
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
