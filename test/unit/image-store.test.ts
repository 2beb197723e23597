import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readTar } from '../../core/archive/index.js';
import { ContentStore, HOST_BUSYBOX, buildBusyboxRootfsTar, busyboxImageDocument, imageIdFor } from '../../core/images/index.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('the image content store', () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let store: ContentStore;
  let layer: Buffer;
  before(async () => {
    scratch = await makeScratchDir('image-store');
    store = new ContentStore(join(scratch.path, 'data'));
    layer = await buildTar([[{ path: 'etc', type: 'directory' }], [{ path: 'etc/hello', type: 'file' }, 'hello'.repeat(1000)]]);
  });
  after(async () => {
    await scratch.dispose();
  });

  it('imports a layer tar from a path: the diff id is the sha256 of the tar, stored under blobs/sha256', async () => {
    const path = join(scratch.path, 'layer.tar');
    await writeFile(path, layer);
    let progress = 0;
    const blob = await store.importLayerTar(path, { onProgress: (n) => (progress = n) });
    assert.equal(blob.diffId, sha256(layer));
    assert.equal(blob.size, layer.length);
    assert.equal(progress, layer.length);
    assert.equal(blob.path, join(scratch.path, 'data', 'images', 'blobs', 'sha256', blob.diffId.slice(7)));
    assert.deepEqual(await readFile(blob.path), layer);
    assert.equal(await store.hasBlob(blob.diffId), true);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });

  it('decompresses gzip input (detected by magic bytes) and gives the diff id of the uncompressed bytes', async () => {
    const path = join(scratch.path, 'layer.tar.gz');
    await writeFile(path, gzipSync(layer));
    const fromFile = await store.importLayerTar(path);
    const fromStream = await store.importLayerTar(Readable.from([gzipSync(layer)]));
    assert.equal(fromFile.diffId, sha256(layer));
    assert.equal(fromStream.diffId, sha256(layer));
    assert.deepEqual(await readFile(fromFile.path), layer);
  });

  it('refuses what is not a tar, other compressions, empty and missing files, and leaves no temp file', async () => {
    await assert.rejects(store.importLayerTar(Readable.from([Buffer.from('hello world, not a tar'.repeat(50))])), /not a valid tar archive/);
    await assert.rejects(store.importLayerTar(Readable.from([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2])])), /compressed with xz/);
    await assert.rejects(store.importLayerTar(Readable.from([gzipSync(layer).subarray(0, 40)])), /gzip|unexpected end/);
    const empty = join(scratch.path, 'empty.tar');
    await writeFile(empty, '');
    await assert.rejects(store.importLayerTar(empty), /empty/);
    await assert.rejects(store.importLayerTar(join(scratch.path, 'missing.tar')), /no such file/);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
  });

  it('writes, reads and removes image configs by their id', async () => {
    const document = busyboxImageDocument(sha256(layer));
    const id = await store.writeImageConfig(document);
    assert.equal(id, imageIdFor(document));
    assert.equal(await store.writeImageConfig(document), id);
    assert.deepEqual(JSON.parse((await store.readBlob(id)).toString()), JSON.parse(JSON.stringify(document)));
    await store.removeBlob(id);
    await store.removeBlob(id);
    await assert.rejects(store.readBlob(id), /not in the image store/);
    assert.throws(() => store.blobPath('sha256:../../etc/passwd'), /invalid digest/);
  });

  it('builds the busybox rootfs with the same bytes every time', { skip: !existsSync(HOST_BUSYBOX) && `${HOST_BUSYBOX} is missing` }, async () => {
    const [first, second] = await Promise.all([streamToBuffer(buildBusyboxRootfsTar()), streamToBuffer(buildBusyboxRootfsTar())]);
    assert.deepEqual(first, second);
    const entries = new Map<string, { type: string; mode: number; linkname: string }>();
    for await (const { header } of readTar(Readable.from([first]))) entries.set(header.path, header);
    assert.equal(entries.get('bin/busybox')?.type, 'file');
    assert.deepEqual([entries.get('bin/sh')?.type, entries.get('bin/sh')?.linkname], ['symlink', 'busybox']);
    assert.equal(entries.get('bin/ls')?.linkname, 'busybox');
    assert.equal(entries.get('tmp')?.mode, 0o1777);
    assert.equal(entries.get('root')?.mode, 0o700);
    for (const path of ['dev', 'proc', 'sys', 'home', 'etc/passwd', 'etc/group', 'etc/hosts', 'etc/resolv.conf']) assert.ok(entries.has(path), path);
    const paths = [...entries.keys()];
    assert.deepEqual(paths, [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    const blob = await store.importLayerTar(Readable.from([first]));
    assert.equal(blob.diffId, sha256(first));
  });

  it('reports a missing busybox on the stream', async () => {
    await assert.rejects(streamToBuffer(buildBusyboxRootfsTar({ busybox: join(scratch.path, 'no-busybox') })), /ENOENT/);
  });
});
