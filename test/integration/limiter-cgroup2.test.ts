/**
 * limiter.v1.cgroups on a real cgroup v2 mount. On a pure v2 host (/sys/fs/cgroup is cgroup2 with
 * controllers) it runs the conformance suite and an OOM kill for real; the driver moves this test
 * process into `<own cgroup>/mini-docker-daemon` and gives it back in close(). On a hybrid host it
 * points the driver at /sys/fs/cgroup/unified, whose controllers all belong to v1, so every test
 * skips with the driver's own reason (which is what a daemon on such a v2 mount would report).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CgroupLimiter, detectLayout } from '../../plugins/limiter-cgroups/cgroup-limiter.js';
import { NodeCgroupFiles } from '../../plugins/limiter-cgroups/cgroup-files.js';
import type { DriverContext } from '../../core/plugins/driver.js';
import { CONTROLLER_MISSING, limiterConformance, tempDriverContext, type ObservedLimits } from '../limiter-conformance.js';

const MiB = 1024 * 1024;
const files = new NodeCgroupFiles();
const pureV2 = (await detectLayout('/sys/fs/cgroup', files)).layout === 'v2';
const root = pureV2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';

const contexts: string[] = [];
after(() => {
  for (const root of contexts) rmSync(root, { recursive: true, force: true });
});

function context(): DriverContext {
  const c = tempDriverContext();
  contexts.push(c.root);
  return c;
}

/** What the kernel holds; a controller that is not delegated has no files, which reads as no limit. */
async function observeV2(paths: readonly string[]): Promise<ObservedLimits> {
  const read = (f: string) => (existsSync(join(paths[0]!, f)) ? readFileSync(join(paths[0]!, f), 'utf8').trim() : '');
  const num = (v: string | undefined) => (v === undefined || v === 'max' || v === '' ? null : Number(v));
  const [quota, period] = read('cpu.max').split(' ');
  return { memory: num(read('memory.max')), cpuQuota: num(quota), cpuPeriod: Number(period ?? 100000), pidsLimit: num(read('pids.max')), cpusetCpus: read('cpuset.cpus') };
}

limiterConformance(`cgroup v2 (real, ${root})`, async () => ({ driver: new CgroupLimiter({ root }), context: context(), observe: observeV2 }));

test('on a hybrid host the cgroup2 mount offers no controllers, and the driver says so (integration)', { skip: pureV2 ? 'this host is pure cgroup v2' : false }, async (t) => {
  if (!existsSync('/sys/fs/cgroup/unified/cgroup.controllers')) return t.skip('no cgroup2 mount at /sys/fs/cgroup/unified');
  const status = await new CgroupLimiter({ root: '/sys/fs/cgroup/unified' }).init(context());
  // Empty, or only controllers the limiter does not use (hugetlb on the development hosts).
  assert.equal(status.status, 'skipped');
  assert.match(status.status === 'skipped' ? status.reason : '', /offers no controllers|no cgroup v2 controllers are available/);
});

describe('cgroup v2 limits are enforced (integration, real cgroups)', { skip: pureV2 ? false : 'this host has no pure cgroup v2 (hybrid or v1 layout)' }, () => {
  const driver = new CgroupLimiter();
  const ids: string[] = [];

  before(async () => {
    assert.deepEqual(await driver.init(context()), { status: 'ok' });
  });

  after(async () => {
    for (const id of ids) await driver.remove(id);
    await driver.close();
  });

  test('a process that allocates 100MB in a 32MB cgroup (and as much swap) is OOM-killed, and oomKilled() says so', async (t) => {
    try {
      driver.validate({ Memory: 32 * MiB });
    } catch (e) {
      return t.skip(e instanceof Error && CONTROLLER_MISSING.test(e.message) ? e.message : String(e));
    }
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    const [dir] = await driver.create(id, { Memory: 32 * MiB });
    const script = `echo $$ > "$1/cgroup.procs" || exit 99; x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived`;
    const child = spawn('sh', ['-c', script, 'sh', dir!], { stdio: ['ignore', 'pipe', 'inherit'] });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, s) => resolve(s)));
    assert.equal(signal, 'SIGKILL');
    assert.equal(await driver.oomKilled(id), true);
    assert.match(readFileSync(join(dir!, 'memory.events'), 'utf8'), /^oom_kill [1-9]/m);
  });

  test('the daemon moved itself into a leaf so it could enable controllers for its children', (t) => {
    const own = /^0::(.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1] ?? '';
    if (own === '/') return t.skip('this process runs in the root cgroup, which may hold processes and enable controllers');
    assert.match(own, /\/mini-docker-daemon$/);
    const parent = join('/sys/fs/cgroup', own, '..');
    const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    const available = readFileSync(join(parent, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    for (const c of ['cpu', 'io', 'memory', 'pids']) if (available.includes(c)) assert.ok(enabled.includes(c), `${c} enabled in ${parent}`);
  });

  test('swap, CPU weight and a device throttle reach memory.swap.max, cpu.weight and io.max', async (t) => {
    const device = blockDevice();
    const limits = { Memory: 64 * MiB, MemorySwap: 96 * MiB, CpuShares: 512, ...(device ? { BlkioDeviceReadBps: [{ Path: device.path, Rate: MiB }] } : {}) };
    try {
      driver.validate(limits);
    } catch (e) {
      return t.skip(e instanceof Error ? e.message : String(e));
    }
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    const [dir] = await driver.create(id, limits);
    const read = (f: string) => readFileSync(join(dir!, f), 'utf8').trim();
    assert.equal(read('memory.max'), String(64 * MiB));
    assert.equal(read('memory.swap.max'), String(32 * MiB), 'v2 limits swap alone: MemorySwap - Memory');
    assert.equal(read('cpu.weight'), '20', 'runc: 1 + (512 - 2) * 9999 / 262142');
    if (device) assert.match(read('io.max'), new RegExp(`^${device.numbers} rbps=1048576 wbps=max riops=max wiops=max$`, 'm'));
    else t.diagnostic('no block device in /sys/block: io.max not tried');
  });

  test('stats carry PSI where the kernel keeps it', async (t) => {
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    const [dir] = await driver.create(id, {});
    if (!existsSync(join(dir!, 'cpu.pressure'))) return t.skip('this kernel keeps no PSI: no cpu.pressure in a cgroup (built without CONFIG_PSI, as Debian\'s User-Mode Linux, or booted with psi=0)');
    const s = await driver.stats(id);
    assert.ok(s.pressure?.cpu && s.pressure.memory && s.pressure.io, JSON.stringify(s.pressure));
    for (const p of [s.pressure.cpu, s.pressure.memory, s.pressure.io]) assert.ok(Number.isFinite(p.some.avg10) && p.some.total >= 0);
  });
});

/** A block device of this machine (path and MAJ:MIN), from /sys/block, or null. */
function blockDevice(): { path: string; numbers: string } | null {
  for (const name of existsSync('/sys/block') ? readdirSync('/sys/block') : []) {
    if (/^(loop|ram|zram|nbd)/.test(name) || !existsSync(join('/dev', name))) continue;
    return { path: join('/dev', name), numbers: readFileSync(join('/sys/block', name, 'dev'), 'utf8').trim() };
  }
  return null;
}
