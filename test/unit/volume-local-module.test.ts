// Unit: the local volume driver is a plugin package of its own (plugins/volume-local), loaded like
// any other, implementing volume.v1 (its behaviour on disk: test/integration/volume-local.test.ts).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Container } from 'inversify';
import { Driver } from '../../core/plugins/driver.js';
import { loadDrivers } from '../../core/plugins/plugin-loader.js';
import { missingKindMethods } from '../../core/plugins/plugin-registry.js';
import type { VolumeDriver } from '../../core/plugins/volume-driver.js';
import volumeLocalModule from '../../plugins/volume-local/volume-local-module.js';

describe('unit: the local volume driver package', () => {
  it('contributes volume.v1.local, named "local", with every method of its kind', async () => {
    const container = new Container();
    await container.load(volumeLocalModule);
    const drivers = container.getAll<VolumeDriver>(Driver);
    assert.deepEqual(drivers.map((d) => [d.id, d.name]), [['volume.v1.local', 'local']]);
    assert.equal(missingKindMethods(drivers[0]!), '');
    assert.match(missingKindMethods({ id: 'volume.v1.half', init: async () => ({ status: 'ok' }) }), /does not implement volume\.v1: validateOptions, create, remove, usage, held missing/);
  });

  it('refuses options it does not take, naming those it does', () => {
    const container = new Container();
    container.loadSync(volumeLocalModule);
    const driver = container.getAll<VolumeDriver>(Driver)[0]!;
    driver.validateOptions({});
    driver.validateOptions({ type: 'none', o: 'bind', device: '/srv/data' });
    assert.throws(() => driver.validateOptions({ size: '10g' }), /^Error: invalid option "size" for volume driver local: it takes type, o, device/);
    driver.validateOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' });
    driver.validateOptions({ type: 'ext4', device: '/dev/loop0', o: 'noatime,commit=30' });
    assert.throws(() => driver.validateOptions({ type: 'nfs', o: 'addr=127.0.0.1', device: ':/srv' }), /^Error: volume driver local: type "nfs" \(a network file system\) is not supported: mount it on the host and use --opt type=none --opt o=bind/);
    assert.throws(() => driver.validateOptions({ type: 'tmpfs', o: 'size=64m,uid=me' }), /invalid tmpfs option "uid=me"/);
    assert.throws(() => driver.validateOptions({ type: 'tmpfs', o: 'exec,bind' }), /mount option "bind" is not supported with type=tmpfs/);
    assert.throws(() => driver.validateOptions({ type: 'ext4' }), /type=ext4 needs --opt device=\/dev\/BLOCK/);
    assert.throws(() => driver.validateOptions({ type: 'vfat', device: '/dev/sdz' }), /does not support type "vfat": it takes none .*, tmpfs, or ext2, ext3, ext4, xfs, btrfs/);
  });

  it('is loaded from its package.json like a third party, and is a built-in', async () => {
    const modulePath = fileURLToPath(new URL('../../plugins/volume-local/volume-local-module.js', import.meta.url));
    const { drivers, failures } = await loadDrivers([{ name: '@tiny-docker/volume-local', root: '.', modulePath, source: 'builtin' }], new Container());
    assert.deepEqual(failures, []);
    assert.deepEqual(drivers.map((d) => d.driver.id), ['volume.v1.local']);
    const pkg = JSON.parse(await readFile(new URL('../../../plugins/volume-local/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.name, '@tiny-docker/volume-local');
    assert.deepEqual(pkg.tinyDocker, { module: './volume-local-module.js' });
    const root = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { tinyDocker: { plugins: string[] } };
    assert.ok(root.tinyDocker.plugins.includes('./dist/plugins/volume-local'), 'a built-in');
  });
});
