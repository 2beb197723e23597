import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Driver, DriverContext, DriverStatus } from '../../core/plugins/driver.js';
import { PluginGraphError, PluginRegistry, missingKindMethods, orderDrivers, type RegisteredDriver } from '../../core/plugins/plugin-registry.js';
import { START_ORDER, DriverKinds, kindOf } from '../../core/plugins/kinds.js';

/** The members of Driver that may be absent: the proxy below leaves them absent. */
const OPTIONAL: ReadonlySet<string | symbol> = new Set(['requires', 'onEvent', 'close', 'then']);
/** A driver of any kind: every method its kind requires is there (a no-op), as the registry checks. */
function driver(id: string, requires: string[] = [], init: () => Promise<DriverStatus> = async () => ({ status: 'ok' })): RegisteredDriver {
  const base: Driver = { id, requires, init };
  const d = new Proxy(base, { get: (target, key) => (key in target ? target[key as keyof Driver] : OPTIONAL.has(key) ? undefined : () => undefined) });
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

  it('kinds are versioned and the start order is storage, limiter, network and log together, then the isolator', () => {
    assert.equal(kindOf('storage.v1.overlayfs'), 'storage.v1');
    assert.deepEqual(START_ORDER, [[DriverKinds.storage, DriverKinds.limiter, DriverKinds.network, DriverKinds.log], [DriverKinds.isolator]]);
  });
});

describe('unit: typed driver lookup', () => {
  it('refuses a driver whose id names a kind it does not implement, naming what it lacks', async () => {
    const registry = new PluginRegistry();
    const bare: Driver = { id: 'storage.v1.half', init: async () => ({ status: 'ok' }) };
    const records = await registry.initialise([{ driver: bare, packageName: 'half' }, driver('storage.v1.whole')], context);
    const half = records.find((r) => r.driver.id === 'storage.v1.half')!;
    assert.equal(half.status, 'error');
    assert.match(half.reason!, /does not implement storage\.v1: applyLayer, .*prepare.*held missing/);
    assert.equal(missingKindMethods(bare), half.reason);
    assert.equal(registry.get(DriverKinds.storage)?.id, 'storage.v1.whole');
    assert.equal(registry.get(DriverKinds.limiter), undefined);
    assert.match(registry.whyMissing(DriverKinds.limiter), /no limiter\.v1 driver is installed/);
    assert.deepEqual(registry.allOf(DriverKinds.storage).map((d) => d.id), ['storage.v1.whole']);
  });

  it('refuses a driver of an unknown kind', () => {
    assert.match(missingKindMethods({ id: 'gpu.v1.x', init: async () => ({ status: 'ok' }) }), /its kind gpu\.v1 is not one of/);
  });
});
