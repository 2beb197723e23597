import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { containerStream } from '../../events/index.js';
import { readTar } from '../../core/archive/index.js';
import type { DaemonConfig } from '../../core/daemon/daemon-config.js';
import { InvalidArgumentError } from '../../core/engine/errors.js';
import { EventStore } from '../../core/engine/event-store.js';
import { StoreImageService } from '../../core/engine/store-image-service.js';
import { MemoryEventLog } from '../../core/eventlog/index.js';
import { sha256Digest } from '../../core/images/image-config.js';
import type { Logger, MountSpec, StorageDriver } from '../../core/plugins/driver.js';
import type { ImageState } from '../../core/state/engine-state.js';
import { CommitExporter } from '../../plugins/exporter-commit/commit-exporter.js';
import { makeOverlayfsRoot } from '../fixtures/overlayfs-root.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

const run = promisify(execFile);
const needsRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? false : 'needs root (overlay mounts)';

interface Harness {
  readonly store: EventStore;
  readonly service: StoreImageService;
  readonly storage: StorageDriver;
}

/** The image service over a data root, with the real overlayfs storage and commit exporter. */
async function makeHarness(root: string): Promise<Harness> {
  const logger: Logger = { info: () => undefined, warn: () => undefined, error: (m) => console.error(m) };
  const { dataRoot, execRoot, storage, registry } = await makeOverlayfsRoot(root, { others: [new CommitExporter()], logger });
  const store = new EventStore(new MemoryEventLog());
  const config: DaemonConfig = { dataRoot, execRoot, socketPath: '', pidFile: '', packageRoot: '', version: 'test', builtinBusybox: false };
  return { store, service: new StoreImageService(store, registry, config, logger), storage };
}

async function tarFiles(path: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for await (const { header, body } of readTar(createReadStream(path))) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    if (header.type === 'file') files.set(header.path, Buffer.concat(chunks));
  }
  return files;
}

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { maxBuffer: 64 << 20 });
  return stdout;
}

const hasSkopeo = await run('skopeo', ['--version']).then(() => true, () => false);
const needsSkopeo = hasSkopeo ? false : 'skopeo is not installed';

/** What must survive a save and a load. */
function essence(image: ImageState): unknown {
  return { id: image.id, layers: image.layers, config: image.config, history: image.history, created: image.created, architecture: image.architecture, os: image.os };
}

describe('save and load (integration)', { skip: needsRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let source: Harness;
  let v1: string;
  let v2: string;
  let saved: string;
  const mounted: string[] = [];

  /** A fresh data root that loads `archive`. */
  const loadFresh = async (name: string, archive: string | Buffer): Promise<{ h: Harness; loaded: readonly string[] }> => {
    const h = await makeHarness(join(scratch.path, name));
    const stream = typeof archive === 'string' ? createReadStream(archive) : Readable.from([archive]);
    return { h, loaded: await h.service.load(stream) };
  };

  before(async () => {
    scratch = await makeScratchDir('image-archive');
    source = await makeHarness(join(scratch.path, 'source'));
    // A tiny image from a small tar...
    const tar = join(scratch.path, 'tiny.tar');
    await writeFile(tar, await buildTar([
      [{ path: 'bin', type: 'directory', mode: 0o755 }],
      [{ path: 'bin/hello', type: 'file', mode: 0o755 }, '#!/bin/sh\necho hello\n'],
      [{ path: 'etc', type: 'directory', mode: 0o755 }],
      [{ path: 'etc/motd', type: 'file', mode: 0o644 }, 'welcome\n'],
      [{ path: 'etc/old', type: 'file', mode: 0o644 }, 'old\n'],
      [{ path: 'link', type: 'symlink', linkname: 'etc/motd' }],
    ]));
    v1 = await source.service.importImage(tar, { repo: 'tiny', tag: 'v1', changes: ['CMD ["/bin/hello"]', 'LABEL a=b'] });
    // ...and a second layer on top of it, committed from a container that changed and deleted files.
    const id = '1'.repeat(64);
    await source.store.append(containerStream(id), [{
      type: 'ContainerCreated',
      data: {
        id, name: 'maker', image: { ref: 'tiny:v1', id: v1 },
        config: {
          Cmd: ['/bin/hello'], Entrypoint: null, Env: ['PATH=/bin'], WorkingDir: '/', User: '', Hostname: 'maker', Tty: false, OpenStdin: false,
          StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Labels: { a: 'b' },
        },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'none', Config: {} } },
      },
    }], 'no-stream');
    const [spec] = (await source.storage.prepare(id, source.store.state().images[v1]!.layers.map((l) => l.diffId))) as [MountSpec];
    await run('mount', ['-t', spec.type, spec.source, '-o', spec.options.join(','), spec.target]);
    mounted.push(spec.target);
    await writeFile(join(spec.target, 'etc/motd'), 'changed\n');
    await rm(join(spec.target, 'etc/old'));
    await run('umount', [spec.target]);
    mounted.pop();
    v2 = await source.service.commit(source.store.state().containers[id]!, source.storage, { repo: 'docker.io/library/tiny', tag: 'v2' });
    await source.service.tag(v2, 'localhost:5000/team/tiny', 'v2');

    saved = join(scratch.path, 'saved.tar');
    const progress: number[] = [];
    await source.service.save(['tiny:v1', 'tiny:v2', 'localhost:5000/team/tiny:v2'], createWriteStream(saved), (p) => progress.push(p.current));
    assert.ok(progress.length > 0);
  });

  after(async () => {
    for (const target of mounted.reverse()) await run('umount', ['-l', target]).catch(() => undefined);
    await scratch?.dispose();
  });

  it('writes a docker-archive and an OCI layout in one tar, every blob named by its digest', async () => {
    const files = await tarFiles(saved);
    for (const name of ['manifest.json', 'index.json', 'oci-layout', 'repositories']) assert.ok(files.has(name), name);
    for (const [name, data] of files) {
      if (name.startsWith('blobs/sha256/')) assert.equal(sha256Digest(data), `sha256:${name.slice('blobs/sha256/'.length)}`, name);
    }
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags), [['tiny:v1'], ['tiny:v2', 'localhost:5000/team/tiny:v2']]);
    assert.equal(manifest[1]!.Config, `blobs/sha256/${v2.slice(7)}`);
    assert.equal(manifest[1]!.Layers.length, 2);
    // The config blob is the stored config, byte for byte.
    assert.deepEqual(files.get(manifest[1]!.Config), await source.service.content.readBlob(v2));
  });

  it('loads into a fresh data root with the same ids, layers, configs and tags', async () => {
    const { h, loaded } = await loadFresh('fresh', saved);
    assert.deepEqual(loaded, ['tiny:v1', 'tiny:v2', 'localhost:5000/team/tiny:v2']);
    for (const id of [v1, v2]) {
      const before_ = source.store.state().images[id]!;
      const after_ = h.store.state().images[id];
      assert.ok(after_, `${id} is loaded`);
      assert.deepEqual(essence(after_), essence(before_));
      assert.equal(after_.origin, 'load');
      assert.deepEqual(after_.tags, before_.tags);
      assert.deepEqual(await h.service.content.readBlob(id), await source.service.content.readBlob(id));
      for (const l of after_.layers) assert.ok(await h.storage.hasLayer(l.diffId), l.diffId);
    }
    // Loading again changes nothing.
    const events = h.store.state().position;
    assert.deepEqual(await h.service.load(createReadStream(saved)), loaded);
    assert.equal(h.store.state().position, events);
    // An image removed (with its blobs and unpacked layers) comes back whole.
    await h.service.remove('tiny:v1', true);
    assert.equal(h.store.state().images[v1], undefined);
    await h.service.load(createReadStream(saved));
    assert.deepEqual(essence(h.store.state().images[v1]!), essence(source.store.state().images[v1]!));
    assert.deepEqual(h.store.state().images[v1]!.tags, ['tiny:v1']);
    for (const l of h.store.state().images[v1]!.layers) assert.ok(await h.storage.hasLayer(l.diffId), l.diffId);
  });

  it('saves every tag of a repository named alone, and an image named by id without tags', async () => {
    const byName = join(scratch.path, 'by-name.tar');
    await source.service.save(['tiny'], createWriteStream(byName));
    const manifest = JSON.parse((await tarFiles(byName)).get('manifest.json')!.toString()) as { RepoTags: string[] | null }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags), [['tiny:v1'], ['tiny:v2']]);
    const byId = join(scratch.path, 'by-id.tar');
    await source.service.save([v2.slice(7, 19)], createWriteStream(byId));
    const files = await tarFiles(byId);
    assert.equal((JSON.parse(files.get('manifest.json')!.toString()) as { RepoTags: null }[])[0]!.RepoTags, null);
    assert.equal(files.has('repositories'), false);
    const { h, loaded } = await loadFresh('by-id', byId);
    assert.deepEqual(loaded, [v2]);
    assert.deepEqual(h.store.state().images[v2]!.tags, []);
  });

  it('loads a gzip-compressed archive (docker save | gzip)', async () => {
    const { loaded } = await loadFresh('gzip', gzipSync(await readFile(saved)));
    assert.deepEqual(loaded, ['tiny:v1', 'tiny:v2', 'localhost:5000/team/tiny:v2']);
  });

  it('loads the layout docker wrote before version 25 (<id>/layer.tar, symlinked repeats, <hex>.json configs)', async () => {
    const image = source.store.state().images[v2]!;
    const layer = (i: number): Promise<Buffer> => readFile(source.service.content.blobPath(image.layers[i]!.diffId));
    const config = await source.service.content.readBlob(v2);
    const [a, b] = ['a'.repeat(64), 'b'.repeat(64)];
    const legacy = await buildTar([
      [{ path: `${a}`, type: 'directory', mode: 0o755 }],
      [{ path: `${a}/VERSION`, type: 'file', mode: 0o644 }, '1.0'],
      [{ path: `${a}/json`, type: 'file', mode: 0o644 }, '{}'],
      [{ path: `${a}/layer.tar`, type: 'file', mode: 0o644 }, await layer(0)],
      [{ path: `${b}`, type: 'directory', mode: 0o755 }],
      [{ path: `${b}/layer.tar`, type: 'file', mode: 0o644 }, await layer(1)],
      [{ path: 'c'.repeat(64), type: 'directory', mode: 0o755 }],
      [{ path: `${'c'.repeat(64)}/layer.tar`, type: 'symlink', linkname: `../${a}/layer.tar` }],
      [{ path: `${v2.slice(7)}.json`, type: 'file', mode: 0o644 }, config],
      [{ path: 'manifest.json', type: 'file', mode: 0o644 }, JSON.stringify([{ Config: `${v2.slice(7)}.json`, RepoTags: ['old:style'], Layers: [`${'c'.repeat(64)}/layer.tar`, `${b}/layer.tar`] }])],
      [{ path: 'repositories', type: 'file', mode: 0o644 }, JSON.stringify({ old: { style: b } })],
    ]);
    const { h, loaded } = await loadFresh('legacy', legacy);
    assert.deepEqual(loaded, ['old:style']);
    assert.deepEqual(essence(h.store.state().images[v2]!), essence(image));
  });

  it('refuses an archive whose layer is not what the config says, and records nothing', async () => {
    const files = await tarFiles(saved);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    const entry = manifest[1]!;
    const wrongLayer = files.get(entry.Layers[0]!)!;
    const bad = await buildTar([
      [{ path: 'manifest.json', type: 'file', mode: 0o644 }, JSON.stringify([{ ...entry, Layers: [entry.Layers[1], entry.Layers[0]] }])],
      [{ path: entry.Config, type: 'file', mode: 0o644 }, files.get(entry.Config)!],
      [{ path: entry.Layers[0]!, type: 'file', mode: 0o644 }, wrongLayer],
      [{ path: entry.Layers[1]!, type: 'file', mode: 0o644 }, files.get(entry.Layers[1]!)!],
    ]);
    const h = await makeHarness(join(scratch.path, 'bad'));
    await assert.rejects(h.service.load(Readable.from([bad])), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.match(err.message, /^invalid image archive: invalid diffID for layer 0: expected "sha256:[a-f0-9]{64}", got "sha256:[a-f0-9]{64}"/);
      return true;
    });
    assert.deepEqual(h.store.state().images, {});
    // The same archive into the store that has both layers: the files are still read and checked, not skipped by the diff ids.
    const before = Object.keys(source.store.state().images).sort();
    await assert.rejects(source.service.load(Readable.from([bad])), /^InvalidArgumentError: invalid image archive: invalid diffID for layer 0: /);
    assert.deepEqual(Object.keys(source.store.state().images).sort(), before);
    await assert.rejects(h.service.load(Readable.from([Buffer.from('not a tar at all'.repeat(64))])), InvalidArgumentError);
    const gzipped = gzipSync(await readFile(saved));
    await assert.rejects(h.service.load(Readable.from([gzipped.subarray(0, gzipped.length >> 1)])), /invalid image archive: the gzip-compressed archive is corrupt/);
  });

  describe('with skopeo', { skip: needsSkopeo }, () => {
    it('skopeo reads the archive as a docker-archive', async () => {
      const info = JSON.parse(await skopeo('inspect', `docker-archive:${saved}:tiny:v2`)) as { Layers: string[]; Architecture: string; Os: string; Labels: Record<string, string> };
      const image = source.store.state().images[v2]!;
      assert.deepEqual(info.Layers, image.layers.map((l) => l.diffId));
      assert.equal(info.Os, 'linux');
      assert.deepEqual(info.Labels, { a: 'b' });
      const config = await skopeo('inspect', '--config', '--raw', `docker-archive:${saved}:tiny:v2`);
      assert.equal(sha256Digest(config), v2);
    });

    it('skopeo reads the extracted archive as an OCI layout', async () => {
      const dir = join(scratch.path, 'oci-dir');
      await mkdir(dir);
      await run('tar', ['-xf', saved, '-C', dir]);
      const config = await skopeo('inspect', '--config', '--raw', `oci:${dir}:v1`);
      assert.equal(sha256Digest(config), v1);
      const manifest = JSON.parse(await skopeo('inspect', '--raw', `oci:${dir}:v1`)) as { mediaType: string; config: { digest: string } };
      assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal(manifest.config.digest, v1);
    });

    it('loads what skopeo writes: docker-archive (same id), oci-archive with plain and gzip layers (the config skopeo rewrote)', async () => {
      // docker-archive to docker-archive keeps the config bytes, so the image id.
      const dockerArchive = join(scratch.path, 'skopeo-docker.tar');
      await skopeo('copy', `docker-archive:${saved}:tiny:v2`, `docker-archive:${dockerArchive}:again:v4`);
      const docker = await loadFresh('skopeo-docker', dockerArchive);
      assert.deepEqual(docker.loaded, ['again:v4']);
      assert.deepEqual(essence(docker.h.store.state().images[v2]!), essence(source.store.state().images[v2]!));

      // Converting to OCI, skopeo re-serialises the config (dropping empty fields): a new id, the same content.
      // skopeo rewrites times in Go's shortest form ("…49.78Z" for "…49.780Z"): the same instant.
      const instants = (image: ImageState): ImageState => ({
        ...image,
        created: new Date(image.created).toISOString(),
        history: image.history.map((h) => ({ ...h, created: new Date(h.created).toISOString() })),
      });
      const sameContent = (image: ImageState | undefined, id: string): void => {
        assert.ok(image, 'the image is loaded');
        const { id: _a, ...loaded } = essence(instants(image)) as Record<string, unknown>;
        const { id: _b, ...original } = essence(instants(source.store.state().images[id]!)) as Record<string, unknown>;
        assert.deepEqual(loaded, original);
      };
      for (const [name, flags, ref, id] of [
        ['skopeo-oci', [], 'skopeo/tiny:v3', v2],
        ['skopeo-gzip', ['--dest-compress', '--dest-compress-format', 'gzip'], 'gz:1', v1],
      ] as const) {
        const archive = join(scratch.path, `${name}.tar`);
        await skopeo('copy', ...flags, `docker-archive:${saved}:${id === v1 ? 'tiny:v1' : 'tiny:v2'}`, `oci-archive:${archive}:${ref}`);
        const manifest = JSON.parse(await skopeo('inspect', '--raw', `oci-archive:${archive}:${ref}`)) as { layers: { mediaType: string }[] };
        if (flags.length > 0) assert.ok(manifest.layers.every((l) => l.mediaType.endsWith('+gzip')));
        const expectedId = sha256Digest(await skopeo('inspect', '--config', '--raw', `oci-archive:${archive}:${ref}`));
        const oci = await loadFresh(name, archive);
        assert.deepEqual(oci.loaded, [ref]);
        sameContent(oci.h.store.state().images[expectedId], id);
        assert.deepEqual(oci.h.store.state().images[expectedId]!.tags, [ref]);
      }
    });
  });
});
