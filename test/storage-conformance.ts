import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import { readTar } from '../core/archive/index.js';
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

/** The entries of a diff stream: path → type and, for files, content. */
async function diffEntries(diff: Readable): Promise<Map<string, { type: string; data: string }>> {
  const chunks: Buffer[] = [];
  for await (const chunk of diff) chunks.push(chunk as Buffer);
  const entries = new Map<string, { type: string; data: string }>();
  for await (const { header, body } of readTar(Readable.from([Buffer.concat(chunks)]))) {
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(Buffer.from(chunk));
    entries.set(header.path.replace(/\/$/, ''), { type: header.type, data: Buffer.concat(parts).toString() });
  }
  return entries;
}

async function streamBytes(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
 * container's own layer only, `diff` an OCI layer that recreates them on top of the image (and
 * `changes`, `usage` saying the same), read-only views, and `remove` leaving nothing behind.
 * Needs root; a driver whose init says "skipped" skips the suite.
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
      assert.equal(await readFile(join(first[0]!.target, 'etc', 'written'), 'utf8'), 'by c1');
    });

    it('usage counts the bytes and inodes of the writable layer only; zeros for a container that never started', async (t) => {
      if (!need(t)) return;
      assert.deepEqual(await driver.usage('never-started'), { size: 0, inodes: 0 });
      const usage = await driver.usage('c1');
      assert.equal(usage.size, 'by c1'.length, 'only etc/written holds bytes: the image layers are not counted');
      assert.ok(usage.inodes >= 3, `etc, etc/written and new-dir at least (got ${usage.inodes})`);
    });

    it('diff is an OCI layer: additions as entries, deletions as .wh. files, a replaced folder with .wh..wh..opq', async (t) => {
      if (!need(t)) return;
      const [c1] = await driver.prepare('c1', layers);
      await rm(join(c1!.target, 'opq'), { recursive: true });
      await mkdir(join(c1!.target, 'opq'));
      await writeFile(join(c1!.target, 'opq', 'fresh'), 'fresh');
      const entries = await diffEntries(driver.diff('c1', layers));
      assert.deepEqual(entries.get('etc/written'), { type: 'file', data: 'by c1' });
      assert.equal(entries.get('etc/.wh.base-file')?.type, 'file', 'a deletion is an empty .wh. file');
      assert.equal(entries.get('new-dir')?.type, 'directory');
      assert.equal(entries.get('opq/.wh..wh..opq')?.type, 'file', 'a replaced folder is marked opaque');
      assert.deepEqual(entries.get('opq/fresh'), { type: 'file', data: 'fresh' });
      assert.equal(entries.has('etc/shared'), false, 'what the container did not touch is not in its diff');
      for (const [path, entry] of entries) assert.notEqual(entry.type, 'char-device', `${path}: no storage-specific markers leave the driver`);
      const empty = await diffEntries(driver.diff('never-started', layers));
      assert.equal(empty.size, 0, 'a container that never started has an empty diff');
    });

    it("the diff applied as a layer on top of the image gives the container's filesystem", async (t) => {
      if (!need(t)) return;
      const diff = await streamBytes(driver.diff('c1', layers));
      const diffId = digest(diff);
      await driver.applyLayer(diffId, Readable.from([diff]));
      const specs = await driver.prepare('c4', [...layers, diffId]);
      for (const spec of specs) await mountSpec(spec);
      const merged = specs[0]!.target;
      try {
        assert.equal(await readFile(join(merged, 'etc', 'written'), 'utf8'), 'by c1');
        assert.equal(existsSync(join(merged, 'etc', 'base-file')), false);
        assert.equal(await readFile(join(merged, 'etc', 'shared'), 'utf8'), 'from top');
        assert.deepEqual(await readdir(join(merged, 'opq')), ['fresh']);
        assert.ok((await lstat(join(merged, 'new-dir'))).isDirectory());
      } finally {
        await unmount(merged);
        await driver.remove('c4');
        await driver.removeLayer(diffId);
      }
    });

    it('changes (when the driver has it) lists what diff holds, as docker diff does', async (t) => {
      if (!need(t)) return;
      if (!driver.changes) {
        t.skip('the driver has no changes()');
        return;
      }
      const changes = await driver.changes('c1', layers);
      const kinds = new Map(changes.map((c) => [c.path, c.kind]));
      assert.equal(kinds.get('/etc/written'), 'added');
      assert.equal(kinds.get('/etc/base-file'), 'deleted');
      assert.equal(kinds.get('/new-dir'), 'added');
      assert.equal(kinds.get('/opq/new'), 'deleted', 'the replaced folder hides what the layers had');
      assert.equal(kinds.get('/opq/fresh'), 'added');
      assert.deepEqual(changes.map((c) => c.path), [...changes.map((c) => c.path)].sort());
      assert.deepEqual(await driver.changes('never-started', layers), []);
    });

    it('mountReadOnly shows the container filesystem, read-only, until released', async (t) => {
      if (!need(t)) return;
      const view = await driver.mountReadOnly('c1', layers);
      try {
        assert.equal(await readFile(join(view.path, 'etc', 'written'), 'utf8'), 'by c1');
        assert.equal(await readFile(join(view.path, 'etc', 'shared'), 'utf8'), 'from top');
        assert.equal(existsSync(join(view.path, 'etc', 'base-file')), false);
        assert.deepEqual(await readdir(join(view.path, 'opq')), ['fresh']);
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
      assert.ok((await driver.held()).includes('c1'), 'held() lists the containers with a writable layer');
      await driver.remove('c1');
      assert.ok(!(await driver.held()).includes('c1'), 'and no longer after remove');
      assert.deepEqual(await mountsUnder(c1!.target), []);
      assert.deepEqual(await mountsUnder(view.path), []);
      assert.equal(existsSync(c1!.target), false);
      assert.deepEqual(await driver.usage('c1'), { size: 0, inodes: 0 }, 'its writable layer is gone');
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
