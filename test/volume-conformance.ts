import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DriverContext } from '../core/plugins/driver.js';
import { DriverKinds } from '../core/plugins/kinds.js';
import type { VolumeDriver } from '../core/plugins/volume-driver.js';
import { makeScratchDir } from './fixtures/scratch-dir.js';

/** A new, not yet initialised driver, as the daemon's container would make it. */
export type VolumeDriverFactory = () => VolumeDriver;

/** What the suite needs to know about a driver beyond the interface. */
export interface VolumeDriverConformanceOptions {
  /** Options `validateOptions` must refuse (each with a one-line message naming what is wrong). */
  readonly refusedOptions: readonly Readonly<Record<string, string>>[];
}

/**
 * The volume.v1 conformance suite: what every volume driver must do, whatever it keeps volumes in.
 * `create` makes a folder containers can bind and is idempotent (a daemon that died midway calls
 * it again, and the data stays); `held` lists exactly what it keeps; `usage` measures; `remove`
 * deletes and is idempotent; bad options and names are refused before anything exists.
 */
export function volumeConformance(name: string, factory: VolumeDriverFactory, options: VolumeDriverConformanceOptions): void {
  describe(`volume.v1 conformance: ${name} (integration)`, () => {
    let scratch: { path: string; dispose(): Promise<void> };
    let driver: VolumeDriver;

    before(async () => {
      scratch = await makeScratchDir('volume-conformance');
      driver = factory();
      const stateDir = join(scratch.path, 'data', driver.id);
      const runDir = join(scratch.path, 'run', driver.id);
      await mkdir(runDir, { recursive: true });
      const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
      const context: DriverContext = { dataRoot: join(scratch.path, 'data'), execRoot: join(scratch.path, 'run'), stateDir, runDir, logger: quiet };
      assert.deepEqual(await driver.init(context), { status: 'ok' });
    });
    after(() => scratch.dispose());

    it('is a volume.v1 driver with a name --driver can select', () => {
      assert.ok(driver.id.startsWith(`${DriverKinds.volume}.`), driver.id);
      assert.match(driver.name, /^[a-z0-9][a-z0-9._-]*$/);
    });

    it('create gives a folder to bind, again the same one with the data kept; held lists it', async () => {
      const made = await driver.create('conf-a', {});
      assert.ok((await stat(made.mountpoint)).isDirectory());
      assert.deepEqual(await readdir(made.mountpoint), [], 'a new volume is empty');
      await writeFile(join(made.mountpoint, 'file'), 'twelve bytes');
      const again = await driver.create('conf-a', {});
      assert.equal(again.mountpoint, made.mountpoint);
      assert.equal(await readFile(join(again.mountpoint, 'file'), 'utf8'), 'twelve bytes');
      assert.deepEqual(await driver.held(), ['conf-a']);
    });

    it('usage measures the bytes of its files', async () => {
      const made = await driver.create('conf-a', {});
      await mkdir(join(made.mountpoint, 'sub'), { recursive: true });
      await writeFile(join(made.mountpoint, 'sub', 'more'), 'xyz');
      assert.deepEqual(await driver.usage('conf-a'), { size: 15 });
    });

    it('remove deletes the volume and is idempotent; held is empty after', async () => {
      const made = await driver.create('conf-b', {});
      await driver.remove('conf-b');
      await assert.rejects(stat(made.mountpoint), /ENOENT/);
      await driver.remove('conf-b');
      await driver.remove('never-made');
      assert.deepEqual(await driver.held(), ['conf-a']);
      await driver.remove('conf-a');
      assert.deepEqual(await driver.held(), []);
    });

    it('refuses bad options and names before anything exists, in one line', async () => {
      for (const bad of options.refusedOptions) {
        assert.throws(() => driver.validateOptions(bad), (err: Error) => !err.message.includes('\n'), JSON.stringify(bad));
        await assert.rejects(driver.create('conf-bad', bad));
      }
      for (const badName of ['', '..', 'a/b']) await assert.rejects(driver.create(badName, {}), /invalid volume name/);
      assert.deepEqual(await driver.held(), []);
    });
  });
}
