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
import { existsSync, readFileSync, rmSync } from 'node:fs';
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

  test('a process that allocates 200MB in a 32MB cgroup is OOM-killed, and oomKilled() says so', async (t) => {
    try {
      driver.validate({ Memory: 32 * MiB });
    } catch (e) {
      return t.skip(e instanceof Error && CONTROLLER_MISSING.test(e.message) ? e.message : String(e));
    }
    const id = `test-${randomBytes(6).toString('hex')}`;
    ids.push(id);
    const [dir] = await driver.create(id, { Memory: 32 * MiB });
    const script = `echo $$ > "$1/cgroup.procs" || exit 99; x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived`;
    const child = spawn('sh', ['-c', script, 'sh', dir!], { stdio: ['ignore', 'pipe', 'inherit'] });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, s) => resolve(s)));
    assert.equal(signal, 'SIGKILL');
    assert.equal(await driver.oomKilled(id), true);
  });
});
