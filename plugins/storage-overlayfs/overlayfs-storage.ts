import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { DriverKinds, injectable } from '../../core/plugin-api.js';
import type { ApplyLayerOptions, ChangeListingStorage, DriverContext, DriverStatus, FileChange, LayerUsage, Logger, MountSpec } from '../../core/plugin-api.js';
import { extractTar, syncFilesystem } from '../../core/plugin-api.js';
import { mountOverlay, mountPoints, run, unmountAll } from './mount-table.js';
import { changesOf, diffStream, isDirectory, usageOf } from './upper-dir.js';
import { SharedSync } from './shared-sync.js';
import { overlayWhiteouts } from './whiteouts.js';

/**
 * mount(2) copies at most one page of options; the overlay options string (lowerdir=…,upperdir=…,
 * workdir=…) and its NUL must fit in it. 4096 bytes is the page size on x86-64 (and the smallest
 * anywhere), which with the default data root allows about 33 layers.
 */
export const MOUNT_OPTIONS_LIMIT = 4096;

const NO_GETFATTR = 'getfattr is not installed (apt-get install -y attr): a diff (commit) cannot see folders replaced in a container';
const DIFF_ID = /^sha256:([a-f0-9]{64})$/;
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function layerHex(diffId: string): string {
  const match = DIFF_ID.exec(diffId);
  if (!match) throw new Error(`invalid layer diff id ${JSON.stringify(diffId)}: expected sha256:<64 hex digits>`);
  return match[1]!;
}

function checkContainerId(containerId: string): string {
  if (!CONTAINER_ID.test(containerId)) throw new Error(`invalid container id ${JSON.stringify(containerId)}`);
  return containerId;
}

/**
 * mkdir of one folder whose parent exists, fine if it is there already. Not node's recursive
 * mkdir: after any failure that one reports what a stat of the path says, so a full disk (ENOSPC)
 * shows as "ENOENT: no such file or directory".
 */
async function makeDirectory(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
  }
}

function checkOptionsLength(options: readonly string[], layers: number): void {
  const length = Buffer.byteLength(options.join(',')) + 1;
  if (length > MOUNT_OPTIONS_LIMIT) {
    throw new Error(`the overlay mount options for ${layers} layers take ${length} bytes, more than mount(2) accepts (${MOUNT_OPTIONS_LIMIT}): too many layers for this data root (use a shorter --data-root or squash the image)`);
  }
}

/**
 * The overlayfs storage driver (`storage.v1.overlayfs`). Under its state dir:
 *
 *     layers/<hex>/              one unpacked layer per diff id (whiteouts as overlayfs reads them)
 *     containers/<id>/upper/     the container's changes (read by diff, changes and usage)
 *     containers/<id>/work/      overlayfs's work dir
 *     containers/<id>/merged/    where the isolator mounts the container's root
 *     tmp/                       layers being unpacked (renamed into layers/ when complete), probes
 *     empty/                     the lower dir of an image without layers
 *
 * `prepare` returns one overlay mount spec and mounts nothing; the isolator mounts it inside the
 * container's mount namespace. Only `mountReadOnly` (export) and `init` (a probe) mount here.
 * The conversion between OCI whiteouts and overlayfs's (whiteouts.ts) lives here and nowhere
 * else: `applyLayer` turns `.wh.` entries into 0/0 devices and opaque xattrs, `diff` back.
 */
@injectable()
export class OverlayfsStorage implements ChangeListingStorage {
  readonly id = `${DriverKinds.storage}.overlayfs`;
  readonly capabilities = { rootfs: 'mount', changes: true } as const;
  private dirs: { readonly state: string; readonly run: string } | null = null;
  private logger: Logger | null = null;
  private readonly unpacking = new Map<string, Promise<void>>();
  private readonly syncs = new SharedSync(() => syncFilesystem(join(this.state(), 'tmp')));
  private getfattr = false;

  async init(context: DriverContext): Promise<DriverStatus> {
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      return { status: 'skipped', reason: 'overlay mounts need root' };
    }
    const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
    if (!/\toverlay$/m.test(filesystems)) {
      return { status: 'skipped', reason: 'the kernel has no overlayfs (try "modprobe overlay")' };
    }
    if (/[,:\\]/.test(context.stateDir)) {
      return { status: 'skipped', reason: `the state dir ${context.stateDir} has a "," ":" or "\\", which overlay mount options cannot carry` };
    }
    this.dirs = { state: context.stateDir, run: context.runDir };
    this.logger = context.logger;
    for (const dir of ['layers', 'containers', 'tmp', 'empty']) await mkdir(join(context.stateDir, dir), { recursive: true });
    await mkdir(context.runDir, { recursive: true });
    // Half-unpacked layers and probes left by a crash: nothing else writes here while we start.
    for (const name of await readdir(join(context.stateDir, 'tmp'))) {
      const path = join(context.stateDir, 'tmp', name);
      await unmountAll(path);
      await rm(path, { recursive: true, force: true });
    }
    const problem = await this.probe();
    if (problem !== null) return { status: 'skipped', reason: `overlayfs does not work on ${context.stateDir}: ${problem}` };
    this.getfattr = await run('getfattr', ['--version']).then(() => true, () => false);
    if (!this.getfattr) context.logger.warn(`${this.id}: ${NO_GETFATTR}`);
    return { status: 'ok' };
  }

  /** Mounts a tiny overlay in the state dir's filesystem and reads through it; null when that works. */
  private async probe(): Promise<string | null> {
    const dir = await mkdtemp(join(this.state(), 'tmp', 'probe-'));
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((name) => join(dir, name)) as [string, string, string, string];
    try {
      for (const path of [lower, upper, work, merged]) await mkdir(path);
      await writeFile(join(lower, 'probe'), 'ok');
      await mountOverlay(merged, [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`]);
      try {
        return (await readFile(join(merged, 'probe'), 'utf8')) === 'ok' ? null : 'a file in the lower dir is not visible in the mount';
      } finally {
        await run('umount', [merged]);
      }
    } catch (error) {
      return (error as Error).message;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private state(): string {
    if (this.dirs === null) throw new Error(`${this.id} is not initialised`);
    return this.dirs.state;
  }

  private layerPath(diffId: string): string {
    return join(this.state(), 'layers', layerHex(diffId));
  }

  private containerPath(containerId: string): string {
    return join(this.state(), 'containers', checkContainerId(containerId));
  }

  async hasLayer(diffId: string): Promise<boolean> {
    return isDirectory(this.layerPath(diffId));
  }

  /**
   * Unpacks a layer tar under its diff id, checking that the tar's sha256 is that id (unless the
   * caller verified it: `options.verified`). The tar is extracted into tmp/ and renamed into
   * layers/ when it ended and is complete, so a crash or a tar ended with an error never leaves
   * half a layer under the final name. A no-op (the stream is destroyed unread) when the layer is there.
   */
  async applyLayer(diffId: string, tar: Readable, options: ApplyLayerOptions = {}): Promise<void> {
    const hex = layerHex(diffId);
    const pending = this.unpacking.get(hex);
    if (pending !== undefined || (await this.hasLayer(diffId))) {
      tar.destroy();
      await pending;
      return;
    }
    const unpack = this.unpack(diffId, hex, tar, options.verified === true);
    this.unpacking.set(hex, unpack);
    try {
      await unpack;
    } finally {
      this.unpacking.delete(hex);
    }
  }

  private async unpack(diffId: string, hex: string, tar: Readable, verified: boolean): Promise<void> {
    const tmp = await mkdtemp(join(this.state(), 'tmp', `layer-${hex.slice(0, 12)}-`));
    try {
      await chmod(tmp, 0o755);
      const hash = verified ? null : createHash('sha256');
      async function* hashed(): AsyncGenerator<Buffer> {
        for await (const chunk of tar as AsyncIterable<Buffer>) {
          hash?.update(chunk);
          yield chunk;
        }
      }
      await extractTar(hash === null ? (tar as AsyncIterable<Buffer>) : hashed(), tmp, {
        intercept: overlayWhiteouts,
        onWarning: (message) => this.logger?.warn(`layer ${hex.slice(0, 12)}: ${message}`),
      });
      const actual = hash === null ? diffId : `sha256:${hash.digest('hex')}`;
      if (actual !== diffId) throw new Error(`layer ${diffId}: the tar's digest is ${actual}`);
      await this.syncs.sync(); // syncfs of the state dir's filesystem, shared with the layers unpacked meanwhile
      try {
        await rename(tmp, this.layerPath(diffId));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error; // else another process unpacked it first
      }
    } finally {
      tar.destroy(); // read to the end, or abandoned after an error: either way done with
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Deletes an unpacked layer (renamed away first, so a crash cannot leave it half deleted). */
  async removeLayer(diffId: string): Promise<void> {
    const path = this.layerPath(diffId);
    if (!(await isDirectory(path))) return;
    const doomed = join(this.state(), 'tmp', `removed-${layerHex(diffId).slice(0, 12)}-${process.pid}-${Date.now()}`);
    await rename(path, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  /** The overlay lower dirs for these layers (bottom first in `layers`), topmost first. */
  private async lowerDirs(layers: readonly string[]): Promise<string[]> {
    for (const diffId of layers) {
      if (!(await this.hasLayer(diffId))) throw new Error(`layer ${diffId} is not unpacked (apply it first)`);
    }
    return layers.length === 0 ? [join(this.state(), 'empty')] : layers.map((diffId) => this.layerPath(diffId)).reverse();
  }

  async prepare(containerId: string, layers: readonly string[]): Promise<readonly MountSpec[]> {
    const dir = this.containerPath(containerId);
    const lowers = await this.lowerDirs(layers);
    const [upper, work, merged] = [join(dir, 'upper'), join(dir, 'work'), join(dir, 'merged')];
    for (const path of [dir, upper, work, merged]) await makeDirectory(path, 0o755);
    // The root of the container's filesystem is the upper dir's root: 0755 whatever the umask.
    await chmod(upper, 0o755);
    const options = [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`];
    checkOptionsLength(options, layers.length);
    return [{ type: 'overlay', source: 'overlay', target: merged, options }];
  }

  private upperPath(containerId: string): string {
    return join(this.containerPath(containerId), 'upper');
  }

  diff(containerId: string, _layers: readonly string[]): Readable {
    const upper = this.upperPath(containerId);
    if (!this.getfattr) return new PassThrough().destroy(new Error(`${this.id}: ${NO_GETFATTR}`));
    // The upper dir holds its own whiteouts: the lower layers are not needed to say what changed.
    return diffStream(upper, (message) => this.logger?.warn(`${this.id}: diff of ${containerId.slice(0, 12)}: ${message}`));
  }

  async changes(containerId: string, layers: readonly string[]): Promise<readonly FileChange[]> {
    const upper = this.upperPath(containerId);
    if (!(await isDirectory(upper))) return [];
    return changesOf(upper, await this.lowerDirs(layers), (message) => this.logger?.warn(`${this.id}: changes of ${containerId.slice(0, 12)}: ${message}`));
  }

  async usage(containerId: string): Promise<LayerUsage> {
    return usageOf(this.upperPath(containerId));
  }

  async mountReadOnly(containerId: string, layers: readonly string[]): Promise<{ path: string; release(): Promise<void> }> {
    const upper = this.upperPath(containerId);
    if (!(await isDirectory(upper))) throw new Error(`container ${containerId} has no writable layer (not prepared)`);
    const options = [`lowerdir=${[upper, ...(await this.lowerDirs(layers))].join(':')}`];
    checkOptionsLength(options, layers.length + 1);
    const runDir = this.dirs!.run;
    await mkdir(runDir, { recursive: true });
    const path = await mkdtemp(join(runDir, `ro-${containerId}-`));
    try {
      await mountOverlay(path, ['ro', ...options]);
    } catch (error) {
      await rm(path, { recursive: true, force: true });
      throw error;
    }
    let released = false;
    return {
      path,
      release: async () => {
        if (released) return;
        await unmountAll(path);
        await rm(path, { recursive: true, force: true });
        released = true;
      },
    };
  }

  /** The containers with a writable layer here. */
  async held(): Promise<readonly string[]> {
    if (!this.dirs) return [];
    return (await readdir(join(this.state(), 'containers')).catch(() => [])).filter((n) => CONTAINER_ID.test(n));
  }

  /** Deletes the container's folders, unmounting what is mounted there (and its read-only views) first. */
  async remove(containerId: string): Promise<void> {
    const dir = this.containerPath(containerId);
    await unmountAll(dir);
    const runDir = this.dirs!.run;
    const views = (await readdir(runDir).catch(() => [])).filter((name) => name.startsWith(`ro-${containerId}-`));
    for (const name of views) {
      await unmountAll(join(runDir, name));
      await rm(join(runDir, name), { recursive: true, force: true });
    }
    if ((await mountPoints()).some((target) => target.startsWith(`${dir}/`))) {
      throw new Error(`container ${containerId}: something is still mounted under ${dir}`);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

