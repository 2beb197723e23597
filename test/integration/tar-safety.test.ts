import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { extractTar, FsHelper, type ExtractOptions, type TarHeaderInput } from '../../core/archive/index.js';
import { nodeTreeFs } from '../../core/archive/tree-fs.js';
import { overlayWhiteouts } from '../../plugins/storage-overlayfs/whiteouts.js';
import { splitDevice } from '../../core/archive/write-tar.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar, chunked } from '../fixtures/tar-builder.js';

const notRoot = process.getuid?.() !== 0 && 'needs root';
const noAttr = !existsSync('/usr/bin/getfattr') && 'needs getfattr/setfattr (apt-get install attr)';

function getXattr(path: string, name: string): string | null {
  try {
    return execFileSync('getfattr', ['-h', '--only-values', '-n', name, '--', path], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return null;
  }
}

/** A tree listing (path, type, mode, size, mtime) to prove a folder was not touched. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const stats = await lstat(join(dir, rel));
    out.push(`${rel} ${stats.mode.toString(8)} ${stats.size} ${stats.mtimeMs} ${stats.nlink}`);
    if (stats.isDirectory()) for (const name of (await readdir(join(dir, rel))).sort()) await walk(join(rel, name));
  };
  await walk('.');
  return out;
}

describe('extractTar keeps every entry inside the target', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let target: string;
  let outside: string;
  let tag: string;
  let before: string[];
  let passwdLinks: number;

  beforeEach(async () => {
    scratch = await makeScratchDir('tar-safety');
    target = join(scratch.path, 'target');
    outside = join(scratch.path, 'outside');
    await mkdir(target);
    await mkdir(outside, { mode: 0o700 });
    await chmod(outside, 0o700);
    await writeFile(join(outside, 'file'), 'original');
    tag = randomBytes(6).toString('hex');
    before = await snapshot(outside);
    passwdLinks = (await stat('/etc/passwd')).nlink;
  });

  afterEach(async () => {
    assert.deepEqual(await snapshot(outside), before, 'the folder beside the target changed');
    assert.equal(existsSync(`/etc/evil-${tag}`), false);
    assert.equal(existsSync(`/evil-${tag}`), false);
    assert.equal((await stat('/etc/passwd')).nlink, passwdLinks);
    await scratch.dispose();
  });

  const extract = async (entries: (readonly [TarHeaderInput, string?])[], options: ExtractOptions = {}): Promise<void> => {
    await extractTar(chunked(await buildTar(entries), 512), target, { onWarning: () => undefined, ...options });
  };

  it('confines ".." names to the target', async () => {
    await extract([
      [{ path: '../x', type: 'file' }, 'x'],
      [{ path: '../../outside/file', type: 'file' }, 'pwned'],
      [{ path: 'a/../../../outside/y', type: 'file' }, 'y'],
    ]);
    assert.equal(await readFile(join(target, 'x'), 'utf8'), 'x');
    assert.equal(await readFile(join(target, 'outside', 'file'), 'utf8'), 'pwned');
    assert.equal(await readFile(join(target, 'outside', 'y'), 'utf8'), 'y');
  });

  it('puts absolute names inside the target', async () => {
    await extract([[{ path: `/etc/evil-${tag}`, type: 'file' }, 'evil']]);
    assert.equal(await readFile(join(target, 'etc', `evil-${tag}`), 'utf8'), 'evil');
  });

  it('resolves a symlink to / as the target root, never the host', async () => {
    await extract([
      [{ path: 'link', type: 'symlink', linkname: '/' }],
      [{ path: `link/etc/evil-${tag}`, type: 'file' }, 'evil'],
      [{ path: `link/evil-${tag}`, type: 'file' }, 'evil'],
    ]);
    assert.equal(await readlink(join(target, 'link')), '/');
    assert.equal(await readFile(join(target, 'etc', `evil-${tag}`), 'utf8'), 'evil');
    assert.equal(await readFile(join(target, `evil-${tag}`), 'utf8'), 'evil');
  });

  it('stops relative symlinks with ".." at the target root', async () => {
    await extract([
      [{ path: 'a', type: 'symlink', linkname: '../../..' }],
      [{ path: 'a/x', type: 'file' }, 'x'],
      [{ path: 'up', type: 'symlink', linkname: '../outside' }],
      [{ path: 'up/file', type: 'file' }, 'pwned'],
      [{ path: 'deep/chain', type: 'symlink', linkname: '../up' }],
      [{ path: 'deep/chain/z', type: 'file' }, 'z'],
    ]);
    assert.equal(await readFile(join(target, 'x'), 'utf8'), 'x');
    assert.equal(await readFile(join(target, 'outside', 'file'), 'utf8'), 'pwned');
    assert.equal(await readFile(join(target, 'outside', 'z'), 'utf8'), 'z');
  });

  it('follows symlinks already in the target only inside it', async () => {
    await symlink(outside, join(target, 'pre')); // an absolute host path, read as a path in the target
    await symlink('../outside', join(target, 'rel'));
    await extract([
      [{ path: 'pre/file', type: 'file' }, 'pwned'],
      [{ path: 'rel/file', type: 'file' }, 'pwned'],
    ]);
    assert.equal(await readFile(join(target, outside, 'file'), 'utf8'), 'pwned');
    assert.equal(await readFile(join(target, 'outside', 'file'), 'utf8'), 'pwned');
  });

  it('replaces a symlink with the file instead of writing through it', async () => {
    await extract([
      [{ path: 'f', type: 'symlink', linkname: join(outside, 'file') }],
      [{ path: 'f', type: 'file' }, 'new'],
      [{ path: 'g', type: 'symlink', linkname: '../outside/file' }],
      [{ path: 'g', type: 'file' }, 'new'],
    ]);
    for (const name of ['f', 'g']) {
      assert.ok((await lstat(join(target, name))).isFile());
      assert.equal(await readFile(join(target, name), 'utf8'), 'new');
    }
  });

  it('never sets a folder mode through a symlink that replaced the folder', async () => {
    await extract([
      [{ path: 'd', type: 'directory', mode: 0o777, mtime: 1 }],
      [{ path: 'd', type: 'symlink', linkname: '../outside' }],
      [{ path: 'e', type: 'directory', mode: 0o777, mtime: 1 }],
      [{ path: 'e', type: 'symlink', linkname: outside }],
    ]);
    assert.ok((await lstat(join(target, 'd'))).isSymbolicLink());
  });

  it('refuses a hardlink to a host file, and links to the file inside the target instead', async () => {
    await assert.rejects(extract([[{ path: 'hl', type: 'hardlink', linkname: '/etc/passwd' }]]), /not in the archive/);
    await assert.rejects(extract([[{ path: 'hl2', type: 'hardlink', linkname: '../outside/file' }]]), /not in the archive/);
    await extract([
      [{ path: 'etc/passwd', type: 'file' }, 'inner'],
      [{ path: 'hl', type: 'hardlink', linkname: '/etc/passwd' }],
      [{ path: 'lnk', type: 'symlink', linkname: '/etc' }],
      [{ path: 'hl3', type: 'hardlink', linkname: 'lnk/passwd' }],
      [{ path: 'hl4', type: 'hardlink', linkname: '../../../etc/passwd' }],
    ]);
    const inner = await stat(join(target, 'etc', 'passwd'));
    for (const name of ['hl', 'hl3', 'hl4']) assert.equal((await lstat(join(target, name))).ino, inner.ino, name);
    assert.equal(inner.nlink, 4);
  });

  it('keeps whiteout names from removing anything outside', async () => {
    await extract([
      [{ path: '.wh..', type: 'file' }],
      [{ path: 'up', type: 'symlink', linkname: '../outside' }],
      [{ path: 'up/.wh.file', type: 'file' }],
    ], { intercept: overlayWhiteouts });
    assert.ok((await lstat(join(target, 'outside', 'file'))).isCharacterDevice());
    await extract([[{ path: '../.wh.outside', type: 'file' }]], { intercept: overlayWhiteouts });
    assert.ok((await lstat(join(target, 'outside'))).isCharacterDevice());
  });
});

describe('extractTar keeps what the archive says (as root)', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  beforeEach(async () => {
    scratch = await makeScratchDir('tar-keep');
  });
  afterEach(async () => {
    await scratch.dispose();
  });

  it('sets owners, modes with setuid/setgid/sticky, mtimes, hardlinks, devices and fifos', async () => {
    const target = join(scratch.path, 'root');
    const tar = await buildTar([
      [{ path: 'bin', type: 'directory', mode: 0o2755, uid: 7, gid: 8, mtime: 1000 }],
      [{ path: 'bin/su', type: 'file', mode: 0o4755, uid: 1234, gid: 5678, mtime: 2000 }, '#!/bin/sh\n'],
      [{ path: 'bin/su-again', type: 'hardlink', linkname: 'bin/su' }],
      [{ path: 'bin/link', type: 'symlink', linkname: 'su', uid: 42, gid: 43, mtime: 3000 }],
      [{ path: 'tmp', type: 'directory', mode: 0o1777, mtime: 4000 }],
      [{ path: 'readonly', type: 'directory', mode: 0o555 }],
      [{ path: 'readonly/inside', type: 'file', mode: 0o400 }, 'ro'],
      [{ path: 'dev/null', type: 'char-device', mode: 0o666, devmajor: 1, devminor: 3, mtime: 5000 }],
      [{ path: 'dev/loop-test', type: 'block-device', mode: 0o660, devmajor: 7, devminor: 250, gid: 6 }],
      [{ path: 'run/fifo', type: 'fifo', mode: 0o620, uid: 9 }],
    ]);
    await extractTar(chunked(tar, 4096), target);
    const su = await lstat(join(target, 'bin', 'su'));
    assert.deepEqual([su.mode & 0o7777, su.uid, su.gid, su.mtimeMs], [0o4755, 1234, 5678, 2000000]);
    assert.equal((await lstat(join(target, 'bin', 'su-again'))).ino, su.ino);
    const bin = await lstat(join(target, 'bin'));
    assert.deepEqual([bin.mode & 0o7777, bin.uid, bin.gid, bin.mtimeMs], [0o2755, 7, 8, 1000000]);
    const link = await lstat(join(target, 'bin', 'link'));
    assert.deepEqual([link.isSymbolicLink(), link.uid, link.gid, link.mtimeMs], [true, 42, 43, 3000000]);
    assert.equal((await lstat(join(target, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await lstat(join(target, 'readonly'))).mode & 0o7777, 0o555);
    assert.equal(await readFile(join(target, 'readonly', 'inside'), 'utf8'), 'ro');
    const nul = await lstat(join(target, 'dev', 'null'));
    assert.ok(nul.isCharacterDevice());
    assert.deepEqual(splitDevice(nul.rdev), { major: 1, minor: 3 });
    assert.deepEqual([nul.mode & 0o7777, nul.mtimeMs], [0o666, 5000000]);
    const loop = await lstat(join(target, 'dev', 'loop-test'));
    assert.ok(loop.isBlockDevice());
    assert.deepEqual(splitDevice(loop.rdev), { major: 7, minor: 250 });
    assert.deepEqual([loop.mode & 0o7777, loop.gid], [0o660, 6]);
    const fifo = await lstat(join(target, 'run', 'fifo'));
    assert.deepEqual([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid], [true, 0o620, 9]);
  });

  it('sets xattrs (user and trusted) and drops trusted.overlay ones', { skip: noAttr }, async () => {
    const target = join(scratch.path, 'root');
    const tar = await buildTar([
      [{ path: 'dir', type: 'directory', xattrs: { 'trusted.note': Buffer.from('t') } }],
      [{ path: 'dir/file', type: 'file', uid: 1000, xattrs: { 'user.bin': Buffer.from([1, 0, 2]), 'trusted.overlay.redirect': Buffer.from('/etc') } }, 'x'],
    ]);
    await extractTar(chunked(tar), target, { onWarning: () => undefined });
    assert.equal(getXattr(join(target, 'dir'), 'trusted.note'), 't');
    assert.equal(getXattr(join(target, 'dir', 'file'), 'user.bin'), '\u0001\u0000\u0002');
    assert.equal(getXattr(join(target, 'dir', 'file'), 'trusted.overlay.redirect'), null);
  });

  it('turns OCI whiteouts into overlayfs ones for a layer, and leaves them as files otherwise', { skip: noAttr }, async () => {
    const entries: (readonly [TarHeaderInput, string?])[] = [
      [{ path: 'etc', type: 'directory' }],
      [{ path: 'etc/.wh.hostname', type: 'file' }],
      [{ path: 'opaque', type: 'directory' }],
      [{ path: 'opaque/.wh..wh..opq', type: 'file' }],
      [{ path: 'opaque/kept', type: 'file' }, 'k'],
      [{ path: 'implicit/.wh..wh..opq', type: 'file' }],
    ];
    const layer = join(scratch.path, 'layer');
    await extractTar(chunked(await buildTar(entries)), layer, { intercept: overlayWhiteouts });
    const whiteout = await lstat(join(layer, 'etc', 'hostname'));
    assert.ok(whiteout.isCharacterDevice());
    assert.equal(whiteout.rdev, 0);
    assert.equal(existsSync(join(layer, 'etc', '.wh.hostname')), false);
    assert.equal(getXattr(join(layer, 'opaque'), 'trusted.overlay.opaque'), 'y');
    assert.equal(getXattr(join(layer, 'implicit'), 'trusted.overlay.opaque'), 'y');
    assert.equal(existsSync(join(layer, 'opaque', '.wh..wh..opq')), false);

    const flat = join(scratch.path, 'flat');
    await extractTar(chunked(await buildTar(entries)), flat);
    assert.ok((await lstat(join(flat, 'etc', '.wh.hostname'))).isFile());
    assert.equal(getXattr(join(flat, 'opaque'), 'trusted.overlay.opaque'), null);
  });

  it("the host's TreeFs reads one file's xattrs, a link's own and not its target's", { skip: notRoot || noAttr }, async () => {
    const helper = new FsHelper();
    try {
      const fs = nodeTreeFs(helper);
      const file = join(scratch.path, 'with-xattrs');
      await writeFile(file, 'x');
      await symlink(file, join(scratch.path, 'link-to-it'));
      await helper.setXattr(file, 'user.tiny', Buffer.from('value'));
      assert.deepEqual(await fs.xattrs(file), { 'user.tiny': Buffer.from('value') });
      assert.deepEqual(await fs.xattrs(join(scratch.path, 'link-to-it')), {});
    } finally {
      await helper.close();
    }
  });
});
