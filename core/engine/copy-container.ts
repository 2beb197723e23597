import { basename, dirname, join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { ContainerFs, type ContainerFileStats } from '../archive/container-fs.js';
import { pathStatOf, type ContainerPathStat } from '../archive/path-stat.js';
import { containerAbsPath, goBase, goSplit, isUnder } from '../archive/copy-paths.js';
import { extractTar, OverwriteRefusedError } from '../archive/extract-tar.js';
import { resolveInRoot } from '../archive/resolve-in-root.js';
import { openRootView } from '../archive/root-view.js';
import { writeTarOf } from '../archive/write-tar.js';
import { failpoint } from '../failpoints.js';
import type { BindSpec } from '../plugins/driver.js';
import { toContainerIds, toHostIds, UnmappedIdError, type IdMapping, type Ids } from '../security/id-map.js';
import { usernsFor } from '../security/userns-remap.js';
import type { ContainerState } from '../state/engine-state.js';
import { containerBinds, makeBindSources } from './container-volumes.js';
import { mountContainerVolumes, releaseContainerVolumes } from './volume-mounts.js';
import type { EngineContext } from './engine-context.js';
import { ConflictError, ForbiddenError, InvalidArgumentError, NotFoundError } from './errors.js';

/*
 * `cp` and the archive API (HEAD/GET/PUT /containers/{id}/archive), on running and stopped
 * containers. The container's "/" is reached as the container sees it, binds included:
 *
 * - running (or paused): its init's root, in the container's own mount namespace;
 * - otherwise: the storage driver's mount specs (prepare, as for a start) and the binds, mounted
 *   by mini-docker-rootview in a mount namespace of its own (core/archive/root-view.ts): nothing
 *   is mounted on the host, and a daemon that dies takes the mounts with it.
 *
 * Every file operation of a copy (stat, archive, extraction) is made by mini-docker-cproot, a
 * process that joined that mount namespace and chrooted into that root (ContainerFs):
 * the kernel resolves every path and link inside the container, whatever any process (the
 * container's, another container's sharing a volume, the host's) does to the tree meanwhile.
 * Docker's path rules (resolveInRoot) run on top. A running container is frozen meanwhile (when
 * there are cgroups), for a consistent copy. One copy at a time per container, as any other
 * command on it (Docker holds the container's lock too). Nothing is recorded: Docker's
 * archive-path and extract-to-dir are notifications, not state.
 */

/** Docker's 404 for a path that is not there. */
function fileNotFound(path: string, ref: string): NotFoundError {
  return new NotFoundError(`Could not find the file ${path} in container ${ref}`);
}

const ERRNO_WORDS: Readonly<Record<string, string>> = {
  EROFS: 'read-only file system', ENOSPC: 'no space left on device', EACCES: 'permission denied', EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory', EISDIR: 'is a directory', EEXIST: 'file exists', ELOOP: 'too many levels of symbolic links', EDQUOT: 'disk quota exceeded',
};

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** How a container's "/" is reached: its running process's (`running`: in its own mount namespace), or a root view of a stopped one. */
interface RootAccess {
  readonly running: boolean;
}

/**
 * Runs `work` with the container's files (a ContainerFs: paths are the container's), as the
 * container sees them. `asContainerRoot`: a running remapped container's files are made as its
 * root, in its user namespace (its root filesystem is idmapped: only its own ids may make files).
 */
async function withContainerRoot<T>(
  ctx: EngineContext, ref: string, asContainerRoot: (c: ContainerState) => boolean,
  work: (fs: ContainerFs, c: ContainerState, binds: readonly BindSpec[], access: RootAccess) => Promise<T>,
): Promise<T> {
  const id = ctx.container(ref).id;
  return ctx.serial(id, async () => {
    const c = ctx.container(id);
    if (c.status === 'removing' || c.status === 'dead') throw new ConflictError(`container ${c.id} is marked for removal and cannot be copied to or from`);
    const { binds, hostBinds } = containerBinds(ctx.state(), c); // volumes are binds of their folders
    if ((c.status === 'running' || c.status === 'paused') && c.pid > 0) {
      // Frozen while its files are read or written (as podman cp does): a consistent copy, and
      // none of its processes changes the tree under it. A daemon that dies meanwhile thaws it at its next start (the reconciler).
      const limiter = c.status === 'running' ? ctx.limiter() : undefined;
      if (limiter) await limiter.freeze(c.id);
      try {
        const fs = await ContainerFs.running(c.pid, c.shimPid, asContainerRoot(c)).catch((error: unknown) => {
          throw new ConflictError(`container ${c.id} is running but its root cannot be reached (${error instanceof Error ? error.message : String(error)}): try again`);
        });
        try {
          return await work(fs, c, binds, { running: true });
        } finally {
          await fs.close();
        }
      } finally {
        if (limiter) await limiter.thaw(c.id).catch((error: unknown) => ctx.logger.error(`thawing ${ctx.short(c.id)} after a copy failed: ${errnoOf(error) ?? String(error)}`));
      }
    }
    const image = ctx.state().images[c.image.id];
    if (!image) throw new ConflictError(`image ${c.image.id} of container ${c.name} was removed`);
    const mounts = await ctx.storage().prepare(c.id, image.layers.map((l) => l.diffId));
    const rootMount = mounts.find((m) => m.type === 'overlay') ?? mounts[0];
    if (!rootMount) throw new Error(`${ctx.storage().id} returned no root mount`);
    await makeBindSources(ctx, hostBinds); // as a start does
    // Its tmpfs or block-device volumes are mounted for the copy (as Docker mounts a stopped container's volumes), and let go after.
    await mountContainerVolumes(ctx, c.id);
    const view = await openRootView(rootMount.target, mounts, binds).catch(async (error: unknown) => {
      await releaseContainerVolumes(ctx, c.id);
      throw error;
    });
    try {
      const fs = await ContainerFs.view(view.pid, rootMount.target);
      try {
        return await work(fs, c, binds, { running: false });
      } finally {
        await fs.close();
      }
    } finally {
      await view.release();
      await releaseContainerVolumes(ctx, c.id);
    }
  });
}

/** The container path of a container path, its last component not followed (Docker's ResolvePath); throws Docker's 404. */
async function resolveLeaf(fs: ContainerFs, path: string, ref: string): Promise<{ absPath: string; resolved: string }> {
  const absPath = containerAbsPath(path);
  const { dir, base } = goSplit(absPath);
  try {
    const resolvedDir = await resolveInRoot('/', dir, { followFinal: true, create: false }, fs);
    return { absPath, resolved: base === '' || base === '.' ? resolvedDir : join(resolvedDir, base) };
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') throw fileNotFound(path, ref);
    throw error;
  }
}

async function statResolved(fs: ContainerFs, absPath: string, resolved: string, path: string, ref: string): Promise<{ stat: ContainerPathStat; stats: ContainerFileStats }> {
  let stats;
  try {
    stats = await fs.lstat(resolved);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') throw fileNotFound(path, ref);
    throw error;
  }
  let linkTarget = '';
  if (stats.isSymbolicLink()) {
    // Where the link leads, evaluated inside the container, as an absolute path there.
    linkTarget = await resolveInRoot('/', absPath, { followFinal: true, create: false, finalMayBeFile: true, missingAsIs: true }, fs);
  }
  return { stat: pathStatOf(goBase(absPath), stats, linkTarget), stats };
}

/**
 * A remapped container's ids (`--userns-remap`): what `cp` extracts into it is owned by the host
 * ids its owners map to (a file of uid 0 in the archive is the range's first uid on the host, so
 * the container sees root), and what it archives out of it carries the container's view of the
 * owners, as Docker's IDMap does. Null: the host's ids, as they are.
 */
function idMapOf(ctx: EngineContext, c: ContainerState): IdMapping | null {
  return usernsFor(c.hostConfig.UsernsMode, ctx.infoBase.usernsRemap ?? null);
}

/**
 * Whether the file at container path `path` has host ids to map. A running container's "/" is
 * its idmapped root filesystem (docs/security.md): every owner there is a host id. A stopped
 * one's root view mounts the layers as they are on disk, where the container's own ids are
 * stored, so only what is under a bind (a volume, a host folder) has host ids.
 */
function hasHostIds(access: RootAccess, binds: readonly BindSpec[], path: string): boolean {
  return access.running || binds.some((b) => isUnder(b.target, path));
}

/** HEAD /containers/{id}/archive: what is at `path` in the container. */
export async function statContainerPath(ctx: EngineContext, ref: string, path: string): Promise<ContainerPathStat> {
  return withContainerRoot(ctx, ref, () => false, async (fs) => {
    const { absPath, resolved } = await resolveLeaf(fs, path, ref);
    return (await statResolved(fs, absPath, resolved, path, ref)).stat;
  });
}

/**
 * GET /containers/{id}/archive: `path` as a tar, its top entry named as the path's last element
 * (a link is archived as the link; "dir/." archives the folder's content as "./..."). `open` gets
 * the stat before the first byte (the API sends it as a header) and returns where to write.
 */
export async function archiveContainerPath(ctx: EngineContext, ref: string, path: string, open: (stat: ContainerPathStat) => NodeJS.WritableStream): Promise<void> {
  await withContainerRoot(ctx, ref, () => false, async (fs, c, binds, access) => {
    const { absPath, resolved } = await resolveLeaf(fs, path, ref);
    const { stat, stats } = await statResolved(fs, absPath, resolved, path, ref);
    const top = stat.name === '/' ? '.' : stat.name;
    const out = open(stat);
    const isDir = stats.isDirectory();
    const userns = idMapOf(ctx, c);
    const options = {
      fs,
      onWarning: (m: string) => ctx.logger.warn(`cp from ${ref}: ${m}`),
      // Under --userns-remap the archive carries the container's view of the owners.
      ...(userns ? { mapIds: (ids: Ids, rel: string) => (hasHostIds(access, binds, isDir ? posix.join(absPath, rel) : absPath) ? toContainerIds(userns, ids) : ids) } : {}),
    };
    if (isDir) await writeTarOf(resolved, '', top, out, options);
    else await writeTarOf(dirname(resolved), basename(resolved), top, out, options);
  });
}

export interface ExtractOptions {
  /** Refuse to replace a folder with a non-folder or the reverse (Docker's noOverwriteDirNonDir). */
  readonly noOverwriteDirNonDir: boolean;
  /** Own what is extracted as the container's User (Docker's copyUIDGID; `cp -a`). */
  readonly copyUIDGID: boolean;
}

/** PUT /containers/{id}/archive: extracts a tar into the folder `path` of the container. */
export async function extractToContainer(ctx: EngineContext, ref: string, path: string, tar: Readable, options: ExtractOptions): Promise<void> {
  // Into a running remapped container, as its root in its user namespace: owners as the archive
  // says are its own ids, and nothing lands where its root could not write.
  const asContainerRoot = (c: ContainerState): boolean => idMapOf(ctx, c) !== null;
  await withContainerRoot(ctx, ref, asContainerRoot, async (fs, c, binds, access) => {
    const absPath = containerAbsPath(path);
    let resolved: string;
    try {
      // The last component is followed too: a link to a folder is a folder to extract into.
      resolved = await resolveInRoot('/', absPath, { followFinal: true, create: false }, fs);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT') throw fileNotFound(path, ref);
      if (errnoOf(error) === 'ENOTDIR') throw new InvalidArgumentError('extraction point is not a directory');
      throw error;
    }
    const bind = [...binds].sort((a, b) => b.target.length - a.target.length).find((b) => isUnder(b.target, absPath));
    if (bind?.readOnly) throw new InvalidArgumentError('mounted volume is marked read-only');
    // Docker's check: outside a bind, a container made with --read-only takes no copy (stopped too).
    if (!bind && c.hostConfig.ReadonlyRootfs === true) throw new ForbiddenError('container rootfs is marked read-only');
    const owner = options.copyUIDGID && c.config.User !== '' ? await lookupUser(fs, c.config.User) : undefined;
    const userns = idMapOf(ctx, c);
    let entries = 0;
    try {
      await extractTar(tar, resolved, {
        fs,
        byteNames: true, // a name that is not UTF-8 keeps its bytes, as Docker copies it (byte-names.ts)
        noOverwriteDirNonDir: options.noOverwriteDirNonDir,
        preserveOwner: true,
        ...(owner ? { owner } : {}),
        // Under --userns-remap: running, the server is the container's root and writes its ids (one
        // its range cannot hold is refused); stopped, what lands in a volume or bind gets the range's ids.
        ...(userns ? {
          mapIds: (ids: Ids, entry: string) => {
            const host = toHostIds(userns, ids);
            if (access.running) return ids;
            return hasHostIds(access, binds, posix.join(absPath, entry)) ? host : ids;
          },
        } : {}),
        onEntry: () => {
          if (++entries === 2) failpoint('cp.after-entries');
        },
        onWarning: (m) => ctx.logger.warn(`cp into ${ref}: ${m}`),
      });
    } catch (error) {
      if (error instanceof OverwriteRefusedError) throw new InvalidArgumentError(error.message);
      if (error instanceof UnmappedIdError) throw new InvalidArgumentError(`extracting into ${absPath} of container ${ref}: ${error.message}`);
      const words = ERRNO_WORDS[errnoOf(error) ?? ''];
      if (words !== undefined) throw new Error(`extracting into ${absPath} of container ${ref}: ${words}`);
      throw error;
    }
  });
}

/** Reads a user database of the container (passwd, group); "" when it has none. */
async function readInRoot(fs: ContainerFs, path: string): Promise<string> {
  try {
    const file = await resolveInRoot('/', path, { followFinal: true, create: false, finalMayBeFile: true }, fs);
    const stats = await fs.lstat(file);
    if (!stats.isFile()) return '';
    const chunks: Buffer[] = [];
    for await (const chunk of fs.readStream(file, stats.size, stats)) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT' || errnoOf(error) === 'ENOTDIR') return '';
    throw error;
  }
}

function entriesOf(text: string): string[][] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => line.split(':'));
}

/** The uid and gid of a container's `User` ("name", "uid", "name:group", "uid:gid"), from its own /etc/passwd and /etc/group. */
export async function lookupUser(fs: ContainerFs, user: string): Promise<{ uid: number; gid: number }> {
  const [userPart = '', groupPart] = user.split(':', 2);
  const passwd = entriesOf(await readInRoot(fs, '/etc/passwd'));
  const numeric = /^\d+$/.test(userPart);
  const entry = passwd.find((fields) => (numeric ? fields[2] === userPart : fields[0] === userPart));
  if (!entry && !numeric) throw new InvalidArgumentError(`unable to find user ${userPart}: no matching entries in passwd file`);
  const uid = numeric ? Number(userPart) : Number(entry![2]);
  let gid = entry ? Number(entry[3]) : 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const group = entriesOf(await readInRoot(fs, '/etc/group')).find((fields) => fields[0] === groupPart);
      if (!group) throw new InvalidArgumentError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = Number(group[2]);
    }
  }
  return { uid, gid };
}
