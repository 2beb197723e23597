import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** Built by `npm run build` (scripts/build.mjs) from core/archive/native/fsops.c. */
export const FS_HELPER_BINARY = join(dirname(fileURLToPath(import.meta.url)), 'bin', 'mini-docker-fsops');

export type SpecialFileKind = 'char-device' | 'block-device' | 'fifo';

const FILE_TYPE_BITS: Readonly<Record<SpecialFileKind, number>> = { 'char-device': 0o020000, 'block-device': 0o060000, fifo: 0o010000 };

/** An operation the helper refused, with the errno name as `code` (e.g. EPERM, ENOTSUP). */
export class FsHelperError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'FsHelperError';
  }
}

const ERRNO_NAMES: Readonly<Record<number, string>> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 17: 'EEXIST', 22: 'EINVAL', 95: 'ENOTSUP', 61: 'ENODATA' };

function field(value: string | Buffer): Buffer[] {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bytes.length);
  return [length, bytes];
}

/**
 * The file-system calls Node lacks (mknod, lsetxattr), made by one `mini-docker-fsops` process per
 * extraction through a pipe: never one process per file. The process starts on first use; `close()`
 * ends it. Answers come back in request order, so requests may be pipelined.
 */
export class FsHelper {
  private child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
  private readonly waiting: { resolve(): void; reject(error: Error): void }[] = [];
  private pending = '';
  private failure: Error | null = null;
  private stderr = '';

  /** The helper's process id while it runs (it starts on the first request). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  mknod(path: string, kind: SpecialFileKind, mode: number, major = 0, minor = 0): Promise<void> {
    const fullMode = FILE_TYPE_BITS[kind] | (mode & 0o7777);
    return this.request('m', [path, String(fullMode), String(major), String(minor)]);
  }

  /** Sets an extended attribute on `path` itself, never through a symlink there. */
  setXattr(path: string, name: string, value: Buffer): Promise<void> {
    return this.request('x', [path, name, value]);
  }

  /** Ends the helper and waits for it to exit; a no-op when it never started. */
  async close(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.stdin.end();
    });
  }

  private request(op: string, fields: readonly (string | Buffer)[]): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const child = this.start();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      child.stdin.write(Buffer.concat([Buffer.from(op), ...fields.flatMap(field)]));
    });
  }

  private start(): ChildProcessByStdio<Writable, Readable, Readable> {
    if (this.child !== null) return this.child;
    if (!existsSync(FS_HELPER_BINARY)) {
      throw new Error(`${FS_HELPER_BINARY} is missing: build it with "npm run build" (it needs gcc and make)`);
    }
    const child = spawn(FS_HELPER_BINARY, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => this.answer(text));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (this.stderr += text));
    child.stdin.on('error', () => undefined); // reported by 'close' below
    child.on('error', (error) => this.fail(new Error(`${FS_HELPER_BINARY}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (this.waiting.length > 0) this.fail(new Error(`${FS_HELPER_BINARY} ended (${signal ?? `exit code ${code}`}) with requests unanswered${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    });
    this.child = child;
    return child;
  }

  private answer(text: string): void {
    this.pending += text;
    let newline = this.pending.indexOf('\n');
    while (newline !== -1) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      const waiter = this.waiting.shift();
      if (line === '0') waiter?.resolve();
      else {
        const tab = line.indexOf('\t');
        const errno = Number(line.slice(0, tab));
        waiter?.reject(new FsHelperError(line.slice(tab + 1), ERRNO_NAMES[errno] ?? `errno ${errno}`));
      }
      newline = this.pending.indexOf('\n');
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}
