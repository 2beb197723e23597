import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineEvent } from '../../events/index.js';
import { ContentStore } from '../../core/images/content-store.js';
import { LayerStore } from '../../core/images/layer-store.js';
import type { OverlayfsStorage } from '../../plugins/storage-overlayfs/overlayfs-storage.js';
import { given } from '../fixtures/event-envelopes.js';
import { makeOverlayfsRoot } from '../fixtures/overlayfs-root.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

const notRoot = process.getuid?.() !== 0 && 'needs root (the overlayfs driver unpacks layers)';

function imageOf(id: string, layers: readonly string[]): EngineEvent {
  return {
    type: 'ImageCreated',
    data: {
      id, origin: 'import', source: '-', parent: null, layers: layers.map((diffId) => ({ diffId, size: 1 })),
      config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} }, history: [],
      created: '2026-12-07T03:00:00Z', architecture: 'amd64', os: 'linux',
    },
  };
}

describe('the layer store: garbage collection of what no image references (integration)', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let storage: OverlayfsStorage;
  let content: ContentStore;
  let layers: LayerStore;
  const warnings: string[] = [];

  before(async () => {
    scratch = await makeScratchDir('layer-store');
    const overlayfs = await makeOverlayfsRoot(scratch.path, { warnings });
    storage = overlayfs.storage;
    content = new ContentStore(overlayfs.dataRoot);
    layers = new LayerStore(content, () => storage, (m) => warnings.push(m));
  });
  after(async () => {
    await scratch?.dispose();
  });

  const layerTar = (name: string): Promise<Buffer> => buildTar([[{ path: name, type: 'file' }, name]]);

  it('deletes the blobs and unpacked layers no image references, and keeps the rest', async () => {
    const lease = await layers.lease();
    const kept = await layers.importLayer((async function* () { yield await layerTar('kept'); })());
    const dropped = await layers.importLayer((async function* () { yield await layerTar('dropped'); })());
    const config = await content.writeBlob(Buffer.from('{"config":1}'));
    lease.release();
    assert.ok(await storage.hasLayer(dropped.diffId));
    const state = given([imageOf(config, [kept.diffId])]);

    const deleted = await layers.collectGarbage(() => state);
    assert.deepEqual([...deleted], [dropped.diffId]);
    assert.equal(await content.hasBlob(dropped.diffId), false);
    assert.equal(await storage.hasLayer(dropped.diffId), false, 'the unpacked layer goes with its blob');
    assert.ok(await content.hasBlob(kept.diffId));
    assert.ok(await storage.hasLayer(kept.diffId));
    assert.ok(await content.hasBlob(config), "the image's config is referenced too");

    const none = await layers.collectGarbage(() => given([]));
    assert.deepEqual([...none].sort(), [config, kept.diffId].sort(), 'once the image is gone, so are its blobs');
    assert.equal(await storage.hasLayer(kept.diffId), false);
  });

  it('waits while a lease is open: what an import stored and has not recorded yet is not taken', async () => {
    const lease = await layers.lease();
    const pending = await layers.importLayer((async function* () { yield await layerTar('pending'); })());
    let collected = false;
    const collecting = layers.collectGarbage(() => given([])).then((d) => {
      collected = true;
      return d;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(collected, false, 'the collection waits for the lease');
    assert.ok(await content.hasBlob(pending.diffId));
    // A lease asked for while the collection waits is given at once, and waited for too.
    const second = await layers.lease();
    const late = await layers.importLayer((async function* () { yield await layerTar('late'); })());
    lease.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(collected, false, 'the collection waits for the second lease as well');
    second.release();
    assert.deepEqual([...(await collecting)].sort(), [late.diffId, pending.diffId].sort());
  });

  it('finishes what a crash left: a blob whose layer was already deleted, and temp files at start', async () => {
    const blob = await layers.importLayer((async function* () { yield await layerTar('half-removed'); })());
    await storage.removeLayer(blob.diffId); // the crash came between the two deletions
    await mkdir(join(content.root, 'tmp', 'load-abc'), { recursive: true });
    await writeFile(join(content.root, 'tmp', '123-import'), 'half a layer');
    const deleted = await layers.collectGarbage(() => given([]), true);
    assert.deepEqual([...deleted], [blob.diffId]);
    assert.equal(existsSync(join(content.root, 'tmp')), false, 'temp files of interrupted imports are gone');
    assert.deepEqual(await readdir(join(content.root, 'blobs', 'sha256')), []);
  });
});
