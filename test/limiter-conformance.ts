/**
 * The conformance suite every limiter.v1 driver passes: call `limiterConformance(name, factory)`
 * from a test file with a factory that makes the driver and says how to read back what the
 * kernel (or a fake cgroupfs) holds for a container. The suite creates containers with ids
 * `test-<random>`, so cgroup drivers make `mini-docker-test-<random>` folders, and removes them all.
 *
 *   limiterConformance('cgroup v1 (real)', async () => ({ driver: new CgroupLimiter(), context, observe }));
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { DriverContext, LimiterDriver, Logger } from '../core/plugins/driver.js';
import type { Limits } from '../events/index.js';

/** What the kernel holds for a container, normalised across cgroup versions. null = unlimited. */
export interface ObservedLimits {
  readonly memory: number | null;
  readonly cpuQuota: number | null;
  readonly cpuPeriod: number;
  readonly pidsLimit: number | null;
  readonly cpusetCpus: string;
}

export interface LimiterUnderTest {
  readonly driver: LimiterDriver;
  readonly context: DriverContext;
  /** Reads the values back from the folders `create` returned. */
  observe(paths: readonly string[]): Promise<ObservedLimits>;
  /** Whether a folder exists (default: on the real file system). */
  exists?(path: string): boolean;
  /** Runs once after the suite (delete a fake cgroupfs...). */
  dispose?(): Promise<void>;
}

const MiB = 1024 * 1024;

/** How a cgroup limiter says a controller is missing (`… needs the cgroup v2 cpuset controller, …`). */
export const CONTROLLER_MISSING = /needs the cgroup v[12] \S+ controller/;

/** A logger that keeps what it was told, for contexts in tests. */
export function memoryLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
}

/** A driver context in a fresh temporary folder (under the test run's scratch folder); delete `root` afterwards. */
export function tempDriverContext(driverId = 'limiter.v1.cgroups'): DriverContext & { readonly root: string; readonly logger: ReturnType<typeof memoryLogger> } {
  const root = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'limiter-ctx-'));
  return {
    root,
    dataRoot: join(root, 'data'),
    execRoot: join(root, 'run'),
    stateDir: join(root, 'data', driverId),
    runDir: join(root, 'run', driverId),
    logger: memoryLogger(),
  };
}

/** Limits that every host able to limit anything refuses (Docker's rules), with why. */
export const NONSENSE_LIMITS: readonly (readonly [string, Limits])[] = [
  ['memory below 6MB', { Memory: 1024 }],
  ['a negative memory', { Memory: -5 * MiB }],
  ['memory+swap below memory', { Memory: 64 * MiB, MemorySwap: 32 * MiB }],
  ['a reservation above the limit', { Memory: 64 * MiB, MemoryReservation: 128 * MiB }],
  ['a CFS period of 10µs', { CpuPeriod: 10 }],
  ['a CFS quota of 500µs', { CpuQuota: 500 }],
  ['--cpus with a period', { NanoCpus: 5e8, CpuPeriod: 100000 }],
  ['more CPUs than any host has', { NanoCpus: 1e6 * 1e9 }],
  ['a cpuset that is not a list', { CpusetCpus: 'a-b' }],
  ['CPU 4096, which no test host has', { CpusetCpus: '4096' }],
  ['a blkio weight of 5', { BlkioWeight: 5 }],
  ['a throttle on a file that is no device', { BlkioDeviceReadBps: [{ Path: '/dev/null-not-a-device', Rate: 1 }] }],
];

export function limiterConformance(name: string, factory: () => Promise<LimiterUnderTest>): void {
  describe(`limiter conformance: ${name}`, () => {
    let h: LimiterUnderTest;
    let skipped: string | null = null;
    const created = new Set<string>();
    const exists = (p: string) => (h.exists ? h.exists(p) : existsSync(p));
    const newId = () => {
      const id = `test-${randomBytes(6).toString('hex')}`;
      created.add(id);
      return id;
    };
    const ready = (t: TestContext) => {
      if (skipped !== null) t.skip(skipped);
      return skipped === null;
    };
    /**
     * Whether the driver can apply `limits` here; when a controller they need is not mounted or not
     * delegated (systemd may delegate only `memory pids`), the test skips with the driver's reason,
     * which names the controller.
     */
    const needs = (t: TestContext, limits: Limits) => {
      if (!ready(t)) return false;
      try {
        h.driver.validate(limits);
        return true;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (!CONTROLLER_MISSING.test(message)) throw e;
        t.skip(message);
        return false;
      }
    };

    before(async () => {
      h = await factory();
      const status = await h.driver.init(h.context);
      if (status.status === 'skipped') skipped = `${h.driver.id} skipped on this host: ${status.reason}`;
    });

    after(async () => {
      if (!h) return;
      if (skipped === null) for (const id of created) await h.driver.remove(id);
      await h.driver.close?.();
      await h.dispose?.();
    });

    test('the id is a limiter.v1 driver id', () => {
      assert.match(h.driver.id, /^limiter\.v1\.[a-z0-9-]+$/);
    });

    test('validate accepts empty and ordinary limits', (t) => {
      if (!ready(t)) return;
      h.driver.validate({});
      if (!needs(t, { Memory: 64 * MiB, CpuQuota: 50000, CpuPeriod: 100000, PidsLimit: 50 })) return;
      if (!needs(t, { NanoCpus: 5e8, CpusetCpus: '0' })) return;
    });

    test('validate refuses nonsense with a one-line message', (t) => {
      if (!ready(t)) return;
      for (const [why, limits] of NONSENSE_LIMITS) {
        assert.throws(() => h.driver.validate(limits), (e: unknown) => e instanceof Error && e.message.length > 0 && !e.message.includes('\n'), why);
      }
    });

    test('create refuses nonsense before anything exists', async (t) => {
      if (!needs(t, { Memory: 64 * MiB })) return;
      const id = newId();
      await assert.rejects(h.driver.create(id, { Memory: 1024 }), /6MB/);
      for (const p of h.driver.paths(id)) assert.equal(exists(p), false, `${p} must not exist`);
    });

    test('create makes the folders, one per hierarchy, named mini-docker-<id>, and writes the limits', async (t) => {
      if (!needs(t, { Memory: 64 * MiB, CpuQuota: 50000, CpuPeriod: 100000, PidsLimit: 50 })) return;
      const id = newId();
      const paths = await h.driver.create(id, { Memory: 64 * MiB, CpuQuota: 50000, CpuPeriod: 100000, PidsLimit: 50 });
      assert.ok(paths.length > 0);
      assert.deepEqual([...h.driver.paths(id)], [...paths]);
      for (const p of paths) {
        assert.ok(isAbsolute(p), p);
        assert.equal(basename(p), `mini-docker-${id}`);
        assert.ok(exists(p), `${p} exists`);
      }
      const { cpusetCpus: _cpuset, ...observed } = await h.observe(paths);
      assert.deepEqual(observed, { memory: 64 * MiB, cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: 50 });
    });

    test('create writes the cpuset', async (t) => {
      if (!needs(t, { CpusetCpus: '0' })) return;
      assert.equal((await h.observe(await h.driver.create(newId(), { CpusetCpus: '0' }))).cpusetCpus, '0');
    });

    test('create without limits leaves everything unlimited', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      const observed = await h.observe(await h.driver.create(id, {}));
      assert.equal(observed.memory, null);
      assert.equal(observed.cpuQuota, null);
      assert.equal(observed.pidsLimit, null);
    });

    test('--cpus 0.5 is a quota of 50ms per 100ms', async (t) => {
      if (!needs(t, { NanoCpus: 5e8 })) return;
      const observed = await h.observe(await h.driver.create(newId(), { NanoCpus: 5e8 }));
      assert.equal(observed.cpuQuota, 50000);
      assert.equal(observed.cpuPeriod, 100000);
    });

    test('update changes a live cgroup and keeps what it does not mention', async (t) => {
      if (!needs(t, { Memory: 64 * MiB, CpuQuota: 20000, CpuPeriod: 100000, PidsLimit: 50 })) return;
      const id = newId();
      const paths = await h.driver.create(id, { Memory: 64 * MiB, CpuQuota: 20000, CpuPeriod: 100000, PidsLimit: 50 });
      await h.driver.update(id, { Memory: 128 * MiB, PidsLimit: 100 });
      const updated = await h.observe(paths);
      assert.deepEqual([updated.memory, updated.pidsLimit, updated.cpuQuota, updated.cpuPeriod], [128 * MiB, 100, 20000, 100000]);
      await h.driver.update(id, { PidsLimit: -1, CpuQuota: -1 });
      const lifted = await h.observe(paths);
      assert.equal(lifted.pidsLimit, null);
      assert.equal(lifted.cpuQuota, null);
      assert.equal(lifted.memory, 128 * MiB);
      assert.throws(() => h.driver.validate({ CpuPeriod: 5 }));
      await assert.rejects(h.driver.update(id, { CpuPeriod: 5 }), /CPU cfs period/);
    });

    test('stats, pids and oomKilled of a container with no process', async (t) => {
      if (!needs(t, { Memory: 64 * MiB, PidsLimit: 50 })) return;
      const id = newId();
      await h.driver.create(id, { Memory: 64 * MiB, PidsLimit: 50 });
      const s = await h.driver.stats(id);
      assert.ok(!Number.isNaN(Date.parse(s.read)));
      assert.equal(s.memoryLimit, 64 * MiB);
      assert.equal(s.pidsLimit, 50);
      assert.equal(s.pids, 0);
      assert.ok(s.onlineCpus >= 1);
      assert.ok(s.systemCpuNanos > 0);
      for (const v of [s.cpuUsageNanos, s.memoryUsage, s.memoryCache, s.blkioReadBytes, s.blkioWriteBytes]) assert.ok(Number.isFinite(v) && v >= 0);
      assert.deepEqual([...(await h.driver.pids(id))], []);
      assert.equal(await h.driver.oomKilled(id), false);
      const unlimited = newId();
      await h.driver.create(unlimited, {});
      const u = await h.driver.stats(unlimited);
      assert.ok(u.memoryLimit > 64 * MiB, 'the host memory when unlimited');
      assert.equal(u.pidsLimit, 0);
    });

    test('freeze and thaw', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      await h.driver.create(id, {});
      await h.driver.freeze(id);
      await h.driver.thaw(id);
    });

    test('remove leaves nothing; removing twice, or what never existed, is a no-op', async (t) => {
      if (!needs(t, { Memory: 64 * MiB })) return;
      const id = newId();
      const paths = await h.driver.create(id, { Memory: 64 * MiB });
      assert.ok((await h.driver.held()).includes(id), 'held() lists the containers with cgroups');
      await h.driver.remove(id);
      assert.ok(!(await h.driver.held()).includes(id), 'and no longer after remove');
      for (const p of paths) assert.equal(exists(p), false, `${p} is gone`);
      await h.driver.remove(id);
      await h.driver.remove(newId());
    });

    test('a second create of the same container keeps its folders', async (t) => {
      if (!needs(t, { PidsLimit: 30 })) return;
      const id = newId();
      const first = await h.driver.create(id, { PidsLimit: 30 });
      const second = await h.driver.create(id, { PidsLimit: 30 });
      assert.deepEqual([...second], [...first]);
      assert.equal((await h.observe(second)).pidsLimit, 30);
    });

    test('ids that are not names are refused', (t) => {
      if (!ready(t)) return;
      for (const bad of ['../escape', 'a/b', '', '.hidden']) assert.throws(() => h.driver.paths(bad), Error, bad);
    });
  });
}
