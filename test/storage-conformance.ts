import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it, type TestContext } from 'node:test';
import { readTar } from '../core/archive/index.js';
import { listsChanges, type DriverContext, type MountSpec, type StorageDriver } from '../core/plugins/driver.js';
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
 * A container's files as the suite reads and changes them, paths relative to its root: through the
 * kernel for a driver whose specs are mounts (the suite mounts them with mount(8) and uses the
 * files under the root's target), through the driver for one that keeps them in memory.
 */
export interface ContainerFiles {
  /** A file's content; rejects when it is not there. */
  read(path: string): Promise<string>;
  exists(path: string): Promise<boolean>;
  /** The names in a folder, sorted. */
  list(path: string): Promise<string[]>;
  /** The permission bits. */
  mode(path: string): Promise<number>;
  isDirectory(path: string): Promise<boolean>;
  write(path: string, data: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  /** Removes a file or a whole folder. */
  remove(path: string): Promise<void>;
}

/** The files of a mounted root, through the kernel. */
function mountedFiles(root: string): ContainerFiles {
  const at = (path: string): string => join(root, path);
  return {
    read: (path) => readFile(at(path), 'utf8'),
    exists: async (path) => existsSync(at(path)),
    list: async (path) => (await readdir(at(path))).sort(),
    mode: async (path) => (await lstat(at(path))).mode & 0o7777,
    isDirectory: async (path) => (await lstat(at(path)).catch(() => null))?.isDirectory() ?? false,
    write: (path, data) => writeFile(at(path), data),
    mkdir: async (path) => {
      await mkdir(at(path));
    },
    remove: (path) => rm(at(path), { recursive: true }),
  };
}

export interface StorageConformanceOptions<D extends StorageDriver> {
  /** For a driver whose `capabilities.rootfs` is 'memory': how the suite reaches a prepared container's files. */
  readonly files?: (driver: D, containerId: string) => ContainerFiles;
}

/**
 * The behaviour every storage.v1 driver must have, run against a fresh driver from `factory` in a
 * temporary data root. The contract, for every driver: layers applied once and checked against
 * their digest, `prepare` giving a root that shows the layers with their whiteouts applied,
 * idempotent, writes landing in the container's own layer only, `diff` an OCI layer that recreates
 * them on top of the image (and `changes`, when it declares `capabilities.changes`, and `usage` saying the same), `mountReadOnly` showing the
 * files until released, `held`, and `remove`/`removeLayer` leaving nothing, twice. Then the mount
 * cases, for a driver whose `capabilities.rootfs` says 'mount' (its own declaration decides, at registration):
 * the specs mount with mount(8), a read-only view refuses writes (EROFS) and leaves no mount, and
 * `remove` unmounts the root and a view left mounted. A 'mount' driver needs root; a driver whose
 * init says "skipped" skips the suite.
 */
export function storageConformance<D extends StorageDriver>(name: string, factory: () => D | Promise<D>, options: StorageConformanceOptions<D> = {}): void {
  describe(`storage driver conformance: ${name}`, async () => {
    // Made at registration (not initialised until `before`): its declared rootfs says which cases are its part.
    const driver = await factory();
    const mounts = driver.capabilities.rootfs === 'mount';
    let scratch: { path: string; dispose(): Promise<void> };
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

    /** Prepares a container and gives its files (its root mounted first when the driver's specs are mounts). */
    const prepared = async (id: string, on: readonly string[] = layers): Promise<{ specs: readonly MountSpec[]; files: ContainerFiles }> => {
      const specs = await driver.prepare(id, on);
      if (!mounts) {
        if (!options.files) throw new Error(`${driver.id} keeps its files in memory: storageConformance needs options.files to reach them`);
        return { specs, files: options.files(driver, id) };
      }
      const root = specs[0]!;
      if ((await mountsUnder(root.target)).length === 0) for (const spec of specs) await mountSpec(spec);
      return { specs, files: mountedFiles(root.target) };
    };

    before(async () => {
      scratch = await makeScratchDir(`storage-${name}`);
      context = {
        dataRoot: join(scratch.path, 'data'),
        execRoot: join(scratch.path, 'run'),
        stateDir: join(scratch.path, 'data', driver.id),
        runDir: join(scratch.path, 'run', driver.id),
        logger: { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
      };
      if (mounts && process.getuid?.() !== 0) {
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
      await driver.close?.();
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

    it('prepare gives a root that shows the layers, whiteouts applied', async (t) => {
      if (!need(t)) return;
      const { specs, files } = await prepared('c1');
      assert.ok(specs.length >= 1);
      assert.ok(specs[0]!.target.startsWith('/'), 'the root mount target is an absolute path');
      assert.equal(await files.read('etc/base-file'), 'base');
      assert.equal(await files.read('etc/shared'), 'from top');
      assert.equal(await files.exists('etc/gone'), false, 'a whiteout hides the lower file');
      assert.deepEqual(await files.list('opq'), ['new'], 'an opaque folder hides the lower content');
      assert.equal(await files.mode('bin/tool'), 0o755);
    });

    it("writes go to the container's own layer; a second container from the same layers does not see them", async (t) => {
      if (!need(t)) return;
      const c1 = (await prepared('c1')).files;
      await c1.write('etc/written', 'by c1');
      await c1.remove('etc/base-file');
      await c1.mkdir('new-dir');

      const c2 = await prepared('c2');
      assert.notEqual(c2.specs[0]!.target, (await driver.prepare('c1', layers))[0]!.target);
      assert.equal(await c2.files.exists('etc/written'), false);
      assert.equal(await c2.files.read('etc/base-file'), 'base');
      assert.equal(await c2.files.exists('new-dir'), false);
      if (mounts) await unmount(c2.specs[0]!.target);
    });

    it('prepare is idempotent: the same specs, the changes kept', async (t) => {
      if (!need(t)) return;
      const first = await driver.prepare('c1', layers);
      const again = await prepared('c1');
      assert.deepEqual(again.specs, first);
      assert.equal(await again.files.read('etc/written'), 'by c1');
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
      const c1 = (await prepared('c1')).files;
      await c1.remove('opq');
      await c1.mkdir('opq');
      await c1.write('opq/fresh', 'fresh');
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
      const c4 = await prepared('c4', [...layers, diffId]);
      try {
        assert.equal(await c4.files.read('etc/written'), 'by c1');
        assert.equal(await c4.files.exists('etc/base-file'), false);
        assert.equal(await c4.files.read('etc/shared'), 'from top');
        assert.deepEqual(await c4.files.list('opq'), ['fresh']);
        assert.ok(await c4.files.isDirectory('new-dir'));
      } finally {
        if (mounts) await unmount(c4.specs[0]!.target);
        await driver.remove('c4');
        await driver.removeLayer(diffId);
      }
    });

    it('changes (when the driver declares it) lists what diff holds, as docker diff does', async (t) => {
      if (!need(t)) return;
      if (!listsChanges(driver)) {
        t.skip('the driver does not declare capabilities.changes');
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

    it('mountReadOnly shows the container filesystem until released; releasing twice is fine', async (t) => {
      if (!need(t)) return;
      const view = await driver.mountReadOnly('c1', layers);
      try {
        assert.equal(await readFile(join(view.path, 'etc', 'written'), 'utf8'), 'by c1');
        assert.equal(await readFile(join(view.path, 'etc', 'shared'), 'utf8'), 'from top');
        assert.equal(existsSync(join(view.path, 'etc', 'base-file')), false);
        assert.deepEqual(await readdir(join(view.path, 'opq')), ['fresh']);
      } finally {
        await view.release();
      }
      await view.release();
      assert.equal(existsSync(view.path), false);
    });

    it('prepare refuses layers that were not applied', async (t) => {
      if (!need(t)) return;
      await assert.rejects(driver.prepare('c3', [baseId, digest(Buffer.from('never applied'))]), /not/);
    });

    if (mounts) {
      it('mounts: a read-only view refuses writes (EROFS) and leaves no mount once released', async (t) => {
        if (!need(t)) return;
        const view = await driver.mountReadOnly('c1', layers);
        try {
          await assert.rejects(writeFile(join(view.path, 'etc', 'nope'), 'x'), /EROFS/);
        } finally {
          await view.release();
        }
        assert.deepEqual(await mountsUnder(view.path), []);
      });
    }

    it('remove deletes everything the container had, views too; held() no longer lists it; again is a no-op', async (t) => {
      if (!need(t)) return;
      const { specs } = await prepared('c1');
      const root = specs[0]!.target;
      if (mounts) assert.ok((await mountsUnder(root)).length > 0, 'still mounted from an earlier test');
      const view = await driver.mountReadOnly('c1', layers); // left as it is on purpose
      assert.ok((await driver.held()).includes('c1'), 'held() lists the containers with a writable layer');
      await driver.remove('c1');
      assert.ok(!(await driver.held()).includes('c1'), 'and no longer after remove');
      assert.equal(existsSync(view.path), false, 'its view is gone');
      if (mounts) {
        assert.deepEqual(await mountsUnder(root), [], 'its root is unmounted');
        assert.deepEqual(await mountsUnder(view.path), [], 'its view is unmounted');
        assert.equal(existsSync(root), false);
      }
      assert.deepEqual(await driver.usage('c1'), { size: 0, inodes: 0 }, 'its writable layer is gone');
      assert.equal((await diffEntries(driver.diff('c1', layers))).size, 0, 'and so are its changes');
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
