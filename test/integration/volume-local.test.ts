// Integration (root: owners and modes): the local volume driver passes the volume.v1 conformance
// suite (test/volume-conformance.ts), and binds a host folder with type=none,o=bind,device=.
import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalVolumeDriver } from '../../plugins/volume-local/local-volume-driver.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { volumeConformance } from '../volume-conformance.js';

volumeConformance('volume.v1.local', () => new LocalVolumeDriver(), {
  refusedOptions: [{ size: '1g' }, { type: 'tmpfs', device: 'tmpfs' }, { type: 'none', device: '/srv' }, { type: 'none', o: 'bind' }, { type: 'none', o: 'bind', device: 'relative' }, { type: 'none', o: 'bind,uid=1', device: '/srv' }],
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

  it('keeps its folder private to root (0701) and each volume folder 0755', async () => {
    const made = await driver.create('modes', {});
    assert.equal((await stat(join(scratch.path, 'volume.v1.local'))).mode & 0o777, 0o701);
    assert.equal((await stat(made.mountpoint)).mode & 0o777, 0o755);
    await driver.remove('modes');
  });
});
