import { constants } from 'node:fs';
import { chmod, link, lchown, lstat, lutimes, mkdir, open, realpath, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSpecialFile } from './special-files.js';
import { cleanInRoot, resolveInRoot } from './resolve-in-root.js';
import type { TarHeader } from './tar-header.js';
import { readTar } from './tar-reader.js';
import { setXattr } from './xattrs.js';

/** OCI layer whiteout markers. */
export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** The xattr overlayfs reads to hide everything a folder has in lower layers. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface ExtractOptions {
  /**
   * What to do with OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`): "overlay" turns them into what
   * overlayfs reads (a 0/0 char device at `<name>`, `trusted.overlay.opaque=y` on the folder), for
   * extracting an image layer; "none" (the default) extracts them as the plain files they are.
   */
  readonly whiteouts?: 'overlay' | 'none';
  /** Set owners from the archive (lchown); default: when running as root. */
  readonly preserveOwner?: boolean;
  /** Called with the number of archive bytes consumed so far. */
  readonly onProgress?: (bytes: number) => void;
  /** Told about entries skipped or attributes not set; default: console.warn. */
  readonly onWarning?: (message: string) => void;
}

export interface ExtractResult {
  /** Entries written (whiteouts included, skipped entries not). */
  readonly entries: number;
  /** Archive bytes read. */
  readonly bytes: number;
}

interface DeferredDirectory {
  readonly path: string;
  readonly ino: number;
  readonly mode: number;
  readonly mtime: number;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function lstatOrNull(path: string): Promise<Awaited<ReturnType<typeof lstat>> | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function removeExisting(path: string): Promise<void> {
  // rm does not follow symlinks, recursive or not.
  await rm(path, { recursive: true, force: true });
}

/**
 * Extracts a tar archive into `targetDir`, safely: every entry lands inside the target.
 *
 * - Entry names are cleaned as if the target were "/": `/etc/x` → `<target>/etc/x`, and `../x`
 *   → `<target>/x` (leading ".." stop at the target, like a chroot; nothing is refused).
 * - Folders on the way are resolved component by component inside the target; a symlink among
 *   them is resolved as if chrooted in the target and never followed to the host.
 * - An existing entry is removed first and files are created with O_CREAT|O_EXCL|O_NOFOLLOW, so
 *   a write never goes through a symlink; hardlink targets are resolved the same way.
 *
 * Kept: owners (lchown, when root), modes including setuid/setgid (set after chown), mtimes,
 * symlinks, hardlinks, device nodes and fifos (mknod/mkfifo), and xattrs (setfattr; skipped with
 * a warning when it is missing). `trusted.overlay.*` xattrs in an archive are dropped, since they
 * would steer overlayfs. Folder modes and mtimes are set at the end, once their content is in.
 */
export async function extractTar(
  source: AsyncIterable<Uint8Array | string>,
  targetDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  await mkdir(targetDir, { recursive: true });
  const root = await realpath(targetDir);
  const warn = options.onWarning ?? ((message: string) => console.warn(`tar: ${message}`));
  const preserveOwner = options.preserveOwner ?? isRoot();
  const overlay = options.whiteouts === 'overlay';
  const deferred: DeferredDirectory[] = [];
  let entries = 0;
  let bytes = 0;

  const applyXattrs = async (path: string, header: TarHeader): Promise<void> => {
    for (const [name, value] of Object.entries(header.xattrs)) {
      if (name.startsWith('trusted.overlay.')) {
        warn(`${header.path}: dropped the xattr ${name}`);
        continue;
      }
      try {
        if (!(await setXattr(path, name, value, warn))) return;
      } catch (error) {
        warn(`${header.path}: xattr ${name} not set: ${(error as Error).message}`);
      }
    }
  };

  for await (const { header, body } of readTar(source, {
    onProgress: (n) => {
      bytes = n;
      options.onProgress?.(n);
    },
    onWarning: warn,
  })) {
    const parts = cleanInRoot(header.path);
    if (parts.length === 0) {
      // The target itself: its mode and owner are the caller's business.
      if (header.type !== 'directory') warn(`skipped ${JSON.stringify(header.path)}: it names the target folder itself`);
      continue;
    }
    const name = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);

    if (overlay && name.startsWith(WHITEOUT_PREFIX)) {
      const parent = await resolveInRoot(root, parentParts.join('/'), { followFinal: true, create: true });
      if (name === WHITEOUT_OPAQUE) {
        if (!(await setXattr(parent, OVERLAY_OPAQUE_XATTR, Buffer.from('y'), warn))) {
          warn(`${header.path}: the opaque marker was not set`);
        }
      } else if (name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
        warn(`skipped ${JSON.stringify(header.path)}: unknown whiteout metadata`);
        continue;
      } else {
        const hiddenName = name.slice(WHITEOUT_PREFIX.length);
        if (hiddenName === '' || hiddenName === '.' || hiddenName === '..') {
          warn(`skipped ${JSON.stringify(header.path)}: a whiteout without a name`);
          continue;
        }
        const hidden = join(parent, hiddenName);
        await removeExisting(hidden);
        await makeSpecialFile(hidden, 'char-device', 0, 0, 0);
        if (preserveOwner) await lchown(hidden, header.uid, header.gid);
      }
      entries++;
      continue;
    }

    const parent = await resolveInRoot(root, parentParts.join('/'), { followFinal: true, create: true });
    const path = join(parent, name);
    const existing = await lstatOrNull(path);

    switch (header.type) {
      case 'directory': {
        if (!existing?.isDirectory()) {
          if (existing) await removeExisting(path);
          await mkdir(path, { mode: 0o700 });
        }
        if (preserveOwner) await lchown(path, header.uid, header.gid);
        await applyXattrs(path, header);
        const stats = await lstat(path);
        deferred.push({ path: parts.join('/'), ino: stats.ino, mode: header.mode, mtime: header.mtime });
        break;
      }
      case 'file': {
        if (existing) await removeExisting(path);
        const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) {
            let offset = 0;
            while (offset < chunk.length) offset += (await file.write(chunk, offset, chunk.length - offset)).bytesWritten;
          }
          if (preserveOwner) await file.chown(header.uid, header.gid);
          await file.chmod(header.mode);
          await applyXattrs(path, header);
          await file.utimes(header.mtime, header.mtime);
        } finally {
          await file.close();
        }
        break;
      }
      case 'symlink': {
        if (existing) await removeExisting(path);
        await symlink(header.linkname, path);
        if (preserveOwner) await lchown(path, header.uid, header.gid);
        await applyXattrs(path, header);
        await lutimes(path, header.mtime, header.mtime);
        break;
      }
      case 'hardlink': {
        const target = await resolveInRoot(root, cleanInRoot(header.linkname).join('/'), { followFinal: false, create: false }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
          throw error;
        });
        const targetStats = target === null ? null : await lstatOrNull(target);
        if (targetStats === null) throw new Error(`tar entry ${header.path}: hardlink target ${header.linkname} is not in the archive`);
        if (targetStats.isDirectory()) throw new Error(`tar entry ${header.path}: hardlink target ${header.linkname} is a directory`);
        if (target === path) break;
        if (existing) await removeExisting(path);
        await link(target!, path);
        break;
      }
      case 'char-device':
      case 'block-device':
      case 'fifo': {
        if (header.type !== 'fifo' && !isRoot()) {
          warn(`skipped the device ${JSON.stringify(header.path)}: creating device nodes needs root`);
          continue;
        }
        if (existing) await removeExisting(path);
        await makeSpecialFile(path, header.type, header.mode, header.devmajor, header.devminor);
        if (preserveOwner) {
          await lchown(path, header.uid, header.gid);
          await chmod(path, header.mode); // chown cleared setuid/setgid; the node is ours, not a symlink
        }
        await applyXattrs(path, header);
        await lutimes(path, header.mtime, header.mtime);
        break;
      }
    }
    entries++;
  }

  // Deepest last-seen first; each folder is looked up again and must still be the one made.
  for (const dir of deferred.reverse()) {
    const path = await resolveInRoot(root, dir.path, { followFinal: false, create: false }).catch(() => null);
    const stats = path === null ? null : await lstatOrNull(path);
    if (path === null || stats === null || !stats.isDirectory() || stats.ino !== dir.ino) continue;
    await chmod(path, dir.mode);
    await utimes(path, dir.mtime, dir.mtime);
  }
  return { entries, bytes };
}
