/**
 * The cgroup v2 backend against a fake cgroupfs: a temporary folder laid out like a cgroup2 mount,
 * with a small stand-in for the kernel (FakeCgroup2) that fills new cgroups with their interface
 * files, moves pids between cgroup.procs files, enforces the no-internal-processes rule, and
 * answers cgroup.freeze/cgroup.kill through cgroup.events. Every write is logged, so the tests
 * assert the exact files and values the backend writes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { CgroupFileError, parsePressure, type CgroupEntry, type CgroupFiles } from '../../plugins/limiter-cgroups/cgroup-files.js';
import { CgroupLimiter, detectLayout } from '../../plugins/limiter-cgroups/cgroup-limiter.js';
import type { HostInfo } from '../../plugins/limiter-cgroups/host.js';
import type { DriverContext } from '../../core/plugins/driver.js';
import { limiterConformance, memoryLogger, type ObservedLimits } from '../limiter-conformance.js';

const MiB = 1024 * 1024;
const ALL = ['cpuset', 'cpu', 'io', 'memory', 'pids'];
/** Pids no real process can have (above the kernel's pid_max), so nothing real is ever signalled. */
const FAKE_PIDS = [90000001, 90000002];

interface FakeOptions {
  readonly controllers?: readonly string[];
  /** memory.swap.max exists (swap accounting on). */
  readonly swap?: boolean;
  /** io.bfq.weight exists (BFQ scheduler) besides io.weight. */
  readonly bfq?: boolean;
  /** cgroup.kill exists (kernel 5.14+). */
  readonly cgroupKill?: boolean;
  /** The daemon's cgroup ("0::" line). */
  readonly self?: string;
  readonly selfPids?: readonly number[];
  /** Every write and mkdir fails with EACCES (a read-only or not delegated cgroupfs). */
  readonly readOnly?: boolean;
}

function fail(code: string, what: string): CgroupFileError {
  return new CgroupFileError(`${what}: ${code}`, code);
}

class FakeCgroup2 implements CgroupFiles {
  readonly writes: [string, string][] = [];
  readonly killed: number[] = [];
  private constructor(readonly root: string, private readonly o: FakeOptions) {}

  static async create(o: FakeOptions = {}): Promise<FakeCgroup2> {
    const root = mkdtempSync(join(tmpdir(), 'tiny-docker-fake-cgroup2-'));
    const fake = new FakeCgroup2(root, o);
    const controllers = o.controllers ?? ALL;
    await writeFile(join(root, 'cgroup.controllers'), controllers.join(' ') + '\n');
    await writeFile(join(root, 'cgroup.subtree_control'), controllers.join(' ') + '\n');
    await writeFile(join(root, 'cgroup.procs'), '1\n');
    await writeFile(join(root, 'cpuset.cpus.effective'), '0-1\n');
    await writeFile(join(root, 'cpuset.mems.effective'), '0\n');
    let dir = root;
    for (const part of (o.self ?? '/user.slice/daemon.service').split('/').filter(Boolean)) {
      dir = join(dir, part);
      await mkdir(dir);
      await fake.populate(dir, controllers);
      await writeFile(join(dir, 'cgroup.subtree_control'), controllers.join(' ') + '\n');
    }
    await writeFile(join(dir, 'cgroup.subtree_control'), '\n');
    await writeFile(join(dir, 'cgroup.procs'), (o.selfPids ?? FAKE_PIDS).map((p) => `${p}\n`).join(''));
    await writeFile(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    return fake;
  }

  rel(path: string): string {
    return relative(this.root, path);
  }

  /** The interface files the kernel gives a new cgroup whose parent enables `controllers`. */
  private async populate(dir: string, controllers: readonly string[]): Promise<void> {
    const files: Record<string, string> = {
      'cgroup.procs': '', 'cgroup.controllers': controllers.join(' '), 'cgroup.subtree_control': '',
      'cgroup.events': 'populated 0\nfrozen 0', 'cgroup.freeze': '0', 'cgroup.type': 'domain',
    };
    if (this.o.cgroupKill !== false) files['cgroup.kill'] = '';
    if (controllers.includes('memory')) {
      Object.assign(files, {
        'memory.max': 'max', 'memory.low': '0', 'memory.high': 'max', 'memory.current': '0',
        'memory.stat': 'anon 0\nfile 0\ninactive_file 0', 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0',
      });
      if (this.o.swap !== false) files['memory.swap.max'] = 'max';
    }
    if (controllers.includes('cpu')) Object.assign(files, { 'cpu.max': 'max 100000', 'cpu.weight': '100', 'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0' });
    if (controllers.includes('cpuset')) Object.assign(files, { 'cpuset.cpus': '', 'cpuset.mems': '', 'cpuset.cpus.effective': '0-1', 'cpuset.mems.effective': '0' });
    if (controllers.includes('pids')) Object.assign(files, { 'pids.max': 'max', 'pids.current': '0' });
    if (controllers.includes('io')) {
      Object.assign(files, { 'io.max': '', 'io.weight': 'default 100', 'io.stat': '' });
      if (this.o.bfq) files['io.bfq.weight'] = 'default 100';
    }
    for (const [name, value] of Object.entries(files)) {
      if (!existsSync(join(dir, name))) await writeFile(join(dir, name), value === '' ? '' : `${value}\n`);
    }
  }

  /** Test helper: sets a file as the kernel would (not logged as a write). */
  async set(path: string, value: string): Promise<void> {
    await writeFile(path, value);
  }

  async read(path: string): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch {
      throw fail('ENOENT', `cannot read ${path}`);
    }
  }

  async exists(path: string): Promise<boolean> {
    return existsSync(path);
  }

  async list(path: string): Promise<readonly CgroupEntry[]> {
    return (await readdir(path, { withFileTypes: true })).map((e) => ({ name: e.name, dir: e.isDirectory() }));
  }

  async mkdir(path: string): Promise<void> {
    if (this.o.readOnly) throw fail('EACCES', `cannot create ${path}`);
    if (existsSync(path)) throw fail('EEXIST', `cannot create ${path}`);
    await mkdir(path);
    const parentControllers = (await readFile(join(dirname(path), 'cgroup.subtree_control'), 'utf8')).trim().split(/\s+/).filter(Boolean);
    await this.populate(path, parentControllers);
  }

  async rmdir(path: string): Promise<void> {
    if (!existsSync(path)) throw fail('ENOENT', `cannot remove ${path}`);
    const entries = await this.list(path);
    if (entries.some((e) => e.dir)) throw fail('EBUSY', `cannot remove ${path}`);
    if ((await readFile(join(path, 'cgroup.procs'), 'utf8')).trim() !== '') throw fail('EBUSY', `cannot remove ${path}`);
    await rm(path, { recursive: true });
  }

  private async allProcsFiles(dir = this.root): Promise<string[]> {
    const out = [join(dir, 'cgroup.procs')];
    for (const e of await this.list(dir)) if (e.dir) out.push(...(await this.allProcsFiles(join(dir, e.name))));
    return out;
  }

  /** cgroup.events updates, one at a time: a kill signalled without waiting (as the driver does) may race a freeze write. */
  private events: Promise<void> = Promise.resolve();

  private setEvent(dir: string, key: string, value: number): Promise<void> {
    const next = this.events.then(() => this.updateEvent(dir, key, value));
    this.events = next.catch(() => undefined);
    return next;
  }

  private async updateEvent(dir: string, key: string, value: number): Promise<void> {
    const file = join(dir, 'cgroup.events');
    const text = existsSync(file) ? await readFile(file, 'utf8') : '';
    const lines = new Map(text.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
    lines.set(key, String(value));
    await writeFile(file, [...lines].map(([k, v]) => `${k} ${v}\n`).join(''));
  }

  /** Kills a fake process: it leaves every cgroup.procs. */
  async killPid(pid: number): Promise<void> {
    this.killed.push(pid);
    for (const f of await this.allProcsFiles()) {
      const pids = (await readFile(f, 'utf8')).split('\n').filter(Boolean);
      if (pids.includes(String(pid))) {
        const left = pids.filter((p) => p !== String(pid));
        await writeFile(f, left.map((p) => `${p}\n`).join(''));
        if (left.length === 0) await this.setEvent(dirname(f), 'populated', 0);
      }
    }
  }

  async write(path: string, value: string): Promise<void> {
    if (this.o.readOnly) throw fail('EACCES', `cannot write ${path}`);
    if (!existsSync(path)) throw fail('ENOENT', `cannot write "${value}" to ${path}`);
    this.writes.push([this.rel(path), value]);
    const dir = dirname(path);
    const isRoot = dir === this.root;
    const words = async (file: string) => (await readFile(join(dir, file), 'utf8')).trim().split(/\s+/).filter(Boolean);
    switch (basename(path)) {
      case 'cgroup.procs': {
        if (!isRoot && (await words('cgroup.subtree_control')).length > 0) throw fail('EBUSY', `cannot write ${path}`);
        const pid = Number(value);
        for (const f of await this.allProcsFiles()) {
          const pids = (await readFile(f, 'utf8')).split('\n').filter(Boolean).filter((p) => p !== String(pid));
          await writeFile(f, pids.map((p) => `${p}\n`).join(''));
          if (pids.length === 0 && dirname(f) !== this.root) await this.setEvent(dirname(f), 'populated', 0);
        }
        await writeFile(path, `${(await readFile(path, 'utf8'))}${pid}\n`);
        await this.setEvent(dir, 'populated', 1);
        return;
      }
      case 'cgroup.subtree_control': {
        const available = await words('cgroup.controllers');
        const enabled = new Set(await words('cgroup.subtree_control'));
        for (const token of value.trim().split(/\s+/)) {
          const c = token.slice(1);
          if (!available.includes(c)) throw fail('ENOENT', `cannot write ${path}`);
          if (token.startsWith('+')) {
            if (!isRoot && (await words('cgroup.procs')).length > 0) throw fail('EBUSY', `cannot write ${path}`);
            enabled.add(c);
          } else {
            enabled.delete(c);
          }
        }
        await writeFile(path, ALL.filter((c) => enabled.has(c)).join(' ') + '\n');
        return;
      }
      case 'cgroup.freeze':
        await writeFile(path, `${value}\n`);
        await this.setEvent(dir, 'frozen', Number(value));
        return;
      case 'cgroup.kill':
        for (const f of await this.allProcsFiles(dir)) {
          for (const p of (await readFile(f, 'utf8')).split('\n').filter(Boolean)) this.killed.push(Number(p));
          await writeFile(f, '');
          await this.setEvent(dirname(f), 'populated', 0);
        }
        return;
      case 'cpu.max': {
        const [quota, period] = value.trim().split(/\s+/);
        const current = (await readFile(path, 'utf8')).trim().split(/\s+/)[1];
        await writeFile(path, `${quota} ${period ?? current}\n`);
        return;
      }
      case 'io.max': {
        const [device, ...settings] = value.trim().split(/\s+/);
        const lines = (await readFile(path, 'utf8')).split('\n').filter(Boolean);
        const old = lines.find((l) => l.startsWith(`${device} `));
        const merged = new Map((old ?? `${device} rbps=max wbps=max riops=max wiops=max`).split(/\s+/).slice(1).map((kv) => kv.split('=') as [string, string]));
        for (const kv of settings) merged.set(kv.split('=')[0]!, kv.split('=')[1]!);
        const line = `${device} ${[...merged].map(([k, v]) => `${k}=${v}`).join(' ')}`;
        await writeFile(path, [...lines.filter((l) => l !== old), line].map((l) => `${l}\n`).join(''));
        return;
      }
      default:
        await writeFile(path, `${value}\n`);
    }
  }
}

const fakeHost: HostInfo = {
  memTotal: async () => 8192 * MiB,
  systemCpuNanos: async () => 123_000_000_000,
  onlineCpus: () => 2,
};

const fakes: FakeCgroup2[] = [];
const states: string[] = [];
after(() => {
  for (const f of fakes) rmSync(f.root, { recursive: true, force: true });
  for (const d of states) rmSync(d, { recursive: true, force: true });
});

async function setup(o: FakeOptions = {}) {
  const fake = await FakeCgroup2.create(o);
  fakes.push(fake);
  const self = o.self ?? '/user.slice/daemon.service';
  const logger = memoryLogger();
  const driver = new CgroupLimiter({
    root: fake.root,
    files: fake,
    host: fakeHost,
    readSelfCgroup: () => `0::${self}\n`,
    isRoot: () => true,
    kill: (pid) => void fake.killPid(pid),
  });
  const state = mkdtempSync(join(tmpdir(), 'tiny-docker-limiter-state-'));
  states.push(state);
  const context: DriverContext = { dataRoot: state, execRoot: state, stateDir: join(state, 'limiter.v1.cgroups'), runDir: state, logger };
  const base = join(fake.root, self.endsWith('/mini-docker-daemon') ? dirname(self) : self);
  return { fake, driver, context, logger, base, rel: (p: string) => fake.rel(p) };
}

async function observeV2(fake: FakeCgroup2, paths: readonly string[]): Promise<ObservedLimits> {
  const dir = paths[0]!;
  const read = async (f: string) => (await fake.read(join(dir, f))).trim();
  const num = (v: string) => (v === 'max' ? null : Number(v));
  const [quota, period] = (await read('cpu.max')).split(' ') as [string, string];
  return {
    memory: num(await read('memory.max')),
    cpuQuota: num(quota),
    cpuPeriod: Number(period),
    pidsLimit: num(await read('pids.max')),
    cpusetCpus: await read('cpuset.cpus'),
  };
}

limiterConformance('cgroup v2 against a fake cgroupfs', async () => {
  const { fake, driver, context } = await setup();
  return { driver, context, observe: (paths) => observeV2(fake, paths) };
});

describe('cgroup v2 backend, exact files (unit, fake cgroupfs)', () => {
  test('init moves the daemon into a leaf, then enables the controllers for its children', async () => {
    const { fake, driver, context, logger } = await setup();
    assert.deepEqual(await driver.init(context), { status: 'ok' });
    assert.equal(driver.cgroupVersion, '2');
    assert.deepEqual(fake.writes, [
      ['user.slice/daemon.service/mini-docker-daemon/cgroup.procs', '90000001'],
      ['user.slice/daemon.service/mini-docker-daemon/cgroup.procs', '90000002'],
      ['user.slice/daemon.service/cgroup.subtree_control', '+cpuset'],
      ['user.slice/daemon.service/cgroup.subtree_control', '+cpu'],
      ['user.slice/daemon.service/cgroup.subtree_control', '+io'],
      ['user.slice/daemon.service/cgroup.subtree_control', '+memory'],
      ['user.slice/daemon.service/cgroup.subtree_control', '+pids'],
    ]);
    assert.equal((await fake.read(join(fake.root, 'user.slice/daemon.service/cgroup.procs'))).trim(), '');
    assert.ok(logger.lines.some((l) => l.includes('moved 2 process(es)')));
    assert.deepEqual(driver.paths('3f2a'), [join(fake.root, 'user.slice/daemon.service/mini-docker-3f2a')]);
  });

  test('after a restart (the daemon already in its leaf) init changes nothing', async () => {
    const first = await setup();
    await first.driver.init(first.context);
    const again = new CgroupLimiter({
      root: first.fake.root, files: first.fake, host: fakeHost, isRoot: () => true,
      readSelfCgroup: () => '0::/user.slice/daemon.service/mini-docker-daemon\n',
    });
    const before = first.fake.writes.length;
    assert.deepEqual(await again.init(first.context), { status: 'ok' });
    assert.equal(first.fake.writes.length, before);
    assert.deepEqual(again.paths('x'), [join(first.base, 'mini-docker-x')]);
  });

  test('a daemon restarted in another cgroup still finds the containers of the one before', async () => {
    const first = await setup();
    await first.driver.init(first.context);
    const [dir] = await first.driver.create('old', { PidsLimit: 20 });
    assert.equal(readFileSync(join(first.context.stateDir, 'old.cgroups'), 'utf8'), `${dir}\n`);
    // Another daemon cgroup, with the controllers delegated to it.
    await first.fake.mkdir(join(first.fake.root, 'other.slice'));
    await first.fake.write(join(first.fake.root, 'other.slice', 'cgroup.subtree_control'), '+cpuset +cpu +io +memory +pids');
    await first.fake.mkdir(join(first.fake.root, 'other.slice', 'daemon2'));
    const second = new CgroupLimiter({
      root: first.fake.root, files: first.fake, host: fakeHost, isRoot: () => true,
      readSelfCgroup: () => '0::/other.slice/daemon2\n',
    });
    assert.deepEqual(await second.init(first.context), { status: 'ok' });
    assert.deepEqual(second.paths('old'), [dir]);
    assert.equal((await second.stats('old')).pidsLimit, 20);
    assert.deepEqual(await second.create('old', { PidsLimit: 30 }), [dir], 'a restart reuses the recorded folder');
    await second.remove('old');
    assert.equal(existsSync(dir!), false);
    assert.equal(existsSync(join(first.context.stateDir, 'old.cgroups')), false);
    assert.deepEqual(second.paths('old'), [join(first.fake.root, 'other.slice/daemon2/mini-docker-old')]);
    assert.deepEqual(await second.create('new', {}), [join(first.fake.root, 'other.slice/daemon2/mini-docker-new')]);
  });

  test('create writes exactly the v2 files for every limit', async () => {
    const { fake, driver, context, base, rel } = await setup();
    await driver.init(context);
    fake.writes.length = 0;
    const paths = await driver.create('abc', {
      Memory: 64 * MiB, MemorySwap: 96 * MiB, MemoryReservation: 32 * MiB, CpuQuota: 10000, CpuPeriod: 100000,
      CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0', PidsLimit: 20, BlkioWeight: 500,
      BlkioDeviceReadBps: [{ Path: '/dev/null', Rate: MiB }],
    }).catch((e: unknown) => {
      // /dev/null is a character device: the throttle is refused before anything exists.
      assert.match(String(e), /\/dev\/null is not a block device/);
      return null;
    });
    assert.equal(paths, null);
    assert.deepEqual(fake.writes, []);
    assert.equal(existsSync(join(base, 'mini-docker-abc')), false);

    const created = await driver.create('abc', {
      Memory: 64 * MiB, MemorySwap: 96 * MiB, MemoryReservation: 32 * MiB, CpuQuota: 10000, CpuPeriod: 100000,
      CpuShares: 512, CpusetCpus: '0-1', CpusetMems: '0', PidsLimit: 20, BlkioWeight: 500,
    });
    const dir = rel(created[0]!);
    assert.equal(dir, 'user.slice/daemon.service/mini-docker-abc');
    assert.deepEqual(fake.writes, [
      [`${dir}/memory.max`, '67108864'],
      [`${dir}/memory.swap.max`, '33554432'],
      [`${dir}/memory.low`, '33554432'],
      [`${dir}/cpu.max`, '10000 100000'],
      [`${dir}/cpu.weight`, '20'],
      [`${dir}/cpuset.cpus`, '0-1'],
      [`${dir}/cpuset.mems`, '0'],
      [`${dir}/pids.max`, '20'],
      [`${dir}/io.weight`, 'default 4950'],
    ]);
  });

  test('defaults: swap as large as memory; --cpus over a 100ms period; cpu.weight from shares like runc', async () => {
    const { fake, driver, context, rel } = await setup();
    await driver.init(context);
    fake.writes.length = 0;
    const [dir] = (await driver.create('d', { Memory: 32 * MiB, NanoCpus: 1.5e9, CpuShares: 1024 })).map(rel);
    assert.deepEqual(fake.writes, [
      [`${dir}/memory.max`, '33554432'],
      [`${dir}/memory.swap.max`, '33554432'],
      [`${dir}/cpu.max`, '150000 100000'],
      [`${dir}/cpu.weight`, '39'],
    ]);
    fake.writes.length = 0;
    await driver.create('e', { Memory: 32 * MiB, MemorySwap: -1, CpuPeriod: 50000, PidsLimit: -1 });
    assert.deepEqual(fake.writes, [['user.slice/daemon.service/mini-docker-e/memory.max', '33554432'], ['user.slice/daemon.service/mini-docker-e/cpu.max', 'max 50000']]);
  });

  test('update writes only what changes; a quota alone keeps the period; -1 lifts limits', async () => {
    const { fake, driver, context, rel } = await setup();
    await driver.init(context);
    const [dir] = (await driver.create('u', { Memory: 64 * MiB, CpuQuota: 20000, CpuPeriod: 200000 })).map(rel);
    fake.writes.length = 0;
    await driver.update('u', { CpuQuota: 50000 });
    await driver.update('u', { CpuPeriod: 100000 });
    await driver.update('u', { Memory: 64 * MiB, MemorySwap: 128 * MiB });
    await driver.update('u', { Memory: -1, MemorySwap: -1, PidsLimit: 0, CpuQuota: -1 });
    assert.deepEqual(fake.writes, [
      [`${dir}/cpu.max`, '50000'],
      [`${dir}/cpu.max`, '50000 100000'],
      [`${dir}/memory.max`, '67108864'],
      [`${dir}/memory.swap.max`, '67108864'],
      [`${dir}/memory.max`, 'max'],
      [`${dir}/memory.swap.max`, 'max'],
      [`${dir}/cpu.max`, 'max'],
      [`${dir}/pids.max`, 'max'],
    ]);
    assert.equal((await fake.read(join(fake.root, dir!, 'cpu.max'))).trim(), 'max 100000');
  });

  test('update refuses to lower memory below what the container uses (the kernel would OOM-kill it)', async () => {
    const { fake, driver, context } = await setup();
    await driver.init(context);
    const [dir] = await driver.create('m', { Memory: 256 * MiB });
    await fake.set(join(dir!, 'memory.current'), `${120 * MiB}\n`);
    await fake.set(join(dir!, 'memory.stat'), `anon ${100 * MiB}\nfile ${20 * MiB}\ninactive_file ${10 * MiB}\n`);
    fake.writes.length = 0;
    await assert.rejects(driver.update('m', { Memory: 64 * MiB }), { message: 'cannot set the memory limit to 64MiB: the container uses 110MiB' });
    assert.equal(fake.writes.length, 0);
    await driver.update('m', { Memory: 128 * MiB });
    assert.deepEqual(fake.writes.map(([f]) => basename(f)), ['memory.max']);
  });

  test('BFQ hosts get io.bfq.weight; device throttles go to io.max as MAJ:MIN rbps/wbps', async () => {
    const { fake, driver, context } = await setup({ bfq: true });
    await driver.init(context);
    fake.writes.length = 0;
    const [dir] = await driver.create('b', { BlkioWeight: 300 });
    assert.deepEqual(fake.writes.map(([f, v]) => [basename(f), v]), [['io.bfq.weight', '300']]);
    const block = (await readdir('/dev')).map((n) => `/dev/${n}`).find((p) => !p.includes('loop') && isBlockDevice(p));
    if (block === undefined) return; // no block device visible here: the throttle itself is covered on real v1
    await driver.update('b', { BlkioDeviceReadBps: [{ Path: block, Rate: MiB }], BlkioDeviceWriteBps: [{ Path: block, Rate: 0 }] });
    const line = (await fake.read(join(dir!, 'io.max'))).trim();
    assert.match(line, /^\d+:\d+ rbps=1048576 wbps=max riops=max wiops=max$/);
  });

  test('stats read cpu.stat, memory.current minus inactive file, io.stat and pids', async () => {
    const { fake, driver, context } = await setup();
    await driver.init(context);
    const [dir] = await driver.create('s', { Memory: 64 * MiB, PidsLimit: 20 });
    await fake.set(join(dir!, 'cpu.stat'), 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n');
    await fake.set(join(dir!, 'memory.current'), `${30 * MiB}\n`);
    await fake.set(join(dir!, 'memory.stat'), `anon ${20 * MiB}\nfile ${10 * MiB}\ninactive_file ${4 * MiB}\n`);
    await fake.set(join(dir!, 'pids.current'), '3\n');
    await fake.set(join(dir!, 'io.stat'), '254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=1 rios=1 wios=1\n');
    const s = await driver.stats('s');
    assert.deepEqual({ ...s, read: 'x' }, {
      read: 'x', cpuUsageNanos: 2_500_000_000, systemCpuNanos: 123_000_000_000, onlineCpus: 2,
      memoryUsage: 26 * MiB, memoryLimit: 64 * MiB, memoryCache: 10 * MiB, pids: 3, pidsLimit: 20,
      blkioReadBytes: 4097, blkioWriteBytes: 8193,
    });
    await fake.set(join(dir!, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
    assert.equal(await driver.oomKilled('s'), true);
  });

  test('stats carry the PSI files where the kernel keeps them (cpu.pressure, memory.pressure, io.pressure)', async () => {
    const { fake, driver, context } = await setup();
    await driver.init(context);
    const [dir] = await driver.create('p', {});
    await fake.set(join(dir!, 'cpu.pressure'), 'some avg10=12.50 avg60=3.00 avg300=0.75 total=4200000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
    await fake.set(join(dir!, 'memory.pressure'), 'some avg10=0.10 avg60=0.20 avg300=0.30 total=40\nfull avg10=0.01 avg60=0.02 avg300=0.03 total=4\n');
    const s = await driver.stats('p');
    assert.deepEqual(s.pressure, {
      cpu: { some: { avg10: 12.5, avg60: 3, avg300: 0.75, total: 4200000 }, full: { avg10: 0, avg60: 0, avg300: 0, total: 0 } },
      memory: { some: { avg10: 0.1, avg60: 0.2, avg300: 0.3, total: 40 }, full: { avg10: 0.01, avg60: 0.02, avg300: 0.03, total: 4 } },
    });
  });

  test('a pressure file from before `full` existed for cpu (kernels < 5.13), or garbled, is read as far as it goes', () => {
    assert.deepEqual(parsePressure('some avg10=1.00 avg60=2.00 avg300=3.00 total=4\n'), { some: { avg10: 1, avg60: 2, avg300: 3, total: 4 } });
    assert.equal(parsePressure(''), null);
    assert.equal(parsePressure('some avg10=x\n'), null);
  });

  test('freeze/thaw write cgroup.freeze and wait for cgroup.events', async () => {
    const { fake, driver, context } = await setup();
    await driver.init(context);
    await driver.create('f', {});
    fake.writes.length = 0;
    await driver.freeze('f');
    await driver.thaw('f');
    assert.deepEqual(fake.writes.map(([f, v]) => [basename(f), v]), [['cgroup.freeze', '1'], ['cgroup.freeze', '0']]);
  });

  test('remove kills what is left with cgroup.kill, then removes the folder and those below it', async () => {
    const { fake, driver, context } = await setup();
    await driver.init(context);
    const [dir] = await driver.create('r', {});
    await fake.write(join(dir!, 'cgroup.procs'), '90000001');
    await fake.mkdir(join(dir!, 'inner'));
    assert.deepEqual([...(await driver.pids('r'))], [90000001]);
    fake.writes.length = 0;
    await driver.remove('r');
    assert.deepEqual(fake.writes.map(([f, v]) => [basename(f), v]), [['cgroup.kill', '1']]);
    assert.deepEqual(fake.killed, [90000001]);
    assert.equal(existsSync(dir!), false);
  });

  test('without cgroup.kill (kernel < 5.14) remove freezes, signals each pid and thaws', async () => {
    const { fake, driver, context } = await setup({ cgroupKill: false });
    await driver.init(context);
    const [dir] = await driver.create('k', {});
    await fake.write(join(dir!, 'cgroup.procs'), '90000002');
    fake.writes.length = 0;
    await driver.remove('k');
    // One freeze/signal/thaw round, or more when the fake kernel is slow to empty the cgroup under load.
    const writes = fake.writes.map(([f, v]) => [basename(f), v]);
    assert.ok(writes.length >= 2 && writes.length % 2 === 0, JSON.stringify(writes));
    for (let i = 0; i < writes.length; i += 2) assert.deepEqual(writes.slice(i, i + 2), [['cgroup.freeze', '1'], ['cgroup.freeze', '0']]);
    assert.deepEqual([...new Set(fake.killed)], [90000002]);
    assert.equal(existsSync(dir!), false);
  });

  test('close gives the daemon cgroup back when no container is left', async () => {
    const { fake, driver, context, base } = await setup();
    await driver.init(context);
    await driver.create('c', {});
    await driver.close();
    assert.ok(existsSync(join(base, 'mini-docker-daemon')), 'kept while a container cgroup exists');
    await driver.remove('c');
    fake.writes.length = 0;
    await driver.close();
    assert.equal(existsSync(join(base, 'mini-docker-daemon')), false);
    assert.equal((await fake.read(join(base, 'cgroup.subtree_control'))).trim(), '');
    assert.deepEqual((await fake.read(join(base, 'cgroup.procs'))).trim().split('\n'), ['90000001', '90000002']);
  });

  test('without swap accounting --memory-swap is refused, and the default swap is not written', async () => {
    const { fake, driver, context, logger } = await setup({ swap: false });
    await driver.init(context);
    assert.ok(logger.lines.some((l) => l.startsWith('warn:') && l.includes('memory.swap.max')));
    assert.throws(() => driver.validate({ Memory: 64 * MiB, MemorySwap: 128 * MiB }), /does not support swap limit/);
    driver.validate({ Memory: 64 * MiB, MemorySwap: -1 });
    fake.writes.length = 0;
    await driver.create('w', { Memory: 64 * MiB });
    assert.deepEqual(fake.writes.map(([f]) => basename(f)), ['memory.max']);
  });

  test('limits whose controller is not delegated are refused by validate', async () => {
    const { driver, context } = await setup({ controllers: ['cpu', 'memory'] });
    assert.deepEqual(await driver.init(context), { status: 'ok' });
    driver.validate({ Memory: 64 * MiB, NanoCpus: 1e9 });
    assert.throws(() => driver.validate({ PidsLimit: 20 }), /needs the cgroup v2 pids controller/);
    assert.throws(() => driver.validate({ CpusetCpus: '0' }), /needs the cgroup v2 cpuset controller/);
    assert.throws(() => driver.validate({ BlkioWeight: 100 }), /needs the cgroup v2 io controller/);
  });

  test('CPUs and nodes the parent does not have are refused with Docker\'s message', async () => {
    const { driver, context } = await setup();
    await driver.init(context);
    assert.throws(() => driver.validate({ CpusetCpus: '0-3' }), { message: 'Requested CPUs are not available - requested 0-3, available: 0-1' });
    assert.throws(() => driver.validate({ CpusetMems: '1' }), { message: 'Requested memory nodes are not available - requested 1, available: 0' });
    assert.throws(() => driver.validate({ NanoCpus: 3e9 }), { message: 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available' });
  });
});

describe('cgroup v2: when the driver skips (unit, fake cgroupfs)', () => {
  test('not root', async () => {
    const { fake, context } = await setup();
    const driver = new CgroupLimiter({ root: fake.root, files: fake, isRoot: () => false });
    const status = await driver.init(context);
    assert.equal(status.status, 'skipped');
    assert.match(status.status === 'skipped' ? status.reason : '', /not running as root/);
    assert.throws(() => driver.validate({}), /not available on this host: not running as root/);
    await driver.remove('anything'); // a no-op, never a throw, so compensation can always call it
  });

  test('no controllers delegated to the daemon\'s cgroup', async () => {
    const { driver, context } = await setup({ controllers: ['rdma'] });
    const status = await driver.init(context);
    assert.equal(status.status, 'skipped');
    assert.match(status.status === 'skipped' ? status.reason : '', /no cgroup v2 controllers/);
  });

  test('a read-only cgroupfs', async () => {
    const { driver, context } = await setup({ readOnly: true });
    const status = await driver.init(context);
    assert.equal(status.status, 'skipped');
    assert.match(status.status === 'skipped' ? status.reason : '', /cannot delegate controllers.*EACCES/);
  });
});

describe('layout detection (unit)', () => {
  test('pure v2, hybrid v1, nothing', async () => {
    const { fake } = await setup();
    assert.equal((await detectLayout(fake.root, fake)).layout, 'v2');

    const hybrid = mkdtempSync(join(tmpdir(), 'tiny-docker-fake-hybrid-'));
    try {
      for (const d of ['memory', 'cpu', 'unified']) {
        await mkdir(join(hybrid, d));
        await writeFile(join(hybrid, d, 'cgroup.procs'), '');
      }
      await writeFile(join(hybrid, 'unified', 'cgroup.controllers'), '');
      const files = fake; // plain reads/exists work on any folder
      const v1 = await detectLayout(hybrid, files);
      assert.equal(v1.layout, 'v1');
      assert.match(v1.layout === 'v1' ? v1.description : '', /hybrid layout.*memory, cpu/);
      const empty = await detectLayout(join(hybrid, 'nothing-here'), files);
      assert.equal(empty.layout, null);
      await writeFile(join(hybrid, 'cgroup.controllers'), '\n');
      assert.match(JSON.stringify(await detectLayout(hybrid, files)), /offers no controllers/);
    } finally {
      rmSync(hybrid, { recursive: true, force: true });
    }
  });
});

function isBlockDevice(path: string): boolean {
  try {
    return statSync(path).isBlockDevice();
  } catch {
    return false;
  }
}
