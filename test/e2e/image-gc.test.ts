import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTar } from '../fixtures/tar-builder.js';
import { TestDaemon, until } from './harness.js';

const notRoot = process.getuid?.() !== 0 && 'needs root';

/**
 * The image store after a daemon killed (SIGKILL, failpoints) between recording and deleting, or
 * between storing a layer and recording its image: the next start's garbage collection leaves
 * exactly the blobs and unpacked layers the images in the log reference.
 */
describe('end to end: no blob or layer outlives its image across a crash (image store garbage collection)', { skip: notRoot }, () => {
  const d = new TestDaemon('image-gc');
  const blobs = (): Promise<string[]> => readdir(join(d.dataRoot, 'images', 'blobs', 'sha256')).catch(() => []);
  const layerDir = (diffId: string): string => join(d.dataRoot, 'storage.v1.overlayfs', 'layers', diffId.slice('sha256:'.length));

  /** Every config and layer digest the images the daemon lists reference, as blob file names. */
  const referenced = async (): Promise<string[]> => {
    const ids = (await d.cli(['images', '-q', '--no-trunc'])).stdout.split('\n').filter((l) => l !== '');
    const out = new Set<string>();
    for (const id of ids) {
      out.add(id.slice('sha256:'.length));
      const layers = JSON.parse((await d.cli(['inspect', '-f', '{{json .RootFS.Layers}}', id])).stdout) as string[];
      for (const l of layers) out.add(l.slice('sha256:'.length));
    }
    return [...out].sort();
  };

  /** Restarts the daemon with `failpoint` armed (or none). */
  const alive = (): boolean => {
    try {
      process.kill(d.pid ?? 0, 0);
      return d.pid !== undefined;
    } catch {
      return false;
    }
  };
  const restart = async (failpoint?: string): Promise<void> => {
    if (alive()) await d.stop(); // a daemon that died at a failpoint has nothing to stop

    if (failpoint === undefined) delete d.env.MINI_DOCKER_FAILPOINTS;
    else d.env.MINI_DOCKER_FAILPOINTS = failpoint;
    await d.start();
  };

  /** Waits for the daemon to have died at its failpoint. */
  const died = async (): Promise<void> => {
    await until('the daemon died at its failpoint', () => (alive() ? undefined : true));
  };

  before(async () => {
    await d.start();
  });
  after(async () => {
    await d.cleanup();
  });

  it('rmi killed after ImageRemoved: the next start deletes the blobs and the unpacked layer', async () => {
    const tar = join(d.root, 'gc.tar');
    await writeFile(tar, await buildTar([[{ path: 'gc-only', type: 'file' }, 'a file no other image has']]));
    const id = (await d.cli(['import', tar, 'gc:v1'])).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    const [diffId] = JSON.parse((await d.cli(['inspect', '-f', '{{json .RootFS.Layers}}', 'gc:v1'])).stdout) as string[];
    assert.ok(existsSync(layerDir(diffId!)), 'the layer is unpacked');
    assert.ok((await blobs()).includes(diffId!.slice(7)));

    await restart('rmi.after-removed');
    const rmi = await d.cli(['rmi', 'gc:v1']);
    assert.notEqual(rmi.code, 0, 'the daemon died before answering');
    await died();
    assert.ok((await blobs()).includes(diffId!.slice(7)), 'the crash left the blob behind');
    assert.ok(existsSync(layerDir(diffId!)), 'and the unpacked layer');

    await restart();
    assert.equal((await d.cli(['inspect', 'gc:v1'])).code, 1, 'the image is gone (the log says so)');
    assert.equal(existsSync(layerDir(diffId!)), false, 'the start deleted the unpacked layer');
    assert.deepEqual((await blobs()).sort(), await referenced(), 'and every blob no image references');
  });

  it('commit killed after storing its layer: no image, and the next start deletes the layer', async () => {
    assert.equal((await d.cli(['run', '--name', 'writer', 'busybox', 'sh', '-c', 'echo data > /new-file'])).code, 0);
    const before_ = await blobs();
    await restart('commit.after-layer');
    const commit = await d.cli(['commit', 'writer', 'snap:v1']);
    assert.notEqual(commit.code, 0, 'the daemon died before answering');
    await died();
    assert.ok((await blobs()).length > before_.length, 'the crash left the new layer in the store');

    await restart();
    assert.equal((await d.cli(['inspect', 'snap:v1'])).code, 1, 'no image was recorded');
    assert.deepEqual((await blobs()).sort(), await referenced(), 'the start deleted the layer no image references');
    const again = await d.cli(['commit', 'writer', 'snap:v1']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await d.cli(['run', '--rm', 'snap:v1', 'cat', '/new-file'])).stdout, 'data\n', 'a commit after the crash works, and its image runs');
  });
});
