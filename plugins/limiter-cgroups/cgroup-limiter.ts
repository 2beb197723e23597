/**
 * limiter.v1.cgroups: puts each container in cgroups named `mini-docker-<container id>` under the
 * daemon's own cgroup, on cgroup v2 (pure unified hosts) or v1 (hybrid hosts), detected in init.
 *
 * Example on this project's hybrid development hosts: `create("3f2a…", {Memory: 33554432})` makes
 * /sys/fs/cgroup/memory/process_api/c8a2…/mini-docker-3f2a…/ (memory.limit_in_bytes = 33554432),
 * /sys/fs/cgroup/cpu/mini-docker-3f2a…/, ... and returns those folders; the shim writes the
 * container's pid into each folder's cgroup.procs before the user's command runs.
 */
import { inject, injectable, optional } from '../../core/plugin-api.js';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Limits } from '../../core/plugin-api.js';
import type { DeviceAccess, DriverContext, DriverStatus, LimiterDriver, ResourceStats } from '../../core/plugin-api.js';
import { checkLimits } from '../../core/plugin-api.js';
import { type CgroupBackend, CGROUP_PREFIX, defaultKill } from './cgroup-backend.js';
import { type CgroupFiles, NodeCgroupFiles, errorCode } from './cgroup-files.js';
import { Cgroup1Backend, V1_CONTROLLERS } from './cgroup1-backend.js';
import { Cgroup2Backend } from './cgroup2-backend.js';
import { type HostInfo, ProcHostInfo, type SelfCgroupReader, readSelfCgroup } from './host.js';

/** Optional settings, bound by whoever wants other than the defaults (tests, a daemon config). */
export const CgroupLimiterOptions = Symbol.for('tiny-docker.limiter-cgroups.Options');
export interface CgroupLimiterOptions {
  /** Where cgroup file systems are mounted; default /sys/fs/cgroup. */
  readonly root?: string;
  /** Returns the text of /proc/self/cgroup. */
  readonly readSelfCgroup?: SelfCgroupReader;
  readonly files?: CgroupFiles;
  readonly host?: HostInfo;
  /** Whether this process may create cgroups; default: running as root. */
  readonly isRoot?: () => boolean;
  /** How processes left in a cgroup are killed on remove (v1, and v2 kernels without cgroup.kill). */
  readonly kill?: (pid: number, signal: NodeJS.Signals) => void;
}

export type CgroupLayout =
  | { readonly layout: 'v2'; readonly description: string }
  | { readonly layout: 'v1'; readonly description: string }
  | { readonly layout: null; readonly reason: string };

/**
 * Pure v2: <root>/cgroup.controllers exists (root is a cgroup2 mount). v1 or hybrid: v1 controllers
 * are mounted in <root>/<controller>; a cgroup2 at <root>/unified is then ignored (on hybrid hosts
 * every controller is bound to v1, so it has none to offer).
 */
export async function detectLayout(root: string, files: CgroupFiles): Promise<CgroupLayout> {
  const controllers = await files.read(join(root, 'cgroup.controllers')).catch(() => null);
  if (controllers !== null) {
    if (controllers.trim() === '') return { layout: null, reason: `the cgroup v2 mount at ${root} offers no controllers` };
    return { layout: 'v2', description: `cgroup v2 (unified) at ${root}` };
  }
  const mounted: string[] = [];
  for (const c of V1_CONTROLLERS) if (await files.exists(join(root, c, 'cgroup.procs'))) mounted.push(c);
  if (mounted.length > 0) {
    const hybrid = await files.exists(join(root, 'unified', 'cgroup.procs'));
    return { layout: 'v1', description: `cgroup v1${hybrid ? ' (hybrid layout)' : ''} at ${root}: ${mounted.join(', ')}` };
  }
  return { layout: null, reason: `no cgroup file system is mounted at ${root}` };
}

/** The folder name of a container's cgroup in every hierarchy. */
export function cgroupName(containerId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(containerId)) throw new Error(`invalid container id "${containerId}" for a cgroup name`);
  return `${CGROUP_PREFIX}${containerId}`;
}

@injectable()
export class CgroupLimiter implements LimiterDriver {
  readonly id = 'limiter.v1.cgroups';
  private backend: CgroupBackend | null = null;
  /** Where each container's cgroup folders are recorded: `<stateDir>/<container id>.cgroups`. */
  private stateDir: string | null = null;
  private files: CgroupFiles = new NodeCgroupFiles();
  private notReady = 'limiter.v1.cgroups is not initialised';

  constructor(@inject(CgroupLimiterOptions) @optional() private readonly options: CgroupLimiterOptions = {}) {}

  /** 'v1' or 'v2' once initialised, else null. */
  get layout(): 'v1' | 'v2' | null {
    return this.backend?.layout ?? null;
  }

  /** Docker's `info` CgroupVersion: "1" or "2" (undefined until initialised). */
  get cgroupVersion(): '1' | '2' | undefined {
    return this.backend ? (this.backend.layout === 'v2' ? '2' : '1') : undefined;
  }

  async init(context: DriverContext): Promise<DriverStatus> {
    const o = this.options;
    const isRoot = o.isRoot ?? (() => process.getuid?.() === 0);
    if (!isRoot()) return this.skip('not running as root: creating cgroups needs root');
    const root = o.root ?? '/sys/fs/cgroup';
    const files = o.files ?? this.files;
    this.files = files;
    const detected = await detectLayout(root, files);
    if (detected.layout === null) return this.skip(detected.reason);
    const options = {
      root,
      files,
      readSelfCgroup: o.readSelfCgroup ?? readSelfCgroup,
      host: o.host ?? new ProcHostInfo(),
      kill: o.kill ?? defaultKill,
    };
    const backend = detected.layout === 'v2' ? new Cgroup2Backend(options) : new Cgroup1Backend(options);
    const reason = await backend.init(context.logger);
    if (reason !== null) return this.skip(reason);
    await mkdir(context.stateDir, { recursive: true });
    this.stateDir = context.stateDir;
    this.backend = backend;
    context.logger.info(`${this.id}: ${detected.description}; container cgroups: ${backend.paths(`${CGROUP_PREFIX}<id>`).join(', ')}`);
    return { status: 'ok' };
  }

  private skip(reason: string): DriverStatus {
    this.backend = null;
    this.notReady = `limiter.v1.cgroups is not available on this host: ${reason}`;
    return { status: 'skipped', reason };
  }

  private ready(): CgroupBackend {
    if (this.backend === null) throw new Error(this.notReady);
    return this.backend;
  }

  validate(limits: Limits): void {
    const backend = this.ready();
    checkLimits(limits);
    backend.check(limits);
  }

  async create(containerId: string, limits: Limits, devices?: DeviceAccess): Promise<readonly string[]> {
    const name = cgroupName(containerId);
    this.validate(limits);
    const backend = this.ready();
    // A second create (restart) reuses the folders it recorded while they exist, wherever the daemon is now.
    const recorded = this.recorded(containerId);
    const dirs = recorded && (await this.anyExists(recorded)) ? recorded : backend.paths(name);
    // Recorded first: a daemon killed between the two still finds (held) and removes the folders.
    await this.record(containerId, dirs);
    try {
      await backend.create(dirs, limits, devices);
    } catch (e) {
      await backend.remove(dirs).catch(() => undefined);
      await this.forget(containerId);
      throw e;
    }
    return dirs;
  }

  /**
   * The container's folders: those `create` recorded in the state folder (so a daemon restarted
   * in another cgroup still finds them), else where this daemon would make them.
   */
  paths(containerId: string): readonly string[] {
    const name = cgroupName(containerId);
    return this.recorded(containerId) ?? this.ready().paths(name);
  }

  async update(containerId: string, limits: Limits): Promise<void> {
    this.validate(limits);
    await this.ready().update(this.paths(containerId), limits);
  }

  stats(containerId: string): Promise<ResourceStats> {
    return this.ready().stats(this.paths(containerId));
  }

  oomKilled(containerId: string): Promise<boolean> {
    return this.ready().oomKilled(this.paths(containerId));
  }

  freeze(containerId: string): Promise<void> {
    return this.ready().freeze(this.paths(containerId));
  }

  thaw(containerId: string): Promise<void> {
    return this.ready().thaw(this.paths(containerId));
  }

  pids(containerId: string): Promise<readonly number[]> {
    return this.ready().pids(this.paths(containerId));
  }

  async remove(containerId: string): Promise<void> {
    cgroupName(containerId);
    if (this.backend === null) return;
    await this.backend.remove(this.paths(containerId));
    await this.forget(containerId);
  }

  /** The record deleted (one unlink: `rm` would lstat first); one that is not there is no error. */
  private async forget(containerId: string): Promise<void> {
    await unlink(this.recordFile(containerId)).catch((e: unknown) => {
      if (errorCode(e) !== 'ENOENT') throw e;
    });
  }

  /** The containers whose cgroups it recorded (in its state folder, so only this daemon's). */
  async held(): Promise<readonly string[]> {
    if (this.stateDir === null) return [];
    return (await readdir(this.stateDir)).filter((n) => n.endsWith('.cgroups')).map((n) => n.slice(0, -'.cgroups'.length));
  }

  private recordFile(containerId: string): string {
    if (this.stateDir === null) throw new Error(this.notReady);
    return join(this.stateDir, `${containerId}.cgroups`);
  }

  private recorded(containerId: string): readonly string[] | null {
    try {
      const dirs = readFileSync(this.recordFile(containerId), 'utf8').split('\n').filter((l) => l.startsWith('/'));
      return dirs.length > 0 ? dirs : null;
    } catch (e) {
      if (errorCode(e) === 'ENOENT') return null;
      throw e;
    }
  }

  private async record(containerId: string, dirs: readonly string[]): Promise<void> {
    const file = this.recordFile(containerId);
    await writeFile(`${file}.tmp`, dirs.map((d) => `${d}\n`).join(''));
    await rename(`${file}.tmp`, file);
  }

  private async anyExists(dirs: readonly string[]): Promise<boolean> {
    for (const d of dirs) if (await this.files.exists(d)) return true;
    return false;
  }

  async close(): Promise<void> {
    await this.backend?.close();
  }
}
