// Integration (the kernel's rename and mount semantics): how the daemon rewrites a running
// container's /etc/hosts (core/engine/running-hosts.ts rewriteHostsIn): a temp file renamed over
// the file, which replaces a bind mount another mount namespace holds there (the shim's bind of
// /etc/hosts) so that namespace sees the new file; never through a symlink (a planted /etc is
// refused, a planted /etc/hosts replaced), never hanging on a FIFO, never reading a huge file.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rewriteHostsIn } from '../../core/engine/running-hosts.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

const isRoot = process.getuid?.() === 0;
const append = (line: string) => (text: string): string => `${text}${line}\n`;

describe('integration: rewriting a running container\'s /etc/hosts', { skip: isRoot ? false : 'needs root (a mount namespace)' }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  before(async () => { scratch = await makeScratchDir('running-hosts'); });
  after(async () => { await scratch.dispose(); });

  it('edits the file through a temp file renamed over it: a new inode, the owner kept, no temp file left', async () => {
    const etc = join(scratch.path, 'plain');
    mkdirSync(etc);
    writeFileSync(join(etc, 'hosts'), '127.0.0.1\tlocalhost\n');
    execFileSync('chown', ['1234:1235', join(etc, 'hosts')]);
    const inode = statSync(join(etc, 'hosts')).ino;
    const out = await rewriteHostsIn(etc, append('172.18.0.2\tweb'), 'unused\n');
    assert.deepEqual(out, { text: '127.0.0.1\tlocalhost\n172.18.0.2\tweb\n', changed: true });
    assert.equal(readFileSync(join(etc, 'hosts'), 'utf8'), out.text);
    const stats = statSync(join(etc, 'hosts'));
    assert.notEqual(stats.ino, inode);
    assert.deepEqual([stats.uid, stats.gid], [1234, 1235]);
    assert.deepEqual(readdirSync(etc), ['hosts']);
    assert.equal((await rewriteHostsIn(etc, (t) => t, '')).changed, false, 'an edit that changes nothing writes nothing');
    assert.equal(statSync(join(etc, 'hosts')).ino, stats.ino);
  });

  it('replaces a file another mount namespace has a bind mounted on: that namespace sees the new text', async () => {
    const etc = join(scratch.path, 'bound');
    mkdirSync(etc);
    writeFileSync(join(etc, 'hosts'), 'under the bind\n');
    const source = join(scratch.path, 'bind-source');
    writeFileSync(source, 'the bound file\n');
    const target = join(etc, 'hosts');
    // A namespace of its own, as a container's: the bind exists only there.
    const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${source} ${target} && cat ${target} && read x && cat ${target}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const ended = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      for (let i = 0; i < 200 && !out.includes('the bound file'); i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(out, 'the bound file\n', err);
      const written = await rewriteHostsIn(etc, append('172.18.0.9\tweb'), '');
      assert.equal(written.text, 'under the bind\n172.18.0.9\tweb\n', 'the text this namespace sees is the one edited');
      child.stdin.end('go\n');
      assert.equal(await ended, 0, err);
      assert.equal(out, 'the bound file\nunder the bind\n172.18.0.9\tweb\n', 'the bind was detached: the renamed file shows');
      assert.equal(readFileSync(source, 'utf8'), 'the bound file\n', 'the bind\'s source untouched');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await ended;
    }
  });

  it('never follows a symlink: a symlinked folder is refused, a symlinked or FIFO hosts is replaced by a file, the fallback text edited', async () => {
    const canary = join(scratch.path, 'canary');
    mkdirSync(canary);
    const linked = join(scratch.path, 'etc-link');
    symlinkSync(canary, linked);
    await assert.rejects(rewriteHostsIn(linked, append('x'), ''), (e: NodeJS.ErrnoException) => e.code === 'ELOOP' || e.code === 'ENOTDIR');
    const etc = join(scratch.path, 'planted');
    mkdirSync(etc);
    symlinkSync(join(canary, 'target'), join(etc, 'hosts'));
    const out = await rewriteHostsIn(etc, append('172.18.0.3\tweb'), 'from the host copy\n');
    assert.equal(out.text, 'from the host copy\n172.18.0.3\tweb\n');
    assert.ok(statSync(join(etc, 'hosts')).isFile());
    assert.deepEqual(readdirSync(canary), [], 'nothing written where the symlinks point');
    const fifo = join(scratch.path, 'fifo');
    mkdirSync(fifo);
    execFileSync('mkfifo', [join(fifo, 'hosts')]);
    assert.equal((await rewriteHostsIn(fifo, append('172.18.0.4\tweb'), '')).text, '172.18.0.4\tweb\n', 'no hang on a FIFO');
    assert.ok(statSync(join(fifo, 'hosts')).isFile());
  });

  it('refuses a hosts file bigger than any real one', async () => {
    const etc = join(scratch.path, 'huge');
    mkdirSync(etc);
    writeFileSync(join(etc, 'hosts'), Buffer.alloc((1 << 20) + 1, 0x61));
    await assert.rejects(rewriteHostsIn(etc, append('x'), ''), /more than 1048576/);
  });
});
