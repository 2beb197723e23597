// Integration (the kernel's bind mount semantics): how the daemon edits a running container's
// /etc/hosts (core/engine/running-hosts.ts editHostsFile): its own host copy, in place (the same
// inode), so a bind of that file in another mount namespace (the shim's bind onto /etc/hosts) shows
// the new text while the file under the bind (the container's root) stays as it was; never through
// a symlink, never hanging on a FIFO, never reading more than 1 MiB + 1 byte.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { editHostsFile, MAX_HOSTS_BYTES } from '../../core/engine/running-hosts.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

const isRoot = process.getuid?.() === 0;
const append = (line: string) => (text: string): string => `${text}${line}\n`;

describe('integration: editing a running container\'s /etc/hosts', { skip: isRoot ? false : 'needs root (a mount namespace)' }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  before(async () => { scratch = await makeScratchDir('running-hosts'); });
  after(async () => { await scratch.dispose(); });

  it('edits the file in place: the same inode, owner and mode, a shorter text truncated, no other file made', async () => {
    const dir = join(scratch.path, 'plain');
    mkdirSync(dir);
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1\tlocalhost\n172.18.0.2\tweb old-alias\n');
    execFileSync('chown', ['1234:1235', hosts]);
    execFileSync('chmod', ['640', hosts]);
    const before = statSync(hosts);
    const out = await editHostsFile(hosts, append('172.18.0.3\tweb'));
    assert.deepEqual(out, { text: '127.0.0.1\tlocalhost\n172.18.0.2\tweb old-alias\n172.18.0.3\tweb\n', changed: true });
    assert.equal(readFileSync(hosts, 'utf8'), out.text);
    const stats = statSync(hosts);
    assert.deepEqual([stats.ino, stats.uid, stats.gid, stats.mode & 0o777], [before.ino, 1234, 1235, 0o640]);
    const shorter = await editHostsFile(hosts, () => '127.0.0.1\tlocalhost\n');
    assert.equal(shorter.changed, true);
    assert.equal(readFileSync(hosts, 'utf8'), '127.0.0.1\tlocalhost\n', 'truncated to the new length');
    assert.equal(statSync(hosts).ino, before.ino);
    assert.deepEqual(readdirSync(dir), ['hosts'], 'no temp file');
    const mtime = statSync(hosts).mtimeMs;
    assert.equal((await editHostsFile(hosts, (t) => t)).changed, false, 'an edit that changes nothing writes nothing');
    assert.equal(statSync(hosts).mtimeMs, mtime);
  });

  it('a bind of the file in another mount namespace shows the new text; the file under the bind is untouched', async () => {
    const etc = join(scratch.path, 'root-etc');
    mkdirSync(etc);
    const target = join(etc, 'hosts');
    writeFileSync(target, 'the root\'s own file\n');
    const copy = join(scratch.path, 'host-copy');
    writeFileSync(copy, '127.0.0.1\tlocalhost\n');
    // A namespace of its own, as a container's: the bind exists only there.
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${copy} ${target} && cat ${target} && read x && cat ${target}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const ended = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      for (let i = 0; i < 400 && !out.includes('localhost') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(out, '127.0.0.1\tlocalhost\n', err);
      await editHostsFile(copy, append('172.18.0.9\tweb'));
      child.stdin.end('go\n');
      assert.equal(await ended, 0, err);
      assert.equal(out, '127.0.0.1\tlocalhost\n127.0.0.1\tlocalhost\n172.18.0.9\tweb\n', 'the bound file shows the edit');
      assert.equal(readFileSync(target, 'utf8'), 'the root\'s own file\n', 'nothing written under the bind (the container\'s root)');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await ended;
    }
  });

  it('never follows a symlink and never waits on a FIFO', async () => {
    const canary = join(scratch.path, 'canary');
    mkdirSync(canary);
    writeFileSync(join(canary, 'target'), 'the target\n');
    const linked = join(scratch.path, 'hosts-link');
    symlinkSync(join(canary, 'target'), linked);
    await assert.rejects(editHostsFile(linked, append('172.18.0.3\tweb')), (e: NodeJS.ErrnoException) => e.code === 'ELOOP');
    assert.equal(readFileSync(join(canary, 'target'), 'utf8'), 'the target\n', 'nothing written where the symlink points');
    const fifo = join(scratch.path, 'hosts-fifo');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(editHostsFile(fifo, append('172.18.0.4\tweb')), /is not a regular file/);
  });

  it('reads at most 1 MiB + 1 byte: a bigger file (a sparse terabyte too) is refused and left as it was', async () => {
    const big = join(scratch.path, 'big');
    writeFileSync(big, Buffer.alloc(MAX_HOSTS_BYTES + 1, 0x61));
    await assert.rejects(editHostsFile(big, append('x')), /more than 1048576 bytes/);
    assert.equal(statSync(big).size, MAX_HOSTS_BYTES + 1);
    const sparse = join(scratch.path, 'sparse');
    writeFileSync(sparse, '');
    truncateSync(sparse, 2 ** 40);
    await assert.rejects(editHostsFile(sparse, append('x')), /more than 1048576 bytes/);
    assert.equal(statSync(sparse).size, 2 ** 40);
    const full = join(scratch.path, 'full');
    writeFileSync(full, Buffer.alloc(MAX_HOSTS_BYTES, 0x61));
    assert.equal((await editHostsFile(full, (t) => t.slice(1))).changed, true, 'exactly 1 MiB is read');
    assert.equal(statSync(full).size, MAX_HOSTS_BYTES - 1);
    await assert.rejects(editHostsFile(full, (t) => `${t}xy`), /would make it more than 1048576 bytes/);
    assert.equal(statSync(full).size, MAX_HOSTS_BYTES - 1, 'an edit that would grow it past the limit writes nothing');
  });
});
