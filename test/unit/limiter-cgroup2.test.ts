/**
 * The cgroup v2 backend against a fake cgroupfs (test/fixtures/fake-cgroup2.ts: a temporary
 * folder laid out like a cgroup2 mount, with a small stand-in for the kernel). Every write is
 * logged, so the tests assert the exact files and values the backend writes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parsePressure } from '../../plugins/limiter-cgroups/cgroup-files.js';
import { CgroupLimiter, detectLayout } from '../../plugins/limiter-cgroups/cgroup-limiter.js';
import type { DriverContext } from '../../core/plugins/driver.js';
import { limiterConformance, memoryLogger, type ObservedLimits } from '../limiter-conformance.js';
import { FakeCgroup2, fakeHost, type FakeOptions } from '../fixtures/fake-cgroup2.js';

const MiB = 1024 * 1024;

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
