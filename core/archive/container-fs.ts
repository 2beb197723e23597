import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { decodeName, encodeName } from './byte-names.js';
import type { SpecialFileKind } from './fs-helper.js';
import type { FileMeta, FileStats, SeenFile, TreeFs } from './tree-fs.js';

/** Built by `npm run build` (scripts/build.mjs) from core/archive/native/cproot.c. */
export const CPROOT_BINARY = join(dirname(fileURLToPath(import.meta.url)), 'bin', 'mini-docker-cproot');

const S_IFMT = 0o170000;
const FILE_TYPE_BITS: Readonly<Record<SpecialFileKind, number>> = { 'char-device': 0o020000, 'block-device': 0o060000, fifo: 0o010000 };
/** The server's limit on one write's data is a little over this. */
const CHUNK = 1 << 20;
/** How long `close()` lets the server finish what it was asked before it kills it. */
const CLOSE_GRACE_MS = 2000;

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

function errnoError(errno: number, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  error.errno = errno;
  return error;
}

/** A file's status in the container, mtime to the nanosecond (cp's stat header). */
export interface ContainerFileStats extends FileStats {
  readonly mtimeNs: bigint;
}

function statsOf(payload: Buffer): ContainerFileStats {
  const n = (i: number): number => Number(payload.readBigInt64LE(i * 8));
  const mode = n(0);
  const type = mode & S_IFMT;
  return {
    mode, uid: n(1), gid: n(2), nlink: n(3), size: n(4), ino: n(5), dev: n(6), rdev: n(7), mtimeMs: n(8) * 1000 + Math.floor(n(9) / 1e6),
    mtimeNs: payload.readBigInt64LE(64) * 1_000_000_000n + payload.readBigInt64LE(72),
    isDirectory: () => type === 0o040000,
    isFile: () => type === 0o100000,
    isSymbolicLink: () => type === 0o120000,
    isCharacterDevice: () => type === 0o020000,
    isBlockDevice: () => type === 0o060000,
    isFIFO: () => type === 0o010000,
  };
}

function field(value: string | Buffer): Buffer[] {
  const bytes = typeof value === 'string' ? encodeName(value) : value; // a path's bytes, exactly (byte-names.ts)
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  return [length, bytes];
}

/** Splits a payload of (u32 length, bytes) records. */
function records(payload: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 4 <= payload.length;) {
    const length = payload.readUInt32LE(at);
    out.push(payload.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * A container's files, through `mini-docker-cproot` (core/archive/native/cproot.c): a process that
 * joined the container's mount namespace (and, for a remapped running container's extraction,
 * its user namespace) and chrooted into its root, so the kernel resolves every path of a copy
 * inside the container. Paths are the container's ("/etc/passwd"). One process per copy;
 * requests are pipelined and answered in order; `close()` ends it, and it dies with the daemon.
 */
export class ContainerFs implements TreeFs {
  private readonly waiting: { resolve(payload: Buffer): void; reject(error: Error): void }[] = [];
  /** Answer bytes not yet handed out, and how many. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: Error | null = null;
  private stderr = '';
  private readonly closed: Promise<void>;

  private constructor(private readonly child: Child) {
    child.stdout.on('data', (chunk: Buffer) => this.answer(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (this.stderr += text));
    child.stdin.on('error', () => undefined); // reported by 'close'
    this.closed = new Promise<void>((resolve) => {
      child.on('close', (code, signal) => {
        this.fail(new Error(this.stderr.trim().split('\n')[0] || `${CPROOT_BINARY} ended (${signal ?? `exit code ${code}`})`));
        resolve();
      });
    });
    child.on('error', (error) => this.fail(new Error(`${CPROOT_BINARY}: ${error.message}`)));
  }

  /**
   * A running container's files: the server joins the mount namespace of its init `pid` (checked
   * to be `shimPid`'s child while it lives, through a pidfd) and its root; with `asContainerRoot`
   * its user namespace too, as uid 0 there (a remapped container: what it makes is the container's root's).
   */
  static running(pid: number, shimPid: number, asContainerRoot: boolean): Promise<ContainerFs> {
    return ContainerFs.start(['running', String(pid), String(shimPid), ...(asContainerRoot ? ['userns'] : [])]);
  }

  /** A stopped container's files: the mount namespace of its root view (`viewPid`), chrooted into `rootfs` there. */
  static view(viewPid: number, rootfs: string): Promise<ContainerFs> {
    return ContainerFs.start(['view', String(viewPid), rootfs]);
  }

  private static async start(args: readonly string[]): Promise<ContainerFs> {
    if (!existsSync(CPROOT_BINARY)) throw new Error(`${CPROOT_BINARY} is missing: build it with "npm run build" (it needs gcc and make)`);
    const fs = new ContainerFs(spawn(CPROOT_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    try {
      await fs.lstat('/'); // answered once it is in: a failure to get in ends it with one line
    } catch (error) {
      await fs.close();
      throw error;
    }
    return fs;
  }

  /** The server's process id (tests check that it ends). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Ends the server and waits for it to exit: killed (SIGKILL) if it has not within
   * CLOSE_GRACE_MS of the end of its stdin, so a server stuck in a call never holds the copy
   * (and the container's queue, and its freeze) forever.
   */
  async close(): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }, CLOSE_GRACE_MS);
    try {
      await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }

  async lstat(path: string): Promise<ContainerFileStats> {
    return statsOf(await this.request('l', [path]));
  }

  async stat(path: string): Promise<ContainerFileStats> {
    return statsOf(await this.request('s', [path]));
  }

  async readlink(path: string): Promise<string> {
    return decodeName(await this.request('k', [path]));
  }

  async readdir(path: string): Promise<string[]> {
    return records(await this.request('d', [path])).map(decodeName);
  }

  async xattrs(path: string): Promise<Record<string, Buffer>> {
    const parts = records(await this.request('x', [path]));
    const out: Record<string, Buffer> = {};
    for (let i = 0; i + 1 < parts.length; i += 2) out[decodeName(parts[i]!)] = Buffer.from(parts[i + 1]!);
    return out;
  }

  async readSmall(path: string, size: number, seen: SeenFile): Promise<Buffer> {
    const data = await this.request('g', [path, String(seen.dev), String(seen.ino), String(size)]);
    if (data.length === size) return data;
    const padded = Buffer.alloc(size); // shrank meanwhile: the rest stays zeros, as the writer pads
    data.copy(padded);
    return padded;
  }

  async *readStream(path: string, size: number, seen: SeenFile): AsyncGenerator<Buffer> {
    const handle = (await this.request('o', [path, String(seen.dev), String(seen.ino)])).readUInt32LE(0).toString();
    let next: Promise<Buffer> | null = null;
    try {
      let position = 0;
      // Two reads in flight: the next megabyte is on its way while this one is written out.
      next = this.request('r', [handle, String(position), String(Math.min(CHUNK, size))]);
      while (next !== null) {
        const data: Buffer = await next;
        position += data.length;
        next = data.length > 0 && position < size ? this.request('r', [handle, String(position), String(Math.min(CHUNK, size - position))]) : null;
        if (data.length > 0) yield data;
      }
    } finally {
      next?.catch(() => undefined); // a read still in flight when the archive stops early
      await this.request('c', [handle]).catch(() => undefined);
    }
  }

  async mkdir(path: string, mode: number): Promise<void> {
    await this.request('m', [path, String(mode)]);
  }

  async remove(path: string): Promise<void> {
    await this.request('R', [path]);
  }

  async symlink(target: string, path: string): Promise<void> {
    await this.request('y', [target, path]);
  }

  async link(existing: string, path: string): Promise<void> {
    await this.request('h', [existing, path]);
  }

  async lchown(path: string, uid: number, gid: number): Promise<void> {
    await this.request('O', [path, String(uid), String(gid)]);
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.request('M', [path, String(mode)]);
  }

  async lutimes(path: string, mtime: number): Promise<void> {
    await this.request('T', [path, String(Math.floor(mtime)), String(Math.round((mtime % 1) * 1e9))]);
  }

  async mknod(path: string, kind: SpecialFileKind, mode: number, major: number, minor: number): Promise<void> {
    await this.request('n', [path, String(FILE_TYPE_BITS[kind] | (mode & 0o7777)), String(major), String(minor)]);
  }

  async setXattr(path: string, name: string, value: Buffer): Promise<void> {
    await this.request('X', [path, name, value]);
  }

  async writeFile(path: string, data: Buffer | AsyncIterable<Uint8Array>, meta: FileMeta): Promise<void> {
    const tail = [String(meta.mode), meta.owner ? String(meta.owner.uid) : '', meta.owner ? String(meta.owner.gid) : '', String(Math.floor(meta.mtime))];
    if (Buffer.isBuffer(data) && data.length <= CHUNK) {
      await this.request('W', [path, ...tail, data]);
      return;
    }
    const handle = (await this.request('f', [path])).readUInt32LE(0).toString();
    // Batches of up to a megabyte, sent without waiting for each answer (the pipe's backpressure paces them).
    const writes: Promise<Buffer>[] = [];
    const send = async (batch: Buffer): Promise<void> => {
      const written = this.request('w', [handle, batch]);
      written.catch(() => undefined); // awaited below
      writes.push(written);
      await this.writable();
    };
    try {
      let batch: Buffer[] = [];
      let batched = 0;
      const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> = Buffer.isBuffer(data) ? [data] : data;
      for await (const chunk of chunks) {
        let piece = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        while (piece.length > 0) {
          const take = Math.min(piece.length, CHUNK - batched);
          batch.push(piece.subarray(0, take));
          batched += take;
          piece = piece.subarray(take);
          if (batched === CHUNK) {
            await send(Buffer.concat(batch, batched));
            batch = [];
            batched = 0;
          }
        }
      }
      if (batched > 0) await send(Buffer.concat(batch, batched));
      await Promise.all(writes);
    } catch (error) {
      await Promise.allSettled(writes);
      await this.request('F', [handle, ...tail]).catch(() => undefined); // closes it
      throw error;
    }
    await this.request('F', [handle, ...tail]);
  }

  /** Resolves once the server's stdin takes more (at once when its buffer is not full). */
  private writable(): Promise<void> {
    const stdin = this.child.stdin;
    if (!stdin.writableNeedDrain || this.failure !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stdin.off('drain', done);
        this.child.off('close', done);
        resolve();
      };
      stdin.on('drain', done);
      this.child.on('close', done);
    });
  }

  private request(op: string, fields: readonly (string | Buffer)[]): Promise<Buffer> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(Buffer.concat([Buffer.from(op), ...fields.flatMap(field)]));
    });
  }

  private answer(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < 8) return;
    let head = this.chunks[0]!;
    if (head.length < 8) head = Buffer.concat(this.chunks, this.buffered);
    if (this.buffered < 8 + head.readUInt32LE(4)) return; // a big answer arrives in many chunks: joined once, whole
    let pending = this.chunks.length === 1 ? head : Buffer.concat(this.chunks, this.buffered);
    while (pending.length >= 8 && pending.length >= 8 + pending.readUInt32LE(4)) {
      const length = pending.readUInt32LE(4);
      const errno = pending.readUInt32LE(0);
      const payload = pending.subarray(8, 8 + length);
      pending = pending.subarray(8 + length);
      const waiter = this.waiting.shift();
      if (errno === 0) waiter?.resolve(payload);
      else waiter?.reject(errnoError(errno, payload.toString()));
    }
    this.chunks = pending.length > 0 ? [pending] : [];
    this.buffered = pending.length;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
