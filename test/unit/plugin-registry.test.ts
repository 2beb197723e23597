import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Driver, DriverContext, DriverStatus } from '../../core/plugins/driver.js';
import { PluginGraphError, PluginRegistry, orderDrivers, type RegisteredDriver } from '../../core/plugins/plugin-registry.js';
import { START_ORDER, DriverKinds, kindOf } from '../../core/plugins/kinds.js';
import { runStartPipeline, StartStepError } from '../../core/engine/start-pipeline.js';

function driver(id: string, requires: string[] = [], init: () => Promise<DriverStatus> = async () => ({ status: 'ok' })): RegisteredDriver {
  const d: Driver = { id, requires, init };
  return { driver: d, packageName: `pkg-${id}` };
}

const context = async (): Promise<DriverContext> => ({
  dataRoot: '/x', execRoot: '/y', stateDir: '/x/s', runDir: '/y/r',
  logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
});

describe('unit: plugin registry', () => {
  it('orders drivers after what they require (by id or by kind)', () => {
    const order = orderDrivers([
      driver('isolator.v1.ns', ['storage.v1']),
      driver('reactor.v1.audit', ['isolator.v1.ns']),
      driver('storage.v1.overlayfs'),
    ]).map((d) => d.driver.id);
    assert.deepEqual(order, ['storage.v1.overlayfs', 'isolator.v1.ns', 'reactor.v1.audit']);
  });

  it('refuses duplicate ids, naming both packages', () => {
    assert.throws(() => orderDrivers([driver('log.v1.x'), { ...driver('log.v1.x'), packageName: 'other' }]), (err: unknown) =>
      err instanceof PluginGraphError && /registered twice \(by pkg-log.v1.x and other\)/.test(err.message));
  });

  it('refuses cycles, naming the path', () => {
    assert.throws(() => orderDrivers([driver('a.v1.a', ['b.v1.b']), driver('b.v1.b', ['a.v1.a'])]), /cycle: a\.v1\.a -> b\.v1\.b -> a\.v1\.a/);
  });

  it('skipped is not failed; a driver whose requirement is not ok is skipped with the reason', async () => {
    const registry = new PluginRegistry();
    const records = await registry.initialise([
      driver('limiter.v1.cgroups', [], async () => ({ status: 'skipped', reason: 'no cgroup v2' })),
      driver('reactor.v1.stats', ['limiter.v1.cgroups']),
      driver('log.v1.broken', [], async () => { throw new Error('disk on fire'); }),
      driver('storage.v1.overlayfs'),
    ], context);
    const byId = Object.fromEntries(records.map((r) => [r.driver.id, r]));
    assert.equal(byId['limiter.v1.cgroups']!.status, 'skipped');
    assert.equal(byId['limiter.v1.cgroups']!.reason, 'no cgroup v2');
    assert.equal(byId['reactor.v1.stats']!.status, 'skipped');
    assert.match(byId['reactor.v1.stats']!.reason!, /requires limiter\.v1\.cgroups/);
    assert.equal(byId['log.v1.broken']!.status, 'error');
    assert.equal(byId['log.v1.broken']!.reason, 'disk on fire');
    assert.deepEqual(registry.okDrivers().map((d) => d.id), ['storage.v1.overlayfs']);
  });

  it('kinds are versioned and the start order is storage, limiter, network, log, isolator', () => {
    assert.equal(kindOf('storage.v1.overlayfs'), 'storage.v1');
    assert.deepEqual(START_ORDER, [DriverKinds.storage, DriverKinds.limiter, DriverKinds.network, DriverKinds.log, DriverKinds.isolator]);
  });
});

describe('unit: start pipeline', () => {
  it('runs steps in START_ORDER whatever order they are given in, and undoes the ones that ran in reverse on failure', async () => {
    const trail: string[] = [];
    const step = (kind: (typeof START_ORDER)[number], fail = false) => ({
      kind, driverId: `${kind}.test`,
      run: async () => { trail.push(`run ${kind}`); if (fail) throw new Error(`${kind} broke`); },
      undo: async () => { trail.push(`undo ${kind}`); },
    });
    await assert.rejects(
      runStartPipeline([step(DriverKinds.isolator, true), step(DriverKinds.log), step(DriverKinds.storage), step(DriverKinds.limiter)], () => undefined),
      (err: unknown) => err instanceof StartStepError && err.driverId === 'isolator.v1.test' && err.message === 'isolator.v1 broke',
    );
    assert.deepEqual(trail, [
      'run storage.v1', 'run limiter.v1', 'run log.v1', 'run isolator.v1',
      'undo log.v1', 'undo limiter.v1', 'undo storage.v1',
    ]);
  });
});
