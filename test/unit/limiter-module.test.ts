import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Container } from 'inversify';
import { Driver } from '../../core/plugins/driver.js';
import { DriverKinds, kindOf } from '../../core/plugins/kinds.js';
import limiterModule from '../../plugins/limiter-cgroups/limiter-cgroups-module.js';
import { CgroupLimiter, CgroupLimiterOptions } from '../../plugins/limiter-cgroups/cgroup-limiter.js';

const here = dirname(fileURLToPath(import.meta.url));

test('the plugin module binds one limiter.v1 Driver, a singleton (unit)', async () => {
  const container = new Container();
  await container.load(limiterModule);
  const drivers = container.getAll<Driver>(Driver);
  assert.equal(drivers.length, 1);
  const driver = drivers[0]!;
  assert.ok(driver instanceof CgroupLimiter);
  assert.equal(driver.id, 'limiter.v1.cgroups');
  assert.equal(kindOf(driver.id), DriverKinds.limiter);
  assert.equal(container.get<Driver>(Driver), driver);
});

test('options can be bound under CgroupLimiterOptions (unit)', async () => {
  const container = new Container();
  container.bind(CgroupLimiterOptions).toConstantValue({ isRoot: () => false });
  await container.load(limiterModule);
  const driver = container.get<CgroupLimiter>(Driver);
  const logger = { info() {}, warn() {}, error() {} };
  const status = await driver.init({ dataRoot: '/x', execRoot: '/x', stateDir: '/x', runDir: '/x', logger });
  assert.deepEqual(status, { status: 'skipped', reason: 'not running as root: creating cgroups needs root' });
});

test("the package.json names the module, like a third party's plugin (unit)", () => {
  // dist/test/unit → the source folder of the plugin
  const pjson: unknown = JSON.parse(readFileSync(join(here, '..', '..', '..', 'plugins', 'limiter-cgroups', 'package.json'), 'utf8'));
  assert.deepEqual(pjson, {
    name: '@tiny-docker/limiter-cgroups',
    version: '0.1.0',
    description: 'limiter.v1.cgroups: container resource limits with cgroup v2, or v1 on hybrid hosts',
    type: 'module',
    license: 'MIT',
    tinyDocker: { module: './limiter-cgroups-module.js' },
    peerDependencies: { 'tiny-docker': '*' },
  });
});
