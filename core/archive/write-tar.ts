import { lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { encodeName } from './byte-names.js';
import { FsHelper } from './fs-helper.js';
import { HeldDir } from './held-dir.js';
import type { TarHeaderInput } from './tar-header.js';
import { TarWriter } from './tar-writer.js';
import { nodeTreeFs, type FileStats, type TreeFs } from './tree-fs.js';
import { readXattrTree } from './xattrs.js';

/** One file of the walk, offered to `WriteTarOptions.rewrite` before it is written. */
export interface WalkedEntry {
  /** The header the walk would write (its path relative to the root: "bin/sh"). */
  readonly header: TarHeaderInput;
  readonly stats: FileStats;
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
  /**
   * Where the tree is read: default the host's (the folder held open). `cp` gives a ContainerFs,
   * whose process has the container's root: the folder is then the container's path, and every
   * lookup, link and open is resolved by the kernel inside the container.
   */
  readonly fs?: TreeFs;
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
  return Buffer.compare(encodeName(a), encodeName(b)); // the names' bytes (byte-names.ts)
}

/** Files up to this size are read whole, a window of them at a time; bigger ones are streamed. */
const SMALL_FILE = 256 << 10;
const WINDOW = 16;

/**
 * Writes the tree under `rootDir` as a tar archive to `out` and resolves with its size in bytes.
 * Entries are in byte order, depth first, named relative to `rootDir` ("bin/", "bin/sh"), without
 * the root itself. Files with several links become one file and hardlinks to it (by inode);
 * devices, fifos, symlinks, owners, modes, mtimes (whole seconds) and xattrs are kept; sockets are
 * skipped. Long names, links and xattrs get PAX headers.
 *
 * Symlinks are never followed, but a folder swapped for a symlink while the walk is in it would be
 * (Node has no openat): archive trees nothing changes meanwhile, or read them with `fs` a
 * ContainerFs, where whatever is followed stays inside the container.
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
  if (options.fs) return archiveHeld(rootDir, top, out, options, options.fs);
  // Held open rather than realpath'd: another process's view (/proc/<pid>/root/...) stays the folder it was.
  const held = await HeldDir.open(rootDir);
  const helper = new FsHelper(); // never started: reading needs none of its calls
  try {
    return await archiveHeld(held.path, top, out, options, hostReads(nodeTreeFs(helper)));
  } finally {
    await held.close();
  }
}

/** The host's reads as a walk makes them: blocking stats (a few microseconds each, where a promise costs a trip through the thread pool). */
function hostReads(fs: TreeFs): TreeFs {
  return { ...fs, lstat: (path) => Promise.resolve(lstatSync(path)), stat: (path) => Promise.resolve(statSync(path)) };
}

async function archiveHeld(root: string, top: { name: string; topName: string } | null, out: NodeJS.WritableStream, options: WriteTarOptions, fs: TreeFs): Promise<number> {
  const warn = options.onWarning ?? ((message: string) => console.warn(`tar: ${message}`));
  const xattrRoot = top === null ? root : join(root, top.name);
  // The host's xattrs are read in one pass (mini-docker-xattrs); a container's, file by file with the rest of its status.
  const xattrTree = options.xattrs === false || options.fs
    ? new Map<string, Record<string, Buffer>>()
    : await readXattrTree(xattrRoot, warn, { folder: top === null || top.name === '' || lstatSync(xattrRoot).isDirectory() });
  const allXattrs = (path: string): Promise<Record<string, Buffer>> => (options.fs && options.xattrs !== false ? options.fs.xattrs(path) : Promise.resolve(xattrTree.get(path) ?? {}));
  const writer = new TarWriter(out, { onProgress: options.onProgress });
  const inodes = new Map<string, string>();
  /** The entry name of a path relative to `root`. */
  const entryName = (rel: string): string => {
    if (top === null) return rel;
    if (rel === top.name) return top.topName;
    return `${top.topName}/${top.name === '' ? rel : rel.slice(top.name.length + 1)}`;
  };

  const keptXattrs = (all: Readonly<Record<string, Buffer>>): Record<string, Buffer> => {
    const kept: Record<string, Buffer> = {};
    for (const name of Object.keys(all).sort()) if (!name.startsWith('trusted.overlay.')) kept[name] = all[name]!;
    return kept;
  };
  /** Writes what `rewrite` says instead of `header`; false when the entry is to be written as usual. */
  const rewritten = async (header: TarHeaderInput, stats: FileStats, xattrs: Readonly<Record<string, Buffer>>): Promise<boolean> => {
    const replacement = options.rewrite?.({ header, stats, xattrs });
    if (replacement === undefined) return false;
    for (const h of replacement) await writer.add(h);
    return true;
  };

  const walk = async (relDir: string): Promise<void> => {
    const names = (await fs.readdir(join(root, relDir))).sort(byteOrder);
    for (let i = 0; i < names.length; i += WINDOW) {
      // A window of names is looked at, and its small files read, at once; they are written in order.
      const window = await Promise.all(names.slice(i, i + WINDOW).map((name) => look(relDir === '' ? name : `${relDir}/${name}`)));
      for (const entry of window) await add(entry);
    }
  };

  interface Looked { rel: string; path: string; stats: FileStats; xattrs: Readonly<Record<string, Buffer>>; content: Promise<Buffer> | undefined }
  const look = async (rel: string): Promise<Looked> => {
    const path = join(root, rel);
    const [stats, xattrs] = await Promise.all([rel === '' ? fs.stat(path) : fs.lstat(path), allXattrs(path)]); // the root itself is reached through its held link
    const content = stats.isFile() && stats.nlink === 1 && stats.size <= SMALL_FILE ? fs.readSmall(path, stats.size, stats) : undefined;
    content?.catch(() => undefined); // awaited below, in order; an error is thrown there
    return { rel, path, stats, xattrs, content };
  };

  const add = async ({ rel, path, stats, xattrs, content }: Looked): Promise<void> => {
    const owner = options.mapIds ? options.mapIds({ uid: stats.uid, gid: stats.gid }, rel) : { uid: stats.uid, gid: stats.gid };
    const base = {
      path: entryName(rel),
      mode: stats.mode & 0o7777,
      uid: owner.uid,
      gid: owner.gid,
      mtime: Math.floor(stats.mtimeMs / 1000),
      xattrs: keptXattrs(xattrs),
    };
    if (stats.isDirectory()) {
      const header: TarHeaderInput = { ...base, type: 'directory' };
      if (!(await rewritten(header, stats, xattrs))) await writer.add(header);
      await walk(rel);
    } else if (stats.isFile()) {
      const key = `${stats.dev}:${stats.ino}`;
      const first = stats.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        await writer.add({ ...base, type: 'hardlink', linkname: first, xattrs: {} });
      } else {
        if (stats.nlink > 1) inodes.set(key, base.path);
        await writer.add({ ...base, type: 'file', size: stats.size }, content !== undefined ? await content : fs.readStream(path, stats.size, stats));
      }
    } else if (stats.isSymbolicLink()) {
      await writer.add({ ...base, type: 'symlink', linkname: await fs.readlink(path) });
    } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
      const { major, minor } = splitDevice(stats.rdev);
      const header: TarHeaderInput = { ...base, type: stats.isCharacterDevice() ? 'char-device' : 'block-device', devmajor: major, devminor: minor };
      if (!(await rewritten(header, stats, xattrs))) await writer.add(header);
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
