import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { extractTar, readTar, type TarHeader } from '../../core/archive/index.js';
import type { DriverContext } from '../../core/plugins/driver.js';
import { CommitExporter } from '../../plugins/exporter-commit/commit-exporter.js';
import { diffStream } from '../../plugins/storage-overlayfs/upper-dir.js';
import { overlayWhiteouts } from '../../plugins/storage-overlayfs/whiteouts.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

const run = promisify(execFile);
const needsRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? false : 'needs root (overlay mounts)';

/** Every entry under `root` (not the root itself): type, mode, owner, and content or link target. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(root, path));
      const owner = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out[path] = `dir ${owner}`;
        await walk(path);
      } else if (st.isFile()) {
        out[path] = `file ${owner} ${createHash('sha256').update(await readFile(join(root, path))).digest('hex').slice(0, 16)}`;
      } else if (st.isSymbolicLink()) {
        out[path] = `symlink -> ${await readlink(join(root, path))}`;
      } else {
        out[path] = `special ${owner} ${st.rdev}`;
      }
    }
  };
  await walk('');
  return out;
}

async function entriesOf(tar: string): Promise<TarHeader[]> {
  const headers: TarHeader[] = [];
  for await (const { header, body } of readTar(createReadStream(tar))) {
    for await (const chunk of body) void chunk;
    headers.push(header);
  }
  return headers;
}

/**
 * Applies an OCI layer to a plain folder the way docker and containerd do: `.wh.<name>` deletes
 * `<name>`, `.wh..wh..opq` empties the folder of what the lower layers had, then the layer's own
 * files are written.
 */
async function applyLayerFlat(layer: string, target: string): Promise<void> {
  const markers: string[] = [];
  for (const header of await entriesOf(layer)) {
    const base = posix.basename(header.path);
    const dir = posix.dirname(header.path);
    if (base === '.wh..wh..opq') {
      markers.push(header.path);
      for (const child of await readdir(join(target, dir)).catch(() => [])) await rm(join(target, dir, child), { recursive: true, force: true });
    } else if (base.startsWith('.wh.')) {
      markers.push(header.path);
      await rm(join(target, dir, base.slice('.wh.'.length)), { recursive: true, force: true });
    }
  }
  await extractTar(createReadStream(layer), target);
  for (const marker of markers) await rm(join(target, marker));
}

const context = (dir: string): DriverContext => ({
  dataRoot: dir, execRoot: dir, stateDir: dir, runDir: dir,
  logger: { info: () => undefined, warn: (m) => console.warn(m), error: (m) => console.error(m) },
});

describe('commit exporter on a real overlay (integration)', { skip: needsRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  const mounted: string[] = [];
  const exporter = new CommitExporter();
  let dirs: { lower: string; upper: string; work: string; merged: string };
  let before_: Record<string, string>;
  let layer: string;

  const mountOverlay = async (target: string, options: string): Promise<void> => {
    await mkdir(target, { recursive: true });
    await run('mount', ['-t', 'overlay', 'overlay', '-o', options, target]);
    mounted.push(target);
  };
  const unmount = async (target: string): Promise<void> => {
    await run('umount', [target]);
    mounted.splice(mounted.indexOf(target), 1);
  };

  before(async () => {
    scratch = await makeScratchDir('commit-exporter');
    assert.deepEqual(await exporter.init(context(scratch.path)), { status: 'ok' });
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((n) => join(scratch.path, n)) as [string, string, string, string];
    dirs = { lower, upper, work, merged };
    for (const d of [upper, work]) await mkdir(d);
    // The lower layer.
    await mkdir(join(lower, 'gonedir/b'), { recursive: true });
    await mkdir(join(lower, 'olddir/sub'), { recursive: true });
    await mkdir(join(lower, 'dir/nested'), { recursive: true });
    await writeFile(join(lower, 'keep.txt'), 'keep');
    await writeFile(join(lower, 'change.txt'), 'old');
    await writeFile(join(lower, 'gone.txt'), 'bye');
    await writeFile(join(lower, 'mode.txt'), 'mode');
    await writeFile(join(lower, 'gonedir/a'), 'a');
    await writeFile(join(lower, 'gonedir/b/c'), 'c');
    await writeFile(join(lower, 'olddir/f1'), 'f1');
    await writeFile(join(lower, 'olddir/sub/f2'), 'f2');
    await writeFile(join(lower, 'dir/nested/deep.txt'), 'deep');
    await writeFile(join(lower, 'dir/nested/stays.txt'), 'stays');
    await symlink('keep.txt', join(lower, 'link'));

    // The container's changes, made through the overlay.
    await mountOverlay(merged, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    await writeFile(join(merged, 'new.txt'), 'new');
    await writeFile(join(merged, 'change.txt'), 'new content');
    await rm(join(merged, 'gone.txt'));
    await rm(join(merged, 'gonedir'), { recursive: true });
    await rm(join(merged, 'olddir'), { recursive: true });
    await mkdir(join(merged, 'olddir'));
    await writeFile(join(merged, 'olddir/fresh'), 'fresh');
    await rm(join(merged, 'dir/nested/deep.txt'));
    await writeFile(join(merged, 'dir/nested/added.txt'), 'added');
    await chmod(join(merged, 'mode.txt'), 0o600);
    await mkdir(join(merged, 'newdir/sub'), { recursive: true });
    await writeFile(join(merged, 'newdir/sub/file'), 'file');
    await symlink('new.txt', join(merged, 'newlink'));
    await rename(join(merged, 'keep.txt'), join(merged, 'moved.txt'));
    before_ = await snapshot(merged);

    // docker export of the merged view, while it is mounted.
    const tree = join(scratch.path, 'tree.tar');
    const treeSize = await exporter.exportTree(merged, createWriteStream(tree));
    assert.equal(treeSize, (await stat(tree)).size);
    await unmount(merged);

    layer = join(scratch.path, 'layer.tar');
    const size = await exporter.exportDiff(diffStream(upper, (m) => console.warn(m)), createWriteStream(layer));
    assert.equal(size, (await stat(layer)).size);
  });

  after(async () => {
    for (const target of [...mounted].reverse()) await run('umount', ['-l', target]).catch(() => undefined);
    await scratch?.dispose();
  });

  it('writes deletions as .wh. entries and a replaced folder as an opaque one, and nothing unchanged', async () => {
    const headers = await entriesOf(layer);
    const names = headers.map((h) => h.path);
    for (const expected of [
      '.wh.gone.txt', '.wh.gonedir', '.wh.keep.txt', 'moved.txt', 'olddir', 'olddir/.wh..wh..opq', 'olddir/fresh',
      'dir', 'dir/nested', 'dir/nested/.wh.deep.txt', 'dir/nested/added.txt', 'new.txt', 'change.txt', 'mode.txt',
      'newdir', 'newdir/sub', 'newdir/sub/file', 'newlink',
    ]) assert.ok(names.includes(expected), `${expected} is in the layer (${names.join(', ')})`);
    for (const unchanged of ['link', 'dir/nested/stays.txt', 'olddir/f1', 'gonedir/a']) assert.ok(!names.includes(unchanged), `${unchanged} is not in the layer`);
    // The opaque marker follows its folder at once; whiteouts are empty regular files.
    assert.equal(names.indexOf('olddir/.wh..wh..opq'), names.indexOf('olddir') + 1);
    for (const h of headers.filter((x) => posix.basename(x.path).startsWith('.wh.'))) {
      assert.equal(h.type, 'file');
      assert.equal(h.size, 0);
    }
    assert.ok(headers.every((h) => h.type !== 'char-device'), 'no overlay whiteout device is left');
    assert.ok(headers.every((h) => Object.keys(h.xattrs).every((k) => !k.startsWith('trusted.overlay.'))), 'no overlay xattr leaves');
    assert.equal(headers.find((h) => h.path === 'mode.txt')?.mode, 0o600);
  });

  it('gives the same view as the container had when its layer is mounted over the lower one (how the storage driver reads it)', async () => {
    const unpacked = join(scratch.path, 'unpacked');
    await mkdir(unpacked);
    await extractTar(createReadStream(layer), unpacked, { intercept: overlayWhiteouts });
    const view = join(scratch.path, 'view');
    await mountOverlay(view, `lowerdir=${unpacked}:${dirs.lower}`);
    try {
      assert.deepEqual(await snapshot(view), before_);
    } finally {
      await unmount(view);
    }
  });

  it('gives the same view when applied to a plain copy of the lower folder (how docker and containerd apply it)', async () => {
    const flat = join(scratch.path, 'flat');
    await run('cp', ['-a', dirs.lower, flat]);
    await applyLayerFlat(layer, flat);
    assert.deepEqual(await snapshot(flat), before_);
  });

  it('exports the merged view as one flat tar, with no whiteouts (docker export)', async () => {
    const tree = join(scratch.path, 'tree.tar');
    const names = (await entriesOf(tree)).map((h) => h.path);
    assert.ok(names.every((n) => !posix.basename(n).startsWith('.wh.')));
    const out = join(scratch.path, 'tree');
    await mkdir(out);
    await extractTar(createReadStream(tree), out);
    assert.deepEqual(await snapshot(out), before_);
  });

  it('exports an unchanged container, and one that never started (no upper dir), as an empty layer', async () => {
    const empty = join(scratch.path, 'empty-upper');
    await mkdir(empty);
    for (const upperDir of [empty, join(scratch.path, 'no-upper')]) {
      const tar = join(scratch.path, 'empty.tar');
      assert.equal(await exporter.exportDiff(diffStream(upperDir, (m) => console.warn(m)), createWriteStream(tar)), 1024);
      assert.deepEqual(await readFile(tar), Buffer.alloc(1024));
    }
  });
});
