import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FsHelper } from './fs-helper.js';
import { HeldDir } from './held-dir.js';
import { cleanInRoot, resolveInRoot } from './resolve-in-root.js';
import type { TarHeader } from './tar-header.js';
import { readTar } from './tar-reader.js';
import { nodeTreeFs, type FileStats, type TreeFs } from './tree-fs.js';

/** One archive entry offered to `ExtractOptions.intercept` before it is extracted. */
export interface InterceptedEntry {
  readonly header: TarHeader;
  /** The entry's folder, resolved inside the target (created when missing): a real folder, never a link out. */
  readonly parent: string;
  /** The entry's last name component (cleaned: never "", "." or ".."). */
  readonly name: string;
  /** Whether owners are being set (root). */
  readonly preserveOwner: boolean;
  /** The extraction's helper for mknod and lsetxattr (one process for the whole extraction). */
  readonly fs: FsHelper;
  warn(message: string): void;
}

/** Entries a caller handles itself instead of having them extracted. */
export interface EntryInterceptor {
  /** Entries whose last name component matches are handed to `handle` (e.g. /^\.wh\./). */
  readonly names: RegExp;
  /** Deals with the entry ("written"), or leaves it out ("skipped"); writes still in flight have finished. */
  handle(entry: InterceptedEntry): Promise<'written' | 'skipped'>;
}

export interface ExtractOptions {
  /**
   * Entries handed to the caller instead of being extracted: a storage driver turns OCI whiteouts
   * (`.wh.<name>`) into its own format this way. Without it `.wh.` files are the plain files they
   * are (`docker import`).
   */
  readonly intercept?: EntryInterceptor;
  /** Set owners from the archive (lchown); default: when running as root. */
  readonly preserveOwner?: boolean;
  /** Every entry owned by this uid and gid instead of the archive's (`cp -a` into a container with a User). */
  readonly owner?: { readonly uid: number; readonly gid: number };
  /**
   * The host owner of an entry's owner (the archive's, or `owner`): a remapped container's ids
   * shifted to its range (`--userns-remap`, core/security/id-map.ts). `path`: the entry's name in
   * the archive (the target's relative path). Implies setting owners.
   */
  readonly mapIds?: (ids: { readonly uid: number; readonly gid: number }, path: string) => { readonly uid: number; readonly gid: number };
  /**
   * Refuse to replace an existing folder with something else, or something else with a folder
   * (Docker's noOverwriteDirNonDir): the extraction fails with an OverwriteRefusedError.
   */
  readonly noOverwriteDirNonDir?: boolean;
  /** Called after each entry is extracted (a small file's write may still be in flight). */
  /** After each entry; a promise it returns is awaited before the next entry (a failpoint's wait). */
  readonly onEntry?: (header: TarHeader) => void | Promise<void>;
  /** Called with the number of archive bytes consumed so far. */
  readonly onProgress?: (bytes: number) => void;
  /** Told about entries skipped or attributes not set; default: console.warn. */
  readonly onWarning?: (message: string) => void;
  /**
   * Where the files are made: default the host's (`targetDir` a host path, held open). `cp` gives
   * a ContainerFs, whose process has the container's root: `targetDir` is then the container's
   * path and no path is walked from the host's root. Not with `intercept`.
   */
  readonly fs?: TreeFs;
  /** Entry names as bytes (readTar's byteNames), for an `fs` that takes them so (ContainerFs). */
  readonly byteNames?: boolean;
}

export interface ExtractResult {
  /** Entries written (whiteouts included, skipped entries not). */
  readonly entries: number;
  /** Archive bytes read. */
  readonly bytes: number;
}

/** An entry that would have replaced a folder with a non-folder or the reverse, refused (noOverwriteDirNonDir). */
export class OverwriteRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OverwriteRefusedError';
  }
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

async function lstatOrNull(fs: TreeFs, path: string): Promise<FileStats | null> {
  try {
    return await fs.lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Files up to this size are read into memory and written while the next entries are read. */
const SMALL_FILE = 256 << 10;
/** At most this many of them at a time. */
const MAX_IN_FLIGHT = 16;

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * Small files being written while the archive is read on (each write is several system calls
 * that would otherwise wait for one another). Only files, each at its own path: whatever else
 * an entry does waits for `drain()`.
 */
class WritesInFlight {
  private readonly paths = new Set<string>();
  private pending: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;

  /** Whether `rel` is, contains or is inside a path being written. */
  conflicts(rel: string): boolean {
    if (this.pending.length >= MAX_IN_FLIGHT) return true;
    for (const path of this.paths) if (path === rel || path.startsWith(`${rel}/`) || rel.startsWith(`${path}/`)) return true;
    return false;
  }

  start(rel: string, write: Promise<void>): void {
    this.paths.add(rel);
    this.pending.push(write.catch((error: unknown) => {
      this.failure ??= { error };
    }));
  }

  /** Waits for every write, whatever their outcome. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.pending);
    this.pending = [];
    this.paths.clear();
    if (this.failure !== null) throw this.failure.error;
  }
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
 * symlinks, hardlinks, device nodes and fifos, and xattrs (mknod and lsetxattr through one
 * `mini-docker-fsops` process per extraction, FsHelper). `trusted.overlay.*` xattrs in an archive
 * are dropped, since they would steer overlayfs. Folder modes and mtimes are set at the end, once
 * their content is in.
 */
export async function extractTar(
  source: AsyncIterable<Uint8Array | string>,
  targetDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  if (options.fs && options.intercept) throw new Error('extractTar: intercept works on the host\'s file system only');
  const helper = new FsHelper();
  const fs = options.fs ?? nodeTreeFs(helper);
  let held: HeldDir | null = null;
  if (!options.fs) {
    await mkdir(targetDir, { recursive: true });
    // Held open rather than realpath'd: another process's view (/proc/<pid>/root/...) stays the folder it was.
    held = await HeldDir.open(targetDir);
  }
  const root = held?.path ?? targetDir;
  const warn = options.onWarning ?? ((message: string) => console.warn(`tar: ${message}`));
  const preserveOwner = options.owner !== undefined || options.mapIds !== undefined || (options.preserveOwner ?? isRoot());
  const ownerOf = (header: TarHeader): { uid: number; gid: number } => {
    const ids = options.owner ?? { uid: header.uid, gid: header.gid };
    return options.mapIds ? { ...options.mapIds(ids, header.path) } : ids;
  };
  const refuseOverwrite = (header: TarHeader, existingIsDir: boolean): void => {
    if (options.noOverwriteDirNonDir !== true || existingIsDir === (header.type === 'directory')) return;
    throw new OverwriteRefusedError(existingIsDir
      ? `cannot overwrite directory "${header.path}" with non-directory "${header.path}"`
      : `cannot overwrite non-directory "${header.path}" with directory "${header.path}"`);
  };
  const deferred: DeferredDirectory[] = [];
  // Resolved parent folders, by their cleaned path. Only this extraction changes the target (see
  // the rules above), and only by removing something or making a symlink can it change what a
  // path resolves to: the cache is cleared whenever it does either.
  const parents = new Map<string, string>();
  const parentOf = async (rel: string): Promise<string> => {
    const cached = parents.get(rel);
    if (cached !== undefined) return cached;
    const resolved = await resolveInRoot(root, rel, { followFinal: true, create: true }, fs);
    parents.set(rel, resolved);
    return resolved;
  };
  const replace = async (path: string): Promise<void> => {
    parents.clear();
    await fs.remove(path);
  };
  const writes = new WritesInFlight();
  let entries = 0;
  let bytes = 0;

  const applyXattrs = async (path: string, header: TarHeader): Promise<void> => {
    for (const [name, value] of Object.entries(header.xattrs)) {
      if (name.startsWith('trusted.overlay.')) {
        warn(`${header.path}: dropped the xattr ${name}`);
        continue;
      }
      try {
        await fs.setXattr(path, name, value);
      } catch (error) {
        warn(`${header.path}: xattr ${name} not set: ${(error as Error).message}`);
      }
    }
  };

  try {
    return await extractEntries();
  } finally {
    await writes.settle(); // after a failure too: nothing may still write once the caller cleans up
    await helper.close();
    await held?.close();
  }

  async function extractEntries(): Promise<ExtractResult> {
    for await (const { header, body } of readTar(source, {
      onProgress: (n) => {
        bytes = n;
        options.onProgress?.(n);
      },
      onWarning: warn,
      byteNames: options.byteNames === true,
    })) {
      const parts = cleanInRoot(header.path);
      if (parts.length === 0) {
        // The target itself: its mode and owner are the caller's business.
        if (header.type !== 'directory') warn(`skipped ${JSON.stringify(header.path)}: it names the target folder itself`);
        continue;
      }
      const name = parts[parts.length - 1]!;
      const parentParts = parts.slice(0, -1);

      const rel = parts.join('/');
      const intercepted = options.intercept?.names.test(name) === true;
      // Small files are written several at a time; anything else waits until they are all written,
      // as does a file whose path is, contains or is inside one still being written.
      if (intercepted || header.type !== 'file' || header.size > SMALL_FILE || writes.conflicts(rel)) await writes.drain();
      const parent = await parentOf(parentParts.join('/'));
      if (intercepted && options.intercept) {
        const outcome = await options.intercept.handle({ header, parent, name, preserveOwner, fs: helper, warn });
        parents.clear(); // the hook may have removed or replaced anything
        if (outcome === 'written') entries++;
        continue;
      }
      const path = join(parent, name);
      // A file is created with O_EXCL straight away (what exists is replaced only when that fails).
      const existing = header.type === 'file' ? null : await lstatOrNull(fs, path);
      if (existing) refuseOverwrite(header, existing.isDirectory());

      switch (header.type) {
        case 'directory': {
          if (!existing?.isDirectory()) {
            if (existing) await replace(path);
            await fs.mkdir(path, 0o700);
          }
          if (preserveOwner) await fs.lchown(path, ownerOf(header).uid, ownerOf(header).gid);
          await applyXattrs(path, header);
          const stats = await fs.lstat(path);
          deferred.push({ path: parts.join('/'), ino: stats.ino, mode: header.mode, mtime: header.mtime });
          break;
        }
        case 'file': {
          const meta = { mode: header.mode, mtime: header.mtime, ...(preserveOwner ? { owner: ownerOf(header) } : {}) };
          const write = async (data: Buffer | AsyncIterable<Uint8Array>): Promise<void> => {
            // Created with O_EXCL (nothing of `data` read yet when that fails): what is there is replaced only then.
            await fs.writeFile(path, data, meta).catch(async (error: NodeJS.ErrnoException) => {
              if (error.code !== 'EEXIST') throw error;
              refuseOverwrite(header, (await lstatOrNull(fs, path))?.isDirectory() === true);
              await replace(path);
              await fs.writeFile(path, data, meta);
            });
            await applyXattrs(path, header);
          };
          if (header.size > SMALL_FILE) await write(body);
          else writes.start(rel, write(await readAll(body)));
          break;
        }
        case 'symlink': {
          if (existing) await fs.remove(path);
          parents.clear();
          await fs.symlink(header.linkname, path);
          if (preserveOwner) await fs.lchown(path, ownerOf(header).uid, ownerOf(header).gid);
          await applyXattrs(path, header);
          await fs.lutimes(path, header.mtime);
          break;
        }
        case 'hardlink': {
          const target = await resolveInRoot(root, cleanInRoot(header.linkname).join('/'), { followFinal: false, create: false }, fs).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
            throw error;
          });
          const targetStats = target === null ? null : await lstatOrNull(fs, target);
          if (targetStats === null) throw new Error(`tar entry ${header.path}: hardlink target ${header.linkname} is not in the archive`);
          if (targetStats.isDirectory()) throw new Error(`tar entry ${header.path}: hardlink target ${header.linkname} is a directory`);
          if (target === path) break;
          if (existing) await replace(path);
          await fs.link(target!, path);
          break;
        }
        case 'char-device':
        case 'block-device':
        case 'fifo': {
          if (header.type !== 'fifo' && !isRoot()) {
            warn(`skipped the device ${JSON.stringify(header.path)}: creating device nodes needs root`);
            continue;
          }
          if (existing) await replace(path);
          await fs.mknod(path, header.type, header.mode, header.devmajor, header.devminor);
          if (preserveOwner) {
            await fs.lchown(path, ownerOf(header).uid, ownerOf(header).gid);
            await fs.chmod(path, header.mode); // chown cleared setuid/setgid; the node is ours, not a symlink
          }
          await applyXattrs(path, header);
          await fs.lutimes(path, header.mtime);
          break;
        }
      }
      entries++;
      await options.onEntry?.(header);
    }

    await writes.drain();
    // Deepest last-seen first; each folder is looked up again and must still be the one made.
    for (const dir of deferred.reverse()) {
      const path = await resolveInRoot(root, dir.path, { followFinal: false, create: false }, fs).catch(() => null);
      const stats = path === null ? null : await lstatOrNull(fs, path);
      if (path === null || stats === null || !stats.isDirectory() || stats.ino !== dir.ino) continue;
      await fs.chmod(path, dir.mode);
      await fs.lutimes(path, dir.mtime);
    }
    return { entries, bytes };
  }
}
