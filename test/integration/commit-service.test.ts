import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { containerStream, type ContainerConfig } from '../../events/index.js';
import { readTar } from '../../core/archive/index.js';
import type { DaemonConfig } from '../../core/daemon/daemon-config.js';
import { InvalidArgumentError } from '../../core/engine/errors.js';
import { EventStore } from '../../core/engine/event-store.js';
import { StoreImageService } from '../../core/engine/store-image-service.js';
import { MemoryEventLog } from '../../core/eventlog/index.js';
import { parseImageConfig } from '../../core/images/image-archive.js';
import { sha256Digest } from '../../core/images/image-config.js';
import type { DriverStatus, ExporterDriver, Logger, MountSpec, StorageDriver } from '../../core/plugins/driver.js';
import type { ContainerState } from '../../core/state/engine-state.js';
import { CommitExporter } from '../../plugins/exporter-commit/commit-exporter.js';
import { makeOverlayfsRoot } from '../fixtures/overlayfs-root.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { busyboxRootfsTar } from '../fixtures/test-image.js';

const run = promisify(execFile);
const needsRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? false : 'needs root (overlay mounts)';
const EMPTY_LAYER = sha256Digest(Buffer.alloc(1024));

interface Harness {
  readonly store: EventStore;
  readonly service: StoreImageService;
  readonly storage: StorageDriver;
  readonly warnings: string[];
}

/** The image service with the real overlayfs storage and commit exporter, over an in-memory log. */
async function makeHarness(root: string, exporter: ExporterDriver = new CommitExporter()): Promise<Harness> {
  const { dataRoot, execRoot, storage, registry, warnings } = await makeOverlayfsRoot(root, { others: [exporter] });
  const logger: Logger = { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const store = new EventStore(new MemoryEventLog());
  const config: DaemonConfig = { dataRoot, execRoot, socketPath: '', pidFile: '', packageRoot: '', version: 'test', builtinBusybox: false };
  return { store, service: new StoreImageService(store, registry, config, logger), storage, warnings };
}

/** Writes what it is told to (bad bytes, or a failure after some bytes) instead of a layer. */
class BrokenExporter implements ExporterDriver {
  readonly id = 'exporter.v1.broken';
  constructor(private readonly mode: 'garbage' | 'fail') {}
  async init(): Promise<DriverStatus> {
    return { status: 'ok' };
  }
  async exportDiff(diff: Readable, out: NodeJS.WritableStream): Promise<number> {
    diff.destroy(); // what it writes is not the container's diff
    const chunk = Buffer.alloc(64 * 1024, this.mode === 'garbage' ? 0xff : 0);
    const mode = this.mode;
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 128; i++) {
        if (mode === 'fail' && i === 3) throw new Error('the upper dir vanished');
        yield chunk;
      }
    }
    await pipeline(Readable.from(chunks()), out);
    return 128 * chunk.length;
  }
  async exportTree(): Promise<number> {
    throw new Error('not used');
  }
}

async function tarNames(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const { header, body } of readTar(createReadStream(path))) {
    for await (const chunk of body) void chunk;
    names.push(header.path);
  }
  return names;
}

describe('commit and export through the image service (integration)', { skip: needsRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let h: Harness;
  let baseId: string;
  const mounted: string[] = [];

  const createContainer = async (id: string, imageId: string, config: Partial<ContainerConfig> = {}): Promise<ContainerState> => {
    const full: ContainerConfig = {
      Cmd: ['sh', '-c', 'echo hi > /hello'], Entrypoint: null, Env: ['PATH=/bin', 'A=1'], WorkingDir: '/srv', User: '', Hostname: id.slice(0, 12),
      Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Labels: { team: 'core' },
      ...config,
    };
    await h.store.append(containerStream(id), [{
      type: 'ContainerCreated',
      data: { id, name: `c-${id.slice(0, 6)}`, image: { ref: imageId, id: imageId }, config: full, hostConfig: { AutoRemove: false, LogConfig: { Type: 'none', Config: {} } } },
    }], 'no-stream');
    return h.store.state().containers[id]!;
  };

  /** Mounts a container's overlay as its isolator would, runs `change` on the root, unmounts. */
  const changeContainer = async (c: ContainerState, change: (root: string) => Promise<void>): Promise<void> => {
    const image = h.store.state().images[c.image.id]!;
    const [spec] = (await h.storage.prepare(c.id, image.layers.map((l) => l.diffId))) as [MountSpec];
    await run('mount', ['-t', spec.type, spec.source, '-o', spec.options.join(','), spec.target]);
    mounted.push(spec.target);
    try {
      await change(spec.target);
    } finally {
      await run('umount', [spec.target]);
      mounted.pop();
    }
  };

  before(async () => {
    scratch = await makeScratchDir('commit-service');
    h = await makeHarness(scratch.path);
    baseId = await h.service.importImage((await busyboxRootfsTar()).path, { repo: 'base', tag: 'v1', changes: ['ENV BASE=1', 'EXPOSE 80'] });
  });

  after(async () => {
    for (const target of mounted.reverse()) await run('umount', ['-l', target]).catch(() => undefined);
    await scratch?.dispose();
  });

  it("commits the container's changes as a new layer on its image, with its config, the changes and a history entry", async () => {
    const c = await createContainer('a'.repeat(64), baseId);
    await changeContainer(c, async (root) => {
      await writeFile(join(root, 'hello'), 'hi\n');
      await rm(join(root, 'etc/hosts'));
      await rm(join(root, 'home'), { recursive: true });
      await mkdir(join(root, 'home'));
    });
    const progress: number[] = [];
    const id = await h.service.commit(h.store.state().containers[c.id]!, h.storage, {
      repo: 'docker.io/library/snap', tag: 'v1', comment: 'first snapshot', author: 'Ada <ada@example.com>',
      changes: ['ENV B=2', 'CMD ["cat", "/hello"]'],
    }, (p) => progress.push(p.current));

    const base = h.store.state().images[baseId]!;
    const image = h.store.state().images[id]!;
    assert.equal(image.origin, 'commit');
    assert.equal(image.parent, baseId);
    assert.equal(image.source, c.id);
    assert.deepEqual(image.tags, ['snap:v1']);
    assert.equal(image.layers.length, base.layers.length + 1);
    assert.deepEqual(image.layers.slice(0, -1), base.layers);
    assert.deepEqual(image.config, {
      Env: ['PATH=/bin', 'A=1', 'B=2'], Cmd: ['cat', '/hello'], Entrypoint: null, WorkingDir: '/srv', User: '', Labels: { team: 'core' },
      ExposedPorts: { '80/tcp': {} },
    });
    assert.equal(image.history.length, base.history.length + 1);
    assert.deepEqual({ ...image.history.at(-1)!, created: '' }, { created: '', created_by: 'sh -c echo hi > /hello', comment: 'first snapshot', author: 'Ada <ada@example.com>' });
    assert.ok(progress.length > 0 && progress.at(-1) === image.layers.at(-1)!.size);

    // The config blob is the image id's content and lists the layers.
    const blob = await h.service.content.readBlob(id);
    assert.equal(sha256Digest(blob), id);
    assert.deepEqual(parseImageConfig(blob).diffIds, image.layers.map((l) => l.diffId));

    // The new layer holds exactly the changes.
    const names = await tarNames(h.service.content.blobPath(image.layers.at(-1)!.diffId));
    assert.deepEqual(names.sort(), ['etc', 'etc/.wh.hosts', 'hello', 'home', 'home/.wh..wh..opq'].sort());
    // Stored, not unpacked yet: the first container of the image unpacks it (resolveForCreate).
    assert.equal(await h.storage.hasLayer(image.layers.at(-1)!.diffId), false);
    assert.equal((await h.service.resolveForCreate('snap:v1')).id, id);
    assert.ok(await h.storage.hasLayer(image.layers.at(-1)!.diffId));

    // A container of the new image sees them.
    const d = await createContainer('b'.repeat(64), id);
    await changeContainer(d, async (root) => {
      assert.equal(await readFile(join(root, 'hello'), 'utf8'), 'hi\n');
      await assert.rejects(readFile(join(root, 'etc/hosts')), { code: 'ENOENT' });
      assert.equal(await readFile(join(root, 'etc/passwd'), 'utf8').then((s) => s.startsWith('root:')), true);
    });
  });

  it('tags a repo given without a tag as latest, and commits a container that never ran as an empty layer', async () => {
    const c = await createContainer('c'.repeat(64), baseId);
    const id = await h.service.commit(c, h.storage, { repo: 'docker.io/library/plain', tag: '' });
    const image = h.store.state().images[id]!;
    assert.deepEqual(image.tags, ['plain:latest']);
    assert.equal(image.layers.at(-1)!.diffId, EMPTY_LAYER);
    assert.equal(image.layers.at(-1)!.size, 1024);
    // Without a repo: an untagged image.
    const untagged = await h.service.commit(c, h.storage, {});
    assert.deepEqual(h.store.state().images[untagged]!.tags, []);
  });

  it('refuses an invalid change before writing anything', async () => {
    const c = await createContainer('d'.repeat(64), baseId);
    const before = Object.keys(h.store.state().images).length;
    await assert.rejects(h.service.commit(c, h.storage, { changes: ['RUN rm -rf /'] }), InvalidArgumentError);
    assert.equal(Object.keys(h.store.state().images).length, before);
  });

  it('fails a commit without hanging when the layer cannot be stored, or the exporter fails', async () => {
    for (const mode of ['garbage', 'fail'] as const) {
      const other = await makeHarness(join(scratch.path, mode), new BrokenExporter(mode));
      const imageId = await other.service.importImage((await busyboxRootfsTar()).path, {});
      const id = '8'.repeat(64);
      await other.store.append(containerStream(id), [{
        type: 'ContainerCreated',
        data: { id, name: 'broken', image: { ref: imageId, id: imageId }, config: h.store.state().containers['a'.repeat(64)]!.config, hostConfig: { AutoRemove: false, LogConfig: { Type: 'none', Config: {} } } },
      }], 'no-stream');
      const before = Object.keys(other.store.state().images).length;
      await assert.rejects(other.service.commit(other.store.state().containers[id]!, other.storage, { repo: 'x' }),
        mode === 'garbage' ? /not a valid tar archive/ : /the upper dir vanished/);
      assert.equal(Object.keys(other.store.state().images).length, before);
    }
  });

  it("exports a container's whole filesystem (docker export) through a read-only mount it releases", async () => {
    const c = await createContainer('e'.repeat(64), baseId);
    await changeContainer(c, async (root) => {
      await writeFile(join(root, 'exported'), 'yes');
      await rm(join(root, 'etc/group'));
    });
    const out = join(scratch.path, 'export.tar');
    const progress: number[] = [];
    await h.service.exportContainer(c, h.store.state().images[baseId]!, h.storage, createWriteStream(out), (p) => progress.push(p.current));
    const names = await tarNames(out);
    assert.ok(names.includes('exported'));
    assert.ok(names.includes('bin/busybox'));
    assert.ok(!names.includes('etc/group'));
    assert.ok(names.every((n) => !n.includes('.wh.')));
    assert.ok(progress.length > 0);
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.includes(scratch.path), 'the read-only view is unmounted');

    // A container that never ran exports its image's filesystem.
    const fresh = await createContainer('f'.repeat(64), baseId);
    const out2 = join(scratch.path, 'export2.tar');
    await h.service.exportContainer(fresh, h.store.state().images[baseId]!, h.storage, createWriteStream(out2));
    assert.ok((await tarNames(out2)).includes('etc/group'));
  });

  it('fails an export whose output breaks, without hanging and with the view released', async () => {
    const c = await createContainer('9'.repeat(64), baseId);
    let written = 0;
    const broken = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _e, done) {
        written += chunk.length;
        if (written > 64 * 1024) done(new Error('client went away'));
        else setImmediate(done);
      },
    });
    await assert.rejects(h.service.exportContainer(c, h.store.state().images[baseId]!, h.storage, broken), /client went away/);
    const mounts = await readFile('/proc/self/mounts', 'utf8');
    assert.ok(!mounts.includes(scratch.path), 'the read-only view is unmounted');
  });
});
