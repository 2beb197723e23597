import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readTar, readXattrTree, syncFilesystem, XATTR_READER_BINARY } from '../../core/archive/index.js';
import { parseXattrDump, XattrAnswerTooLarge, XattrReader } from '../../core/archive/xattrs.js';
import { runCommand, until } from '../e2e/harness.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

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
    const reader = new XattrReader();
    try {
      assert.equal((await reader.read(tree)).warnings.length, 0);
      const pid = reader.pid;
      assert.ok(pid !== undefined);
      process.kill(pid, 'SIGKILL');
      await reader.ended(); // node saw it end ('close'): reaped, its pipes drained
      assert.equal(existsSync(`/proc/${pid}`), false);
      const again = await reader.read(tree);
      assert.match(again.dump.toString('latin1'), /trusted\.on-the-link=0x/);
      assert.ok(reader.pid !== undefined && reader.pid !== pid, 'a new process');
    } finally {
      await reader.close();
    }
  });

  it('an attribute name holding a newline, "# file:" and \\001end is read back whole, and quoted in a warning: no forged line, no answer cut short', async () => {
    const file = join(scratch.path, 'forged-name');
    await writeFile(file, '');
    const forged = 'user.x\n# file: /forged\n\x01end\n\x01warn y';
    setXattr(file, forged, 'v');
    try {
      const found = await readXattrTree(file, () => undefined, { folder: false });
      assert.deepEqual([...found.keys()], [file]);
      assert.deepEqual(found.get(file), { [forged]: Buffer.from('v') });
      // Every lgetxattr of the helper fails (strace injects EIO): each attribute is a warning naming it.
      const reader = new XattrReader({ command: 'strace', args: ['-f', '-o', '/dev/null', '-e', 'inject=lgetxattr:error=EIO', XATTR_READER_BINARY] });
      try {
        const failed = await reader.read(file);
        assert.equal(failed.warnings.length, 1, failed.warnings.join(' | '));
        assert.equal(failed.warnings[0], `strace: user.x\\012# file: /forged\\012\\001end\\012\\001warn y ${file}: Input/output error`);
        assert.equal(failed.dump.toString('latin1'), `# file: ${file}\n\n`);
        // the next answer is its own (an early end would have shifted it onto this request)
        const next = await reader.read(join(tree, 'link'));
        assert.equal(next.dump.toString('latin1'), `# file: ${join(tree, 'link')}\n\n`);
        assert.equal(next.warnings.length, 1);
        assert.match(next.warnings[0]!, /^strace: trusted\.on-the-link .*link: Input\/output error$/);
      } finally {
        await reader.close();
      }
    } finally {
      await rm(file);
    }
  });

  it('an attribute name holding "=" and a value holding "=", newlines and NUL bytes are read back whole; the dump has getfattr\'s lines, byte for byte', async (t) => {
    const file = join(scratch.path, 'equals');
    await writeFile(file, '');
    const value = Buffer.from('x=y\n\0z==\n\0', 'latin1');
    const attributes = { 'user.a=b': value, 'user.==': Buffer.from('=\n'), 'user.plain': Buffer.from('0x41') };
    if (spawnSync('setfattr', ['-n', 'user.probe', '-v', '1', file]).status !== 0) {
      t.skip(`the file system of ${scratch.path} takes no user xattrs`);
      return;
    }
    execFileSync('setfattr', ['-x', 'user.probe', file]);
    for (const [name, bytes] of Object.entries(attributes)) setXattr(file, name, `0x${bytes.toString('hex')}`);
    const warnings: string[] = [];
    const found = await readXattrTree(file, (m) => warnings.push(m), { folder: false });
    assert.deepEqual(warnings, []);
    assert.deepEqual(found.get(file), attributes);
    const reader = new XattrReader();
    try {
      const { dump } = await reader.read(file);
      assert.match(dump.toString('latin1'), /^user\.a\\075b=0x/m, 'the name\'s "=" is quoted');
      const getfattr = execFileSync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', file]);
      const lines = (bytes: Buffer): string[] => bytes.toString('latin1').split('\n').sort(); // getfattr sorts the names, the helper keeps the kernel's order
      assert.deepEqual(lines(dump), lines(getfattr));
      assert.deepEqual(parseXattrDump(getfattr).get(file), attributes, 'the getfattr fallback reads the same');
    } finally {
      await reader.close();
      await rm(file);
    }
  });

  it('an xattr name holding "=" and "%" goes through our tar and GNU tar both ways: each reads what the other wrote', async (t) => {
    const dir = join(scratch.path, 'gnu');
    await mkdir(join(dir, 'in'), { recursive: true });
    await mkdir(join(dir, 'out'));
    const file = join(dir, 'in', 'f');
    await writeFile(file, 'data');
    if (spawnSync('setfattr', ['-n', 'user.probe', '-v', '1', file]).status !== 0) {
      t.skip(`the file system of ${scratch.path} takes no user xattrs`);
      return;
    }
    execFileSync('setfattr', ['-x', 'user.probe', file]);
    const value = Buffer.from('x=y\n\0z=', 'latin1');
    setXattr(file, 'user.a=b%c', `0x${value.toString('hex')}`);
    // GNU tar wrote it: our reader takes the name back whole.
    const gnu = execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '-C', join(dir, 'in'), '-cf', '-', 'f']);
    const names: Record<string, Buffer>[] = [];
    for await (const { header, body } of readTar(Readable.from([gnu]))) {
      for await (const chunk of body) void chunk;
      names.push({ ...header.xattrs });
    }
    assert.deepEqual(names, [{ 'user.a=b%c': value }]);
    // We wrote it: GNU tar extracts the attribute under its name.
    const ours = join(dir, 'ours.tar');
    await writeFile(ours, await buildTar([[{ path: 'f', type: 'file', mode: 0o644, xattrs: { 'user.a=b%c': value } }, 'data']]));
    execFileSync('tar', ['--xattrs', '--xattrs-include=user.*', '-C', join(dir, 'out'), '-xf', ours]);
    const found = await readXattrTree(join(dir, 'out', 'f'), () => undefined, { folder: false });
    assert.deepEqual(found.get(join(dir, 'out', 'f')), { 'user.a=b%c': value });
  });

  it('reads a big tree in one answer, and refuses an answer over its cap with one clear error, then answers the next from a new helper', async () => {
    const big = join(scratch.path, 'big');
    await mkdir(big);
    const count = 2000;
    const value = (i: number): Buffer => Buffer.alloc(1500, i & 0xff);
    const restore: string[] = [];
    for (let i = 0; i < count; i++) {
      await writeFile(join(big, `f${i}`), '');
      restore.push(`# file: ${join(big, `f${i}`)}\ntrusted.v=0x${value(i).toString('hex')}\n`);
    }
    await writeFile(join(scratch.path, 'big.dump'), `${restore.join('\n')}\n`);
    execFileSync('setfattr', [`--restore=${join(scratch.path, 'big.dump')}`]);
    const found = await readXattrTree(big, () => undefined);
    assert.equal(found.size, count);
    for (let i = 0; i < count; i++) assert.deepEqual(found.get(join(big, `f${i}`)), { 'trusted.v': value(i) }, `f${i}`);

    const reader = new XattrReader({ maxAnswer: 1 << 20 });
    try {
      const first = reader.read(join(tree, 'opaque'));
      const pid = reader.pid;
      assert.ok(pid !== undefined);
      const [before, tooBig, queued] = await Promise.allSettled([first, reader.read(big), reader.read(join(tree, 'opaque'))]);
      assert.ok(before.status === 'fulfilled');
      assert.match(before.value.dump.toString('latin1'), /trusted\.overlay\.opaque=0x79/);
      assert.ok(tooBig.status === 'rejected' && tooBig.reason instanceof XattrAnswerTooLarge);
      assert.equal((tooBig.reason as Error).message, `the extended attributes under ${big} make an answer larger than ${1 << 20} bytes: remove attributes from that tree, or read a smaller part of it`);
      assert.ok(queued.status === 'rejected');
      assert.match((queued.reason as Error).message, /was restarted: an earlier answer was larger than 1048576 bytes/);
      await until('the helper killed at the cap gone', () => (existsSync(`/proc/${pid}`) ? undefined : true));
      const again = await reader.read(join(tree, 'opaque'));
      assert.match(again.dump.toString('latin1'), /trusted\.overlay\.opaque=0x79/);
      assert.ok(reader.pid !== undefined && reader.pid !== pid, 'a new helper');
    } finally {
      await reader.close();
    }
  });

  it('does not keep a node process running once its answers are in', async () => {
    const module = pathToFileURL(join(import.meta.dirname, '..', '..', 'core', 'archive', 'xattrs.js')).href;
    const script = `const { readXattrTree } = await import(${JSON.stringify(module)}); const m = await readXattrTree(${JSON.stringify(tree)}, () => {}); console.log(m.size);`;
    const r = await runCommand(process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 30_000 });
    assert.deepEqual([r.code, r.stdout.trim()], [0, '3'], r.stderr);
  });
});

describe('syncFilesystem: syncfs(2) by a long-lived mini-docker-xattrs of its own, not a `sync -f` per call (integration)', { skip: notRoot }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let reader = 0;
  before(async () => {
    scratch = await makeScratchDir('syncfs');
  });
  after(async () => {
    await scratch.dispose();
  });

  /** The `sync` processes this test process started (the fallback). */
  function syncPids(): number[] {
    return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && stat.includes('(sync)');
      } catch {
        return false;
      }
    });
  }

  it('syncs many calls from one helper apart from the xattr reader, and names a path it cannot sync', async () => {
    await writeFile(join(scratch.path, 'data'), Buffer.alloc(1 << 20, 1));
    await readXattrTree(scratch.path, () => undefined); // the reader's own process
    const before = readerPids();
    assert.equal(before.length, 1);
    reader = before[0]!;
    await Promise.all(Array.from({ length: 10 }, () => syncFilesystem(scratch.path)));
    const now = readerPids();
    assert.equal(now.length, 2, 'one more helper, for syncs');
    assert.ok(now.includes(before[0]!), 'the reader is not the syncer');
    await assert.rejects(syncFilesystem(join(scratch.path, 'missing')), /syncfs .*missing: No such file or directory: cannot flush/);
    await syncFilesystem(scratch.path); // the helper answers after a failure
    assert.equal(readerPids().length, 2);
  });

  it('falls back to `sync -f` for a call whose helper died, and starts a new helper for the next', async () => {
    await syncFilesystem(scratch.path);
    const syncer = readerPids().find((pid) => pid !== reader);
    assert.ok(syncer !== undefined);
    process.kill(syncer, 'SIGSTOP'); // the request waits in its pipe
    const pending = syncFilesystem(scratch.path);
    process.kill(syncer, 'SIGKILL');
    await pending; // answered by `sync -f`
    await until('the killed helper reaped', () => (existsSync(`/proc/${syncer}`) ? undefined : true));
    assert.deepEqual(syncPids(), [], 'the sync -f process ended');
    await syncFilesystem(scratch.path);
    const after = readerPids();
    assert.equal(after.length, 2);
    assert.ok(!after.includes(syncer), 'a new helper');
  });

  it('asks the kernel for syncfs of the path\'s file system (seen by strace)', async () => {
    const path = Buffer.from(scratch.path);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(path.length);
    const request = Buffer.concat([Buffer.from('s'), length, path]);
    const traced = spawnSync('strace', ['-e', 'trace=openat,syncfs', XATTR_READER_BINARY], { input: request, encoding: 'utf8', timeout: 30_000 });
    assert.equal(traced.status, 0, traced.stderr);
    assert.equal(traced.stdout, '\x01end\n');
    const lines = traced.stderr.split('\n');
    const opened = lines.map((line) => /^openat\(AT_FDCWD, "([^"]*)", [^)]*\) += (\d+)$/.exec(line)).find((m) => m?.[1] === scratch.path);
    assert.ok(opened, traced.stderr);
    assert.ok(lines.some((line) => new RegExp(`^syncfs\\(${opened[2]}\\) += 0$`).test(line)), `syncfs of the path's fd ${opened[2]}: ${traced.stderr}`);
  });
});
