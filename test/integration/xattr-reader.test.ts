import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readXattrTree, XATTR_READER_BINARY } from '../../core/archive/index.js';
import { runCommand, until } from '../e2e/harness.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';

const notRoot = process.getuid?.() !== 0 && 'needs root (trusted xattrs, on a symlink too)';

function setXattr(path: string, name: string, value: string): void {
  execFileSync('setfattr', ['-h', '-n', name, '-v', value, path]);
}

/** The mini-docker-xattrs processes this test process started. */
function readerPids(): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(XATTR_READER_BINARY)) pids.push(Number(pid));
    } catch {
      // gone
    }
  }
  return pids;
}

describe('readXattrTree through the long-lived mini-docker-xattrs: what getfattr -R read, without a process per tree (integration)', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let tree: string;
  const odd = 'a b\\c\nd é';
  before(async () => {
    scratch = await makeScratchDir('xattr-reader');
    tree = join(scratch.path, 'tree');
    await mkdir(join(tree, 'opaque', 'deeper'), { recursive: true });
    await writeFile(join(tree, 'opaque', 'deeper', odd), 'x');
    await writeFile(join(tree, 'plain'), 'no attributes');
    await symlink('nowhere', join(tree, 'link'));
    setXattr(join(tree, 'opaque'), 'trusted.overlay.opaque', 'y');
    setXattr(join(tree, 'opaque', 'deeper', odd), 'user.bin', '0x410042');
    setXattr(join(tree, 'opaque', 'deeper', odd), 'user.empty', '');
    setXattr(join(tree, 'link'), 'trusted.on-the-link', 'itself');
  });
  after(async () => {
    await scratch.dispose();
  });

  it('reads every attribute of a tree (names with any byte, binary and empty values, a symlink itself), keyed by absolute path', async () => {
    const warnings: string[] = [];
    const found = await readXattrTree(tree, (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
    assert.deepEqual([...found.keys()].sort(), [join(tree, 'link'), join(tree, 'opaque'), join(tree, 'opaque', 'deeper', odd)].sort());
    assert.deepEqual(found.get(join(tree, 'opaque')), { 'trusted.overlay.opaque': Buffer.from('y') });
    assert.deepEqual(found.get(join(tree, 'opaque', 'deeper', odd)), { 'user.bin': Buffer.from([0x41, 0x00, 0x42]), 'user.empty': Buffer.alloc(0) });
    assert.deepEqual(found.get(join(tree, 'link')), { 'trusted.on-the-link': Buffer.from('itself') });
    const one = await readXattrTree(join(tree, 'link'), () => undefined, { folder: false });
    assert.deepEqual([...one.keys()], [join(tree, 'link')], 'folder: false reads the link alone');
  });

  it('answers many trees asked at once, in order, from one process', async () => {
    const asks = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? tree : i % 3 === 1 ? join(tree, 'opaque') : join(tree, 'plain')));
    const answers = await Promise.all(asks.map((root) => readXattrTree(root, () => undefined)));
    answers.forEach((answer, i) => assert.equal(answer.size, [3, 2, 0][i % 3], `the answer of ${asks[i]}`));
    assert.equal(readerPids().length, 1, 'one mini-docker-xattrs for all of them');
  });

  it('warns of a tree it cannot walk and answers the next; a helper that died is started again', async () => {
    const warnings: string[] = [];
    const missing = await readXattrTree(join(tree, 'missing'), (m) => warnings.push(m), { folder: true });
    assert.equal(missing.size, 0);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot walk .*missing.*No such file or directory/);
    const [pid] = readerPids();
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    // reaped by node, which then sees the helper's end ('close') on its next turns
    await until('the killed helper reaped', () => (existsSync(`/proc/${pid}`) ? undefined : true));
    await new Promise((r) => setTimeout(r, 50));
    const again = await readXattrTree(tree, () => undefined);
    assert.equal(again.size, 3);
    const now = readerPids();
    assert.equal(now.length, 1);
    assert.notEqual(now[0], pid, 'a new process');
  });

  it('does not keep a node process running once its answers are in', async () => {
    const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'core', 'archive', 'xattrs.js')).href;
    const script = `const { readXattrTree } = await import(${JSON.stringify(module)}); const m = await readXattrTree(${JSON.stringify(tree)}, () => {}); console.log(m.size);`;
    const r = await runCommand(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    assert.deepEqual([r.code, r.stdout.trim()], [0, '3'], r.stderr);
  });
});
