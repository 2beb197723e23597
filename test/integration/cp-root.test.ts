// Integration (root, overlayfs, mount namespaces): the container roots `cp` reads and writes
// through (a running container's /proc/<pid>/root, a stopped one's mini-docker-rootview), with
// hostile symlinks in the container: nothing may be read from or written onto the host.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { extractTar, readTar, resolveInRoot } from '../../core/archive/index.js';
import { OverwriteRefusedError } from '../../core/archive/extract-tar.js';
import { HeldDir } from '../../core/archive/held-dir.js';
import { openRootView, type RootView } from '../../core/archive/root-view.js';
import { writeTarOf } from '../../core/archive/write-tar.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : !existsSync('/bin/busybox') ? 'needs busybox (apt-get install busybox-static)' : false;

/** A marker name no host file has: a write that escaped would make /etc/<it>. */
const MARKER = `cp-escape-${randomBytes(6).toString('hex')}`;

/** The container's tree: busybox, its own /etc, and links that point at the host's /etc if followed on the host. */
async function makeRootfs(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  await symlink('busybox', join(dir, 'bin', 'sleep'));
  await mkdir(join(dir, 'etc'));
  await writeFile(join(dir, 'etc', 'hostname'), 'container-hostname\n');
  await symlink('/etc', join(dir, 'evil-abs'));
  await symlink('../../../../../../../../etc', join(dir, 'evil-rel'));
  await symlink('/etc/hostname', join(dir, 'evil-file'));
  await mkdir(join(dir, 'd'));
  await symlink('../../..', join(dir, 'd', 'up'));
}

/** True once the process is gone (or a zombie nobody reaped yet: it holds no namespace any more). */
async function gone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null || /^\d+ \(.*\) [ZX] /.test(stat);
}

async function namesIn(tar: PassThrough): Promise<string[]> {
  const names: string[] = [];
  for await (const { header, body } of readTar(tar)) {
    for await (const chunk of body) void chunk;
    names.push(`${header.type} ${header.path}${header.type === 'symlink' ? ` -> ${header.linkname}` : ''}`);
  }
  return names;
}

async function hostileChecks(root: string, writable: () => string): Promise<void> {
  // Reads: every link resolves inside the root.
  for (const link of ['/evil-abs/hostname', '/evil-rel/hostname', '/evil-file', '/d/up/etc/hostname', '/d/up/evil-abs/hostname']) {
    const path = await resolveInRoot(root, link, { followFinal: true, create: false, finalMayBeFile: true });
    assert.ok(path.startsWith(`${root}/`), `${link} resolves under the root: ${path}`);
    assert.equal(await readFile(path, 'utf8'), 'container-hostname\n', `${link} reads the container's file`);
  }
  // A link archived is the link, not what it points to.
  const tar = new PassThrough();
  const names = namesIn(tar);
  await writeTarOf(root, 'evil-abs', 'evil-abs', tar);
  assert.deepEqual(await names, ['symlink evil-abs -> /etc']);
  // Writes: into a link to /etc, and a tar that plants a link then writes through it.
  const into = await resolveInRoot(root, '/evil-abs', { followFinal: true, create: false });
  await extractTar(Readable.from([await buildTar([[{ path: MARKER, type: 'file', mode: 0o644 }, 'inside\n']])]), into);
  await extractTar(Readable.from([await buildTar([
    [{ path: 'planted', type: 'symlink', linkname: '/etc' }],
    [{ path: `planted/${MARKER}-2`, type: 'file', mode: 0o644 }, 'inside\n'],
    [{ path: `../../../etc/${MARKER}-3`, type: 'file', mode: 0o644 }, 'inside\n'],
  ])]), root);
  assert.equal(existsSync(`/etc/${MARKER}`) || existsSync(`/etc/${MARKER}-2`) || existsSync(`/etc/${MARKER}-3`), false, 'nothing was written into the host /etc');
  for (const name of [MARKER, `${MARKER}-2`, `${MARKER}-3`]) {
    assert.equal(await readFile(join(writable(), 'etc', name), 'utf8'), 'inside\n', `${name} is in the container's /etc`);
  }
}

describe('cp roots: hostile symlinks stay inside the container', { skip }, () => {
  let scratch: { path: string; dispose(): Promise<void> };
  let child: ChildProcess | undefined;
  before(async () => {
    scratch = await makeScratchDir('cp-root');
  });
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await scratch.dispose();
  });

  it("a running container's root (/proc/<pid>/root of a process chrooted into its tree)", async () => {
    const rootfs = join(scratch.path, 'running');
    await makeRootfs(rootfs);
    child = spawn('chroot', [rootfs, '/bin/sleep', '1000'], { stdio: 'ignore' });
    const pid = child.pid!;
    // Wait until chroot has exec'd into the tree (its root is the rootfs then).
    for (let i = 0; i < 200 && (await readlink(`/proc/${pid}/root`).catch(() => '')) !== rootfs; i++) await new Promise((r) => setTimeout(r, 25));
    const held = await HeldDir.open(`/proc/${pid}/root`);
    try {
      await hostileChecks(held.path, () => rootfs);
    } finally {
      await held.close();
      child.kill('SIGKILL');
    }
  });

  it("a stopped container's root: overlay and binds in mini-docker-rootview's own namespace, nothing on the host", async () => {
    const base = join(scratch.path, 'stopped');
    const [lower, upper, work, merged, bindRw, bindRo] = ['lower', 'upper', 'work', 'merged', 'bind-rw', 'bind-ro'].map((n) => join(base, n)) as [string, string, string, string, string, string];
    for (const dir of [upper, work, merged, bindRw, bindRo]) await mkdir(dir, { recursive: true });
    await makeRootfs(lower);
    await writeFile(join(bindRo, 'kept'), 'ro\n');
    // A bind whose target is a link to /etc in the container is bound inside it, never on the host's /etc.
    const view: RootView = await openRootView(merged, [{ type: 'overlay', source: 'overlay', target: merged, options: [`lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] }], [
      { source: bindRw, target: '/rw', readOnly: false },
      { source: bindRo, target: '/evil-abs/ro', readOnly: true },
    ]);
    try {
      assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(merged), false, 'the overlay is not mounted on the host');
      assert.equal(existsSync('/etc/ro'), false, 'the bind target went inside the container');
      const held = await HeldDir.open(view.root);
      try {
        await hostileChecks(held.path, () => upper);
        // A bind is where the container sees it: the rw one writes to its host source, the ro one refuses.
        await extractTar(Readable.from([await buildTar([[{ path: 'via-bind', type: 'file', mode: 0o644 }, 'bound\n']])]), join(held.path, 'rw'));
        assert.equal(await readFile(join(bindRw, 'via-bind'), 'utf8'), 'bound\n');
        const ro = await resolveInRoot(held.path, '/evil-abs/ro', { followFinal: true, create: false });
        assert.equal(await readFile(join(ro, 'kept'), 'utf8'), 'ro\n');
        await assert.rejects(extractTar(Readable.from([await buildTar([[{ path: 'nope', type: 'file', mode: 0o644 }, 'x']])]), ro), { code: 'EROFS' });
      } finally {
        await held.close();
      }
    } finally {
      await view.release();
    }
    assert.equal(await gone(view.pid), true, 'the helper ended');
    assert.equal((await lstat(join(upper, 'etc', MARKER))).isFile(), true, 'what was written is in the upper layer');
  });

  it('noOverwriteDirNonDir refuses to swap a folder and a non-folder; owner gives every entry one owner', async () => {
    const target = join(scratch.path, 'overwrite');
    await mkdir(join(target, 'dir'), { recursive: true });
    await writeFile(join(target, 'file'), 'was a file\n');
    const fileOverDir = await buildTar([[{ path: 'dir', type: 'file', mode: 0o644 }, 'x']]);
    const dirOverFile = await buildTar([[{ path: 'file', type: 'directory', mode: 0o755 }]]);
    await assert.rejects(extractTar(Readable.from([fileOverDir]), target, { noOverwriteDirNonDir: true }), (e: Error) => e instanceof OverwriteRefusedError && e.message === 'cannot overwrite directory "dir" with non-directory "dir"');
    await assert.rejects(extractTar(Readable.from([dirOverFile]), target, { noOverwriteDirNonDir: true }), /cannot overwrite non-directory "file" with directory "file"/);
    assert.equal((await lstat(join(target, 'dir'))).isDirectory(), true);
    assert.equal(await readFile(join(target, 'file'), 'utf8'), 'was a file\n');
    await extractTar(Readable.from([fileOverDir]), target);
    assert.equal((await lstat(join(target, 'dir'))).isFile(), true, 'without the flag, what is there is replaced');
    await extractTar(Readable.from([await buildTar([[{ path: 'owned', type: 'file', mode: 0o600, uid: 7, gid: 8 }, 'o'], [{ path: 'ownedlink', type: 'symlink', linkname: 'owned', uid: 7, gid: 8 }]])]), target, { owner: { uid: 1234, gid: 5678 } });
    for (const name of ['owned', 'ownedlink']) {
      const stats = await lstat(join(target, name));
      assert.deepEqual([stats.uid, stats.gid], [1234, 5678], `${name} belongs to the owner given`);
    }
  });

  it('the helper dies with its parent: a killed daemon leaves no namespace and no mount behind', async () => {
    const base = join(scratch.path, 'orphan');
    const [lower, upper, work, merged] = ['lower', 'upper', 'work', 'merged'].map((n) => join(base, n)) as [string, string, string, string];
    for (const dir of [lower, upper, work, merged]) await mkdir(dir, { recursive: true });
    // A parent that opens a view, says the helper's pid, and is then killed with -9.
    const script = `import { openRootView } from ${JSON.stringify(new URL('../../core/archive/root-view.js', import.meta.url).href)};
const view = await openRootView(${JSON.stringify(merged)}, [{ type: 'overlay', source: 'overlay', target: ${JSON.stringify(merged)}, options: ['lowerdir=${lower}', 'upperdir=${upper}', 'workdir=${work}'] }], []);
process.stdout.write(view.pid + '\\n');
setInterval(() => undefined, 1000);`;
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const helperPid = await new Promise<number>((resolve, reject) => {
      parent.stdout.once('data', (text: Buffer) => resolve(Number(text.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`the parent ended first (${code})`)));
    });
    assert.ok(helperPid > 0);
    parent.kill('SIGKILL');
    for (let i = 0; i < 400 && !(await gone(helperPid)); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(await gone(helperPid), true, 'the helper died with its parent');
    assert.equal((await readFile('/proc/self/mountinfo', 'utf8')).includes(merged), false);
  });
});
