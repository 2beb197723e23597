import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Container } from 'inversify';
import { readTar, writeTar } from '../../core/archive/index.js';
import { Driver, type DriverContext } from '../../core/plugins/driver.js';
import { OverlayfsStorage } from '../../plugins/storage-overlayfs/overlayfs-storage.js';
import storageOverlayfsModule from '../../plugins/storage-overlayfs/storage-overlayfs-module.js';
import { makeOverlayfsRoot } from '../fixtures/overlayfs-root.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { busyboxRootfsTar } from '../fixtures/test-image.js';
import { conformanceLayers, mountSpec, storageConformance, unmount } from '../storage-conformance.js';

storageConformance('overlayfs', () => new OverlayfsStorage());

const notRoot = process.getuid?.() !== 0 && 'needs root';

function digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function tarOf(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk);
      done();
    },
  });
  await writeTar(dir, sink);
  return Buffer.concat(chunks);
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the overlayfs plugin package', () => {
  it('binds one storage driver, storage.v1.overlayfs, under the Driver symbol', async () => {
    const container = new Container();
    await container.load(storageOverlayfsModule);
    const drivers = container.getAll<Driver>(Driver);
    assert.equal(drivers.length, 1);
    assert.ok(drivers[0] instanceof OverlayfsStorage);
    assert.equal(drivers[0]!.id, 'storage.v1.overlayfs');
    assert.equal(container.get<Driver>(Driver), drivers[0], 'a singleton');
  });
});

describe('overlayfs storage specifics', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let driver: OverlayfsStorage;
  let context: DriverContext;

  before(async () => {
    scratch = await makeScratchDir('overlayfs');
    ({ storage: driver, context } = await makeOverlayfsRoot(scratch.path));
  });

  after(async () => {
    await unmount(scratch.path);
    await scratch.dispose();
  });

  it('keeps layers and containers where docs/storage.md says, lower dirs topmost first', async () => {
    const { base, top } = await conformanceLayers();
    const [baseId, topId] = [digest(base), digest(top)];
    await driver.applyLayer(baseId, Readable.from([base]));
    await driver.applyLayer(topId, Readable.from([top]));
    const layer = (id: string): string => join(context.stateDir, 'layers', id.slice(7));
    assert.ok((await lstat(join(layer(topId), 'etc', 'gone'))).isCharacterDevice());
    const [spec] = await driver.prepare('layout', [baseId, topId]);
    const dir = join(context.stateDir, 'containers', 'layout');
    assert.deepEqual(spec, {
      type: 'overlay',
      source: 'overlay',
      target: join(dir, 'merged'),
      options: [`lowerdir=${layer(topId)}:${layer(baseId)}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`],
    });
    assert.deepEqual(await readdir(join(context.stateDir, 'tmp')), [], 'no half-unpacked layer left');
    await driver.remove('layout');
  });

  it('a container of no layers gets an empty lower dir', async () => {
    const [spec] = await driver.prepare('empty', []);
    await mountSpec(spec!);
    try {
      assert.deepEqual(await readdir(spec!.target), []);
    } finally {
      await driver.remove('empty');
    }
  });

  it('refuses ids that are not plain names', async () => {
    await assert.rejects(driver.prepare('../escape', []), /invalid container id/);
    assert.throws(() => driver.diff('a/b', []), /invalid container id/);
    await assert.rejects(driver.usage('../x'), /invalid container id/);
    await assert.rejects(driver.applyLayer('sha256:../../x', Readable.from([])), /invalid layer diff id/);
  });

  it('says when the overlay options would not fit in a page', async () => {
    const many = Array.from({ length: 60 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`);
    for (const id of many) await mkdir(join(context.stateDir, 'layers', id.slice(7)), { recursive: true });
    try {
      await assert.rejects(driver.prepare('too-many', many), /mount\(2\) accepts/);
    } finally {
      for (const id of many) await rmdir(join(context.stateDir, 'layers', id.slice(7)));
      await driver.remove('too-many');
    }
  });

  it('runs the busybox image: the test fixture layer unpacks and its shell works in a chroot', async () => {
    const image = await busyboxRootfsTar();
    await driver.applyLayer(image.diffId, createReadStream(image.path));
    const [spec] = await driver.prepare('busybox', [image.diffId]);
    await mountSpec(spec!);
    try {
      const out = execFileSync('chroot', [spec!.target, '/bin/sh', '-c', 'echo hello from $(basename $(readlink /bin/ls)); ls -d /tmp /proc'], { encoding: 'utf8' });
      assert.equal(out, 'hello from busybox\n/proc\n/tmp\n');
      assert.equal((await lstat(join(spec!.target, 'tmp'))).mode & 0o7777, 0o1777);
    } finally {
      await driver.remove('busybox');
      await driver.removeLayer(image.diffId);
    }
  });

  it("diff streams a container's changes as an OCI layer (overlay whiteouts converted) that recreates them on top of the image", async () => {
    const { base, top } = await conformanceLayers();
    const layers = [digest(base), digest(top)];
    await driver.applyLayer(layers[0]!, Readable.from([base]));
    await driver.applyLayer(layers[1]!, Readable.from([top]));
    const [spec] = await driver.prepare('changed', layers);
    await mountSpec(spec!);
    const merged = spec!.target;
    await rm(join(merged, 'etc', 'base-file'));
    await writeFile(join(merged, 'etc', 'added'), 'added');
    await rm(join(merged, 'bin'), { recursive: true });
    await mkdir(join(merged, 'bin'));
    await writeFile(join(merged, 'bin', 'only'), 'only');
    await unmount(merged);

    // diff: whiteouts are deletions, an opaque folder deletes what the layers had in it.
    assert.deepEqual(await driver.changes('changed', layers), [
      { path: '/bin', kind: 'modified' }, { path: '/bin/only', kind: 'added' }, { path: '/bin/tool', kind: 'deleted' },
      { path: '/etc', kind: 'modified' }, { path: '/etc/added', kind: 'added' }, { path: '/etc/base-file', kind: 'deleted' },
    ]);
    assert.deepEqual(await driver.changes('never-prepared', layers), []);

    const diff = await bytesOf(driver.diff('changed', layers));
    const names: string[] = [];
    for await (const { header } of readTar(Readable.from([diff]))) names.push(`${header.type} ${header.path}`);
    assert.ok(names.includes('file etc/.wh.base-file'), names.join(', '));
    assert.ok(names.includes('file bin/.wh..wh..opq'), names.join(', '));
    assert.ok(names.includes('file etc/added'));
    assert.ok(!names.some((n) => n.startsWith('char-device')), 'no overlay whiteout devices in an OCI layer');
    const upper = join(context.stateDir, 'containers', 'changed', 'upper');
    const plain = await tarOf(upper);
    const plainNames: string[] = [];
    for await (const { header } of readTar(Readable.from([plain]))) plainNames.push(`${header.type} ${header.path}`);
    assert.ok(plainNames.includes('char-device etc/base-file'), 'on disk, overlayfs says "deleted" with a 0/0 device');

    const view = await driver.mountReadOnly('changed', layers);
    const flatNames: string[] = [];
    try {
      for await (const { header } of readTar(Readable.from([await tarOf(view.path)]))) flatNames.push(`${header.type} ${header.path}`);
    } finally {
      await view.release();
    }
    assert.deepEqual(flatNames, [
      'directory bin', 'file bin/only', 'directory etc', 'file etc/added', 'file etc/shared', 'directory opq', 'file opq/new',
    ], 'docker export of the merged tree: no whiteouts, no hidden files');

    const diffId = digest(diff);
    await driver.applyLayer(diffId, Readable.from([diff]));
    const [again] = await driver.prepare('rebuilt', [...layers, diffId]);
    await mountSpec(again!);
    try {
      assert.equal(existsSync(join(again!.target, 'etc', 'base-file')), false);
      assert.equal(await readFile(join(again!.target, 'etc', 'added'), 'utf8'), 'added');
      assert.deepEqual(await readdir(join(again!.target, 'bin')), ['only']);
      assert.equal(await readFile(join(again!.target, 'etc', 'shared'), 'utf8'), 'from top');
    } finally {
      await driver.remove('rebuilt');
      await driver.remove('changed');
    }
  });

  it('init clears what a crash left in tmp/', async () => {
    const leftover = join(context.stateDir, 'tmp', 'layer-0123456789ab-crashed');
    await mkdir(join(leftover, 'etc'), { recursive: true });
    const again = new OverlayfsStorage();
    assert.deepEqual(await again.init(context), { status: 'ok' });
    assert.deepEqual(await readdir(join(context.stateDir, 'tmp')), []);
  });
});
