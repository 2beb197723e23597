// Integration (root: owners and modes): the local volume driver passes the volume.v1 conformance
// suite (test/volume-conformance.ts), and binds a host folder with type=none,o=bind,device=.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalVolumeDriver } from '../../plugins/volume-local/local-volume-driver.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { volumeConformance } from '../volume-conformance.js';

volumeConformance('volume.v1.local', () => new LocalVolumeDriver(), {
  refusedOptions: [
    { size: '1g' }, { type: 'nfs', o: 'addr=127.0.0.1', device: ':/export' }, { type: 'none', device: '/srv' }, { type: 'none', o: 'bind' },
    { type: 'none', o: 'bind', device: 'relative' }, { type: 'none', o: 'bind,uid=1', device: '/srv' }, { type: 'tmpfs', o: 'size=lots' },
    { type: 'tmpfs', o: 'bind' }, { type: 'tmpfs', o: 'exec=1' }, { type: 'ext4' }, { type: 'ext4', device: '/dev/null', o: 'rbind' }, { type: 'zfs', device: '/dev/x' },
  ],
});

describe('volume.v1.local: a bind of a host folder (integration)', () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let driver: LocalVolumeDriver;
  before(async () => {
    scratch = await makeScratchDir('volume-local');
    driver = new LocalVolumeDriver();
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    await driver.init({ dataRoot: scratch.path, execRoot: scratch.path, stateDir: join(scratch.path, 'volume.v1.local'), runDir: join(scratch.path, 'run'), logger: quiet });
  });
  after(() => scratch.dispose());

  it('the mountpoint is the device; removing the volume never touches the device; usage is unknown (-1)', async () => {
    const device = join(scratch.path, 'host-folder');
    await assert.rejects(driver.create('bound', { type: 'none', o: 'bind', device }), /the device folder .* does not exist \(create it first\)/);
    await mkdir(device);
    await writeFile(join(device, 'keep'), 'host data');
    const made = await driver.create('bound', { type: 'none', o: 'bind', device });
    assert.equal(made.mountpoint, device);
    assert.deepEqual(await driver.held(), ['bound']);
    assert.deepEqual(await driver.usage('bound'), { size: -1 });
    await driver.remove('bound');
    assert.deepEqual(await readdir(device), ['keep']);
    assert.deepEqual(await driver.held(), []);
  });

  it('a tmpfs volume is mounted on demand (options and owner as asked), listed by mounted(), unmounted idempotently, its content gone', async () => {
    const options = { type: 'tmpfs', device: 'tmpfs', o: 'size=8m,mode=0750' };
    assert.equal(driver.mountsOnDemand(options), true);
    assert.equal(driver.mountsOnDemand({}), false);
    assert.equal(driver.mountsOnDemand({ type: 'none', o: 'bind', device: '/srv' }), false);
    const made = await driver.create('ram', options);
    assert.deepEqual(await driver.mounted(), []);
    await writeFile(join(made.mountpoint, 'under'), 'hidden while mounted');
    await driver.mount('ram', options, { uid: 4242, gid: 4343 });
    await driver.mount('ram', options, { uid: 4242, gid: 4343 });
    assert.deepEqual(await driver.mounted(), ['ram']);
    const line = (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((l) => l.split(' ')[1] === made.mountpoint);
    assert.equal(line.length, 1, 'mounted once');
    assert.match(line[0]!, /^tmpfs \S+ tmpfs \S*size=8192k/);
    const root = await stat(made.mountpoint);
    assert.deepEqual([root.uid, root.gid, root.mode & 0o7777], [4242, 4343, 0o750], 'uid and gid from the owner when o= does not say');
    await writeFile(join(made.mountpoint, 'in-ram'), 'x');
    await driver.unmount('ram');
    await driver.unmount('ram');
    assert.deepEqual(await driver.mounted(), []);
    assert.deepEqual(await readdir(made.mountpoint), ['under'], 'what the tmpfs held is gone');
    await driver.mount('ram', options);
    await driver.remove('ram');
    assert.deepEqual(await driver.mounted(), [], 'remove unmounts first');
    assert.deepEqual(await driver.held(), []);
  });

  it('keeps its folder private to root (0701) and each volume folder 0755', async () => {
    const made = await driver.create('modes', {});
    assert.equal((await stat(join(scratch.path, 'volume.v1.local'))).mode & 0o777, 0o701);
    assert.equal((await stat(made.mountpoint)).mode & 0o777, 0o755);
    await driver.remove('modes');
  });
});
