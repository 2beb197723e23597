import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ContentStore } from '../../core/images/content-store.js';
import { ContentStoreLayerSink } from '../../core/images/layer-ingest.js';
import type { LayerExpectation } from '../../core/plugins/distribution.js';
import type { OverlayfsStorage } from '../../plugins/storage-overlayfs/overlayfs-storage.js';
import { until } from '../e2e/harness.js';
import { makeOverlayfsRoot } from '../fixtures/overlayfs-root.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

const notRoot = process.getuid?.() !== 0 && 'needs root (the overlayfs driver unpacks layers)';
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Every byte of a stream. */
async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The bytes as a registry's response delivers them: in small pieces. */
async function* pieces(bytes: Buffer, size = 7000): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe('a pulled layer is unpacked from the download stream, and becomes visible only once verified (integration)', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let storage: OverlayfsStorage;
  let stateDir: string;
  let content: ContentStore;
  const warnings: string[] = [];

  before(async () => {
    scratch = await makeScratchDir('pull-unpack');
    const overlayfs = await makeOverlayfsRoot(scratch.path, { warnings });
    storage = overlayfs.storage;
    stateDir = overlayfs.context.stateDir;
    content = new ContentStore(overlayfs.dataRoot);
  });
  after(async () => {
    await scratch?.dispose();
  });

  /** A layer of one 3 MB file (larger than the sink's batches) and a small one, gzip-compressed. */
  async function layer(name: string): Promise<{ tar: Buffer; gz: Buffer; big: Buffer; expected: LayerExpectation }> {
    const big = Buffer.alloc(3 << 20, `${name}: some text that compresses\n`);
    const tar = await buildTar([
      [{ path: `${name}`, type: 'directory', mode: 0o755 }],
      [{ path: `${name}/big.txt`, type: 'file', mode: 0o644 }, big],
      [{ path: `${name}/small.txt`, type: 'file', mode: 0o600 }, `${name}\n`],
    ]);
    const gz = gzipSync(tar);
    return { tar, gz, big, expected: { digest: sha256(gz), size: gz.length, diffId: sha256(tar) } };
  }

  /** Nothing half-done anywhere: the store's and the driver's temporary folders are empty. */
  async function assertNoLeftovers(): Promise<void> {
    assert.deepEqual(await readdir(join(content.root, 'tmp')).catch(() => []), []);
    assert.deepEqual(await readdir(join(stateDir, 'tmp')), []);
  }

  it('keeps the fetched gzip bytes as the layer (no tar written) and unpacks it in the same pass: both there when storeLayer resolves', async () => {
    const { tar, gz, big, expected } = await layer('one');
    const sink = new ContentStoreLayerSink(content, storage);
    const progress: number[] = [];
    await sink.storeLayer(pieces(gz), expected, (n) => progress.push(n));
    assert.equal(progress.at(-1), gz.length);
    assert.equal(await content.hasLayer(expected.diffId), true);
    assert.equal(await content.hasBlob(expected.diffId), false, 'the uncompressed tar is not stored');
    assert.equal(await content.layerSize(expected.diffId), tar.length, "the tar's size is recorded with the copy");
    assert.deepEqual(await readAll(content.openLayer(expected.diffId)), tar, 'openLayer gunzips the copy');
    assert.equal(await storage.hasLayer(expected.diffId), true);
    const unpacked = join(stateDir, 'layers', expected.diffId.slice(7));
    assert.deepEqual(await readFile(join(unpacked, 'one', 'big.txt')), big);
    assert.equal(await readFile(join(unpacked, 'one', 'small.txt'), 'utf8'), 'one\n');
    // The fetched bytes are kept as the layer's compressed copy, for a push.
    const kept = await content.compressedCopy(expected.diffId);
    assert.equal(kept?.digest, expected.digest);
    assert.deepEqual(await readFile(kept.path), gz);
    await assertNoLeftovers();
  });

  it('a blob whose compressed digest is not the manifest\'s (its tar being right) leaves neither the blob nor the unpacked layer', async () => {
    const { gz, expected } = await layer('two');
    const sink = new ContentStoreLayerSink(content, storage);
    const other = { ...expected, digest: sha256(Buffer.concat([gz, Buffer.from('x')])) };
    await assert.rejects(sink.storeLayer(pieces(gz), other), /the bytes fetched have the digest sha256:[0-9a-f]{64}: the blob is corrupt/);
    assert.equal(await content.hasLayer(expected.diffId), false);
    assert.equal(await storage.hasLayer(expected.diffId), false);
    assert.equal(await content.compressedCopy(expected.diffId), undefined);
    await assertNoLeftovers();
    // The right digest afterwards: stored and unpacked.
    await sink.storeLayer(pieces(gz), expected);
    assert.equal(await storage.hasLayer(expected.diffId), true);
  });

  it('a truncated download, a wrong diff id and an entry that climbs out leave nothing either', async () => {
    const { gz, expected } = await layer('three');
    const sink = new ContentStoreLayerSink(content, storage);
    await assert.rejects(sink.storeLayer(pieces(gz.subarray(0, gz.length - 100)), expected), /gzip data is corrupt|truncated/);
    await assert.rejects(sink.storeLayer(pieces(gz), { ...expected, diffId: sha256(Buffer.from('another tar')) }), /uncompressed it is sha256:[0-9a-f]{64}, but the image config says/);
    assert.equal(await storage.hasLayer(expected.diffId), false);
    const evilTar = await buildTar([[{ path: '../evil', type: 'file' }, 'out']]);
    const evil = gzipSync(evilTar);
    await assert.rejects(sink.storeLayer(pieces(evil), { digest: sha256(evil), size: evil.length, diffId: sha256(evilTar) }), /entry "\.\.\/evil" points outside the root: refused/);
    assert.equal(await storage.hasLayer(sha256(evilTar)), false);
    assert.equal(await content.hasLayer(sha256(evilTar)), false);
    await assertNoLeftovers();
  });

  it('a plain (uncompressed) layer is kept as its tar, under its diff id', async () => {
    const { tar, expected } = await layer('plain');
    await new ContentStoreLayerSink(content, storage).storeLayer(pieces(tar), { digest: expected.diffId, size: tar.length, diffId: expected.diffId });
    assert.deepEqual(await readFile(content.blobPath(expected.diffId)), tar);
    assert.equal(await content.compressedCopy(expected.diffId), undefined);
    assert.equal(await content.layerSize(expected.diffId), tar.length);
    assert.equal(await storage.hasLayer(expected.diffId), true);
    await assertNoLeftovers();
  });

  it('a damaged compressed copy is never unpacked: openLayer ends with an error, not its end, and the driver keeps nothing', async () => {
    const { gz, expected } = await layer('damaged');
    await new ContentStoreLayerSink(content).storeLayer(pieces(gz), expected); // stored, not unpacked
    const copy = await content.compressedCopy(expected.diffId);
    assert.ok(copy);
    // Another valid gzip of another tar, under the layer's name: gzip itself finds nothing wrong, the diff id does.
    const other = await buildTar([[{ path: 'other.txt', type: 'file', mode: 0o644 }, 'not the layer\n']]);
    await writeFile(copy.path, gzipSync(other));
    await assert.rejects(storage.applyLayer(expected.diffId, content.openLayer(expected.diffId)),
      /^Error: the compressed copy of layer sha256:[0-9a-f]{64} in the image store is damaged \(uncompressed it is sha256:[0-9a-f]{64}\); it was moved aside: pull an image that has the layer again$/);
    assert.equal(await storage.hasLayer(expected.diffId), false);
    // Moved aside: the store lacks the layer now (its folder stays: another image may reference it), so a pull fetches it again.
    const dir = join(content.root, 'compressed', expected.diffId.slice(7));
    assert.deepEqual(await readdir(dir), [`${copy.path.slice(dir.length + 1)}.damaged`]);
    assert.equal(await content.hasLayer(expected.diffId), false);
    await assert.rejects(content.layerSize(expected.diffId), /is missing from the image store/);
    const sink = new ContentStoreLayerSink(content, storage);
    assert.equal(await sink.hasLayer(expected.diffId), false, 'a pull does not answer Already exists');
    await sink.storeLayer(pieces(gz), expected);
    assert.deepEqual(await readdir(dir), [copy.path.slice(dir.length + 1)], 'the good copy under its name, the damaged one gone');
    assert.equal(await storage.hasLayer(expected.diffId), true);
    await storage.removeLayer(expected.diffId);
    // Damaged gzip data: the same, in one line, and moved aside too.
    await writeFile(copy.path, gz.subarray(0, gz.length >> 1));
    await assert.rejects(readAll(content.openLayer(expected.diffId)), /^Error: the compressed copy of layer .* is damaged \(.*\); it was moved aside: pull an image that has the layer again$/);
    assert.equal(await content.hasLayer(expected.diffId), false);
    await assertNoLeftovers();
  });

  it('a store an earlier build wrote (the tar, and a copy named without its size) is read as before', async () => {
    const { tar, gz, expected } = await layer('legacy');
    await mkdir(join(content.root, 'blobs', 'sha256'), { recursive: true });
    await writeFile(content.blobPath(expected.diffId), tar);
    const dir = join(content.root, 'compressed', expected.diffId.slice(7));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, expected.digest.slice(7)), gz);
    assert.equal(await content.hasLayer(expected.diffId), true);
    assert.equal(await content.layerSize(expected.diffId), tar.length);
    assert.deepEqual(await readAll(content.openLayer(expected.diffId)), tar);
    assert.deepEqual(await content.compressedCopy(expected.diffId), { path: join(dir, expected.digest.slice(7)), digest: expected.digest, size: gz.length });
    assert.ok((await content.list()).includes(expected.diffId));
    // A pull of it finds it stored; the collection's removal takes the tar and the copy.
    assert.equal(await new ContentStoreLayerSink(content, storage).hasLayer(expected.diffId), true);
    await content.removeBlob(expected.diffId);
    assert.equal(await content.hasLayer(expected.diffId), false);
    assert.equal((await content.list()).includes(expected.diffId), false);
  });

  it('a layer the driver has already (its blob gone) is stored without unpacking it again', async () => {
    const { tar, gz, expected } = await layer('four');
    await storage.applyLayer(expected.diffId, Readable.from([tar]));
    const unpacked = join(stateDir, 'layers', expected.diffId.slice(7));
    const before = (await readdir(unpacked, { withFileTypes: true })).map((e) => e.name);
    await new ContentStoreLayerSink(content, storage).storeLayer(pieces(gz), expected);
    assert.equal(await content.hasLayer(expected.diffId), true);
    assert.deepEqual((await readdir(unpacked, { withFileTypes: true })).map((e) => e.name), before);
    await assertNoLeftovers();
  });

  it('a pull whose extraction waited for another pull\'s of the same layer, cut short, still ends with the layer unpacked', async () => {
    const { gz, expected } = await layer('six');
    let cut!: (error: Error) => void;
    const cutting = new Promise<never>((_resolve, reject) => {
      cut = reject;
    });
    async function* halfThenCut(): AsyncGenerator<Buffer> {
      yield* pieces(gz.subarray(0, gz.length >> 1));
      await cutting;
    }
    // The first sink starts the extraction (its folder appears in the driver's tmp/) and stalls halfway.
    const first = assert.rejects(new ContentStoreLayerSink(content, storage).storeLayer(halfThenCut(), expected), /the client went away/);
    let second: Promise<unknown> | undefined;
    try {
      await until('the first sink\'s extraction folder in tmp/', async () => ((await readdir(join(stateDir, 'tmp'))).some((n) => n.startsWith('layer-')) ? true : undefined));
      // The second finds it under way and waits for it; its own download is whole: its blob is stored, then it waits.
      second = new ContentStoreLayerSink(content, storage).storeLayer(pieces(gz), expected);
      await until('the second sink\'s blob stored', async () => ((await content.hasLayer(expected.diffId)) ? true : undefined));
    } finally {
      // Cut even when a wait timed out, so that the stalled first sink ends and cleans up.
      cut(new Error('the client went away'));
    }
    await first;
    await second;
    assert.equal(await storage.hasLayer(expected.diffId), true);
    assert.equal(await content.hasLayer(expected.diffId), true);
    await assertNoLeftovers();
  });

  it('two sinks storing the same layer at once: one unpacks it, both store it, nothing is left behind', async () => {
    const { gz, expected } = await layer('five');
    await Promise.all([
      new ContentStoreLayerSink(content, storage).storeLayer(pieces(gz), expected),
      new ContentStoreLayerSink(content, storage).storeLayer(pieces(gz, 5000), expected),
    ]);
    assert.equal(await storage.hasLayer(expected.diffId), true);
    assert.equal(await content.hasLayer(expected.diffId), true);
    await assertNoLeftovers();
    assert.deepEqual(warnings, []);
  });
});
