import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listsChanges, type Driver, type DriverContext, type DriverStatus } from '../../core/plugins/driver.js';
import { hasOnDemandMounts, mountedOnDemand, type VolumeCapabilities, type VolumeDriver } from '../../core/plugins/volume-driver.js';
import { completeDriver } from '../fixtures/complete-driver.js';
import { MemoryStorage } from '../memory-storage.js';
import { PluginGraphError, PluginRegistry, missingKindMethods, orderDrivers, type RegisteredDriver } from '../../core/plugins/plugin-registry.js';
import { START_ORDER, DriverKinds, kindOf } from '../../core/plugins/kinds.js';

/** A driver of any kind: every method its kind requires is there (a no-op), as the registry checks, and its kind's capabilities. */
function driver(id: string, requires: string[] = [], init: () => Promise<DriverStatus> = async () => ({ status: 'ok' })): RegisteredDriver {
  return { driver: completeDriver({ id, requires, init }), packageName: `pkg-${id}` };
}

/** A driver with exactly these members (no proxy filling in the rest). */
function exactly(id: string, members: Readonly<Record<string, unknown>>): Driver {
  return { id, init: async () => ({ status: 'ok' }), ...members };
}
const noop = async (): Promise<undefined> => undefined;
const storageMethods = Object.fromEntries(['applyLayer', 'hasLayer', 'removeLayer', 'prepare', 'diff', 'usage', 'mountReadOnly', 'remove', 'held'].map((m) => [m, noop]));
const volumeMethods = { name: 'v', ...Object.fromEntries(['validateOptions', 'create', 'remove', 'usage', 'held'].map((m) => [m, noop])) };

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

  it('refuses, in one line, a driver that declares a capability without its methods', async () => {
    const registry = new PluginRegistry();
    const records = await registry.initialise([
      { driver: exactly('volume.v1.claims', { ...volumeMethods, capabilities: { onDemandMounts: true }, mount: noop }), packageName: 'claims' },
      { driver: exactly('storage.v1.claims', { ...storageMethods, capabilities: { rootfs: 'mount', changes: true } }), packageName: 'claims' },
      { driver: exactly('volume.v1.honest', { ...volumeMethods, capabilities: { onDemandMounts: false }, mount: noop }), packageName: 'honest' },
    ], context);
    const reason = (id: string): string | undefined => records.find((r) => r.driver.id === id)!.reason;
    assert.equal(reason('volume.v1.claims'), 'it declares the volume.v1 capability onDemandMounts without implementing mountsOnDemand, unmount, mounted');
    assert.equal(reason('storage.v1.claims'), 'it declares the storage.v1 capability changes without implementing changes');
    assert.deepEqual(records.map((r) => [r.driver.id, r.status]), [['storage.v1.claims', 'error'], ['volume.v1.claims', 'error'], ['volume.v1.honest', 'ok']]);
    assert.deepEqual(registry.allOf(DriverKinds.volume).map((d) => d.id), ['volume.v1.honest']);
    for (const r of records) assert.ok(!(r.reason ?? '').includes('\n'), 'one line');
  });

  it('keeps a storage.v1 or volume.v1 driver of the first interface (no capabilities) working: its capabilities taken from its shape, one warning each', async () => {
    const warnings: string[] = [];
    const registry = new PluginRegistry((m) => warnings.push(m));
    const onDemand = Object.fromEntries(['mountsOnDemand', 'mount', 'unmount', 'mounted'].map((m) => [m, noop]));
    const records = await registry.initialise([
      // The first storage.v1 interface: a `rootfs` property, `changes` optional.
      { driver: exactly('storage.v1.old', { ...storageMethods, rootfs: 'mount', changes: noop }), packageName: 'old-storage' },
      { driver: exactly('storage.v1.oldplain', { ...storageMethods, rootfs: 'memory' }), packageName: 'old-storage' },
      // The first volume.v1 interface: the four on-demand methods optional.
      { driver: exactly('volume.v1.oldtmpfs', { ...volumeMethods, name: 'oldtmpfs', ...onDemand, mountsOnDemand: () => true }), packageName: 'old-volume' },
      { driver: exactly('volume.v1.oldhalf', { ...volumeMethods, name: 'oldhalf', mount: noop }), packageName: 'old-volume' },
      // Neither shape: still refused.
      { driver: exactly('storage.v1.norootfs', storageMethods), packageName: 'broken' },
    ], context);
    assert.deepEqual(records.map((r) => [r.driver.id, r.status]), [
      ['storage.v1.norootfs', 'error'], ['storage.v1.old', 'ok'], ['storage.v1.oldplain', 'ok'], ['volume.v1.oldhalf', 'ok'], ['volume.v1.oldtmpfs', 'ok'],
    ]);
    assert.equal(records[0]!.reason, 'it does not declare its storage.v1 capabilities: add capabilities: {rootfs, changes}');
    const storage = Object.fromEntries(registry.allOf(DriverKinds.storage).map((d) => [d.id, d]));
    assert.deepEqual(storage['storage.v1.old']!.capabilities, { rootfs: 'mount', changes: true });
    assert.ok(listsChanges(storage['storage.v1.old']!));
    assert.deepEqual(storage['storage.v1.oldplain']!.capabilities, { rootfs: 'memory', changes: false });
    assert.ok(!listsChanges(storage['storage.v1.oldplain']!));
    const volumes = Object.fromEntries(registry.allOf(DriverKinds.volume).map((d) => [d.id, d]));
    assert.ok(hasOnDemandMounts(volumes['volume.v1.oldtmpfs']!));
    assert.ok(mountedOnDemand(volumes['volume.v1.oldtmpfs']!, { type: 'tmpfs' }));
    assert.deepEqual(volumes['volume.v1.oldhalf']!.capabilities, { onDemandMounts: false }, 'not all four methods: every volume is a folder');
    assert.deepEqual(warnings, [
      'driver storage.v1.old declares no capabilities (it was written for storage.v1\'s first interface): taken from its shape as {"rootfs":"mount","changes":true}; declare them (docs/writing-a-driver.md, section 1)',
      'driver storage.v1.oldplain declares no capabilities (it was written for storage.v1\'s first interface): taken from its shape as {"rootfs":"memory","changes":false}; declare them (docs/writing-a-driver.md, section 1)',
      'driver volume.v1.oldhalf declares no capabilities (it was written for volume.v1\'s first interface): taken from its shape as {"onDemandMounts":false}; declare them (docs/writing-a-driver.md, section 1)',
      'driver volume.v1.oldtmpfs declares no capabilities (it was written for volume.v1\'s first interface): taken from its shape as {"onDemandMounts":true}; declare them (docs/writing-a-driver.md, section 1)',
    ]);
  });

  it('refuses a driver of a kind with capabilities that declares none, a value the kind does not take, or one it does not know', () => {
    assert.equal(missingKindMethods(exactly('volume.v1.none', volumeMethods)), 'it does not declare its volume.v1 capabilities: add capabilities: {onDemandMounts}');
    assert.equal(missingKindMethods(exactly('storage.v1.disk', { ...storageMethods, capabilities: { rootfs: 'disk', changes: false } })),
      'its storage.v1 capability rootfs is "disk": it takes "mount" or "memory"');
    assert.equal(missingKindMethods(exactly('storage.v1.half', { ...storageMethods, capabilities: { rootfs: 'memory' } })),
      'its storage.v1 capability changes is undefined: it takes true or false');
    assert.equal(missingKindMethods(exactly('volume.v1.more', { ...volumeMethods, capabilities: { onDemandMounts: false, snapshots: true } })),
      'it declares snapshots, which volume.v1 does not know (its capabilities: onDemandMounts)');
    assert.equal(missingKindMethods(exactly('storage.v1.whole', { ...storageMethods, capabilities: { rootfs: 'memory', changes: true }, changes: noop })), '');
  });

  it('the engine goes by the declaration: methods a driver has without declaring them are not called', () => {
    const volume = (id: string, capabilities: VolumeCapabilities, extra: object): VolumeDriver => ({
      id, name: id, capabilities, init: async () => ({ status: 'ok' }), validateOptions: () => undefined, create: async () => ({ mountpoint: '/x' }),
      remove: async () => undefined, usage: async () => ({ size: 0 }), held: async () => [], ...extra,
    });
    const undeclared = volume('volume.v1.quiet', { onDemandMounts: false }, { mountsOnDemand: () => true });
    const declared = volume('volume.v1.tmp', { onDemandMounts: true }, { mountsOnDemand: (o: Readonly<Record<string, string>>) => o.type === 'tmpfs' });
    assert.equal(hasOnDemandMounts(undeclared), false);
    assert.equal(mountedOnDemand(undeclared, { type: 'tmpfs' }), false);
    assert.equal(hasOnDemandMounts(declared), true);
    assert.equal(mountedOnDemand(declared, { type: 'tmpfs' }), true);
    assert.equal(mountedOnDemand(declared, {}), false);
    assert.equal(listsChanges(new MemoryStorage()), true);
  });

  it('refuses a driver of an unknown kind', () => {
    assert.match(missingKindMethods({ id: 'gpu.v1.x', init: async () => ({ status: 'ok' }) }), /its kind gpu\.v1 is not one of/);
  });
});
