import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TarHeaderInput } from '../../core/archive/index.js';
import { BLOCK_SIZE, encodeHeaderBlock } from '../../core/archive/tar-header.js';
import { buildTar, rawEntry } from '../fixtures/tar-builder.js';
import { TestDaemon, until } from './harness.js';
import { assertStillServing } from './attack-support.js';

type Entries = (readonly [TarHeaderInput, string?])[];

/** What must not change on the host whatever an archive says. */
interface HostWitness {
  readonly outside: string;
  readonly outsideBefore: string;
  readonly passwdLinks: number;
  readonly tag: string;
}

/** The escape attempts every archive carries: `..`, absolute names, a symlink to / then a write through it, a symlink up to the outside folder. */
function escapes(w: HostWitness): Entries {
  return [
    [{ path: `../../../../../../../evil-${w.tag}`, type: 'file' }, 'dotdot'],
    [{ path: `/etc/evil-${w.tag}`, type: 'file' }, 'absolute'],
    [{ path: 'root-link', type: 'symlink', linkname: '/' }],
    [{ path: `root-link/etc/through-${w.tag}`, type: 'file' }, 'through'],
    [{ path: 'up', type: 'symlink', linkname: w.outside }],
    [{ path: 'up/file', type: 'file' }, 'pwned'],
    [{ path: 'bin', type: 'directory', mode: 0o755 }],
  ];
}

/** A docker-save archive of one image whose only layer is `layer`. */
async function dockerSave(layer: Buffer, repoTag: string): Promise<Buffer> {
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [diffId] } });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  return buildTar([
    [{ path: 'layer/layer.tar', type: 'file' }, layer],
    [{ path: configName, type: 'file' }, config],
    [{ path: 'manifest.json', type: 'file' }, JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: ['layer/layer.tar'] }])],
  ]);
}

/**
 * The attack suite against archives: tarballs with `..`, absolute names, symlink and hard link
 * escapes, device nodes and huge declared sizes through `import` and `load`, and a container whose
 * changes (symlinks to host files, a hard link, a device node) go through `commit`. The host does
 * not change, what the archive may hold lands inside the image, what it may not is refused in one
 * line, and the daemon serves after each (docs/security.md, "The attack suite"). The extraction
 * rules themselves are tested in test/integration/tar-safety.test.ts.
 */
describe('e2e: hostile archives through import, load and commit', { timeout: 240_000 }, () => {
  const d = new TestDaemon('attack-archive');
  let w: HostWitness;

  before(async () => {
    const outside = join(d.root, 'outside');
    await mkdir(outside);
    await chmod(outside, 0o700);
    await writeFile(join(outside, 'file'), 'original');
    w = { outside, outsideBefore: 'original', passwdLinks: statSync('/etc/passwd').nlink, tag: randomBytes(6).toString('hex') };
    await d.start();
  });
  after(() => d.cleanup());

  const assertHostUntouched = async (context: string): Promise<void> => {
    assert.equal(await readFile(join(w.outside, 'file'), 'utf8'), w.outsideBefore, `${context}: a file outside was written`);
    assert.deepEqual(await readdir(w.outside), ['file'], `${context}: a file appeared outside`);
    for (const p of [`/evil-${w.tag}`, `/etc/evil-${w.tag}`, `/etc/through-${w.tag}`]) assert.equal(existsSync(p), false, `${context}: ${p} was written on the host`);
    assert.equal(statSync('/etc/passwd').nlink, w.passwdLinks, `${context}: a hard link to /etc/passwd was made`);
  };

  /** Runs `sh -c script` in `image` with busybox bound in (the archive images have no shell). */
  const inImage = (image: string, script: string): ReturnType<TestDaemon['cli']> =>
    d.cli(['run', '--rm', '-v', '/bin/busybox:/bin/busybox:ro', image, '/bin/busybox', 'sh', '-c', script]);

  it('import: escapes land inside the image, the host is untouched', async () => {
    const tar = join(d.root, 'escapes.tar');
    await writeFile(tar, await buildTar(escapes(w)));
    const r = await d.cli(['import', tar, 'attack/escapes:1']);
    assert.equal(r.code, 0, r.stderr);
    await assertHostUntouched('import');
    const inside = await inImage('attack/escapes:1', `cat /evil-${w.tag} /etc/evil-${w.tag} /etc/through-${w.tag} ${w.outside}/file; /bin/busybox readlink /up`);
    assert.equal(inside.stdout, `dotdotabsolutethroughpwned${w.outside}\n`, inside.stderr);
    await assertStillServing(d, 'after import');
  });

  it('import: a hard link to a host file is refused in one line, nothing is imported', async () => {
    const tar = join(d.root, 'hardlink.tar');
    await writeFile(tar, await buildTar([[{ path: 'passwd', type: 'hardlink', linkname: '/etc/passwd' }], [{ path: 'x', type: 'hardlink', linkname: '../../../../etc/passwd' }]]));
    const r = await d.cli(['import', tar, 'attack/hardlink:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not in the archive/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal((await d.cli(['images', '-q', 'attack/hardlink'])).stdout, '');
    await assertHostUntouched('import of a hard link');
    await assertStillServing(d, 'after a refused import');
  });

  // Whether a container may open such a node is the devices cgroup's business (issue 14, item 2), not the archive's.
  it('import: device nodes are made as nodes inside the image, never on the host', async () => {
    const disk = statSync('/dev/vda', { throwIfNoEntry: false }) ?? statSync('/dev/sda', { throwIfNoEntry: false });
    const major = disk ? Math.floor(disk.rdev / 256) : 8;
    const minor = disk ? disk.rdev % 256 : 0;
    const tar = join(d.root, 'device.tar');
    await writeFile(tar, await buildTar([
      [{ path: 'disk', type: 'block-device', mode: 0o666, devmajor: major, devminor: minor }],
      [{ path: 'kmsg', type: 'char-device', mode: 0o666, devmajor: 1, devminor: 11 }],
    ]));
    const r = await d.cli(['import', tar, 'attack/device:1']);
    assert.equal(r.code, 0, r.stderr);
    const inside = await inImage('attack/device:1', '/bin/busybox stat -c "%t:%T %F" /disk /kmsg');
    assert.equal(inside.stdout, `${major.toString(16)}:${minor.toString(16)} block special file\n1:b character special file\n`, inside.stderr);
    await assertStillServing(d, 'after a device node');
  });

  it('import: an entry declaring 8 GiB whose data never comes fails as truncated, leaving no image; a GNU sparse entry is skipped', async () => {
    const header = encodeHeaderBlock({ path: 'huge', type: 'file', size: 8 * 1024 ** 3, mode: 0o644 }, 'huge');
    const tar = join(d.root, 'huge.tar');
    await writeFile(tar, Buffer.concat([header, Buffer.alloc(BLOCK_SIZE * 4, 0x41)]));
    const r = await d.cli(['import', tar, 'attack/huge:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /truncated|unexpected end/i, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal((await d.cli(['images', '-q', 'attack/huge'])).stdout, '');

    // A GNU sparse entry ('S', whose header may claim any real size) is skipped, never expanded.
    const sparse = join(d.root, 'sparse.tar');
    await writeFile(sparse, Buffer.concat([rawEntry('sparse-file', 'S', Buffer.alloc(BLOCK_SIZE, 0x42)), await buildTar([[{ path: 'kept', type: 'file' }, 'kept']])]));
    const skipped = await d.cli(['import', sparse, 'attack/sparse-entry:1']);
    assert.equal(skipped.code, 0, skipped.stderr);
    const listing = await inImage('attack/sparse-entry:1', '/bin/busybox ls /');
    assert.match(listing.stdout, /^kept$/m, listing.stderr);
    assert.doesNotMatch(listing.stdout, /sparse-file/);
    await assertStillServing(d, 'after a truncated import');
  });

  it('load: a layer with the same escapes is confined; a manifest naming files outside the archive is refused', async () => {
    const archive = join(d.root, 'saved.tar');
    await writeFile(archive, await dockerSave(await buildTar(escapes(w)), 'attack/loaded:1'));
    const r = await d.cli(['load', '-i', archive]);
    assert.equal(r.code, 0, r.stderr);
    await assertHostUntouched('load');
    const inside = await inImage('attack/loaded:1', `cat /evil-${w.tag} /etc/through-${w.tag}`);
    assert.equal(inside.stdout, 'dotdotthrough', inside.stderr);

    const outsideRef = join(d.root, 'outside-ref.tar');
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } });
    await writeFile(outsideRef, await buildTar([
      [{ path: 'c.json', type: 'file' }, config],
      [{ path: 'manifest.json', type: 'file' }, JSON.stringify([{ Config: 'c.json', RepoTags: ['attack/outside:1'], Layers: ['../../../../etc/passwd'] }])],
    ]));
    const refused = await d.cli(['load', '-i', outsideRef]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd/, refused.stderr);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
    assert.equal((await d.cli(['images', '-q', 'attack/outside'])).stdout, '');
    await assertHostUntouched('load of a manifest pointing outside');
    await assertStillServing(d, 'after load');
  });

  it('commit: symlinks to host files, a hard link and a device node made in a container are archived as what they are', async () => {
    const run = await d.cli(['run', '-d', '--name', 'maker', 'busybox', 'sh', '-c',
      'ln -s /etc/shadow /shadow-link && ln -s ../../../../etc/passwd /passwd-link && echo inner > /inner && ln /inner /inner-hard && mknod /kmsg c 1 11 && touch /made && sleep 600']);
    assert.equal(run.code, 0, run.stderr);
    // run -d returns once the shell runs, not once it made the files: commit after it did.
    await until('the files made in the container', async () => ((await d.cli(['exec', 'maker', 'test', '-e', '/made'])).code === 0 ? true : undefined));
    const commit = await d.cli(['commit', 'maker', 'attack/committed:1']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.equal((await d.cli(['rm', '-f', 'maker'])).code, 0);
    const inside = await d.cli(['run', '--rm', 'attack/committed:1', 'sh', '-c',
      'readlink /shadow-link; readlink /passwd-link; cat /inner-hard; stat -c "%h %t:%T %F" /inner /kmsg']);
    assert.equal(inside.stdout, '/etc/shadow\n../../../../etc/passwd\ninner\n2 0:0 regular file\n1 1:b character special file\n', inside.stderr);
    await assertHostUntouched('commit');
    await assertStillServing(d, 'after commit');
  });
});
