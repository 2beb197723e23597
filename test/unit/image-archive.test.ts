import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  ImageArchiveError, MediaTypes, SpooledArchive, blobPathOf, buildArchiveDocuments, fullyQualifiedName, parseDockerManifest,
  parseImageConfig, parseOciIndex, parseOciManifest, pickPlatform, planLoad, repoTagsOf, type ArchiveImage, type ArchiveReader,
  type Descriptor,
} from '../../core/images/image-archive.js';
import { sha256Digest } from '../../core/images/image-config.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar, chunked } from '../fixtures/tar-builder.js';

const hex = (c: string): string => c.repeat(64);
const CONFIG = `sha256:${hex('c')}`;
const LAYER_A = `sha256:${hex('a')}`;
const LAYER_B = `sha256:${hex('b')}`;

const TAGGED: ArchiveImage = {
  configDigest: CONFIG, configSize: 321, layers: [{ diffId: LAYER_A, size: 2048 }, { diffId: LAYER_B, size: 1024 }],
  repoTags: ['snap:v1', 'registry.local:5000/team/app:latest'], architecture: 'amd64', os: 'linux',
};
const UNTAGGED: ArchiveImage = {
  configDigest: `sha256:${hex('d')}`, configSize: 100, layers: [{ diffId: LAYER_A, size: 2048 }], repoTags: [], architecture: 'amd64', os: 'linux',
};

/** An archive in memory, by path. */
class MemoryArchive implements ArchiveReader {
  constructor(readonly files: Map<string, Buffer>) {}
  has(path: string): boolean {
    return this.files.has(path);
  }
  async read(path: string): Promise<Buffer> {
    const data = this.files.get(path);
    if (!data) throw new ImageArchiveError(`${path} is not in the archive`);
    return data;
  }
}

function archiveOf(images: readonly ArchiveImage[]): MemoryArchive {
  const documents = buildArchiveDocuments(images);
  const files = new Map<string, Buffer>();
  for (const f of documents.files) files.set(f.path, f.data);
  for (const m of documents.manifests) files.set(blobPathOf(m.digest), m.data);
  for (const image of images) {
    files.set(blobPathOf(image.configDigest), Buffer.from('{}'));
    for (const l of image.layers) files.set(blobPathOf(l.diffId), Buffer.alloc(0));
  }
  return new MemoryArchive(files);
}

function json(data: Buffer | undefined): unknown {
  assert.ok(data, 'file missing');
  return JSON.parse(data.toString('utf8'));
}

describe('image archive: writing the documents', () => {
  const documents = buildArchiveDocuments([TAGGED, UNTAGGED]);
  const file = (path: string): Buffer | undefined => documents.files.find((f) => f.path === path)?.data;

  it('writes manifest.json as docker save does: blob paths, familiar RepoTags, null when untagged', () => {
    assert.deepEqual(json(file('manifest.json')), [
      { Config: `blobs/sha256/${hex('c')}`, RepoTags: ['snap:v1', 'registry.local:5000/team/app:latest'], Layers: [`blobs/sha256/${hex('a')}`, `blobs/sha256/${hex('b')}`] },
      { Config: `blobs/sha256/${hex('d')}`, RepoTags: null, Layers: [`blobs/sha256/${hex('a')}`] },
    ]);
    assert.ok(file('manifest.json')!.toString().endsWith('\n'));
  });

  it('writes an OCI manifest per image whose digest is its sha256, with uncompressed layer and config media types', () => {
    assert.equal(documents.manifests.length, 2);
    const [first] = documents.manifests;
    assert.equal(first!.digest, sha256Digest(first!.data));
    assert.deepEqual(json(first!.data), {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: CONFIG, size: 321 },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: LAYER_A, size: 2048 },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: LAYER_B, size: 1024 },
      ],
    });
  });

  it('writes index.json with one entry per tag (annotated with the tag and the full name) and one for an untagged image', () => {
    const index = json(file('index.json')) as { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    const [m1, m2] = documents.manifests;
    assert.deepEqual(index.manifests, [
      { mediaType: MediaTypes.ociManifest, digest: m1!.digest, size: m1!.data.length, platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': 'docker.io/library/snap:v1', 'org.opencontainers.image.ref.name': 'v1' } },
      { mediaType: MediaTypes.ociManifest, digest: m1!.digest, size: m1!.data.length, platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': 'registry.local:5000/team/app:latest', 'org.opencontainers.image.ref.name': 'latest' } },
      { mediaType: MediaTypes.ociManifest, digest: m2!.digest, size: m2!.data.length, platform: { architecture: 'amd64', os: 'linux' } },
    ]);
  });

  it('writes oci-layout and the legacy repositories file (top layer per tag)', () => {
    assert.deepEqual(json(file('oci-layout')), { imageLayoutVersion: '1.0.0' });
    assert.deepEqual(json(file('repositories')), { snap: { v1: hex('b') }, 'registry.local:5000/team/app': { latest: hex('b') } });
    assert.equal(buildArchiveDocuments([UNTAGGED]).files.some((f) => f.path === 'repositories'), false);
  });

  it('names blobs and full references like docker', () => {
    assert.equal(blobPathOf(LAYER_A), `blobs/sha256/${hex('a')}`);
    assert.throws(() => blobPathOf('../etc/passwd'), ImageArchiveError);
    assert.equal(fullyQualifiedName('busybox:latest'), 'docker.io/library/busybox:latest');
    assert.equal(fullyQualifiedName('foo/bar:v1'), 'docker.io/foo/bar:v1');
    assert.equal(fullyQualifiedName('localhost/x:1'), 'localhost/x:1');
    assert.equal(fullyQualifiedName('quay.io/a/b:c'), 'quay.io/a/b:c');
  });
});

describe('image archive: parsing', () => {
  it('reads manifest.json, taking a null RepoTags as none, and refuses other shapes', () => {
    assert.deepEqual(parseDockerManifest(Buffer.from('[{"Config":"abc.json","RepoTags":null,"Layers":["x/layer.tar"]}]')), [
      { config: 'abc.json', repoTags: [], layers: ['x/layer.tar'] },
    ]);
    assert.throws(() => parseDockerManifest(Buffer.from('{}')), /expected an array/);
    assert.throws(() => parseDockerManifest(Buffer.from('[{"RepoTags":[]}]')), /Config: expected a string/);
    assert.throws(() => parseDockerManifest(Buffer.from('[nope')), /not valid JSON/);
  });

  it('reads indexes and manifests, refusing other schema versions', () => {
    const index = parseOciIndex(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: LAYER_A, size: 3, annotations: { a: 'b' } }] })));
    assert.deepEqual(index, [{ mediaType: MediaTypes.ociManifest, digest: LAYER_A, size: 3, annotations: { a: 'b' } }]);
    assert.throws(() => parseOciIndex(Buffer.from('{"schemaVersion":1,"manifests":[]}')), /schemaVersion 1/);
    assert.throws(() => parseOciManifest(Buffer.from('{"schemaVersion":2,"config":{"digest":"x","size":-1},"layers":[]}'), 'm'), /m.config.size/);
  });

  it('reads an image config as docker writes it: nulls and missing fields become zero values, extra fields are ignored', () => {
    const parsed = parseImageConfig(Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: '2024-01-02T03:04:05.123456789Z', docker_version: '25.0.0',
      config: { Hostname: '', Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, Labels: null, OnBuild: null, ExposedPorts: { '80/tcp': {} } },
      rootfs: { type: 'layers', diff_ids: [LAYER_A] },
      history: [{ created: '2024-01-02T03:04:05Z', created_by: '/bin/sh -c #(nop) ADD file', empty_layer: false }, { created: '2024-01-02T03:04:05Z', empty_layer: true, comment: 'c' }],
    })));
    assert.deepEqual(parsed, {
      diffIds: [LAYER_A],
      config: { Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: {}, ExposedPorts: { '80/tcp': {} } },
      history: [
        { created: '2024-01-02T03:04:05Z', created_by: '/bin/sh -c #(nop) ADD file' },
        { created: '2024-01-02T03:04:05Z', created_by: '', comment: 'c', empty_layer: true },
      ],
      created: '2024-01-02T03:04:05.123456789Z', architecture: 'amd64', os: 'linux',
    });
    assert.throws(() => parseImageConfig(Buffer.from('{"rootfs":{"type":"layers","diff_ids":["md5:x"]}}')), /not a sha256 digest/);
    assert.throws(() => parseImageConfig(Buffer.from('{"config":{}}')), /rootfs: expected an object/);
  });

  it('names an image from its index annotations: containerd name first, a full ref.name (skopeo), never a bare tag', () => {
    const d = (annotations: Record<string, string>): Descriptor => ({ mediaType: MediaTypes.ociManifest, digest: LAYER_A, size: 1, annotations });
    assert.deepEqual(repoTagsOf(d({ 'io.containerd.image.name': 'docker.io/library/snap:v1', 'org.opencontainers.image.ref.name': 'v1' })), ['snap:v1']);
    assert.deepEqual(repoTagsOf(d({ 'org.opencontainers.image.ref.name': 'myimg:v2' })), ['myimg:v2']);
    assert.deepEqual(repoTagsOf(d({ 'org.opencontainers.image.ref.name': 'latest' })), []);
    assert.deepEqual(repoTagsOf(d({ 'org.opencontainers.image.ref.name': 'Not Valid:x' })), []);
    assert.deepEqual(repoTagsOf({ mediaType: MediaTypes.ociManifest, digest: LAYER_A, size: 1 }), []);
  });

  it('picks the manifest for the platform from an index', () => {
    const m = (architecture: string, digest: string): Descriptor => ({ mediaType: MediaTypes.ociManifest, digest, size: 1, platform: { architecture, os: 'linux' } });
    assert.equal(pickPlatform([m('arm64', LAYER_A), m('amd64', LAYER_B)], 'amd64')?.digest, LAYER_B);
    assert.equal(pickPlatform([m('arm64', LAYER_A)], 'amd64'), undefined);
    assert.equal(pickPlatform([{ mediaType: MediaTypes.ociManifest, digest: LAYER_A, size: 1 }], 'amd64')?.digest, LAYER_A);
  });
});

describe('image archive: planning a load', () => {
  it('reads back what it writes, through manifest.json', async () => {
    const plan = await planLoad(archiveOf([TAGGED, UNTAGGED]), 'amd64');
    assert.deepEqual(plan, [
      { format: 'docker-archive', config: { path: `blobs/sha256/${hex('c')}` }, layers: [{ path: `blobs/sha256/${hex('a')}` }, { path: `blobs/sha256/${hex('b')}` }], repoTags: ['snap:v1', 'registry.local:5000/team/app:latest'] },
      { format: 'docker-archive', config: { path: `blobs/sha256/${hex('d')}` }, layers: [{ path: `blobs/sha256/${hex('a')}` }], repoTags: [] },
    ]);
  });

  it('reads back what it writes, through index.json alone (an OCI layout): one item per manifest, all its tags', async () => {
    const archive = archiveOf([TAGGED, UNTAGGED]);
    archive.files.delete('manifest.json');
    const plan = await planLoad(archive, 'amd64');
    assert.equal(plan.length, 2);
    assert.deepEqual(plan[0], {
      format: 'oci-layout',
      config: { path: `blobs/sha256/${hex('c')}`, digest: CONFIG, mediaType: MediaTypes.ociConfig },
      layers: [
        { path: `blobs/sha256/${hex('a')}`, digest: LAYER_A, mediaType: MediaTypes.ociLayer },
        { path: `blobs/sha256/${hex('b')}`, digest: LAYER_B, mediaType: MediaTypes.ociLayer },
      ],
      repoTags: ['snap:v1', 'registry.local:5000/team/app:latest'],
    });
    assert.deepEqual(plan[1]!.repoTags, []);
  });

  it('follows a nested multi-platform index to this platform, keeping the outer name', async () => {
    const amd = buildArchiveDocuments([TAGGED]).manifests[0]!;
    const arm = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: `sha256:${hex('e')}`, size: 1 }, layers: [] }));
    const nested = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [
      { mediaType: MediaTypes.ociManifest, digest: sha256Digest(arm), size: arm.length, platform: { architecture: 'arm64', os: 'linux' } },
      { mediaType: MediaTypes.ociManifest, digest: amd.digest, size: amd.data.length, platform: { architecture: 'amd64', os: 'linux' } },
    ] }));
    const files = new Map<string, Buffer>([
      ['index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociIndex, digest: sha256Digest(nested), size: nested.length, annotations: { 'io.containerd.image.name': 'docker.io/library/multi:1' } }] }))],
      [blobPathOf(sha256Digest(nested)), nested],
      [blobPathOf(amd.digest), amd.data],
      [blobPathOf(sha256Digest(arm)), arm],
    ]);
    const plan = await planLoad(new MemoryArchive(files), 'amd64');
    assert.equal(plan.length, 1);
    assert.equal(plan[0]!.config.digest, CONFIG);
    assert.deepEqual(plan[0]!.repoTags, ['multi:1']);
    await assert.rejects(planLoad(new MemoryArchive(files), 's390x'), /no image for linux\/s390x/);
  });

  it('refuses zstd layers, missing blobs, digests in RepoTags and archives that are not image archives', async () => {
    const zstd = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: CONFIG, size: 1 }, layers: [{ mediaType: MediaTypes.ociLayerZstd, digest: LAYER_A, size: 1 }] }));
    const index = (digest: string): Buffer => Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest, size: 1 }] }));
    await assert.rejects(planLoad(new MemoryArchive(new Map([['index.json', index(sha256Digest(zstd))], [blobPathOf(sha256Digest(zstd)), zstd]])), 'amd64'), /cannot be loaded/);
    await assert.rejects(planLoad(new MemoryArchive(new Map([['index.json', index(LAYER_A)]])), 'amd64'), /is not in the archive/);
    const withDigest = Buffer.from(JSON.stringify([{ Config: 'c.json', RepoTags: [`x@${LAYER_A}`], Layers: [] }]));
    await assert.rejects(planLoad(new MemoryArchive(new Map([['manifest.json', withDigest]])), 'amd64'), /is not a name:tag/);
    const escaping = Buffer.from(JSON.stringify([{ Config: '../../etc/passwd', RepoTags: [], Layers: [] }]));
    await assert.rejects(planLoad(new MemoryArchive(new Map([['manifest.json', escaping]])), 'amd64'), /not a path inside the archive/);
    await assert.rejects(planLoad(new MemoryArchive(new Map([['hello.txt', Buffer.from('hi')]])), 'amd64'), /not an image archive/);
  });
});

describe('image archive: spooling a stream', () => {
  it('keeps files with their digests, follows symlinked and hardlinked layers (docker < 25), and takes gzip', async () => {
    const scratch = await makeScratchDir('spool');
    try {
      const tar = await buildTar([
        [{ path: 'abc/', type: 'directory', mode: 0o755 }],
        [{ path: 'abc/layer.tar', type: 'file', mode: 0o644 }, 'layer bytes'],
        [{ path: 'def/layer.tar', type: 'symlink', linkname: '../abc/layer.tar' }],
        [{ path: 'ghi/layer.tar', type: 'hardlink', linkname: 'abc/layer.tar' }],
        [{ path: './manifest.json', type: 'file', mode: 0o644 }, '[]'],
      ]);
      for (const [name, data] of [['plain', tar], ['gzip', gzipSync(tar)]] as const) {
        const dir = `${scratch.path}/${name}`;
        await mkdir(dir);
        const archive = await SpooledArchive.spool(chunked(data, 4096), dir);
        const layer = archive.get('abc/layer.tar');
        assert.equal(layer.size, 11);
        assert.equal(layer.digest, sha256Digest('layer bytes'));
        assert.equal(await readFile(layer.file, 'utf8'), 'layer bytes');
        assert.equal(archive.get('def/layer.tar').file, layer.file);
        assert.equal(archive.get('ghi/layer.tar').file, layer.file);
        assert.equal((await archive.read('manifest.json')).toString(), '[]');
        assert.equal(archive.has('nope'), false);
        assert.throws(() => archive.get('nope'), ImageArchiveError);
      }
    } finally {
      await scratch.dispose();
    }
  });
});
