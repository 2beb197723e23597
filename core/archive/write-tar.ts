import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync } from 'node:fs';
import { open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Stats } from 'node:fs';
import { HeldDir } from './held-dir.js';
import type { TarHeaderInput } from './tar-header.js';
import { TarWriter } from './tar-writer.js';
import { readXattrTree } from './xattrs.js';

/** One file of the walk, offered to `WriteTarOptions.rewrite` before it is written. */
export interface WalkedEntry {
  /** The header the walk would write (its path relative to the root: "bin/sh"). */
  readonly header: TarHeaderInput;
  readonly stats: Stats;
  /** All its extended attributes, `trusted.overlay.*` included (the header has none of those). */
  readonly xattrs: Readonly<Record<string, Buffer>>;
}

export interface WriteTarOptions {
  /**
   * Called for each file before it is written: headers returned are written instead of it (with
   * no body: files among them must have size 0); undefined writes it as usual. A folder's content
   * is walked either way. A storage driver turns its own deletion markers into OCI whiteouts
   * (`.wh.<name>`, `.wh..wh..opq`) this way.
   */
  readonly rewrite?: (entry: WalkedEntry) => readonly TarHeaderInput[] | undefined;
  /** Include extended attributes (read with getfattr); default true. `trusted.overlay.*` never are. */
  readonly xattrs?: boolean;
  /** End `out` when the archive is written, and wait until it is flushed; default true. */
  readonly end?: boolean;
  /** Called with the number of bytes written so far. */
  readonly onProgress?: (bytes: number) => void;
  /** Told about files that are skipped (sockets) or cannot be represented; default: console.warn. */
  readonly onWarning?: (message: string) => void;
  /**
   * The owner written for a file's host owner: a remapped container's view (`cp` out of it,
   * core/security/id-map.ts). `rel`: the file's path relative to the folder archived from.
   */
  readonly mapIds?: (ids: { readonly uid: number; readonly gid: number }, rel: string) => { readonly uid: number; readonly gid: number };
}

/** Splits a Linux dev_t into major and minor numbers (glibc's encoding). */
export function splitDevice(rdev: number): { major: number; minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev >>> 0;
  return {
    major: ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0),
    minor: ((low & 0xff) | ((low >>> 12) & 0xfff00) | ((high & 0xfff) << 20)) >>> 0,
  };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Reads `size` bytes of the file the walk saw (same device and inode), or fails: never another file. */
/** Files up to this size are read whole, a window of them at a time; bigger ones are streamed. */
const SMALL_FILE = 256 << 10;
const WINDOW = 16;

/**
 * A small file's bytes, read with blocking calls: one file is a few microseconds of the event loop,
 * where the four promise calls (open, stat, read, close) each cost a trip through the thread pool,
 * which made a layer of 20,000 small files ten times slower to archive than GNU tar. Same checks
 * as readExactly: the inode the walk saw, never through a symlink.
 */
function readSmallFile(path: string, size: number, seen: { dev: number; ino: number }): Promise<Buffer> {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const opened = fstatSync(fd);
      if (opened.dev !== seen.dev || opened.ino !== seen.ino) throw new Error(`${path} changed while it was being archived`);
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

async function* readExactly(path: string, size: number, seen: { dev: number; ino: number }): AsyncGenerator<Buffer> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const opened = await file.stat();
    if (opened.dev !== seen.dev || opened.ino !== seen.ino) throw new Error(`${path} changed while it was being archived`);
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
 * Writes the tree under `rootDir` as a tar archive to `out` and resolves with its size in bytes.
 * Entries are in byte order, depth first, named relative to `rootDir` ("bin/", "bin/sh"), without
 * the root itself. Files with several links become one file and hardlinks to it (by inode);
 * devices, fifos, symlinks, owners, modes, mtimes (whole seconds) and xattrs are kept; sockets are
 * skipped. Long names, links and xattrs get PAX headers.
 *
 * Symlinks are never followed, but a folder swapped for a symlink while the walk is in it would be
 * (Node has no openat): archive trees nothing changes meanwhile (a stopped or paused container).
 */
export async function writeTar(rootDir: string, out: NodeJS.WritableStream, options: WriteTarOptions = {}): Promise<number> {
  return archiveTree(rootDir, null, out, options);
}

/**
 * Writes `name` in the folder `parentDir` ("" for the folder itself) as a tar archive whose top
 * entry is called `topName` (a file alone, a symlink itself, or a folder and everything under it
 * as `topName/...`): what
 * Docker's archive API sends for a path (`GET /containers/{id}/archive`). The rest as writeTar.
 */
export async function writeTarOf(parentDir: string, name: string, topName: string, out: NodeJS.WritableStream, options: WriteTarOptions = {}): Promise<number> {
  return archiveTree(parentDir, { name: name === '.' ? '' : name, topName }, out, options);
}

async function archiveTree(rootDir: string, top: { name: string; topName: string } | null, out: NodeJS.WritableStream, options: WriteTarOptions): Promise<number> {
  // Held open rather than realpath'd: the tree may be in another mount namespace (cp).
  const held = await HeldDir.open(rootDir);
  try {
    return await archiveHeld(held.path, top, out, options);
  } finally {
    await held.close();
  }
}

async function archiveHeld(root: string, top: { name: string; topName: string } | null, out: NodeJS.WritableStream, options: WriteTarOptions): Promise<number> {
  const warn = options.onWarning ?? ((message: string) => console.warn(`tar: ${message}`));
  const xattrRoot = top === null ? root : join(root, top.name);
  const xattrFolder = top === null || top.name === '' || lstatSync(xattrRoot).isDirectory();
  const xattrTree = options.xattrs === false ? new Map<string, Record<string, Buffer>>() : await readXattrTree(xattrRoot, warn, { folder: xattrFolder });
  const writer = new TarWriter(out, { onProgress: options.onProgress });
  const inodes = new Map<string, string>();
  /** The entry name of a path relative to `root`. */
  const entryName = (rel: string): string => {
    if (top === null) return rel;
    if (rel === top.name) return top.topName;
    return `${top.topName}/${top.name === '' ? rel : rel.slice(top.name.length + 1)}`;
  };

  const xattrsOf = (path: string): Record<string, Buffer> => {
    const all = xattrTree.get(path) ?? {};
    const kept: Record<string, Buffer> = {};
    for (const name of Object.keys(all).sort()) if (!name.startsWith('trusted.overlay.')) kept[name] = all[name]!;
    return kept;
  };
  /** Writes what `rewrite` says instead of `header`; false when the entry is to be written as usual. */
  const rewritten = async (header: TarHeaderInput, stats: Stats, path: string): Promise<boolean> => {
    const replacement = options.rewrite?.({ header, stats, xattrs: xattrTree.get(path) ?? {} });
    if (replacement === undefined) return false;
    for (const h of replacement) await writer.add(h);
    return true;
  };

  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(join(root, relDir))).sort(byteOrder);
    for (let i = 0; i < names.length; i += WINDOW) {
      // A window of names is looked at, and its small files read, at once; they are written in order.
      const window = await Promise.all(names.slice(i, i + WINDOW).map((name) => look(relDir === '' ? name : `${relDir}/${name}`)));
      for (const entry of window) await add(entry);
    }
  };

  const look = async (rel: string): Promise<{ rel: string; path: string; stats: Stats; content: Promise<Buffer> | undefined }> => {
    const path = join(root, rel);
    const stats = rel === '' ? statSync(path) : lstatSync(path); // the root itself is reached through its held link
    const content = stats.isFile() && stats.nlink === 1 && stats.size <= SMALL_FILE ? readSmallFile(path, stats.size, stats) : undefined;
    content?.catch(() => undefined); // awaited below, in order; an error is thrown there
    return { rel, path, stats, content };
  };

  const add = async ({ rel, path, stats, content }: { rel: string; path: string; stats: Stats; content: Promise<Buffer> | undefined }): Promise<void> => {
    const owner = options.mapIds ? options.mapIds({ uid: stats.uid, gid: stats.gid }, rel) : { uid: stats.uid, gid: stats.gid };
    const base = {
      path: entryName(rel),
      mode: stats.mode & 0o7777,
      uid: owner.uid,
      gid: owner.gid,
      mtime: Math.floor(stats.mtimeMs / 1000),
      xattrs: xattrsOf(path),
    };
    if (stats.isDirectory()) {
      const header: TarHeaderInput = { ...base, type: 'directory' };
      if (!(await rewritten(header, stats, path))) await writer.add(header);
      await walk(rel);
    } else if (stats.isFile()) {
      const key = `${stats.dev}:${stats.ino}`;
      const first = stats.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        await writer.add({ ...base, type: 'hardlink', linkname: first, xattrs: {} });
      } else {
        if (stats.nlink > 1) inodes.set(key, base.path);
        await writer.add({ ...base, type: 'file', size: stats.size }, content !== undefined ? await content : readExactly(path, stats.size, stats));
      }
    } else if (stats.isSymbolicLink()) {
      await writer.add({ ...base, type: 'symlink', linkname: await readlink(path) });
    } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      const { major, minor } = splitDevice(stats.rdev);
      const header: TarHeaderInput = { ...base, type: stats.isCharacterDevice() ? 'char-device' : 'block-device', devmajor: major, devminor: minor };
      if (!(await rewritten(header, stats, path))) await writer.add(header);
    } else if (stats.isFIFO()) {
      await writer.add({ ...base, type: 'fifo' });
    } else {
      warn(`skipped the socket ${rel}`);
    }
  };

  if (top === null) await walk('');
  else await add(await look(top.name));
  const size = await writer.finish();
  if (options.end !== false) {
    out.end();
    await finished(out);
  }
  return size;
}
