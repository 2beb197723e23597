/**
 * limiter.v1.cgroups on this host's real cgroup v1 hierarchies (needs root and a v1 or hybrid
 * layout; skipped with the reason otherwise). Processes are `sh` children of this test that write
 * their own pid into each cgroup.procs before running the workload, as the shim does; they are
 * killed by pid and every cgroup (`mini-docker-test-<random>`) is removed afterwards.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupLimiter, detectLayout } from '../../plugins/limiter-cgroups/cgroup-limiter.js';
import { NodeCgroupFiles } from '../../plugins/limiter-cgroups/cgroup-files.js';
import type { DriverContext } from '../../core/plugins/driver.js';
import { DEFAULT_DEVICE_RULES } from '../../core/security/container-security.js';
import { limiterConformance, tempDriverContext, type ObservedLimits } from '../limiter-conformance.js';

const MiB = 1024 * 1024;
const ROOT = '/sys/fs/cgroup';

const layout = await detectLayout(ROOT, new NodeCgroupFiles());
const notHere = process.getuid?.() !== 0
  ? 'needs root'
  : layout.layout === 'v1' ? null : `this host is not cgroup v1 or hybrid: ${layout.layout === null ? layout.reason : 'pure cgroup v2'}`;

const contexts: string[] = [];
after(() => {
  for (const root of contexts) rmSync(root, { recursive: true, force: true });
});

function context(): DriverContext {
  const c = tempDriverContext();
  contexts.push(c.root);
  return c;
}

/** The folder among `paths` that has `file` (each v1 hierarchy has its own folder). */
function withFile(paths: readonly string[], file: string): string {
  const dir = paths.find((p) => existsSync(join(p, file)));
  if (dir === undefined) throw new Error(`no ${file} in ${paths.join(', ')}`);
  return join(dir, file);
}

const readIn = (paths: readonly string[], file: string) => readFileSync(withFile(paths, file), 'utf8').trim();

async function observeV1(paths: readonly string[]): Promise<ObservedLimits> {
  const memory = Number(readIn(paths, 'memory.limit_in_bytes'));
  const quota = Number(readIn(paths, 'cpu.cfs_quota_us'));
  const pids = readIn(paths, 'pids.max');
  return {
    memory: memory >= 2 ** 62 ? null : memory,
    cpuQuota: quota < 0 ? null : quota,
    cpuPeriod: Number(readIn(paths, 'cpu.cfs_period_us')),
    pidsLimit: pids === 'max' ? null : Number(pids),
    cpusetCpus: readIn(paths, 'cpuset.cpus'),
  };
}

if (notHere === null) {
  limiterConformance('cgroup v1 (real, this host)', async () => ({ driver: new CgroupLimiter(), context: context(), observe: observeV1 }));
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('cgroup v1 limits are enforced (integration, real cgroups)', { skip: notHere ?? false }, () => {
  const driver = new CgroupLimiter();
  const ids: string[] = [];
  const children: ChildProcess[] = [];

  before(async () => {
    assert.deepEqual(await driver.init(context()), { status: 'ok' });
    assert.equal(driver.cgroupVersion, '1');
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    for (const id of ids) await driver.remove(id);
  });

  async function create(limits: Parameters<CgroupLimiter['create']>[1]): Promise<{ id: string; paths: readonly string[] }> {
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    return { id, paths: await driver.create(id, limits) };
  }

  /** Runs `script` in sh after sh moved itself into every folder (the shim's order: join, then exec). */
  function runIn(paths: readonly string[], script: string): { child: ChildProcess; exit: Promise<Exit>; output: () => string } {
    const join = 'for p in "$@"; do echo $$ > "$p/cgroup.procs" || exit 99; done';
    const child = spawn('sh', ['-c', `${join}; ${script}`, 'sh', ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
    return { child, exit, output: () => stdout };
  }

  async function until(t: TestContext, what: string, done: () => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
    t.diagnostic(`${what}: ok`);
  }

  test('the device cgroup: Docker\'s rules and a --device node keep everything else closed; privileged opens every device', async () => {
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    const paths = await driver.create(id, {}, { allow: [...DEFAULT_DEVICE_RULES, { type: 'c', major: 1, minor: 11, access: 'r' }] });
    const list = readIn(paths, 'devices.list').split('\n');
    assert.deepEqual(list.slice(0, 2), ['c *:* m', 'b *:* m']);
    assert.ok(list.includes('c 1:3 rwm') && list.includes('c 136:* rwm') && list.includes('c 1:11 r'), list.join(', '));
    assert.ok(!list.includes('a *:* rwm'));
    // A process inside (root, every capability) can open /dev/null but not a disk.
    const disk = ['/dev/loop0', '/dev/vda', '/dev/sda'].find((d) => existsSync(d)) ?? '/dev/null';
    const r = await runIn(paths, `echo x > /dev/null && echo null=ok; head -c 1 ${disk} 2>&1 >/dev/null | grep -q "not permitted" && echo disk=denied`).exit;
    assert.equal(r.stdout, disk === '/dev/null' ? 'null=ok\n' : 'null=ok\ndisk=denied\n', r.stderr);
    const open = `test-${randomBytes(6).toString('hex')}`;
    ids.push(open);
    assert.equal(readIn(await driver.create(open, {}, 'all'), 'devices.list'), 'a *:* rwm');
  });

  test('a process that allocates 200MB in a 32MB cgroup is OOM-killed, and oomKilled() says so', async () => {
    const { id, paths } = await create({ Memory: 32 * MiB });
    const { exit } = runIn(paths, `x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived`);
    const result = await exit;
    assert.equal(result.signal, 'SIGKILL', `exit ${JSON.stringify(result)}`);
    assert.doesNotMatch(result.stdout, /survived/);
    assert.equal(await driver.oomKilled(id), true);
  });

  test('a container that did not hit its limit was not OOM-killed', async () => {
    const { id, paths } = await create({ Memory: 64 * MiB });
    const result = await runIn(paths, `x=$(head -c 1000000 /dev/zero | tr '\\0' a); echo fine`).exit;
    assert.equal(result.code, 0);
    assert.equal(await driver.oomKilled(id), false);
  });

  test('with --pids-limit 20 a fork loop cannot go past 20 processes', async () => {
    const { id, paths } = await create({ PidsLimit: 20 });
    const result = await runIn(paths, 'i=0; while [ $i -lt 40 ]; do sleep 30 >/dev/null 2>&1 & i=$((i+1)); done; echo all-forked').exit;
    assert.doesNotMatch(result.stdout, /all-forked/);
    assert.match(result.stderr, /fork/i);
    const s = await driver.stats(id);
    assert.ok(s.pids <= 20 && s.pids >= 15, `pids ${s.pids}`);
    assert.equal(s.pidsLimit, 20);
    assert.match(readIn(paths, 'pids.events'), /^max [1-9]/);
    await driver.remove(id); // the sleeps left behind are killed
    assert.deepEqual([...(await driver.pids(id))], []);
    for (const p of paths) assert.equal(existsSync(p), false);
  });

  test("-c '10000 100000' holds a busy loop to about 10% of a CPU", async (t) => {
    const { id, paths } = await create({ CpuQuota: 10000, CpuPeriod: 100000 });
    const { child } = runIn(paths, 'while :; do :; done');
    await sleep(300);
    const a = await driver.stats(id);
    const wallA = process.hrtime.bigint();
    await sleep(2000);
    const b = await driver.stats(id);
    const wall = Number(process.hrtime.bigint() - wallA);
    const share = (b.cpuUsageNanos - a.cpuUsageNanos) / wall;
    t.diagnostic(`CPU share over ${(wall / 1e9).toFixed(2)}s: ${(share * 100).toFixed(1)}%`);
    assert.ok(share > 0.01, `the loop ran (${share})`);
    assert.ok(share < 0.25, `the quota held it (${share})`);
    assert.ok(b.systemCpuNanos > a.systemCpuNanos);
    process.kill(child.pid!, 'SIGKILL');
  });

  test('freeze stops every process of the container and thaw lets them run again', async (t) => {
    const { id, paths } = await create({});
    const { child } = runIn(paths, 'while :; do :; done');
    await until(t, 'the loop to run', () => existsSync(`/proc/${child.pid}`));
    await sleep(200);
    await driver.freeze(id);
    assert.equal(readIn(paths, 'freezer.state'), 'FROZEN');
    const a = (await driver.stats(id)).cpuUsageNanos;
    await sleep(400);
    const b = (await driver.stats(id)).cpuUsageNanos;
    assert.ok(b - a < 5e6, `no CPU while frozen (${b - a} ns)`);
    await driver.thaw(id);
    assert.equal(readIn(paths, 'freezer.state'), 'THAWED');
    // Runs again: on a loaded machine the loop may get little CPU, so wait (up to 20 s) for 50 ms of it.
    let c = b;
    for (let i = 0; i < 100 && c - b <= 50e6; i++) {
      await sleep(200);
      c = (await driver.stats(id)).cpuUsageNanos;
    }
    assert.ok(c - b > 50e6, `runs again after thaw (${c - b} ns)`);
    process.kill(child.pid!, 'SIGKILL');
  });

  test('stats and pids of a running container are sane', async (t) => {
    const { id, paths } = await create({ Memory: 128 * MiB, PidsLimit: 50 });
    const { child, output } = runIn(paths, `x=$(head -c 16000000 /dev/zero | tr '\\0' a); echo ready; while :; do sleep 1; done`);
    await until(t, 'the memory to be allocated', () => output().includes('ready'));
    const s = await driver.stats(id);
    t.diagnostic(JSON.stringify(s));
    assert.ok(s.memoryUsage > 10 * MiB && s.memoryUsage < 128 * MiB, `memory ${s.memoryUsage}`);
    assert.equal(s.memoryLimit, 128 * MiB);
    assert.ok(s.cpuUsageNanos > 0);
    assert.ok(s.pids >= 1 && s.pids <= 3);
    assert.equal(s.pidsLimit, 50);
    assert.equal(s.onlineCpus, (await import('node:os')).availableParallelism());
    assert.ok((await driver.pids(id)).includes(child.pid!));
    process.kill(child.pid!, 'SIGKILL');
  });

  test('remove kills what is left, then removes the folder in every hierarchy', async () => {
    const { id, paths } = await create({ Memory: 64 * MiB });
    const { exit } = runIn(paths, 'sleep 30 & sleep 30 & wait');
    await sleep(200);
    assert.ok((await driver.pids(id)).length >= 3);
    await driver.remove(id);
    const result = await exit;
    assert.equal(result.signal, 'SIGKILL');
    for (const p of paths) assert.equal(existsSync(p), false, `${p} removed`);
    await driver.remove(id);
  });

  test('lowering memory below what the container uses is refused with a clear message', async (t) => {
    const { id, paths } = await create({ Memory: 128 * MiB });
    const { child, output } = runIn(paths, `x=$(head -c 40000000 /dev/zero | tr '\\0' a); echo ready; while :; do sleep 1; done`);
    await until(t, 'the memory to be allocated', () => output().includes('ready'));
    await assert.rejects(driver.update(id, { Memory: 8 * MiB }), /^Error: cannot set the memory limit to 8MiB: the container uses \d/);
    assert.equal(Number(readIn(paths, 'memory.limit_in_bytes')), 128 * MiB);
    await driver.update(id, { Memory: 100 * MiB });
    assert.equal(Number(readIn(paths, 'memory.limit_in_bytes')), 100 * MiB);
    process.kill(child.pid!, 'SIGKILL');
  });

  test('memory+swap: twice the memory by default, -1 unlimited, and the memsw-before-memory order on update', async () => {
    const hasSwapAccounting = (await create({})).paths.some((p) => existsSync(join(p, 'memory.memsw.limit_in_bytes')));
    if (!hasSwapAccounting) {
      assert.throws(() => driver.validate({ Memory: 64 * MiB, MemorySwap: 128 * MiB }), /does not support swap limit/);
      return;
    }
    const a = await create({ Memory: 32 * MiB });
    assert.equal(Number(readIn(a.paths, 'memory.memsw.limit_in_bytes')), 64 * MiB);
    const b = await create({ Memory: 32 * MiB, MemorySwap: -1 });
    assert.ok(Number(readIn(b.paths, 'memory.memsw.limit_in_bytes')) >= 2 ** 62);
    const c = await create({ Memory: 32 * MiB, MemorySwap: 48 * MiB });
    assert.equal(Number(readIn(c.paths, 'memory.memsw.limit_in_bytes')), 48 * MiB);
    await assert.rejects(driver.update(c.id, { Memory: 64 * MiB }), { message: 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time' });
    await driver.update(c.id, { Memory: 256 * MiB, MemorySwap: 512 * MiB });
    assert.equal(Number(readIn(c.paths, 'memory.limit_in_bytes')), 256 * MiB);
    assert.equal(Number(readIn(c.paths, 'memory.memsw.limit_in_bytes')), 512 * MiB);
    await driver.update(c.id, { Memory: 16 * MiB, MemorySwap: 20 * MiB });
    assert.equal(Number(readIn(c.paths, 'memory.limit_in_bytes')), 16 * MiB);
    assert.equal(Number(readIn(c.paths, 'memory.memsw.limit_in_bytes')), 20 * MiB);
  });

  test('a new cpuset cgroup gets the parent\'s CPUs and nodes, so processes can join it', async () => {
    const { paths } = await create({});
    const cpus = readIn(paths, 'cpuset.cpus');
    assert.notEqual(cpus, '');
    assert.notEqual(readIn(paths, 'cpuset.mems'), '');
    assert.equal((await runIn(paths, 'exit 0').exit).code, 0);
    const pinned = await create({ CpusetCpus: '0' });
    assert.equal(readIn(pinned.paths, 'cpuset.cpus'), '0');
    assert.equal((await runIn(pinned.paths, 'grep Cpus_allowed_list /proc/self/status').exit).stdout.trim(), 'Cpus_allowed_list:\t0');
  });

  test('block I/O: throttles by MAJ:MIN of the device, and the weight where the kernel has one', async (t) => {
    const block = readdirSync('/dev').map((n) => `/dev/${n}`).find((p) => {
      try {
        return /^\/dev\/(sd|vd|nvme|xvd)/.test(p) && statSync(p).isBlockDevice();
      } catch {
        return false;
      }
    });
    if (block === undefined) return t.skip('no disk device in /dev');
    const rdev = statSync(block).rdev; // small numbers: major in bits 8-19, minor in 0-7 and 20-31
    const majMin = `${(rdev >> 8) & 0xfff}:${(rdev & 0xff) | ((rdev >>> 12) & 0xfff00)}`;
    const { paths } = await create({ BlkioDeviceReadBps: [{ Path: block, Rate: MiB }], BlkioDeviceWriteBps: [{ Path: block, Rate: 2 * MiB }] });
    assert.equal(readIn(paths, 'blkio.throttle.read_bps_device'), `${majMin} ${MiB}`);
    assert.equal(readIn(paths, 'blkio.throttle.write_bps_device'), `${majMin} ${2 * MiB}`);
    try {
      driver.validate({ BlkioWeight: 300 });
    } catch (e) {
      t.diagnostic(`no blkio weight here: ${String(e)}`);
      return;
    }
    const weighted = await create({ BlkioWeight: 300 });
    const file = weighted.paths.some((p) => existsSync(join(p, 'blkio.weight'))) ? 'blkio.weight' : 'blkio.bfq.weight';
    assert.match(readIn(weighted.paths, file), /(^|\s)300$/);
  });

  test('a daemon restarted in another memory cgroup still finds and removes the old containers', async () => {
    const ctx = context();
    const first = new CgroupLimiter();
    assert.deepEqual(await first.init(ctx), { status: 'ok' });
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    const paths = await first.create(id, { Memory: 64 * MiB });
    // The second daemon's memory cgroup: a sibling folder standing in for another session's cgroup.
    const self = readFileSync('/proc/self/cgroup', 'utf8');
    const memory = /^(\d+):memory:(.*)$/m.exec(self);
    if (!memory) return;
    const otherName = `mini-docker-test-${randomBytes(6).toString('hex')}-daemon`;
    const otherDir = join(ROOT, 'memory', memory[2]!, otherName);
    mkdirSync(otherDir);
    try {
      const second = new CgroupLimiter({ readSelfCgroup: () => self.replace(/^(\d+):memory:(.*)$/m, `$1:memory:${join(memory[2]!, otherName)}`) });
      assert.deepEqual(await second.init(ctx), { status: 'ok' });
      assert.ok(second.paths(`${id}x`).some((p) => p.startsWith(otherDir)), 'new containers go under the new daemon cgroup');
      assert.deepEqual([...second.paths(id)], [...paths]);
      assert.equal((await second.stats(id)).memoryLimit, 64 * MiB);
      await second.remove(id);
      for (const p of paths) assert.equal(existsSync(p), false, p);
    } finally {
      rmdirSync(otherDir);
    }
  });

  test('cgroups are made under the daemon\'s own cgroup in each hierarchy', async () => {
    const self = readFileSync('/proc/self/cgroup', 'utf8');
    const memoryPath = /^\d+:memory:(.*)$/m.exec(self)?.[1];
    const { id, paths } = await create({});
    if (memoryPath !== undefined) {
      assert.ok(paths.includes(join(ROOT, 'memory', memoryPath, `mini-docker-${id}`)), paths.join(' '));
    }
    for (const p of paths) assert.ok(p.startsWith(`${ROOT}/`) && !p.includes('/unified/'), p);
  });
});
