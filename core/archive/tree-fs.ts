import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { chmod, link, lchown, lstat, lutimes, mkdir, open, readdir, readlink, rm, stat, symlink, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import type { FsHelper, SpecialFileKind } from './fs-helper.js';
import { readXattrTree } from './xattrs.js';

/** What the archive code reads of a file's status (Node's Stats has all of it). */
export interface FileStats {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly ino: number;
  readonly dev: number;
  readonly nlink: number;
  readonly rdev: number;
  readonly mtimeMs: number;
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
}

/** How a file `writeFile` makes ends up: owner (none: as made), mode and mtime (seconds). */
export interface FileMeta {
  readonly mode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
  readonly mtime: number;
}

/** The inode a walk saw: a read fails rather than read another file there. */
export interface SeenFile {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The file operations of archiving (`writeTar`) and extraction (`extractTar`), by path. On the
 * host (`nodeTreeFs`) paths are the host's; for `cp` (`ContainerFs`, core/archive/container-fs.ts)
 * they are the container's, and a process whose root is the container's root resolves them.
 * Errors are Node's errno errors (`code`: ENOENT, EEXIST...). Every method leaves the last
 * component unfollowed unless it says otherwise.
 */
export interface TreeFs {
  lstat(path: string): Promise<FileStats>;
  /** Follows a symlink at `path`. */
  stat(path: string): Promise<FileStats>;
  readlink(path: string): Promise<string>;
  readdir(path: string): Promise<string[]>;
  /** All of a file's extended attributes. */
  xattrs(path: string): Promise<Record<string, Buffer>>;
  /** A small file's `size` bytes (fewer if it shrank), opened O_NOFOLLOW and checked to be `seen`. */
  readSmall(path: string, size: number, seen: SeenFile): Promise<Buffer>;
  /** A file's bytes as they come, same checks. */
  readStream(path: string, size: number, seen: SeenFile): AsyncIterable<Buffer>;
  mkdir(path: string, mode: number): Promise<void>;
  /** Removes `path` and what is under it, following no link; nothing there is fine. */
  remove(path: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  link(existing: string, path: string): Promise<void>;
  lchown(path: string, uid: number, gid: number): Promise<void>;
  /** Follows a link: for folders and nodes this extraction made. */
  chmod(path: string, mode: number): Promise<void>;
  lutimes(path: string, mtime: number): Promise<void>;
  mknod(path: string, kind: SpecialFileKind, mode: number, major: number, minor: number): Promise<void>;
  setXattr(path: string, name: string, value: Buffer): Promise<void>;
  /**
   * Creates a file with O_CREAT|O_EXCL|O_NOFOLLOW (EEXIST, before any of `data` is read, when
   * something is there), writes `data` and sets `meta` (owner first: it clears setuid).
   */
  writeFile(path: string, data: Buffer | AsyncIterable<Uint8Array>, meta: FileMeta): Promise<void>;
}

/** A large file's data is written in batches of this size (one writev each). */
export const WRITE_BATCH = 1 << 20;

/** Writes every byte of `parts` at the file's position: one writev, a short write finished with write. */
async function writeAll(file: FileHandle, parts: readonly Buffer[]): Promise<void> {
  let total = 0;
  for (const part of parts) total += part.length;
  let written = parts.length === 1 ? (await file.write(parts[0]!, 0, total)).bytesWritten : (await file.writev(parts)).bytesWritten;
  if (written === total) return;
  const rest = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  while (written < total) written += (await file.write(rest, written, total - written)).bytesWritten;
}

/**
 * How a file the walk saw is opened to be read: never through a link, and O_NONBLOCK|O_NOCTTY so
 * that a fifo (or a terminal) put there since the walk (a running container's process can) is
 * opened without waiting for a writer instead of blocking the daemon; `checkOpened` then refuses
 * anything but the regular file walked. A regular file's reads ignore O_NONBLOCK.
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

function checkOpened(path: string, opened: FileStats, seen: SeenFile): void {
  if (!opened.isFile() || opened.dev !== seen.dev || opened.ino !== seen.ino) {
    const error: NodeJS.ErrnoException = new Error(`${path} changed while it was being archived`);
    error.code = 'ESTALE';
    throw error;
  }
}

/**
 * A small file's bytes, read with blocking calls: one file is a few microseconds of the event loop,
 * where the four promise calls (open, stat, read, close) each cost a trip through the thread pool,
 * which made a layer of 20,000 small files ten times slower to archive than GNU tar.
 */
function readSmallFile(path: string, size: number, seen: SeenFile): Promise<Buffer> {
  try {
    const fd = openSync(path, READ_FLAGS);
    try {
      checkOpened(path, fstatSync(fd), seen);
      const buffer = Buffer.alloc(size);
      let position = 0;
      while (position < size) {
        const bytesRead = readSync(fd, buffer, position, size - position, position);
        if (bytesRead === 0) break; // shrank meanwhile: the rest stays zeros, as the writer pads
        position += bytesRead;
      }
      return Promise.resolve(buffer);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

async function* readFileStream(path: string, size: number, seen: SeenFile): AsyncGenerator<Buffer> {
  const file = await open(path, READ_FLAGS);
  try {
    checkOpened(path, await file.stat(), seen);
    let position = 0;
    while (position < size) {
      const buffer = Buffer.allocUnsafe(Math.min(size - position, 1 << 20));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break; // shrank meanwhile: the writer pads with zeros
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

/**
 * The host's file system, for trees the daemon owns (layers, volumes, the CLI's side of cp):
 * mknod and lsetxattr through `helper` (mini-docker-fsops, started on first use), a file's
 * xattrs through mini-docker-xattrs (writeTar reads a whole host tree's in one pass instead).
 */
export function nodeTreeFs(helper: FsHelper): TreeFs {
  return {
    lstat: (path) => lstat(path),
    stat: (path) => stat(path),
    readlink: (path) => readlink(path),
    readdir: (path) => readdir(path),
    xattrs: async (path) => {
      const warnings: string[] = [];
      const all = await readXattrTree(path, (m) => warnings.push(m), { folder: false });
      if (warnings.length > 0) throw new Error(`reading the xattrs of ${path}: ${warnings.join('; ')}`);
      return all.get(posix.normalize(path)) ?? {};
    },
    readSmall: readSmallFile,
    readStream: readFileStream,
    mkdir: async (path, mode) => {
      await mkdir(path, { mode });
    },
    remove: (path) => rm(path, { recursive: true, force: true }), // rm follows no symlink, recursive or not
    symlink: (target, path) => symlink(target, path),
    link: (existing, path) => link(existing, path),
    lchown: (path, uid, gid) => lchown(path, uid, gid),
    chmod: (path, mode) => chmod(path, mode),
    lutimes: (path, mtime) => lutimes(path, mtime, mtime),
    mknod: (path, kind, mode, major, minor) => helper.mknod(path, kind, mode, major, minor),
    setXattr: (path, name, value) => helper.setXattr(path, name, value),
    writeFile: async (path, data, meta) => {
      const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        if (Buffer.isBuffer(data)) await writeAll(file, [data]);
        else {
          // A large file's pieces (as small as the archive's source gives them) go out in batches: one writev each.
          let batch: Buffer[] = [];
          let batched = 0;
          for await (const chunk of data) {
            batch.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
            batched += chunk.byteLength;
            if (batched >= WRITE_BATCH) {
              await writeAll(file, batch);
              batch = [];
              batched = 0;
            }
          }
          if (batched > 0) await writeAll(file, batch);
        }
        if (meta.owner) await file.chown(meta.owner.uid, meta.owner.gid);
        await file.chmod(meta.mode);
        await file.utimes(meta.mtime, meta.mtime);
      } finally {
        await file.close();
      }
    },
  };
}
