import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { DriverContext, MountSpec, StorageDriver } from '../core/plugins/driver.js';
import { makeScratchDir } from './fixtures/scratch-dir.js';
import { buildTar } from './fixtures/tar-builder.js';

function sh(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, (error, _stdout, stderr) => (error ? reject(new Error(`${command} ${args.join(' ')}: ${stderr}`)) : resolve()));
  });
}

async function mountsUnder(path: string): Promise<string[]> {
  const table = await readFile('/proc/self/mounts', 'utf8');
  return table
    .split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((target) => target === path || target.startsWith(`${path}/`));
}

/** Mounts a spec the way an isolator would (here in the test's own mount namespace, with mount(8)). */
export async function mountSpec(spec: MountSpec): Promise<void> {
  await sh('mount', ['-t', spec.type, spec.source, '-o', spec.options.join(','), spec.target]);
}

export async function unmount(target: string): Promise<void> {
  for (const path of (await mountsUnder(target)).sort((a, b) => b.length - a.length)) await sh('umount', [path]);
}

function digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The two layers every storage driver is tried with: a base, and a top one with whiteouts. */
export async function conformanceLayers(): Promise<{ base: Buffer; top: Buffer }> {
  const base = await buildTar([
    [{ path: 'bin', type: 'directory' }],
    [{ path: 'bin/tool', type: 'file', mode: 0o755 }, '#!/bin/sh\necho tool\n'],
    [{ path: 'etc', type: 'directory' }],
    [{ path: 'etc/base-file', type: 'file' }, 'base'],
    [{ path: 'etc/gone', type: 'file' }, 'deleted by the top layer'],
    [{ path: 'etc/shared', type: 'file' }, 'from base'],
    [{ path: 'opq', type: 'directory' }],
    [{ path: 'opq/old', type: 'file' }, 'hidden by the opaque marker'],
  ]);
  const top = await buildTar([
    [{ path: 'etc', type: 'directory' }],
    [{ path: 'etc/.wh.gone', type: 'file' }],
    [{ path: 'etc/shared', type: 'file' }, 'from top'],
    [{ path: 'opq', type: 'directory' }],
    [{ path: 'opq/.wh..wh..opq', type: 'file' }],
    [{ path: 'opq/new', type: 'file' }, 'new'],
  ]);
  return { base, top };
}

/**
 * The behaviour every storage.v1 driver must have, run against a fresh driver from `factory` in a
 * temporary data root: layers applied once and checked against their digest, `prepare` giving
 * mount specs that work (mounted here with mount(8)) and are idempotent, writes landing in the
 * container's own layer only, read-only views, and `remove` leaving nothing behind. Needs root;
 * a driver whose init says "skipped" skips the suite.
 */
export function storageConformance(name: string, factory: () => StorageDriver | Promise<StorageDriver>): void {
  describe(`storage driver conformance: ${name}`, () => {
    let scratch: { path: string; dispose(): Promise<void> };
    let driver: StorageDriver;
    let context: DriverContext;
    let skipped: string | null = null;
    let baseId: string;
    let topId: string;
    let layers: readonly string[];
    let base: Buffer;
    let top: Buffer;
    const warnings: string[] = [];

    const need = (t: TestContext): boolean => {
      if (skipped !== null) t.skip(skipped);
      return skipped === null;
    };

    before(async () => {
      scratch = await makeScratchDir(`storage-${name}`);
      driver = await factory();
      context = {
        dataRoot: join(scratch.path, 'data'),
        execRoot: join(scratch.path, 'run'),
        stateDir: join(scratch.path, 'data', driver.id),
        runDir: join(scratch.path, 'run', driver.id),
        logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      };
      if (process.getuid?.() !== 0) {
        skipped = 'needs root';
        return;
      }
      const status = await driver.init(context);
      if (status.status === 'skipped') skipped = `the driver skipped itself: ${status.reason}`;
      ({ base, top } = await conformanceLayers());
      baseId = digest(base);
      topId = digest(top);
      layers = [baseId, topId];
    });

    after(async () => {
      if (scratch === undefined) return;
      await unmount(scratch.path);
      await driver?.close?.();
      await scratch.dispose();
      assert.deepEqual(await mountsUnder(scratch.path), []);
    });

    it('applies layers once, checked against their diff id', async (t) => {
      if (!need(t)) return;
      assert.equal(await driver.hasLayer(baseId), false);
      await driver.applyLayer(baseId, Readable.from([base]));
      await driver.applyLayer(topId, Readable.from([top]));
      assert.equal(await driver.hasLayer(baseId), true);
      assert.equal(await driver.hasLayer(topId), true);
      await driver.applyLayer(baseId, Readable.from([Buffer.from('not read again')])); // already there: a no-op
      const wrong = digest(Buffer.from('something else'));
      await assert.rejects(driver.applyLayer(wrong, Readable.from([base])), /digest/);
      assert.equal(await driver.hasLayer(wrong), false);
    });

    it('prepare gives a mount spec that shows the layers, whiteouts applied', async (t) => {
      if (!need(t)) return;
      const specs = await driver.prepare('c1', layers);
      assert.ok(specs.length >= 1);
      const root = specs[0]!;
      assert.ok(root.target.startsWith('/'), 'the root mount target is an absolute path');
      for (const spec of specs) await mountSpec(spec);
      const merged = root.target;
      assert.equal(await readFile(join(merged, 'etc', 'base-file'), 'utf8'), 'base');
      assert.equal(await readFile(join(merged, 'etc', 'shared'), 'utf8'), 'from top');
      assert.equal(existsSync(join(merged, 'etc', 'gone')), false, 'a whiteout hides the lower file');
      assert.deepEqual((await readdir(join(merged, 'opq'))).sort(), ['new'], 'an opaque folder hides the lower content');
      assert.equal((await lstat(join(merged, 'bin', 'tool'))).mode & 0o777, 0o755);
    });

    it("writes go to the container's own layer; a second container from the same layers does not see them", async (t) => {
      if (!need(t)) return;
      const [c1] = await driver.prepare('c1', layers);
      await writeFile(join(c1!.target, 'etc', 'written'), 'by c1');
      await rm(join(c1!.target, 'etc', 'base-file'));
      await mkdir(join(c1!.target, 'new-dir'));
      assert.equal(await readFile(join(driver.diffPath('c1'), 'etc', 'written'), 'utf8'), 'by c1');

      const c2Specs = await driver.prepare('c2', layers);
      for (const spec of c2Specs) await mountSpec(spec);
      const c2 = c2Specs[0]!.target;
      assert.notEqual(c2, c1!.target);
      assert.equal(existsSync(join(c2, 'etc', 'written')), false);
      assert.equal(await readFile(join(c2, 'etc', 'base-file'), 'utf8'), 'base');
      assert.equal(existsSync(join(c2, 'new-dir')), false);
      await unmount(c2);
    });

    it('prepare is idempotent: the same specs, the changes kept', async (t) => {
      if (!need(t)) return;
      const first = await driver.prepare('c1', layers);
      const again = await driver.prepare('c1', layers);
      assert.deepEqual(again, first);
      assert.equal(await readFile(join(driver.diffPath('c1'), 'etc', 'written'), 'utf8'), 'by c1');
    });

    it('mountReadOnly shows the container filesystem, read-only, until released', async (t) => {
      if (!need(t)) return;
      const view = await driver.mountReadOnly('c1', layers);
      try {
        assert.equal(await readFile(join(view.path, 'etc', 'written'), 'utf8'), 'by c1');
        assert.equal(await readFile(join(view.path, 'etc', 'shared'), 'utf8'), 'from top');
        assert.equal(existsSync(join(view.path, 'etc', 'base-file')), false);
        await assert.rejects(writeFile(join(view.path, 'etc', 'nope'), 'x'), /EROFS/);
      } finally {
        await view.release();
      }
      await view.release();
      assert.deepEqual(await mountsUnder(view.path), []);
      assert.equal(existsSync(view.path), false);
    });

    it('prepare refuses layers that were not applied', async (t) => {
      if (!need(t)) return;
      await assert.rejects(driver.prepare('c3', [baseId, digest(Buffer.from('never applied'))]), /not/);
    });

    it('remove unmounts and deletes everything the container had; again is a no-op', async (t) => {
      if (!need(t)) return;
      const [c1] = await driver.prepare('c1', layers);
      assert.ok((await mountsUnder(c1!.target)).length > 0, 'still mounted from an earlier test');
      const view = await driver.mountReadOnly('c1', layers); // left mounted on purpose
      const upper = driver.diffPath('c1');
      await driver.remove('c1');
      assert.deepEqual(await mountsUnder(c1!.target), []);
      assert.deepEqual(await mountsUnder(view.path), []);
      assert.equal(existsSync(upper), false);
      assert.equal(existsSync(c1!.target), false);
      await driver.remove('c1');
      await driver.remove('c2');
      await driver.remove('never-created');
      assert.equal(await driver.hasLayer(baseId), true, 'removing containers keeps the layers');
    });

    it('removeLayer deletes a layer; again is a no-op', async (t) => {
      if (!need(t)) return;
      await driver.removeLayer(topId);
      await driver.removeLayer(topId);
      await driver.removeLayer(baseId);
      assert.equal(await driver.hasLayer(topId), false);
      assert.equal(await driver.hasLayer(baseId), false);
      assert.deepEqual(await mountsUnder(scratch.path), []);
    });
  });
}
