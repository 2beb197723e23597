// Integration (root, mount and user namespaces): cp's file operations run in mini-docker-cproot,
// whose root is the container's, while a process that is NOT frozen (the host's, standing in for
// another container sharing a volume) swaps a folder below the target for a symlink to a host
// folder in a tight loop. Nothing may land on, or be read from, the host.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { encodeName } from '../../core/archive/byte-names.js';
import { ContainerFs } from '../../core/archive/container-fs.js';
import { extractTar, FsHelper, readTar, resolveInRoot } from '../../core/archive/index.js';
import { nodeTreeFs } from '../../core/archive/tree-fs.js';
import { writeTarOf } from '../../core/archive/write-tar.js';
import { buildTar } from '../fixtures/tar-builder.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/bin/busybox') ? 'needs busybox (apt-get install busybox-static)' : false;

/** The range a remapped stand-in container's ids map to. */
const RANGE = 300000;
const CANARY = 'host-secret\n';

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number));
  }
  return out;
}

/** True once the process is gone (or a zombie nobody reaped yet). */
function gone(pid: number): boolean {
  try {
    return /^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * A stand-in container: a "shim" whose child (its "init") chroots into `rootfs` and sleeps, in a
 * mount namespace of its own: `unshare --mount`, or remapped test/fixtures/userns-init.c, whose
 * init is root of a user namespace mapping 0-65535 to RANGE on the host.
 */
async function startContainer(rootfs: string, remapped: boolean, userns: string): Promise<{ shim: ChildProcess; pid: number }> {
  const shim = remapped
    ? spawn(userns, [rootfs, String(RANGE)], { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn('unshare', ['--mount', '--fork', '--kill-child', 'chroot', rootfs, '/bin/sleep', '1000'], { stdio: 'ignore' });
  let pid = 0;
  await until('the stand-in container', () => {
    pid = existsSync(`/proc/${shim.pid!}/task`) ? childrenOf(shim.pid!)[0] ?? 0 : 0;
    return pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sleep');
  });
  return { shim, pid };
}

/**
 * A process of the host's that swaps `dir` for a symlink to `hostDir` (absolute and, every other
 * time, relative and climbing) and back, as fast as it can, until its stdin ends; it prints how
 * many swaps it made.
 */
function startSwapper(dir: string, hostDir: string): { child: ChildProcess; swaps: Promise<number> } {
  const script = `const fs = require('node:fs');
const [dir, host] = [${JSON.stringify(dir)}, ${JSON.stringify(hostDir)}];
const links = [host, '../'.repeat(24) + host.slice(1)];
let swaps = 0, stop = false;
process.stdin.on('end', () => { stop = true; }).resume();
function round() {
  for (let i = 0; i < 200 && !stop; i++) {
    try {
      fs.renameSync(dir, dir + '.real');
      fs.symlinkSync(links[swaps % 2], dir);
      swaps++;
      fs.unlinkSync(dir);
      fs.renameSync(dir + '.real', dir);
    } catch { /* the copy moved something meanwhile */ }
  }
  if (stop) { process.stdout.write(String(swaps)); return; }
  setImmediate(round);
}
round();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const swaps = new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (t: string) => { out += t; });
    child.on('close', () => resolve(Number(out)));
  });
  return { child, swaps };
}

/**
 * A tar of small files right under `sub/` (each opened by a path through sub: the host-path
 * extraction this replaced put some of them in the host folder in one round of four), and folders of them.
 */
async function manyEntries(): Promise<Buffer> {
  const entries: [{ path: string; type: 'directory' | 'file'; mode: number }, string?][] = [];
  for (let f = 0; f < 400; f++) entries.push([{ path: `sub/top${f}`, type: 'file', mode: 0o644 }, 'from the copy\n']);
  for (let d = 0; d < 10; d++) {
    entries.push([{ path: `sub/d${d}`, type: 'directory', mode: 0o755 }]);
    for (let f = 0; f < 20; f++) entries.push([{ path: `sub/d${d}/f${f}`, type: 'file', mode: 0o644 }, 'from the copy\n']);
  }
  return buildTar(entries);
}

/** Runs `make` with these variables set in this process's environment (a child it spawns inherits them), then puts them back. */
async function withEnv<T>(vars: Readonly<Record<string, string>>, make: () => Promise<T>): Promise<T> {
  const saved = Object.keys(vars).map((key) => [key, process.env[key]] as const);
  Object.assign(process.env, vars);
  try {
    return await make();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

function hostUntouched(hostDir: string): void {
  assert.deepEqual(readdirSync(hostDir), ['canary'], 'nothing landed in the host folder');
  assert.equal(readFileSync(join(hostDir, 'canary'), 'utf8'), CANARY);
}

describe('cp through mini-docker-cproot: an unfrozen process racing the copy', { skip }, () => {
  let base: string;
  let hostDir: string;
  let userns: string;
  const started: ChildProcess[] = [];
  before(async () => {
    // Under the system's temp folder, traversable: a remapped stand-in's root (an unmapped id) must reach its rootfs.
    base = await mkdtemp(join(tmpdir(), 'tiny-docker-test-cp-race-'));
    await chmod(base, 0o755);
    hostDir = join(base, 'host-side');
    await mkdir(hostDir);
    await chmod(hostDir, 0o777); // world-writable: a remapped root that escaped could write here
    await writeFile(join(hostDir, 'canary'), CANARY);
    userns = join(base, 'userns-init');
    execFileSync('cc', ['-Wall', '-Werror', '-o', userns, fileURLToPath(new URL('../../../test/fixtures/userns-init.c', import.meta.url))]);
  });
  after(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(started.map((child) => new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('close', () => r())))));
    await rm(base, { recursive: true, force: true });
  });

  async function makeRootfs(name: string, remapped: boolean): Promise<string> {
    const rootfs = join(base, name);
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    await symlink('busybox', join(rootfs, 'bin', 'sleep'));
    await mkdir(join(rootfs, 'vol', 'target', 'sub'), { recursive: true });
    await symlink('/etc', join(rootfs, 'evil-abs'));
    await writeFile(join(rootfs, 'marker'), 'the container\n');
    if (remapped) for (const dir of ['vol', 'vol/target', 'vol/target/sub']) await chown(join(rootfs, dir), RANGE, RANGE);
    return rootfs;
  }

  interface StandIn {
    readonly rootfs: string;
    readonly shim: ChildProcess;
    /** The stand-in's init: the container's process ContainerFs.running joins. */
    readonly pid: number;
  }

  /**
   * Every test's fixture: a rootfs `name` (makeRootfs), `beforeStart` done on it, a stand-in
   * container on it (remapped or plain), the test's body, then the stand-in killed whatever happened.
   */
  async function withStandIn(name: string, options: { remapped?: boolean; beforeStart?: (rootfs: string) => Promise<void> }, body: (c: StandIn) => Promise<void>): Promise<void> {
    const remapped = options.remapped ?? false;
    const rootfs = await makeRootfs(name, remapped);
    await options.beforeStart?.(rootfs);
    const { shim, pid } = await startContainer(rootfs, remapped, userns);
    started.push(shim);
    try {
      await body({ rootfs, shim, pid });
    } finally {
      shim.kill('SIGKILL');
    }
  }

  /**
   * withStandIn with the cp server of the stand-in (`serverEnv`: the server's environment, for the
   * body): closed after the body, whatever happened; then the server must have ended.
   */
  async function withServer(
    name: string,
    options: { remapped?: boolean; beforeStart?: (rootfs: string) => Promise<void>; serverEnv?: Readonly<Record<string, string>> },
    body: (c: StandIn & { readonly fs: ContainerFs }) => Promise<void>,
  ): Promise<void> {
    let serverPid = 0;
    await withStandIn(name, options, async (c) => {
      const fs = await withEnv(options.serverEnv ?? {}, () => ContainerFs.running(c.pid, c.shim.pid!, options.remapped ?? false));
      serverPid = fs.pid!;
      try {
        await body({ ...c, fs });
      } finally {
        await fs.close();
      }
    });
    assert.equal(gone(serverPid), true, 'the server ended');
  }

  for (const remapped of [false, true]) {
    it(`a running ${remapped ? 'remapped' : 'plain'} container: PUTs and GETs while sub/ is swapped for links to a host folder land and read only inside it`, async () => {
      await withServer(remapped ? 'remapped' : 'plain', { remapped }, async ({ rootfs, fs }) => {
        // The server's "/" is the container's: links resolve inside it.
        assert.equal((await readFile(`/proc/${fs.pid}/root/marker`, 'utf8')), 'the container\n');
        assert.equal(await resolveInRoot('/', '/evil-abs', { followFinal: true, create: false, finalMayBeFile: true, missingAsIs: true }, fs), '/etc');
        const tar = await manyEntries();
        const swapper = startSwapper(join(rootfs, 'vol', 'target', 'sub'), hostDir);
        started.push(swapper.child);
        let extracted = 0;
        let archived = 0;
        for (let round = 0; round < 30 && (round < 4 || extracted === 0 || archived === 0); round++) {
          // A race may fail the copy (a folder gone, a link where a folder was): it must never escape.
          await extractTar(Readable.from([tar]), '/vol/target', { fs, preserveOwner: true, onEntry: () => void extracted++ }).catch(() => undefined);
          const out = new PassThrough();
          const read = (async () => {
            const seen: string[] = [];
            for await (const { header, body } of readTar(out)) {
              const chunks: Buffer[] = [];
              for await (const chunk of body) chunks.push(Buffer.from(chunk));
              seen.push(`${header.path}:${Buffer.concat(chunks).toString()}`);
            }
            return seen;
          })();
          await writeTarOf('/vol/target', 'sub', 'sub', out, { fs }).catch(() => out.end());
          const seen = await read.catch(() => [] as string[]);
          archived += seen.length;
          assert.equal(seen.some((entry) => entry.includes('canary') || entry.includes(CANARY)), false, 'nothing of the host folder was archived');
        }
        swapper.child.stdin!.end();
        assert.ok((await swapper.swaps) > 0, 'the swapper swapped');
        hostUntouched(hostDir);
        // The copies did run during the swaps (some of their rounds fail, not all of their entries).
        assert.ok(extracted > 0 && archived > 0, `entries extracted ${extracted}, archived ${archived}`);
        if (remapped) {
          const { uid } = await fs.lstat('/vol/target/sub');
          assert.equal(uid, 0, 'the server, in its user namespace, sees the container\'s ids');
        }
      });
    });
  }

  it('a remapped container: files are made as its root (uid 0 there, the range on the host); an owner it cannot hold fails', async () => {
    await withServer('owners', { remapped: true }, async ({ rootfs, fs }) => {
      await extractTar(Readable.from([await buildTar([[{ path: 'owned', type: 'file', mode: 0o4755, uid: 0, gid: 0 }, 'x'], [{ path: 'd', type: 'directory', mode: 0o755, uid: 5, gid: 6 }]])]), '/vol/target', { fs, preserveOwner: true });
      const owned = await lstat(join(rootfs, 'vol', 'target', 'owned'));
      assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o7777], [RANGE, RANGE, 0o4755]);
      const dir = await lstat(join(rootfs, 'vol', 'target', 'd'));
      assert.deepEqual([dir.uid, dir.gid], [RANGE + 5, RANGE + 6]);
      await assert.rejects(extractTar(Readable.from([await buildTar([[{ path: 'far', type: 'file', mode: 0o644, uid: 70000, gid: 0 }, 'x']])]), '/vol/target', { fs, preserveOwner: true }), { code: 'EINVAL' });
      // The other kinds of entry, through the same process: a link, a hardlink, a fifo, an xattr, a big file, a folder replaced by a file.
      const big = Buffer.alloc(3 << 20, 7);
      await extractTar(Readable.from([await buildTar([
        [{ path: 'link', type: 'symlink', linkname: '/etc' }],
        [{ path: 'hard', type: 'hardlink', linkname: 'owned' }],
        [{ path: 'pipe', type: 'fifo', mode: 0o640 }],
        [{ path: 'tagged', type: 'file', mode: 0o644, xattrs: { 'user.tiny': Buffer.from('value') } }, 'x'],
        [{ path: 'big', type: 'file', mode: 0o600 }, big],
        [{ path: 'd', type: 'file', mode: 0o644 }, 'was a folder'],
      ])]), '/vol/target', { fs, preserveOwner: true });
      const target = join(rootfs, 'vol', 'target');
      assert.equal(await readlink(join(target, 'link')), '/etc');
      assert.equal((await lstat(join(target, 'hard'))).ino, owned.ino);
      assert.equal((await lstat(join(target, 'pipe'))).isFIFO(), true);
      assert.deepEqual(await fs.xattrs('/vol/target/tagged'), { 'user.tiny': Buffer.from('value') });
      assert.equal((await readFile(join(target, 'big'))).equals(big), true);
      assert.equal(await readFile(join(target, 'd'), 'utf8'), 'was a folder');
      const back: Buffer[] = [];
      for await (const chunk of fs.readStream('/vol/target/big', big.length, await fs.lstat('/vol/target/big'))) back.push(chunk);
      assert.equal(Buffer.concat(back).equals(big), true, 'read back in pieces');
    });
  });

  it("magic links of the container's /proc (a process's cwd, fd, root) are not followed: they could lead where its processes are, the host's", async () => {
    // A process of the host's whose cwd is the host folder, seen through a /proc the container mounted (it shares the host's PID namespace here).
    const host = spawn('sleep', ['1000'], { cwd: hostDir, stdio: 'ignore' });
    started.push(host);
    const withProc = async (rootfs: string): Promise<void> => {
      await mkdir(join(rootfs, 'proc'));
      await symlink(`/proc/${host.pid!}/cwd`, join(rootfs, 'magic'));
    };
    await withStandIn('magic', { beforeStart: withProc }, async ({ rootfs, shim, pid }) => {
      execFileSync('nsenter', ['--target', String(pid), '--mount', 'mount', '-t', 'proc', 'proc', join(rootfs, 'proc')]);
      const fs = await ContainerFs.running(pid, shim.pid!, false);
      try {
        assert.equal((await fs.lstat(`/proc/${host.pid!}/cwd`)).isSymbolicLink(), true, "the container's /proc is there");
        const refused = (e: NodeJS.ErrnoException): boolean => e.code === 'ELOOP' || e.code === 'EXDEV' || e.code === 'ENOTDIR';
        await assert.rejects(fs.lstat('/magic/canary'), refused);
        await assert.rejects(fs.readSmall('/magic/canary', CANARY.length, { dev: 0, ino: 0 }), refused);
        await assert.rejects(fs.readdir('/magic'), refused);
        await assert.rejects(fs.writeFile('/magic/escaped', Buffer.from('x'), { mode: 0o644, mtime: 0 }), refused);
        await assert.rejects(fs.mkdir(`/proc/${host.pid!}/cwd/escaped-dir`, 0o755), refused);
        await assert.rejects(fs.symlink('/x', '/magic/escaped-link'), refused);
        // Resolved by the path rules, the link's text leads to the container's own (missing) folder of that name.
        await assert.rejects(extractTar(Readable.from([await buildTar([[{ path: 'escaped', type: 'file', mode: 0o644 }, 'x']])]), '/magic', { fs }), refused);
        hostUntouched(hostDir);
      } finally {
        await fs.close();
        host.kill('SIGKILL');
      }
    });
  });

  it('a pid that is not the shim\'s child is refused (a reused pid): the server does not enter it', async () => {
    await withStandIn('reused', {}, async ({ pid }) => {
      await assert.rejects(ContainerFs.running(pid, process.pid, false), /the container's init: No such process/);
    });
  });

  it('the server dies with its parent: a daemon killed mid-copy leaves no process behind', async () => {
    await withStandIn('orphan', {}, async ({ shim, pid }) => {
      const script = `import { ContainerFs } from ${JSON.stringify(new URL('../../core/archive/container-fs.js', import.meta.url).href)};
const fs = await ContainerFs.running(${pid}, ${shim.pid!}, false);
process.stdout.write(fs.pid + '\\n');
setInterval(() => undefined, 1000);`;
      const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      started.push(parent);
      const serverPid = await new Promise<number>((resolve, reject) => {
        parent.stdout!.once('data', (text: Buffer) => resolve(Number(text.toString().trim())));
        parent.once('exit', (code) => reject(new Error(`the parent ended first (${code})`)));
      });
      assert.equal(gone(serverPid), false);
      parent.kill('SIGKILL');
      await until('the server to die with its parent', () => gone(serverPid));
    });
  });

  it('a file swapped for a fifo after the walk (by a process no freeze stops): its read is refused at once, in the server and on the host, never blocked', { timeout: 120_000 }, async () => {
    const walkedFile = (rootfs: string): string => join(rootfs, 'vol', 'target', 'file');
    await withServer('fifo', { beforeStart: (rootfs) => writeFile(walkedFile(rootfs), 'the bytes walked\n') }, async ({ rootfs, fs }) => {
      const file = walkedFile(rootfs);
      const walked = await fs.lstat('/vol/target/file');
      assert.equal((await fs.readSmall('/vol/target/file', walked.size, walked)).toString(), 'the bytes walked\n');
      // What a walk saw, then a fifo in its place: an open for reading would wait for a writer forever.
      await rm(file);
      execFileSync('mkfifo', [file]);
      const stale = (e: NodeJS.ErrnoException): boolean => e.code === 'ESTALE' && /changed while it was being archived/.test(e.message);
      await assert.rejects(fs.readSmall('/vol/target/file', walked.size, walked), stale);
      await assert.rejects((async () => {
        for await (const chunk of fs.readStream('/vol/target/file', walked.size, walked)) assert.fail(`read ${chunk.length} bytes of a fifo`);
      })(), stale);
      // Even with the fifo's own inode (a walk that saw it as a file before a chmod-free swap cannot, but the check is the type too).
      const fifo = await fs.lstat('/vol/target/file');
      await assert.rejects(fs.readSmall('/vol/target/file', 10, fifo), stale);
      // The server still answers: nothing of it is stuck.
      assert.equal((await fs.lstat('/marker')).isFile(), true);
      // The host's file system (export, commit): the same refusal without blocking the event loop.
      const helper = new FsHelper();
      try {
        const host = nodeTreeFs(helper);
        await assert.rejects(host.readSmall(file, walked.size, walked), stale);
        await assert.rejects((async () => {
          for await (const chunk of host.readStream(file, walked.size, walked)) assert.fail(`read ${chunk.length} bytes of a fifo`);
        })(), stale);
        const hostFifo = await lstat(file);
        await assert.rejects(host.readSmall(file, 10, hostFifo), stale);
      } finally {
        await helper.close();
      }
      // A whole archive of the folder with a fifo in it still ends (the fifo is an entry, not read).
      const out = new PassThrough();
      const names: string[] = [];
      const read = (async () => {
        for await (const { header, body } of readTar(out)) {
          names.push(header.path);
          for await (const chunk of body) void chunk;
        }
      })();
      await writeTarOf('/vol', 'target', 'target', out, { fs });
      await read;
      assert.ok(names.includes('target/file'), names.join(' '));
    });
  });

  it('close() kills a server that does not end after its stdin did (stuck in a call: stopped here), so a copy always lets the container go', async () => {
    await withServer('stuck', {}, async ({ fs }) => {
      process.kill(fs.pid!, 'SIGSTOP'); // it reads no more requests and never sees the end of its stdin
      const pending = fs.lstat('/marker');
      await fs.close();
      assert.equal(gone(fs.pid!), true, 'the server was killed');
      await assert.rejects(pending, /ended \(SIGKILL\)/);
    });
  });

  it('a name that is not UTF-8 keeps its bytes, in (PUT, as GNU tar carries it) and out (GET), as Docker copies it', async () => {
    const latin1 = Buffer.from('caf\xe9', 'latin1'); // "café" in Latin-1: not UTF-8
    const under = (dir: string): Buffer => Buffer.concat([Buffer.from(`${dir}/`), latin1]);
    const source = join(base, 'bytes-source');
    await mkdir(source);
    writeFileSync(under(source), 'a latin-1 name\n');
    const tar = execFileSync('tar', ['-C', source, '-cf', '-', '.']);
    assert.ok(tar.includes(Buffer.concat([under('.'), Buffer.from([0])])), 'GNU tar carries the name as its bytes');
    await withServer('bytes', {}, async ({ rootfs, fs }) => {
      await extractTar(Readable.from([tar]), '/vol/target', { fs, byteNames: true });
      const target = join(rootfs, 'vol', 'target');
      const names = readdirSync(target, { encoding: 'buffer' });
      assert.ok(names.some((n) => n.equals(latin1)), `the name's bytes, not U+FFFD: ${names.map((n) => n.toString('hex')).join(' ')}`);
      assert.equal(readFileSync(under(target), 'utf8'), 'a latin-1 name\n');
      // GET: the archive carries the same bytes (a PAX path, as Go's archive/tar writes a name that is not ASCII).
      const out = new PassThrough();
      const collected = (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of out) chunks.push(Buffer.from(chunk as Uint8Array));
        return Buffer.concat(chunks);
      })();
      await writeTarOf('/vol', 'target', 'target', out, { fs });
      const archive = await collected;
      assert.ok(archive.includes(under('target')), 'the archive holds the name\'s bytes');
      assert.equal(archive.includes(Buffer.from('\ufffd')), false, 'no U+FFFD in the archive');
      const read: { path: Buffer; body: string }[] = [];
      for await (const { header, body } of readTar(Readable.from([archive]), { byteNames: true })) {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(Buffer.from(chunk));
        read.push({ path: encodeName(header.path), body: Buffer.concat(chunks).toString() });
      }
      assert.ok(read.some((e) => e.path.equals(under('target')) && e.body === 'a latin-1 name\n'), read.map((e) => e.path.toString('hex')).join(' '));
    });
  });

  it('an answer over the cap (a huge folder) fails with one clear line, EOVERFLOW, and the server goes on', async () => {
    const bigFolder = async (rootfs: string): Promise<void> => {
      const big = join(rootfs, 'big');
      await mkdir(big);
      for (let i = 0; i < 200; i++) await writeFile(join(big, `a-rather-long-file-name-${String(i).padStart(4, '0')}`), '');
    };
    // The server's cap lowered (never raised) for this server only.
    await withServer('huge', { beforeStart: bigFolder, serverEnv: { MINI_DOCKER_CPROOT_MAX_ANSWER: '4096' } }, async ({ fs }) => {
      await assert.rejects(fs.readdir('/big'), (e: NodeJS.ErrnoException) => e.code === 'EOVERFLOW' && /^the answer to readdir \/big is over 4096 bytes/.test(e.message));
      assert.deepEqual((await fs.readdir('/vol')).sort(), ['target']);
    });
  });

  it('a removal crosses no mount, a bind of the same file system included (nested volumes), and no tree deeper than its cap', async () => {
    const source = join(base, 'nested-source');
    await mkdir(source);
    await writeFile(join(source, 'kept'), 'the bind source\n');
    let nested = '';
    let mounted = false;
    const bindAndDeep = async (rootfs: string): Promise<void> => {
      nested = join(rootfs, 'vol', 'target', 'sub', 'nested');
      await mkdir(nested);
      let deep = join(rootfs, 'deep');
      for (let i = 0; i < 520; i++) deep = join(deep, 'd');
      await mkdir(deep, { recursive: true });
      execFileSync('mount', ['--bind', source, nested]); // same file system: the same st_dev on both sides
      mounted = true;
    };
    try {
      await withStandIn('nested', { beforeStart: bindAndDeep }, async ({ rootfs, shim, pid }) => {
        execFileSync('umount', [nested]); // the container's mount namespace keeps its copy; the host's goes
        mounted = false;
        const fs = await ContainerFs.running(pid, shim.pid!, false);
        try {
          assert.equal((await fs.lstat('/vol/target/sub/nested/kept')).isFile(), true, 'the bind is there in the container');
          await assert.rejects(fs.remove('/vol/target'), (e: NodeJS.ErrnoException) => e.code === 'EBUSY');
          assert.equal(readFileSync(join(source, 'kept'), 'utf8'), 'the bind source\n', "nothing under the bind was removed");
          await assert.rejects(fs.remove('/deep'), (e: NodeJS.ErrnoException) => e.code === 'ELOOP' && /deeper than 512 folders/.test(e.message));
          // A path with a NUL byte is refused, not cut short at it.
          await assert.rejects(fs.lstat('/marker\0/anything'), (e: NodeJS.ErrnoException) => e.code === 'EINVAL' && /NUL byte/.test(e.message));
          await assert.rejects(fs.remove('/marker\0x'), (e: NodeJS.ErrnoException) => e.code === 'EINVAL');
          assert.equal(existsSync(join(rootfs, 'marker')), true);
          // chmod never goes through a link (fchmodat2; before Linux 6.6, the entry held with O_PATH and moded through /proc/self/fd).
          await fs.mkdir('/moded', 0o700);
          await fs.chmod('/moded', 0o751);
          assert.equal((await lstat(join(rootfs, 'moded'))).mode & 0o7777, 0o751);
          await assert.rejects(fs.chmod('/evil-abs', 0o700), (e: NodeJS.ErrnoException) => e.code === 'ELOOP' || e.code === 'EOPNOTSUPP');
        } finally {
          await fs.close();
        }
      });
    } finally {
      if (mounted) execFileSync('umount', [nested]);
    }
  });
});
