import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FsHelper, FsHelperError, splitDevice } from '../../core/archive/index.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

const notRoot = process.getuid?.() !== 0 && 'needs root (device nodes, trusted xattrs)';

function getXattr(path: string, name: string): string | null {
  try {
    return execFileSync('getfattr', ['-h', '--only-values', '-n', name, path], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
}

describe('the file-system helper of extraction: one process for many mknod and lsetxattr calls (integration)', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  before(async () => {
    scratch = await makeScratchDir('fs-helper');
  });
  after(async () => {
    await scratch.dispose();
  });

  it('makes 300 nodes and sets xattrs through one process, pipelined, and ends it on close', async () => {
    const dir = join(scratch.path, 'many');
    await mkdir(dir);
    const fs = new FsHelper();
    assert.equal(fs.pid, undefined, 'no process before the first request');
    await fs.mknod(join(dir, 'first'), 'fifo', 0o600);
    const pid = fs.pid;
    assert.ok(pid !== undefined && existsSync(`/proc/${pid}`));
    await Promise.all(Array.from({ length: 300 }, (_, i) => fs.mknod(join(dir, `n${i}`), i % 2 === 0 ? 'fifo' : 'char-device', 0o640, 1, 3)));
    assert.equal(fs.pid, pid, 'the same process did all of them');
    await writeFile(join(dir, 'file'), 'x');
    await fs.setXattr(join(dir, 'file'), 'user.bin', Buffer.from([0x41, 0x00, 0x42]));
    await fs.setXattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
    await fs.close();
    assert.equal(fs.pid, undefined);
    assert.equal(existsSync(`/proc/${pid}`), false, 'the helper exited');

    const fifo = await lstat(join(dir, 'n0'));
    assert.deepEqual([fifo.isFIFO(), fifo.mode & 0o7777], [true, 0o640], 'modes are exact (umask 0)');
    const device = await lstat(join(dir, 'n1'));
    assert.ok(device.isCharacterDevice());
    assert.deepEqual(splitDevice(device.rdev), { major: 1, minor: 3 });
    assert.equal(getXattr(join(dir, 'file'), 'user.bin'), 'A\u0000B');
    assert.equal(getXattr(dir, 'trusted.overlay.opaque'), 'y');
  });

  it('answers a failed call with its errno, and goes on with the next', async () => {
    const dir = join(scratch.path, 'errors');
    await mkdir(dir);
    const fs = new FsHelper();
    try {
      await fs.mknod(join(dir, 'x'), 'fifo', 0o600);
      await assert.rejects(fs.mknod(join(dir, 'x'), 'fifo', 0o600), (e: unknown) => e instanceof FsHelperError && e.code === 'EEXIST' && /mknod .*x: File exists/.test(e.message));
      await assert.rejects(fs.setXattr(join(dir, 'missing'), 'user.a', Buffer.from('1')), (e: unknown) => e instanceof FsHelperError && e.code === 'ENOENT');
      await fs.mknod(join(dir, 'y'), 'fifo', 0o600);
      assert.ok((await lstat(join(dir, 'y'))).isFIFO());
    } finally {
      await fs.close();
    }
  });

  it('never sets an xattr through a symlink, and mknod never writes through one', async () => {
    const dir = join(scratch.path, 'links');
    const outside = join(scratch.path, 'outside');
    await mkdir(dir);
    await writeFile(outside, 'host file');
    await symlink(outside, join(dir, 'link'));
    const fs = new FsHelper();
    try {
      await assert.rejects(fs.setXattr(join(dir, 'link'), 'user.evil', Buffer.from('1')), FsHelperError);
      await assert.rejects(fs.mknod(join(dir, 'link'), 'fifo', 0o600), /EEXIST|File exists/);
    } finally {
      await fs.close();
    }
    assert.equal(getXattr(outside, 'user.evil'), null);
    assert.ok((await lstat(outside)).isFile());
  });
});
