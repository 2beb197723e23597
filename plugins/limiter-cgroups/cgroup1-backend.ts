/**
 * cgroup v1: one folder per hierarchy (/sys/fs/cgroup/<controller>/<daemon's cgroup>/mini-docker-<id>),
 * the layout of hybrid hosts such as the development machines.
 */
import { basename, dirname, join } from 'node:path';
import type { DeviceAccess, Limits } from '../../core/plugin-api.js';
import type { Logger, ResourceStats } from '../../core/plugin-api.js';
import { DEFAULT_CPU_PERIOD, formatBytes } from '../../core/plugin-api.js';
import {
  type BackendOptions, type CgroupBackend, type CgroupDirs, type HostFacts, SETTLE_TIMEOUT_MS, checkHostLimits, isPermissionError,
  allOrFirstError, deviceRuleLine, makeFolders, pidsUnder, probeName, readNowOptional, readOptional, removeIfEmpty, removeQuietly, removeTree, sumV1IoBytes,
} from './cgroup-backend.js';
import { errorCode, parseKeyValues, waitUntil } from './cgroup-files.js';
import { blockDeviceNumbers, isUnlimitedV1, nanoCpusToQuota } from './convert.js';
import { parseProcCgroup } from './host.js';

/** The v1 controllers a container joins. Named hierarchies (name=systemd) are left alone. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio', 'freezer', 'devices'] as const;
type V1Controller = (typeof V1_CONTROLLERS)[number];

interface Hierarchy {
  readonly controllers: readonly V1Controller[];
  /** Where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory. */
  readonly mount: string;
  /** The daemon's own cgroup in this hierarchy, e.g. /sys/fs/cgroup/memory/process_api/c8a2…. */
  readonly base: string;
  /** Interface files a fresh child cgroup has here (learnt from a probe cgroup in init). */
  readonly childFiles: ReadonlySet<string>;
}

const isV1Controller = (c: string): c is V1Controller => (V1_CONTROLLERS as readonly string[]).includes(c);

export class Cgroup1Backend implements CgroupBackend {
  readonly layout = 'v1';
  private hierarchies: Hierarchy[] = [];
  private facts: HostFacts = { onlineCpus: 1, cpus: '', mems: '' };

  constructor(private readonly options: BackendOptions) {}

  private get files() {
    return this.options.files;
  }

  async init(logger: Logger): Promise<string | null> {
    const { root, files } = this.options;
    const self = parseProcCgroup(this.options.readSelfCgroup());
    const found: { controllers: V1Controller[]; mount: string; base: string }[] = [];
    for (const h of self.v1) {
      const controllers = h.controllers.filter(isV1Controller);
      if (controllers.length === 0) continue;
      // "cpu,cpuacct" is usually mounted as one folder with a symlink per controller.
      const candidates = [h.controllers.join(','), ...controllers].map((name) => join(root, name));
      let mount: string | null = null;
      for (const c of candidates) {
        if (await files.exists(join(c, 'cgroup.procs'))) {
          mount = c;
          break;
        }
      }
      if (mount === null) continue;
      const base = join(mount, h.path);
      if (!(await files.exists(join(base, 'cgroup.procs')))) {
        return `this process's ${controllers.join(',')} cgroup ${h.path} is not visible at ${base}`;
      }
      found.push({ controllers, mount, base });
    }
    if (found.length === 0) return `no cgroup v1 controllers of this process are mounted under ${root}`;

    const probe = probeName();
    const hierarchies: Hierarchy[] = [];
    for (const h of found) {
      const dir = join(h.base, probe);
      try {
        await files.mkdir(dir);
      } catch (e) {
        if (isPermissionError(e)) return `cannot create cgroups under ${h.base}: ${e instanceof Error ? e.message : String(e)}`;
        throw e;
      }
      try {
        const names = (await files.list(dir)).filter((e) => !e.dir).map((e) => e.name);
        hierarchies.push({ ...h, childFiles: new Set(names) });
      } finally {
        await files.rmdir(dir);
      }
    }
    this.hierarchies = hierarchies;

    const cpuset = this.dirOf('cpuset');
    this.facts = {
      onlineCpus: this.options.host.onlineCpus(),
      cpus: cpuset ? ((await readOptional(files, join(cpuset, 'cpuset.effective_cpus'))) ?? '').trim() : '',
      mems: cpuset ? ((await readOptional(files, join(cpuset, 'cpuset.effective_mems'))) ?? '').trim() : '',
    };
    if (!this.has('memory', 'memory.memsw.limit_in_bytes')) {
      logger.warn('cgroup v1: no memory.memsw.limit_in_bytes (swap accounting is off): --memory-swap cannot be set, memory is limited without swap');
    }
    return null;
  }

  private hierarchy(controller: V1Controller): Hierarchy | undefined {
    return this.hierarchies.find((h) => h.controllers.includes(controller));
  }

  /** The daemon's cgroup folder in the hierarchy of `controller`. */
  private dirOf(controller: V1Controller): string | undefined {
    return this.hierarchy(controller)?.base;
  }

  private has(controller: V1Controller, file?: string): boolean {
    const h = this.hierarchy(controller);
    return h !== undefined && (file === undefined || h.childFiles.has(file));
  }

  private need(controller: V1Controller, file: string, what: string): void {
    if (!this.has(controller)) throw new Error(`${what} needs the cgroup v1 ${controller} controller, which is not mounted on this host`);
    if (!this.has(controller, file)) throw new Error(`${what} is not supported by this host's kernel (no ${file} in the ${controller} cgroup)`);
  }

  check(limits: Limits): void {
    const l = limits;
    if (l.Memory) this.need('memory', 'memory.limit_in_bytes', 'Memory (--memory)');
    if (l.MemoryReservation) this.need('memory', 'memory.soft_limit_in_bytes', 'MemoryReservation (--memory-reservation)');
    if (l.MemorySwap && l.MemorySwap > 0 && !this.has('memory', 'memory.memsw.limit_in_bytes')) {
      throw new Error('Your kernel does not support swap limit capabilities or the cgroup is not mounted: --memory-swap cannot be set on this host (no memory.memsw.limit_in_bytes; boot with swapaccount=1)');
    }
    if (l.NanoCpus) this.need('cpu', 'cpu.cfs_quota_us', 'NanoCpus (--cpus)');
    if (l.CpuQuota || l.CpuPeriod) this.need('cpu', 'cpu.cfs_quota_us', 'CpuQuota/CpuPeriod (-c, --cpu-quota, --cpu-period)');
    if (l.CpuShares) this.need('cpu', 'cpu.shares', 'CpuShares (--cpu-shares)');
    if (l.CpusetCpus) this.need('cpuset', 'cpuset.cpus', 'CpusetCpus (--cpuset-cpus)');
    if (l.CpusetMems) this.need('cpuset', 'cpuset.mems', 'CpusetMems (--cpuset-mems)');
    if (l.PidsLimit && l.PidsLimit > 0) this.need('pids', 'pids.max', 'PidsLimit (--pids-limit)');
    if (l.BlkioWeight && this.weightFile() === null) {
      throw new Error('Your kernel does not support Block I/O weight or the cgroup is not mounted: --blkio-weight cannot be set on this host (no blkio.weight or blkio.bfq.weight: the I/O scheduler has no weights)');
    }
    if (l.BlkioDeviceReadBps?.length) this.need('blkio', 'blkio.throttle.read_bps_device', 'BlkioDeviceReadBps (--device-read-bps)');
    if (l.BlkioDeviceWriteBps?.length) this.need('blkio', 'blkio.throttle.write_bps_device', 'BlkioDeviceWriteBps (--device-write-bps)');
    checkHostLimits(l, this.facts);
  }

  private weightFile(): string | null {
    if (this.has('blkio', 'blkio.weight')) return 'blkio.weight';
    if (this.has('blkio', 'blkio.bfq.weight')) return 'blkio.bfq.weight';
    return null;
  }

  paths(name: string): readonly string[] {
    return this.hierarchies.map((h) => join(h.base, name));
  }

  /** The container's folder in the hierarchy of `controller`, if it has one. */
  private dirFor(controller: V1Controller, dirs: CgroupDirs): string | undefined {
    const h = this.hierarchy(controller);
    return h && dirs.find((d) => d.startsWith(`${h.mount}/`));
  }

  private path(controller: V1Controller, dirs: CgroupDirs, file: string): string {
    const dir = this.dirFor(controller, dirs);
    if (dir === undefined) throw new Error(`${basename(dirs[0] ?? '')} has no cgroup in a v1 ${controller} hierarchy on this host`);
    return join(dir, file);
  }

  private write(controller: V1Controller, dirs: CgroupDirs, file: string, value: string | number): Promise<void> {
    return this.files.write(this.path(controller, dirs, file), String(value));
  }

  private async readNumber(controller: V1Controller, dirs: CgroupDirs, file: string): Promise<number | null> {
    const dir = this.dirFor(controller, dirs);
    if (dir === undefined) return null;
    const text = await readOptional(this.files, join(dir, file));
    if (text === null) return null;
    const value = text.trim();
    return value === 'max' ? -1 : /^-?\d+$/.test(value) ? Number(value) : null;
  }

  async create(dirs: CgroupDirs, limits: Limits, devices?: DeviceAccess): Promise<void> {
    const made = await makeFolders(this.files, dirs);
    try {
      // The device rules (the devices hierarchy) and the rest (cpuset, then the limits, elsewhere) at the same time.
      await allOrFirstError([
        (async () => {
          await this.fillCpuset(dirs);
          await this.apply(dirs, limits, 'create');
        })(),
        devices ? this.writeDevices(dirs, devices) : Promise.resolve(),
      ]);
    } catch (e) {
      await removeQuietly(this.files, made);
      throw e;
    }
  }

  /** Every device, or none (deny "a") and then each rule allowed, as runc writes them. */
  /** A v1 cpuset child starts empty and cannot take tasks until it has CPUs and nodes: its parent's (both files at once). */
  private async fillCpuset(dirs: CgroupDirs): Promise<void> {
    const cpuset = this.dirFor('cpuset', dirs);
    if (!cpuset) return;
    await allOrFirstError(['cpuset.cpus', 'cpuset.mems'].map(async (file) => {
      const mine = (await this.files.read(join(cpuset, file))).trim();
      if (mine === '') await this.files.write(join(cpuset, file), (await this.files.read(join(dirname(cpuset), file))).trim());
    }));
  }

  private async writeDevices(dirs: CgroupDirs, devices: DeviceAccess): Promise<void> {
    if (!this.dirFor('devices', dirs)) return;
    if (devices === 'all') {
      await this.write('devices', dirs, 'devices.allow', 'a');
      return;
    }
    await this.write('devices', dirs, 'devices.deny', 'a');
    // One rule per write (the kernel parses one), on one open of the file.
    if (devices.allow.length > 0) await this.files.writeEach(this.path('devices', dirs, 'devices.allow'), devices.allow.map(deviceRuleLine));
  }

  update(dirs: CgroupDirs, limits: Limits): Promise<void> {
    return this.apply(dirs, limits, 'update');
  }

  /**
   * Writes the limits that are set. On create, 0/undefined fields keep the kernel's defaults; on
   * update they keep the current value, and -1 (Memory, MemorySwap, CpuQuota) or 0/-1 (PidsLimit) lift a limit.
   */
  private async apply(dirs: CgroupDirs, l: Limits, mode: 'create' | 'update'): Promise<void> {
    const memory = l.Memory && l.Memory > 0 ? l.Memory : l.Memory === -1 && mode === 'update' ? -1 : undefined;
    let swap = l.MemorySwap && l.MemorySwap > 0 ? l.MemorySwap : l.MemorySwap === -1 ? -1 : undefined;
    if (swap === undefined && mode === 'create' && memory !== undefined && memory > 0) swap = memory * 2; // Docker's default: as much swap as memory
    if (!this.has('memory', 'memory.memsw.limit_in_bytes') || (swap === -1 && mode === 'create')) swap = undefined;
    if (memory !== undefined || swap !== undefined) await this.writeMemory(dirs, memory, swap);
    if (l.MemoryReservation && l.MemoryReservation > 0) await this.write('memory', dirs, 'memory.soft_limit_in_bytes', l.MemoryReservation);

    let period: number | undefined;
    let quota: number | undefined;
    if (l.NanoCpus && l.NanoCpus > 0) {
      period = DEFAULT_CPU_PERIOD;
      quota = nanoCpusToQuota(l.NanoCpus);
    } else {
      if (l.CpuPeriod && l.CpuPeriod > 0) period = l.CpuPeriod;
      if (l.CpuQuota && l.CpuQuota > 0) quota = l.CpuQuota;
      else if (l.CpuQuota === -1 && mode === 'update') quota = -1;
    }
    if (period !== undefined) await this.write('cpu', dirs, 'cpu.cfs_period_us', period);
    if (quota !== undefined) await this.write('cpu', dirs, 'cpu.cfs_quota_us', quota);
    if (l.CpuShares && l.CpuShares > 0) await this.write('cpu', dirs, 'cpu.shares', l.CpuShares);

    if (l.CpusetCpus) await this.write('cpuset', dirs, 'cpuset.cpus', l.CpusetCpus);
    if (l.CpusetMems) await this.write('cpuset', dirs, 'cpuset.mems', l.CpusetMems);

    if (l.PidsLimit !== undefined) {
      if (l.PidsLimit > 0) await this.write('pids', dirs, 'pids.max', l.PidsLimit);
      else if (mode === 'update' && this.dirFor('pids', dirs)) await this.write('pids', dirs, 'pids.max', 'max');
    }

    const weightFile = this.weightFile();
    if (l.BlkioWeight && l.BlkioWeight > 0 && weightFile) await this.write('blkio', dirs, weightFile, l.BlkioWeight);
    for (const [file, devices] of [['blkio.throttle.read_bps_device', l.BlkioDeviceReadBps], ['blkio.throttle.write_bps_device', l.BlkioDeviceWriteBps]] as const) {
      for (const d of devices ?? []) {
        const { major, minor } = blockDeviceNumbers(d.Path);
        await this.write('blkio', dirs, file, `${major}:${minor} ${d.Rate}`);
      }
    }
  }

  /**
   * memory.limit_in_bytes must never exceed memory.memsw.limit_in_bytes, so the order of the two
   * writes depends on the current swap limit. -1 is unlimited.
   */
  private async writeMemory(dirs: CgroupDirs, memory: number | undefined, swap: number | undefined): Promise<void> {
    const size = (n: number) => (n === -1 ? Infinity : n);
    const currentSwap = (await this.readNumber('memory', dirs, 'memory.memsw.limit_in_bytes')) ?? -1;
    const writeLimit = async (bytes: number) => {
      try {
        await this.write('memory', dirs, 'memory.limit_in_bytes', bytes);
      } catch (e) {
        if (errorCode(e) === 'EBUSY') {
          const usage = (await this.readNumber('memory', dirs, 'memory.usage_in_bytes')) ?? 0;
          throw new Error(`cannot set the memory limit to ${formatBytes(bytes)}: the container uses ${formatBytes(usage)} and the kernel could not reclaim enough`);
        }
        if (errorCode(e) === 'EINVAL' && swap === undefined) {
          throw new Error('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
        }
        throw e;
      }
    };
    const writeSwap = async (bytes: number) => {
      try {
        await this.write('memory', dirs, 'memory.memsw.limit_in_bytes', bytes);
      } catch (e) {
        if (errorCode(e) === 'EINVAL') throw new Error(`cannot set memory+swap to ${formatBytes(bytes)}: it must be at least the memory limit`);
        throw e;
      }
    };
    if (memory !== undefined && swap !== undefined && size(memory) > size(currentSwap)) {
      await writeSwap(swap);
      await writeLimit(memory);
      return;
    }
    if (memory !== undefined) await writeLimit(memory);
    if (swap !== undefined) await writeSwap(swap);
  }

  async stats(dirs: CgroupDirs): Promise<ResourceStats> {
    const { files, host } = this.options;
    const stat = this.dirFor('memory', dirs) ? parseKeyValues((await readOptional(files, this.path('memory', dirs, 'memory.stat'))) ?? '') : new Map<string, number>();
    const usage = (await this.readNumber('memory', dirs, 'memory.usage_in_bytes')) ?? 0;
    const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
    const limit = await this.readNumber('memory', dirs, 'memory.limit_in_bytes');
    const pidsMax = await this.readNumber('pids', dirs, 'pids.max');
    let io = { read: 0, write: 0 };
    if (this.dirFor('blkio', dirs)) {
      for (const file of ['blkio.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive']) {
        const text = await readOptional(files, this.path('blkio', dirs, file));
        if (text !== null) {
          io = sumV1IoBytes(text);
          break;
        }
      }
    }
    return {
      read: new Date().toISOString(),
      cpuUsageNanos: (await this.readNumber('cpuacct', dirs, 'cpuacct.usage')) ?? 0,
      systemCpuNanos: await host.systemCpuNanos(),
      onlineCpus: host.onlineCpus(),
      memoryUsage: usage > inactiveFile ? usage - inactiveFile : usage,
      memoryLimit: limit === null || isUnlimitedV1(limit) ? await host.memTotal() : limit,
      memoryCache: stat.get('total_cache') ?? stat.get('cache') ?? 0,
      pids: (await this.readNumber('pids', dirs, 'pids.current')) ?? (await this.pids(dirs)).length,
      pidsLimit: pidsMax === null || pidsMax < 0 ? 0 : pidsMax,
      blkioReadBytes: io.read,
      blkioWriteBytes: io.write,
    };
  }

  async oomKilled(dirs: CgroupDirs): Promise<boolean> {
    if (!this.dirFor('memory', dirs)) return false;
    const text = readNowOptional(this.files, this.path('memory', dirs, 'memory.oom_control'));
    return (parseKeyValues(text ?? '').get('oom_kill') ?? 0) > 0;
  }

  async freeze(dirs: CgroupDirs): Promise<void> {
    await this.setFreezer(dirs, 'FROZEN');
  }

  async thaw(dirs: CgroupDirs): Promise<void> {
    await this.setFreezer(dirs, 'THAWED');
  }

  private async setFreezer(dirs: CgroupDirs, state: 'FROZEN' | 'THAWED'): Promise<void> {
    if (!this.has('freezer')) throw new Error('pause needs the cgroup v1 freezer controller, which is not mounted on this host');
    const file = this.path('freezer', dirs, 'freezer.state');
    await this.files.write(file, state);
    // FREEZING until every task is stopped; writing again nudges tasks that were forking.
    const settled = await waitUntil(async () => {
      if ((await this.files.read(file)).trim() === state) return true;
      await this.files.write(file, state);
      return false;
    }, SETTLE_TIMEOUT_MS);
    if (!settled) {
      if (state === 'FROZEN') await this.files.write(file, 'THAWED');
      throw new Error(`cgroup ${basename(dirs[0] ?? '')} did not become ${state} within ${SETTLE_TIMEOUT_MS / 1000}s`);
    }
  }

  async pids(dirs: CgroupDirs): Promise<readonly number[]> {
    const all = new Set<number>();
    for (const dir of dirs) for (const pid of await pidsUnder(this.files, dir)) all.add(pid);
    return [...all].sort((a, b) => a - b);
  }

  async remove(dirs: CgroupDirs): Promise<void> {
    // Empty folders (the container's processes are gone, as after its exit) go at once; the rest
    // (a process left, a child cgroup, an exiting task) the careful way: frozen, killed, then removed.
    const busy = await removeIfEmpty(this.files, dirs);
    if (busy.length === 0) return;
    const existing: string[] = [];
    for (const dir of busy) if (await this.files.exists(dir)) existing.push(dir);
    if (existing.length === 0) return;
    const freezerDir = this.dirFor('freezer', existing);
    const freezer = freezerDir ? join(freezerDir, 'freezer.state') : null;
    const emptied = await waitUntil(async () => {
      if ((await this.pids(dirs)).length === 0) return true;
      // Frozen, nothing forks between reading the list and the kills; the kills land on thaw.
      if (freezer) await this.files.write(freezer, 'FROZEN').catch(() => undefined);
      for (const pid of await this.pids(dirs)) this.options.kill(pid, 'SIGKILL');
      if (freezer) await this.files.write(freezer, 'THAWED').catch(() => undefined);
      return false;
    }, SETTLE_TIMEOUT_MS);
    if (!emptied) throw new Error(`cannot remove cgroup ${basename(dirs[0] ?? '')}: processes ${(await this.pids(dirs)).join(', ')} survived SIGKILL`);
    for (const dir of existing) await removeTree(this.files, dir);
  }

  async close(): Promise<void> {
    // Nothing to undo: v1 needs no change to the daemon's own cgroups.
  }
}
