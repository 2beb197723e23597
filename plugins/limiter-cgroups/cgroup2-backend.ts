/**
 * cgroup v2 (unified): one folder per container, <root><daemon's cgroup>/mini-docker-<id>. The
 * daemon's own cgroup becomes an inner node: the daemon moves into the leaf `mini-docker-daemon`
 * beside the containers so that controllers can be enabled in `cgroup.subtree_control`
 * (a v2 cgroup with processes cannot hand controllers to its children).
 */
import { basename, dirname, join } from 'node:path';
import type { Limits } from '../../core/plugin-api.js';
import type { Logger, Pressure, ResourceStats } from '../../core/plugin-api.js';
import { DEFAULT_CPU_PERIOD, formatBytes } from '../../core/plugin-api.js';
import {
  type BackendOptions, type CgroupBackend, type CgroupDirs, type HostFacts, CGROUP_PREFIX, SETTLE_TIMEOUT_MS, checkHostLimits,
  isPermissionError, makeFolders, pidsUnder, probeName, readNowOptional, readOptional, removeIfEmpty, removeQuietly, removeTree, sumV2IoBytes,
} from './cgroup-backend.js';
import { errorCode, parseKeyValues, parsePids, parsePressure, waitUntil } from './cgroup-files.js';
import { blkioWeightToIoWeight, blockDeviceNumbers, nanoCpusToQuota, sharesToWeight } from './convert.js';
import { parseProcCgroup } from './host.js';

/** The controllers the limiter enables for its children, in the kernel's order. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids'] as const;
type V2Controller = (typeof V2_CONTROLLERS)[number];

/** The leaf the daemon moves into (a sibling of the containers' cgroups). */
export const DAEMON_LEAF = `${CGROUP_PREFIX}daemon`;

const isV2Controller = (c: string): c is V2Controller => (V2_CONTROLLERS as readonly string[]).includes(c);
const words = (text: string | null) => (text ?? '').trim().split(/\s+/).filter(Boolean);

export class Cgroup2Backend implements CgroupBackend {
  readonly layout = 'v2';
  /** The daemon's own cgroup folder: the parent of every container cgroup. */
  private base = '';
  private enabled = new Set<V2Controller>();
  /** Controllers this backend turned on in the base's subtree_control (undone by close). */
  private turnedOn: V2Controller[] = [];
  private movedIntoLeaf = false;
  private childFiles: ReadonlySet<string> = new Set();
  private facts: HostFacts = { onlineCpus: 1, cpus: '', mems: '' };
  private logger: Logger | null = null;

  constructor(private readonly options: BackendOptions) {}

  private get files() {
    return this.options.files;
  }

  /** The parent folder of the containers' cgroups (known after init). */
  get parent(): string {
    return this.base;
  }

  async init(logger: Logger): Promise<string | null> {
    this.logger = logger;
    const { root, files } = this.options;
    const self = parseProcCgroup(this.options.readSelfCgroup()).unified;
    if (self === null) return 'this process has no cgroup v2 entry ("0::") in /proc/self/cgroup';
    // After a restart the daemon already sits in its leaf: the containers' parent is one up.
    const own = basename(self) === DAEMON_LEAF ? dirname(self) : self;
    this.base = join(root, own);
    const available = words(await readOptional(files, join(this.base, 'cgroup.controllers'))).filter(isV2Controller);
    if (available.length === 0) {
      return `no cgroup v2 controllers are available to this process's cgroup ${own} (its cgroup.controllers lists none of ${V2_CONTROLLERS.join(', ')})`;
    }
    try {
      await this.enableControllers(own, available, logger);
    } catch (e) {
      if (isPermissionError(e)) return `cannot delegate controllers under ${this.base}: ${e instanceof Error ? e.message : String(e)}`;
      throw e;
    }
    this.enabled = new Set(words(await files.read(join(this.base, 'cgroup.subtree_control'))).filter(isV2Controller));
    if (this.enabled.size === 0) return `could not enable any controller in ${join(this.base, 'cgroup.subtree_control')}`;

    const probe = join(this.base, probeName());
    try {
      await files.mkdir(probe);
    } catch (e) {
      if (isPermissionError(e)) return `cannot create cgroups under ${this.base}: ${e instanceof Error ? e.message : String(e)}`;
      throw e;
    }
    try {
      this.childFiles = new Set((await files.list(probe)).filter((e) => !e.dir).map((e) => e.name));
    } finally {
      await files.rmdir(probe);
    }
    this.facts = {
      onlineCpus: this.options.host.onlineCpus(),
      cpus: ((await readOptional(files, join(this.base, 'cpuset.cpus.effective'))) ?? '').trim(),
      mems: ((await readOptional(files, join(this.base, 'cpuset.mems.effective'))) ?? '').trim(),
    };
    if (this.enabled.has('memory') && !this.childFiles.has('memory.swap.max')) {
      logger.warn('cgroup v2: no memory.swap.max (swap accounting is off): --memory-swap cannot be set, memory is limited without swap');
    }
    return null;
  }

  private async enableControllers(own: string, available: readonly V2Controller[], logger: Logger): Promise<void> {
    const { files } = this.options;
    const current = new Set(words(await files.read(join(this.base, 'cgroup.subtree_control'))));
    const missing = available.filter((c) => !current.has(c));
    if (missing.length === 0) return;
    // The root cgroup may hold processes and enable controllers; any other must be empty first.
    if (own !== '/') {
      const procs = parsePids(await files.read(join(this.base, 'cgroup.procs')));
      if (procs.length > 0) {
        const leaf = join(this.base, DAEMON_LEAF);
        try {
          await files.mkdir(leaf);
        } catch (e) {
          if (errorCode(e) !== 'EEXIST') throw e;
        }
        for (const pid of procs) {
          try {
            await files.write(join(leaf, 'cgroup.procs'), String(pid));
          } catch (e) {
            if (errorCode(e) !== 'ESRCH') throw e; // exited meanwhile
          }
        }
        this.movedIntoLeaf = true;
        logger.info(`cgroup v2: moved ${procs.length} process(es) from ${this.base} into ${leaf} so controllers can be enabled for containers`);
      }
    }
    for (const c of missing) {
      try {
        await files.write(join(this.base, 'cgroup.subtree_control'), `+${c}`);
        this.turnedOn.push(c);
      } catch (e) {
        if (isPermissionError(e)) throw e;
        logger.warn(`cgroup v2: cannot enable the ${c} controller in ${this.base}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private need(controller: V2Controller, what: string, file?: string): void {
    if (!this.enabled.has(controller)) {
      throw new Error(`${what} needs the cgroup v2 ${controller} controller, which is not available to this daemon's cgroup ${this.base}`);
    }
    if (file !== undefined && !this.childFiles.has(file)) {
      throw new Error(`${what} is not supported by this host's kernel (no ${file} in a cgroup v2 folder)`);
    }
  }

  check(limits: Limits): void {
    const l = limits;
    if (l.Memory) this.need('memory', 'Memory (--memory)');
    if (l.MemoryReservation) this.need('memory', 'MemoryReservation (--memory-reservation)');
    if (l.MemorySwap && l.MemorySwap > 0) {
      this.need('memory', 'MemorySwap (--memory-swap)');
      if (!this.childFiles.has('memory.swap.max')) {
        throw new Error('Your kernel does not support swap limit capabilities or the cgroup is not mounted: --memory-swap cannot be set on this host (no memory.swap.max)');
      }
    }
    if (l.NanoCpus || l.CpuQuota || l.CpuPeriod) this.need('cpu', 'CPU quota (--cpus, -c, --cpu-quota, --cpu-period)', 'cpu.max');
    if (l.CpuShares) this.need('cpu', 'CpuShares (--cpu-shares)', 'cpu.weight');
    if (l.CpusetCpus || l.CpusetMems) this.need('cpuset', 'Cpuset (--cpuset-cpus, --cpuset-mems)');
    if (l.PidsLimit && l.PidsLimit > 0) this.need('pids', 'PidsLimit (--pids-limit)');
    if (l.BlkioWeight) {
      this.need('io', 'BlkioWeight (--blkio-weight)');
      if (this.weightFile() === null) {
        throw new Error('Your kernel does not support Block I/O weight or the cgroup is not mounted: --blkio-weight cannot be set on this host (no io.bfq.weight or io.weight)');
      }
    }
    if (l.BlkioDeviceReadBps?.length || l.BlkioDeviceWriteBps?.length) this.need('io', 'Device throttling (--device-read-bps, --device-write-bps)', 'io.max');
    checkHostLimits(l, this.facts);
  }

  private weightFile(): 'io.bfq.weight' | 'io.weight' | null {
    if (this.childFiles.has('io.bfq.weight')) return 'io.bfq.weight';
    if (this.childFiles.has('io.weight')) return 'io.weight';
    return null;
  }

  paths(name: string): CgroupDirs {
    return [join(this.base, name)];
  }

  private write(dirs: CgroupDirs, file: string, value: string | number): Promise<void> {
    return this.files.write(join(dirs[0]!, file), String(value));
  }

  private async read(dirs: CgroupDirs, file: string): Promise<string | null> {
    return readOptional(this.files, join(dirs[0]!, file));
  }

  private async readNumber(dirs: CgroupDirs, file: string): Promise<number | null> {
    const text = (await this.read(dirs, file))?.trim();
    return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
  }

  async create(dirs: CgroupDirs, limits: Limits): Promise<void> {
    const made = await makeFolders(this.files, dirs);
    try {
      await this.apply(dirs, limits, 'create');
    } catch (e) {
      await removeQuietly(this.files, made);
      throw e;
    }
  }

  update(dirs: CgroupDirs, limits: Limits): Promise<void> {
    return this.apply(dirs, limits, 'update');
  }

  /** Same field rules as the v1 backend: 0/undefined leave a value alone, -1 lifts a limit on update. */
  private async apply(dirs: CgroupDirs, l: Limits, mode: 'create' | 'update'): Promise<void> {
    const memory = l.Memory && l.Memory > 0 ? l.Memory : l.Memory === -1 && mode === 'update' ? -1 : undefined;
    if (memory !== undefined && memory > 0 && mode === 'update') {
      // Lowering memory.max below usage makes the kernel OOM-kill the container: refuse instead.
      const used = await this.memoryUsage(dirs);
      if (memory < used) throw new Error(`cannot set the memory limit to ${formatBytes(memory)}: the container uses ${formatBytes(used)}`);
    }
    if (memory !== undefined) await this.write(dirs, 'memory.max', memory === -1 ? 'max' : memory);
    if (this.childFiles.has('memory.swap.max')) {
      let swap: number | 'max' | undefined;
      if (l.MemorySwap === -1) swap = mode === 'update' ? 'max' : undefined; // unlimited is the default
      else if (l.MemorySwap && l.MemorySwap > 0 && memory !== undefined && memory > 0) {
        swap = l.MemorySwap - memory; // v2 limits swap alone; Docker's value is memory + swap (checkLimits demands Memory with it)
      } else if (mode === 'create' && memory !== undefined && memory > 0) {
        swap = memory; // Docker's default: as much swap as memory
      }
      if (swap !== undefined) await this.write(dirs, 'memory.swap.max', swap);
    }
    if (l.MemoryReservation && l.MemoryReservation > 0) await this.write(dirs, 'memory.low', l.MemoryReservation);

    const cpuMax = await this.cpuMax(dirs, l, mode);
    if (cpuMax !== null) await this.write(dirs, 'cpu.max', cpuMax);
    if (l.CpuShares && l.CpuShares > 0) await this.write(dirs, 'cpu.weight', sharesToWeight(l.CpuShares));

    if (l.CpusetCpus) await this.write(dirs, 'cpuset.cpus', l.CpusetCpus);
    if (l.CpusetMems) await this.write(dirs, 'cpuset.mems', l.CpusetMems);

    if (l.PidsLimit !== undefined) {
      if (l.PidsLimit > 0) await this.write(dirs, 'pids.max', l.PidsLimit);
      else if (mode === 'update' && this.enabled.has('pids')) await this.write(dirs, 'pids.max', 'max');
    }

    if (l.BlkioWeight && l.BlkioWeight > 0) {
      const file = this.weightFile();
      if (file === 'io.bfq.weight') await this.write(dirs, file, l.BlkioWeight);
      else if (file === 'io.weight') await this.write(dirs, file, `default ${blkioWeightToIoWeight(l.BlkioWeight)}`);
    }
    for (const [key, devices] of [['rbps', l.BlkioDeviceReadBps], ['wbps', l.BlkioDeviceWriteBps]] as const) {
      for (const d of devices ?? []) {
        const { major, minor } = blockDeviceNumbers(d.Path);
        await this.write(dirs, 'io.max', `${major}:${minor} ${key}=${d.Rate === 0 ? 'max' : d.Rate}`);
      }
    }
  }

  /** The cpu.max line to write ("50000 100000", "max 100000", or just a quota on update), or null. */
  private async cpuMax(dirs: CgroupDirs, l: Limits, mode: 'create' | 'update'): Promise<string | null> {
    if (l.NanoCpus && l.NanoCpus > 0) return `${nanoCpusToQuota(l.NanoCpus)} ${DEFAULT_CPU_PERIOD}`;
    const quota = l.CpuQuota && l.CpuQuota > 0 ? String(l.CpuQuota) : l.CpuQuota === -1 && mode === 'update' ? 'max' : undefined;
    const period = l.CpuPeriod && l.CpuPeriod > 0 ? l.CpuPeriod : undefined;
    if (quota === undefined && period === undefined) return null;
    if (mode === 'create') return `${quota ?? 'max'} ${period ?? DEFAULT_CPU_PERIOD}`;
    if (period === undefined) return quota!; // the kernel keeps the period
    const currentQuota = words(await this.read(dirs, 'cpu.max'))[0] ?? 'max';
    return `${quota ?? currentQuota} ${period}`;
  }

  private async memoryUsage(dirs: CgroupDirs): Promise<number> {
    const current = (await this.readNumber(dirs, 'memory.current')) ?? 0;
    const inactive = parseKeyValues((await this.read(dirs, 'memory.stat')) ?? '').get('inactive_file') ?? 0;
    return current > inactive ? current - inactive : current;
  }

  async stats(dirs: CgroupDirs): Promise<ResourceStats> {
    const { host } = this.options;
    const stat = parseKeyValues((await this.read(dirs, 'memory.stat')) ?? '');
    const limit = await this.readNumber(dirs, 'memory.max');
    const pidsMax = await this.readNumber(dirs, 'pids.max');
    const io = sumV2IoBytes((await this.read(dirs, 'io.stat')) ?? '');
    const usageUsec = parseKeyValues((await this.read(dirs, 'cpu.stat')) ?? '').get('usage_usec') ?? 0;
    const pressure = await this.pressure(dirs);
    return {
      read: new Date().toISOString(),
      cpuUsageNanos: usageUsec * 1000,
      systemCpuNanos: await host.systemCpuNanos(),
      onlineCpus: host.onlineCpus(),
      memoryUsage: await this.memoryUsage(dirs),
      memoryLimit: limit ?? (await host.memTotal()),
      memoryCache: stat.get('file') ?? 0,
      pids: (await this.readNumber(dirs, 'pids.current')) ?? (await this.pids(dirs)).length,
      pidsLimit: pidsMax ?? 0,
      blkioReadBytes: io.read,
      blkioWriteBytes: io.write,
      ...(pressure ? { pressure } : {}),
    };
  }

  /** cpu.pressure, memory.pressure and io.pressure where the kernel keeps them (PSI on: not `psi=0`, not disabled by default). */
  private async pressure(dirs: CgroupDirs): Promise<ResourceStats['pressure'] | null> {
    const out: { cpu?: Pressure; memory?: Pressure; io?: Pressure } = {};
    for (const resource of ['cpu', 'memory', 'io'] as const) {
      const parsed = parsePressure((await this.read(dirs, `${resource}.pressure`)) ?? '');
      if (parsed !== null) out[resource] = parsed;
    }
    return Object.keys(out).length > 0 ? out : null;
  }

  async oomKilled(dirs: CgroupDirs): Promise<boolean> {
    return (parseKeyValues(readNowOptional(this.files, join(dirs[0]!, 'memory.events')) ?? '').get('oom_kill') ?? 0) > 0;
  }

  async freeze(dirs: CgroupDirs): Promise<void> {
    await this.setFrozen(dirs, true);
  }

  async thaw(dirs: CgroupDirs): Promise<void> {
    await this.setFrozen(dirs, false);
  }

  private async setFrozen(dirs: CgroupDirs, frozen: boolean): Promise<void> {
    const want = frozen ? 1 : 0;
    await this.write(dirs, 'cgroup.freeze', want);
    const settled = await waitUntil(async () => parseKeyValues((await this.read(dirs, 'cgroup.events')) ?? '').get('frozen') === want, SETTLE_TIMEOUT_MS);
    if (!settled) {
      if (frozen) await this.write(dirs, 'cgroup.freeze', 0);
      throw new Error(`cgroup ${basename(dirs[0]!)} did not become ${frozen ? 'frozen' : 'thawed'} within ${SETTLE_TIMEOUT_MS / 1000}s`);
    }
  }

  async pids(dirs: CgroupDirs): Promise<readonly number[]> {
    return [...new Set(await pidsUnder(this.files, dirs[0]!))].sort((a, b) => a - b);
  }

  async remove(dirs: CgroupDirs): Promise<void> {
    const dir = dirs[0]!;
    // An empty cgroup (its processes gone, as after the container's exit) goes at once.
    if ((await removeIfEmpty(this.files, [dir])).length === 0) return;
    if (!(await this.files.exists(dir))) return;
    const populated = async () => parseKeyValues((await this.read(dirs, 'cgroup.events')) ?? '').get('populated') === 1;
    if (await populated()) {
      const hasKill = await this.files.exists(join(dir, 'cgroup.kill'));
      const emptied = await waitUntil(async () => {
        if (!(await populated())) return true;
        if (hasKill) {
          await this.write(dirs, 'cgroup.kill', 1);
        } else {
          await this.write(dirs, 'cgroup.freeze', 1).catch(() => undefined);
          for (const pid of await this.pids(dirs)) this.options.kill(pid, 'SIGKILL');
          await this.write(dirs, 'cgroup.freeze', 0).catch(() => undefined);
        }
        return false;
      }, SETTLE_TIMEOUT_MS);
      if (!emptied) throw new Error(`cannot remove cgroup ${basename(dir)}: processes ${(await this.pids(dirs)).join(', ')} survived SIGKILL`);
    }
    await removeTree(this.files, dir);
  }

  /** Gives the daemon's cgroup back as it was when no container cgroup is left (tests, clean shutdown). */
  async close(): Promise<void> {
    if (this.base === '' || (!this.movedIntoLeaf && this.turnedOn.length === 0)) return;
    const { files } = this.options;
    const others = (await files.list(this.base)).filter((e) => e.dir && e.name !== DAEMON_LEAF);
    if (others.length > 0) return; // containers (or someone else's cgroups) still need the controllers
    for (const c of [...this.turnedOn].reverse()) {
      try {
        await files.write(join(this.base, 'cgroup.subtree_control'), `-${c}`);
      } catch (e) {
        this.logger?.warn(`cgroup v2: cannot disable ${c} in ${this.base}: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
    }
    this.turnedOn = [];
    if (this.movedIntoLeaf) {
      const leaf = join(this.base, DAEMON_LEAF);
      for (const pid of parsePids((await readOptional(files, join(leaf, 'cgroup.procs'))) ?? '')) {
        await files.write(join(this.base, 'cgroup.procs'), String(pid)).catch(() => undefined);
      }
      await files.rmdir(leaf).catch(() => undefined);
      this.movedIntoLeaf = false;
    }
  }
}
