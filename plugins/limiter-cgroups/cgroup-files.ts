/**
 * The file operations the backends do on a cgroup file system. The default works on the real
 * /sys/fs/cgroup; tests pass one that plays the kernel's part over a temporary folder.
 */
import { constants, readFileSync } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import type { Pressure, PressureData } from '../../core/plugin-api.js';

export interface CgroupEntry {
  readonly name: string;
  readonly dir: boolean;
}

export interface CgroupFiles {
  read(path: string): Promise<string>;
  /**
   * Reads a small counter file at once, on the calling thread: one the kernel fills from memory
   * without a cgroup lock (memory.oom_control, memory.events), where `read`'s four thread-pool round
   * trips (open, stat, read, close) would cost an exit's record more than the read itself.
   */
  readNow(path: string): string;
  /** Writes one value the way `echo value > path` does (the file must exist). */
  write(path: string, value: string): Promise<void>;
  /**
   * Writes each value with its own write(), in order, on one open of the file (a v1 device rule
   * file takes one rule per write): `write` for each, with one open and close instead of one each.
   */
  writeEach(path: string, values: readonly string[]): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Creates one cgroup; fails with code EEXIST when it is there. */
  mkdir(path: string): Promise<void>;
  /** Removes one empty cgroup (no processes, no child cgroups). */
  rmdir(path: string): Promise<void>;
  list(path: string): Promise<readonly CgroupEntry[]>;
}

/** A failed file operation, with the errno code kept for the callers that handle EBUSY, EINVAL... */
export class CgroupFileError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'CgroupFileError';
  }
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  // Node's messages repeat the syscall and path; keep just "EBUSY: device or resource busy".
  const m = /^([A-Z]+): ([^,]+)/.exec(message);
  return m ? `${m[1]} (${m[2]})` : code ?? message;
}

function wrap(error: unknown, what: string): CgroupFileError {
  return new CgroupFileError(`${what}: ${describe(error)}`, errorCode(error) ?? 'EIO');
}

/** The real cgroup file system. */
export class NodeCgroupFiles implements CgroupFiles {
  async read(path: string): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw wrap(e, `cannot read ${path}`);
    }
  }

  readNow(path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw wrap(e, `cannot read ${path}`);
    }
  }

  async write(path: string, value: string): Promise<void> {
    try {
      // No O_CREAT: a missing interface file is an error, never a new regular file.
      await writeFile(path, value, { flag: constants.O_WRONLY | constants.O_TRUNC });
    } catch (e) {
      throw wrap(e, `cannot write "${value}" to ${path}`);
    }
  }

  async writeEach(path: string, values: readonly string[]): Promise<void> {
    let handle;
    try {
      handle = await open(path, constants.O_WRONLY | constants.O_TRUNC);
    } catch (e) {
      throw wrap(e, `cannot open ${path} to write`);
    }
    try {
      for (const value of values) {
        try {
          await handle.write(value);
        } catch (e) {
          throw wrap(e, `cannot write "${value}" to ${path}`);
        }
      }
    } finally {
      await handle.close();
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  }

  async mkdir(path: string): Promise<void> {
    try {
      await mkdir(path);
    } catch (e) {
      throw wrap(e, `cannot create cgroup ${path}`);
    }
  }

  async rmdir(path: string): Promise<void> {
    try {
      await rmdir(path);
    } catch (e) {
      throw wrap(e, `cannot remove cgroup ${path}`);
    }
  }

  async list(path: string): Promise<readonly CgroupEntry[]> {
    try {
      const entries = await readdir(path, { withFileTypes: true });
      return entries.map((e) => ({ name: e.name, dir: e.isDirectory() }));
    } catch (e) {
      throw wrap(e, `cannot list ${path}`);
    }
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, ...) → a map of numbers. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** A PSI file (`some avg10=0.12 avg60=0.05 avg300=0.01 total=12345` and a `full` line), or null when it has no `some` line. */
export function parsePressure(text: string): Pressure | null {
  const lines = new Map<string, PressureData>();
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const values = new Map(fields.map((f) => f.split('=') as [string, string]));
    const num = (k: string) => Number(values.get(k) ?? Number.NaN);
    const data = { avg10: num('avg10'), avg60: num('avg60'), avg300: num('avg300'), total: num('total') };
    if (Object.values(data).every((v) => Number.isFinite(v))) lines.set(kind, data);
  }
  const some = lines.get('some');
  if (some === undefined) return null;
  const full = lines.get('full');
  return full === undefined ? { some } : { some, full };
}

/** The pids in a cgroup.procs file. */
export function parsePids(text: string): number[] {
  return text.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every few milliseconds until it is true or `timeoutMs` passes; returns whether it became true. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}
