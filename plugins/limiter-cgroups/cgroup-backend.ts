/**
 * One interface over cgroup v2 and cgroup v1. The driver (cgroup-limiter.ts) picks a backend from
 * the host's layout. A backend places new cgroups (`paths(name)`) under the daemon's own cgroup,
 * which it learns from /proc/self/cgroup in `init`, and works on a container's folders as created
 * (the driver records them, so a daemon restarted in another cgroup still finds them).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DeviceAccess, DeviceRule, Limits } from '../../core/plugin-api.js';
import type { Logger, ResourceStats } from '../../core/plugin-api.js';
import { missingMembers } from '../../core/plugin-api.js';
import { type CgroupFiles, errorCode, parsePids, waitUntil } from './cgroup-files.js';
import { blockDeviceNumbers } from './convert.js';
import type { HostInfo, SelfCgroupReader } from './host.js';

/** A container's cgroup folders, one per hierarchy (what `create` made). */
export type CgroupDirs = readonly string[];

export interface CgroupBackend {
  readonly layout: 'v1' | 'v2';
  /**
   * Finds the daemon's own cgroup(s), prepares them (v2: moves the daemon into a leaf and enables
   * controllers for its children) and learns what the host can do. Returns why this host cannot
   * be used (read-only cgroupfs, nothing delegated), or null.
   */
  init(logger: Logger): Promise<string | null>;
  /** Host-specific refusals (controller missing, CPUs not present...); Docker's generic rules are checked before. */
  check(limits: Limits): void;
  /** The folders a cgroup named `name` gets under this daemon's own cgroup, one per hierarchy. */
  paths(name: string): CgroupDirs;
  /**
   * Makes the folders (existing ones are kept), writes the limits and the device access (v1: the
   * devices controller; v2 has no interface file for it, see docs/security.md); on failure removes what it made.
   */
  create(dirs: CgroupDirs, limits: Limits, devices?: DeviceAccess): Promise<void>;
  update(dirs: CgroupDirs, limits: Limits): Promise<void>;
  stats(dirs: CgroupDirs): Promise<ResourceStats>;
  oomKilled(dirs: CgroupDirs): Promise<boolean>;
  freeze(dirs: CgroupDirs): Promise<void>;
  thaw(dirs: CgroupDirs): Promise<void>;
  pids(dirs: CgroupDirs): Promise<readonly number[]>;
  /** Kills what is left and removes the folders; a no-op for folders that do not exist. */
  remove(dirs: CgroupDirs): Promise<void>;
  /** Undoes what `init` did to the daemon's own cgroup when no container cgroup is left. */
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Where the cgroup file systems are mounted: /sys/fs/cgroup. */
  readonly root: string;
  readonly readSelfCgroup: SelfCgroupReader;
  readonly files: CgroupFiles;
  readonly host: HostInfo;
  /** Sends a signal to a process; tests of fake cgroupfs must never reach real pids. */
  readonly kill: (pid: number, signal: NodeJS.Signals) => void;
}

/** Prefix of every container cgroup (the test suite's leak check looks for it). */
export const CGROUP_PREFIX = 'mini-docker-';

/** How long freeze, thaw and remove wait for the kernel. */
export const SETTLE_TIMEOUT_MS = 10_000;

export function probeName(): string {
  return `${CGROUP_PREFIX}probe-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Errors that mean "this host's cgroups are not ours to write" (skip, do not fail). */
export function isPermissionError(error: unknown): boolean {
  return ['EACCES', 'EPERM', 'EROFS'].includes(errorCode(error) ?? '');
}

/** Sends SIGKILL and treats an already-gone process as done. */
export function defaultKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if (errorCode(e) !== 'ESRCH') throw e;
  }
}

/** Host checks both layouts share: how many CPUs exist, which CPUs/nodes are usable, devices. */
export interface HostFacts {
  readonly onlineCpus: number;
  /** The parent's usable CPUs and memory nodes, list format ("0-1"); '' when unknown. */
  readonly cpus: string;
  readonly mems: string;
}

export function checkHostLimits(limits: Limits, facts: HostFacts): void {
  const n = facts.onlineCpus;
  if (limits.NanoCpus && limits.NanoCpus > n * 1e9) {
    throw new Error(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  }
  if (limits.CpusetCpus && facts.cpus !== '' && missingMembers(limits.CpusetCpus, facts.cpus).length > 0) {
    throw new Error(`Requested CPUs are not available - requested ${limits.CpusetCpus}, available: ${facts.cpus}`);
  }
  if (limits.CpusetMems && facts.mems !== '' && missingMembers(limits.CpusetMems, facts.mems).length > 0) {
    throw new Error(`Requested memory nodes are not available - requested ${limits.CpusetMems}, available: ${facts.mems}`);
  }
  for (const [flag, devices] of [['--device-read-bps', limits.BlkioDeviceReadBps], ['--device-write-bps', limits.BlkioDeviceWriteBps]] as const) {
    for (const d of devices ?? []) {
      try {
        blockDeviceNumbers(d.Path);
      } catch (e) {
        throw new Error(`invalid value "${d.Path}:${d.Rate}" for ${flag}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

export async function readOptional(files: CgroupFiles, path: string): Promise<string | null> {
  try {
    return await files.read(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return null;
    throw e;
  }
}

/** `readNow` of a counter file, or null when it is not there. */
export function readNowOptional(files: CgroupFiles, path: string): string | null {
  try {
    return files.readNow(path);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return null;
    throw e;
  }
}

/** The pids in `dir` and the cgroups below it. */
export async function pidsUnder(files: CgroupFiles, dir: string): Promise<number[]> {
  const own = await readOptional(files, join(dir, 'cgroup.procs'));
  if (own === null) return [];
  const pids = parsePids(own);
  for (const entry of await files.list(dir)) {
    if (entry.dir) pids.push(...(await pidsUnder(files, join(dir, entry.name))));
  }
  return pids;
}

/**
 * The common case of a removal, after the container's last process has exited: one rmdir per
 * folder, all at the same time (the kernel serialises them on its cgroup mutex; each takes tens of
 * microseconds, where the careful path below reads every cgroup.procs and lists every folder
 * first, ~60 operations one after the other). A folder gone already counts as removed. Returns the
 * folders the kernel refused as busy (processes or cgroups still in them, or exited tasks it has
 * not let go of yet), for the careful path; any other error is thrown.
 */
export async function removeIfEmpty(files: CgroupFiles, dirs: readonly string[]): Promise<string[]> {
  const busy = await Promise.all(dirs.map(async (dir) => {
    try {
      await files.rmdir(dir);
      return null;
    } catch (e) {
      const code = errorCode(e);
      if (code === 'ENOENT') return null;
      if (code === 'EBUSY' || code === 'ENOTEMPTY') return dir;
      throw e;
    }
  }));
  return busy.filter((d): d is string => d !== null);
}

/** rmdir of a cgroup and the cgroups below it, deepest first; EBUSY is retried while the kernel lets go of exited tasks. */
export async function removeTree(files: CgroupFiles, dir: string): Promise<void> {
  for (const entry of await files.list(dir)) {
    if (entry.dir) await removeTree(files, join(dir, entry.name));
  }
  let last: unknown = null;
  const gone = await waitUntil(async () => {
    try {
      await files.rmdir(dir);
      return true;
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return true;
      if (errorCode(e) !== 'EBUSY') throw e;
      last = e;
      return false;
    }
  }, SETTLE_TIMEOUT_MS);
  if (!gone) throw last instanceof Error ? last : new Error(`cannot remove cgroup ${dir}: still busy`);
}

/** Creates each folder (an existing one is kept, so a second create is harmless); returns those it made. */
export async function makeFolders(files: CgroupFiles, dirs: readonly string[]): Promise<string[]> {
  // One folder per hierarchy, none inside another: all at once.
  const made: string[] = [];
  const results = await Promise.allSettled(dirs.map(async (dir) => {
    try {
      await files.mkdir(dir);
      made.push(dir);
    } catch (e) {
      if (errorCode(e) !== 'EEXIST') throw e;
    }
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await removeQuietly(files, dirs.filter((d) => made.includes(d)));
    throw failed.reason;
  }
  return dirs.filter((d) => made.includes(d));
}

/** Runs `work` at once and waits for all of it; the first failure (in `work`'s order) is thrown once every part has ended. */
export async function allOrFirstError(work: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function removeQuietly(files: CgroupFiles, dirs: readonly string[]): Promise<void> {
  for (const dir of [...dirs].reverse()) {
    try {
      await files.rmdir(dir);
    } catch {
      // Best effort: the caller is already reporting the error that matters.
    }
  }
}

/** "254:0 Read 4096" (v1 io_service_bytes) lines → read and written bytes. */
export function sumV1IoBytes(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    if (!device?.includes(':') || value === undefined) continue;
    if (op === 'Read') read += Number(value);
    else if (op === 'Write') write += Number(value);
  }
  return { read, write };
}

/** "254:0 rbytes=4096 wbytes=0 rios=1 ..." (v2 io.stat) lines → read and written bytes. */
export function sumV2IoBytes(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of text.matchAll(/\b([rw])bytes=(\d+)/g)) {
    if (m[1] === 'r') read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}

/** A rule as devices.allow / devices.deny take it: "c 1:3 rwm", "a". */
export function deviceRuleLine(rule: DeviceRule): string {
  return rule.type === 'a' ? 'a' : `${rule.type} ${rule.major}:${rule.minor} ${rule.access}`;
}
