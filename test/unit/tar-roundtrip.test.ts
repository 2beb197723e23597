import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lchown, lstat, mkdir, readFile, readlink, symlink, utimes, writeFile, link } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { TarFormatError, extractTar, readTar, writeTar, type TarHeader } from '../../core/archive/index.js';
import { encodePaxRecords, xattrKeyword, xattrNameOf } from '../../core/archive/pax-records.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { TAR_END, buildTar, chunked, rawEntry } from '../fixtures/tar-builder.js';

interface ReadEntry {
  readonly header: TarHeader;
  readonly data: string;
}

async function readAll(source: AsyncIterable<Uint8Array>, warnings: string[] = []): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  for await (const { header, body } of readTar(source, { onWarning: (m) => warnings.push(m) })) {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    out.push({ header, data: Buffer.concat(chunks).toString('latin1') });
  }
  return out;
}

function collect(): { sink: Writable; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, bytes: () => Buffer.concat(chunks) };
}

const LONG_DIR = `${'long-directory-name-'.repeat(8)}end`;
const LONG_FILE = `${'f'.repeat(150)}.txt`;
const LONG_LINK = `/${'target/'.repeat(20)}file`;

describe('tar round trips in memory', () => {
  it('writes and reads every entry type, long names and links, PAX fields and xattrs', async () => {
    const tar = await buildTar([
      [{ path: 'dir', type: 'directory', mode: 0o1777, mtime: 1000 }],
      [{ path: 'dir/file', type: 'file', mode: 0o4755, uid: 3, gid: 4, mtime: 1234567890, xattrs: { 'user.one': Buffer.from([0, 1, 2]) } }, 'hello\n'],
      [{ path: `${LONG_DIR}/${LONG_FILE}`, type: 'file', uid: 2 ** 22, gid: 5 }, 'x'.repeat(1000)],
      [{ path: 'dir/hard', type: 'hardlink', linkname: 'dir/file' }],
      [{ path: 'dir/sym', type: 'symlink', linkname: LONG_LINK }],
      [{ path: 'dev/null', type: 'char-device', mode: 0o666, devmajor: 1, devminor: 3 }],
      [{ path: 'dev/sda', type: 'block-device', mode: 0o660, devmajor: 8, devminor: 0 }],
      [{ path: 'run/fifo', type: 'fifo', mode: 0o600 }],
      [{ path: 'ünïcödé', type: 'file', uname: 'a-user-name-much-longer-than-32-characters' }, ''],
    ]);
    assert.equal(tar.length % 512, 0);
    const entries = await readAll(chunked(tar, 13));
    const byPath = new Map(entries.map((e) => [e.header.path, e]));
    assert.deepEqual([...byPath.keys()], ['dir', 'dir/file', `${LONG_DIR}/${LONG_FILE}`, 'dir/hard', 'dir/sym', 'dev/null', 'dev/sda', 'run/fifo', 'ünïcödé']);
    assert.equal(byPath.get('dir')!.header.type, 'directory');
    assert.equal(byPath.get('dir')!.header.mode, 0o1777);
    const file = byPath.get('dir/file')!;
    assert.deepEqual([file.header.type, file.header.mode, file.header.uid, file.header.gid, file.header.mtime, file.data], ['file', 0o4755, 3, 4, 1234567890, 'hello\n']);
    assert.deepEqual(file.header.xattrs, { 'user.one': Buffer.from([0, 1, 2]) });
    const long = byPath.get(`${LONG_DIR}/${LONG_FILE}`)!;
    assert.equal(long.header.uid, 2 ** 22);
    assert.equal(long.data, 'x'.repeat(1000));
    assert.deepEqual([byPath.get('dir/hard')!.header.type, byPath.get('dir/hard')!.header.linkname], ['hardlink', 'dir/file']);
    assert.deepEqual([byPath.get('dir/sym')!.header.type, byPath.get('dir/sym')!.header.linkname], ['symlink', LONG_LINK]);
    const nul = byPath.get('dev/null')!.header;
    assert.deepEqual([nul.type, nul.devmajor, nul.devminor, nul.mode], ['char-device', 1, 3, 0o666]);
    assert.equal(byPath.get('dev/sda')!.header.type, 'block-device');
    assert.equal(byPath.get('run/fifo')!.header.type, 'fifo');
    assert.equal(byPath.get('ünïcödé')!.header.uname, 'a-user-name-much-longer-than-32-characters');
  });

  it('reads GNU long names and long links (L and K entries)', async () => {
    const name = `${'n'.repeat(300)}/file`;
    const target = `${'t'.repeat(200)}`;
    const tar = Buffer.concat([
      rawEntry('././@LongLink', 'L', Buffer.from(`${name}\0`)),
      rawEntry(name.slice(0, 100), '0', Buffer.from('data')),
      rawEntry('././@LongLink', 'K', Buffer.from(`${target}\0`)),
      rawEntry('link', '2', Buffer.alloc(0), { linkname: target.slice(0, 100) }),
      TAR_END,
    ]);
    const entries = await readAll(chunked(tar, 100));
    assert.deepEqual(entries.map((e) => [e.header.path, e.header.type, e.header.linkname, e.data]), [
      [name, 'file', '', 'data'],
      ['link', 'symlink', target, ''],
    ]);
  });

  it('an xattr name holding "=" and "%" is written as GNU tar writes it (%3D, %25) and read back whole; its value keeps "=", newlines and NUL bytes', async () => {
    const value = Buffer.from('x=y\n\0z=', 'latin1');
    const xattrs = { 'user.a=b%c': value, 'user.%3D': Buffer.from('literal'), 'user.plain': Buffer.from('=') };
    const tar = await buildTar([[{ path: 'f', type: 'file', xattrs }, '']]);
    assert.ok(tar.includes(Buffer.from('SCHILY.xattr.user.a%3Db%25c=x=y\n')), 'the keyword GNU tar writes');
    assert.ok(tar.includes(Buffer.from('SCHILY.xattr.user.%253D=literal')));
    const [entry] = await readAll(chunked(tar, 7));
    assert.deepEqual(entry!.header.xattrs, xattrs);
    assert.equal(xattrNameOf(xattrKeyword('user.==%%')), 'user.==%%');
    assert.equal(xattrNameOf('path'), undefined);
  });

  it('applies PAX headers: path, linkpath, size, uid/gid, mtime with a fraction; global headers too', async () => {
    const pax = encodePaxRecords(new Map([
      ['path', Buffer.from('from/pax')],
      ['uid', Buffer.from('70000000')],
      ['mtime', Buffer.from('1700000000.25')],
      ['SCHILY.xattr.user.k', Buffer.from('v')],
    ]));
    const global = encodePaxRecords(new Map([['gid', Buffer.from('42')]]));
    const tar = Buffer.concat([
      rawEntry('pax_global_header', 'g', global),
      rawEntry('PaxHeaders/x', 'x', pax),
      rawEntry('ignored-name', '0', Buffer.from('abc')),
      rawEntry('other', '5', Buffer.alloc(0)),
      TAR_END,
    ]);
    const [first, second] = await readAll(chunked(tar));
    assert.deepEqual([first!.header.path, first!.header.uid, first!.header.gid, first!.header.mtime, first!.data], ['from/pax', 70000000, 42, 1700000000.25, 'abc']);
    assert.deepEqual(first!.header.xattrs, { 'user.k': Buffer.from('v') });
    assert.deepEqual([second!.header.path, second!.header.type, second!.header.gid], ['other', 'directory', 42]);
  });

  it('treats v7 names with a trailing slash as folders, skips unknown types, tolerates a missing end marker', async () => {
    const warnings: string[] = [];
    const tar = Buffer.concat([rawEntry('olddir/', '\0'), rawEntry('sparse', 'S', Buffer.from('zzz')), rawEntry('after', '0', Buffer.from('ok'))]);
    const entries = await readAll(chunked(tar), warnings);
    assert.deepEqual(entries.map((e) => [e.header.path, e.header.type, e.data]), [['olddir', 'directory', ''], ['after', 'file', 'ok']]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /unsupported entry type "S"/);
  });

  it('skips unread bodies and reads trailing bytes after the end marker', async () => {
    const tar = await buildTar([[{ path: 'a', type: 'file' }, 'a'.repeat(700)], [{ path: 'b', type: 'file' }, 'b']]);
    const withTrailer = Buffer.concat([tar, Buffer.alloc(10240)]);
    let consumed = 0;
    const paths: string[] = [];
    for await (const { header } of readTar(chunked(withTrailer, 1000), { onProgress: (n) => (consumed = n) })) paths.push(header.path);
    assert.deepEqual(paths, ['a', 'b']);
    assert.equal(consumed, withTrailer.length);
  });

  it('refuses garbage and truncated archives with TarFormatError', async () => {
    await assert.rejects(readAll(chunked(Buffer.from('this is not a tar archive at all'.repeat(20)))), TarFormatError);
    const tar = await buildTar([[{ path: 'a', type: 'file' }, 'a'.repeat(2000)]]);
    await assert.rejects(readAll(chunked(tar.subarray(0, 1200))), /unexpected end of archive/);
  });
});

describe('tar round trips through the file system', () => {
  let scratch: { path: string; dispose(): Promise<void> };
  before(async () => {
    scratch = await makeScratchDir('tar-roundtrip');
  });
  after(async () => {
    await scratch.dispose();
  });

  it('writeTar then extractTar keeps files, folders, symlinks, hardlinks, fifos, modes, mtimes and long names', async () => {
    const src = join(scratch.path, 'src');
    const longDir = join(src, LONG_DIR);
    await mkdir(join(src, 'a', 'b'), { recursive: true });
    await mkdir(longDir, { recursive: true });
    await writeFile(join(src, 'a', 'file'), 'content');
    await writeFile(join(longDir, LONG_FILE), 'long');
    await link(join(src, 'a', 'file'), join(src, 'a', 'b', 'hardlink'));
    await symlink('../file', join(src, 'a', 'b', 'symlink'));
    await symlink(LONG_LINK, join(src, 'longlink'));
    execFileSync('mkfifo', ['-m', '0640', join(src, 'fifo')]);
    execFileSync('chmod', ['0750', join(src, 'a', 'file')]);
    await utimes(join(src, 'a', 'file'), 1000000, 1000000);
    await utimes(join(src, 'a'), 2000000, 2000000);

    const out = collect();
    let progress = 0;
    const size = await writeTar(src, out.sink, { onProgress: (n) => (progress = n), xattrs: false });
    assert.equal(size, out.bytes().length);
    assert.equal(progress, size);
    const entries = await readAll(chunked(out.bytes(), 4096));
    const names = entries.map((e) => e.header.path);
    assert.deepEqual(names, ['a', 'a/b', 'a/b/hardlink', 'a/b/symlink', 'a/file', 'fifo', LONG_DIR, `${LONG_DIR}/${LONG_FILE}`, 'longlink']);
    const hard = entries.find((e) => e.header.path === 'a/file')!;
    assert.equal(hard.header.type, 'hardlink'); // the second name of the inode, in walk order
    assert.equal(hard.header.linkname, 'a/b/hardlink');

    const dst = join(scratch.path, 'dst');
    const result = await extractTar(chunked(out.bytes(), 3000), dst);
    assert.equal(result.entries, entries.length);
    assert.equal(result.bytes, size);
    assert.equal(await readFile(join(dst, 'a', 'file'), 'utf8'), 'content');
    assert.equal(await readFile(join(dst, LONG_DIR, LONG_FILE), 'utf8'), 'long');
    const [fileStats, linkStats] = await Promise.all([lstat(join(dst, 'a', 'file')), lstat(join(dst, 'a', 'b', 'hardlink'))]);
    assert.equal(fileStats.ino, linkStats.ino);
    assert.equal(fileStats.mode & 0o7777, 0o750);
    assert.equal(fileStats.mtimeMs, 1000000 * 1000);
    assert.equal((await lstat(join(dst, 'a'))).mtimeMs, 2000000 * 1000);
    assert.equal(await readlink(join(dst, 'a', 'b', 'symlink')), '../file');
    assert.equal(await readlink(join(dst, 'longlink')), LONG_LINK);
    const fifo = await lstat(join(dst, 'fifo'));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o777, 0o640);
  });

  it('extracts as if one entry after the other while small files are written several at a time', async () => {
    const entries: [{ path: string; type: 'file' | 'directory' | 'hardlink'; linkname?: string; mode?: number }, string?][] = [];
    for (let i = 0; i < 100; i++) entries.push([{ path: `many/f${i}`, type: 'file', mode: 0o640 }, `content ${i}`]);
    entries.push(
      [{ path: 'same', type: 'file' }, 'first'],
      [{ path: 'same', type: 'file' }, 'second, written over the first'],
      [{ path: 'link-to-f7', type: 'hardlink', linkname: 'many/f7' }],
      [{ path: 'becomes-dir', type: 'file' }, 'a file first'],
      [{ path: 'becomes-dir', type: 'directory' }],
      [{ path: 'becomes-dir/inside', type: 'file' }, 'then a folder with a file'],
      [{ path: 'was-dir/old', type: 'file' }, 'under a folder'],
      [{ path: 'was-dir', type: 'file' }, 'the folder replaced by a file'],
    );
    const dst = join(scratch.path, 'in-flight');
    const result = await extractTar(chunked(await buildTar(entries), 4096), dst, { onWarning: () => undefined });
    assert.equal(result.entries, entries.length);
    for (let i = 0; i < 100; i++) assert.equal(await readFile(join(dst, 'many', `f${i}`), 'utf8'), `content ${i}`);
    assert.equal((await lstat(join(dst, 'many', 'f3'))).mode & 0o777, 0o640);
    assert.equal(await readFile(join(dst, 'same'), 'utf8'), 'second, written over the first');
    assert.equal((await lstat(join(dst, 'link-to-f7'))).ino, (await lstat(join(dst, 'many', 'f7'))).ino);
    assert.equal(await readFile(join(dst, 'becomes-dir', 'inside'), 'utf8'), 'then a folder with a file');
    assert.equal(await readFile(join(dst, 'was-dir'), 'utf8'), 'the folder replaced by a file');
  });

  it('maps owners both ways by path (a remapped container: mapIds of writeTar and extractTar)', { skip: process.getuid?.() !== 0 && 'lchown needs root' }, async () => {
    const src = join(scratch.path, 'owned');
    await mkdir(join(src, 'vol'), { recursive: true });
    await writeFile(join(src, 'vol', 'f'), 'f');
    await writeFile(join(src, 'layer-file'), 'l');
    await lchown(join(src, 'vol'), 300000, 300000);
    await lchown(join(src, 'vol', 'f'), 300000, 300000);
    await lchown(join(src, 'layer-file'), 0, 0);
    const out = collect();
    const seenRel: string[] = [];
    await writeTar(src, out.sink, {
      xattrs: false,
      mapIds: (ids, rel) => {
        seenRel.push(rel);
        return rel.startsWith('vol') ? { uid: ids.uid - 300000, gid: ids.gid - 300000 } : ids;
      },
    });
    assert.deepEqual(seenRel.sort(), ['layer-file', 'vol', 'vol/f']);
    const entries = await readAll(chunked(out.bytes(), 4096));
    const owners = Object.fromEntries(entries.map((e) => [e.header.path, `${e.header.uid}:${e.header.gid}`]));
    assert.equal(owners['vol/f'], '0:0', 'the container view of a host-owned file');
    assert.equal(owners['layer-file'], '0:0');
    const dst = join(scratch.path, 'owned-out');
    await extractTar(chunked(out.bytes(), 4096), dst, { mapIds: (ids, path) => (path.startsWith('vol') ? { uid: ids.uid + 400000, gid: ids.gid + 400000 } : ids) });
    assert.equal((await lstat(join(dst, 'vol', 'f'))).uid, 400000, 'an entry the map shifts');
    assert.equal((await lstat(join(dst, 'layer-file'))).uid, 0, 'an entry it leaves');
  });

  it('writes the same bytes for the same tree', async () => {
    const src = join(scratch.path, 'same');
    await mkdir(join(src, 'x'), { recursive: true });
    await writeFile(join(src, 'x', 'y'), 'y');
    const first = collect();
    const second = collect();
    await writeTar(src, first.sink);
    await writeTar(src, second.sink);
    assert.deepEqual(first.bytes(), second.bytes());
  });
});
