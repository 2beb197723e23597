// Unit: docker cp's path rules (core/archive/copy-paths.ts), the archive API's stat header
// (core/archive/path-stat.ts) and the rebase of archive entries (core/archive/rebase-tar.ts).
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readTar, TarWriter } from '../../core/archive/index.js';
import {
  containerAbsPath, CopyRuleError, getRebaseName, goBase, goSplit, isUnder, prepareArchiveCopy, preserveTrailingDotOrSeparator, splitPathDirEntry,
} from '../../core/archive/copy-paths.js';
import {
  decodePathStat, encodePathStat, goFileMode, GoMode, isGoDir, isGoRegular, isGoSymlink, rfc3339Nano,
} from '../../core/archive/path-stat.js';
import { rebaseName, rebaseTar } from '../../core/archive/rebase-tar.js';

describe('cp path rules', () => {
  it('takes a container path as absolute, keeping a trailing "/" or "/."', () => {
    assert.equal(containerAbsPath('tmp/x'), '/tmp/x');
    assert.equal(containerAbsPath('/tmp/x/'), '/tmp/x/');
    assert.equal(containerAbsPath('tmp//x/.'), '/tmp/x/.');
    assert.equal(containerAbsPath('../../etc/passwd'), '/etc/passwd');
    assert.equal(containerAbsPath('/'), '/');
    assert.equal(containerAbsPath('.'), '/.');
    assert.equal(preserveTrailingDotOrSeparator('/a', 'a/'), '/a/');
  });

  it("splits and names paths as Go's filepath does", () => {
    assert.deepEqual(goSplit('/a/b'), { dir: '/a/', base: 'b' });
    assert.deepEqual(goSplit('/a/b/'), { dir: '/a/b/', base: '' });
    assert.equal(goBase('/a/b/'), 'b');
    assert.equal(goBase('/'), '/');
    assert.equal(goBase(''), '.');
    assert.deepEqual(splitPathDirEntry('/a/b/.'), { dir: '/a/b', base: '.' });
    assert.deepEqual(splitPathDirEntry('/a/b/'), { dir: '/a', base: 'b' });
    assert.deepEqual(splitPathDirEntry('/x'), { dir: '/', base: 'x' });
  });

  it('says whether a path is under a mount point (Docker HasResource)', () => {
    assert.equal(isUnder('/data', '/data'), true);
    assert.equal(isUnder('/data', '/data/x/'), true);
    assert.equal(isUnder('/data', '/database'), false);
    assert.equal(isUnder('/data', '/'), false);
  });

  it('keeps the requested name when a link was resolved (GetRebaseName)', () => {
    assert.deepEqual(getRebaseName('/link', '/real/file'), { resolved: '/real/file', rebaseName: 'link' });
    assert.deepEqual(getRebaseName('/link/', '/real'), { resolved: '/real/', rebaseName: 'link' });
    assert.deepEqual(getRebaseName('/dir/.', '/real'), { resolved: '/real/.', rebaseName: '' });
    assert.deepEqual(getRebaseName('/same', '/x/same'), { resolved: '/x/same', rebaseName: '' });
  });

  it('decides where an archive is extracted and how its top entry is renamed (PrepareArchiveCopy)', () => {
    const file = { path: '/src/f', isDir: false, rebaseName: '' };
    const dir = { path: '/src/d', isDir: true, rebaseName: '' };
    // into an existing folder: as it is
    assert.deepEqual(prepareArchiveCopy(file, { path: '/dst', exists: true, isDir: true }), { dstDir: '/dst' });
    // onto an existing file: a file is renamed to it, a folder refused
    assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/g', exists: true, isDir: false }), { dstDir: '/dst', rebase: { from: 'f', to: 'g' } });
    assert.throws(() => prepareArchiveCopy(dir, { path: '/dst/g', exists: true, isDir: false }), (e: Error) => e instanceof CopyRuleError && e.message === 'cannot copy directory');
    // onto nothing: into the parent, named as the destination
    assert.deepEqual(prepareArchiveCopy(dir, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'd', to: 'new' } });
    assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'f', to: 'new' } });
    // a file cannot make a folder that a trailing "/" asks for
    assert.throws(() => prepareArchiveCopy(file, { path: '/dst/new/', exists: false, isDir: false }), /no such directory/);
    // a followed link renames from the name that was asked for
    assert.deepEqual(prepareArchiveCopy({ path: '/real/f', isDir: false, rebaseName: 'link' }, { path: '/dst/x', exists: false, isDir: false }), { dstDir: '/dst', rebase: { from: 'link', to: 'x' } });
  });
});

describe('the X-Docker-Container-Path-Stat header', () => {
  it("encodes a Unix mode as Go's os.FileMode", () => {
    assert.equal(goFileMode(0o100644), 0o644);
    assert.equal(goFileMode(0o040755), GoMode.dir + 0o755);
    assert.equal(goFileMode(0o120777), GoMode.symlink + 0o777);
    assert.equal(goFileMode(0o020666), GoMode.device + GoMode.charDevice + 0o666);
    assert.equal(goFileMode(0o060660), GoMode.device + 0o660);
    assert.equal(goFileMode(0o010644), GoMode.namedPipe + 0o644);
    assert.equal(goFileMode(0o104755), GoMode.setuid + 0o755);
    assert.equal(goFileMode(0o041777), GoMode.dir + GoMode.sticky + 0o777);
    // the numbers Docker sends: a folder 0755 is 2147484141, a symlink 0777 is 134218239
    assert.equal(goFileMode(0o040755), 2147484141);
    assert.equal(goFileMode(0o120777), 134218239);
    assert.equal(isGoDir(2147484141), true);
    assert.equal(isGoSymlink(134218239), true);
    assert.equal(isGoRegular(0o644), true);
    assert.equal(isGoRegular(GoMode.namedPipe + 0o644), false);
    assert.equal(isGoRegular(2147484141), false);
  });

  it('writes mtime as RFC 3339 with nanoseconds, trailing zeros dropped', () => {
    assert.equal(rfc3339Nano(0n), '1970-01-01T00:00:00Z');
    assert.equal(rfc3339Nano(1_765_084_314_123_456_789n), '2025-12-07T05:11:54.123456789Z');
    assert.equal(rfc3339Nano(1_765_084_314_500_000_000n), '2025-12-07T05:11:54.5Z');
  });

  it('round-trips as base64 JSON with the field names the docker CLI reads', () => {
    const stat = { name: 'x', size: 5, mode: 2147484141, mtime: '2025-12-07T05:11:54.5Z', linkTarget: '' };
    const header = encodePathStat(stat);
    assert.deepEqual(JSON.parse(Buffer.from(header, 'base64').toString()), stat);
    assert.deepEqual(decodePathStat(header), stat);
    assert.throws(() => decodePathStat(Buffer.from('{"name":1}').toString('base64')), /fields missing/);
    assert.throws(() => decodePathStat('!!!'), /unable to decode/);
  });
});

describe('rebasing archive entries', () => {
  it('renames the top entry and what is under it, and nothing else', () => {
    assert.equal(rebaseName('d', 'd', 'new'), 'new');
    assert.equal(rebaseName('d/x', 'd', 'new'), 'new/x');
    assert.equal(rebaseName('dx', 'd', 'new'), 'dx');
    assert.equal(rebaseName('/abs', '/', 'x'), '/abs');
  });

  it('rewrites a tar stream, hardlink targets included', async () => {
    const source = new PassThrough();
    const writer = new TarWriter(source);
    await writer.add({ path: 'd', type: 'directory', mode: 0o755 });
    await writer.add({ path: 'd/f', type: 'file', mode: 0o644, size: 3 }, Buffer.from('abc'));
    await writer.add({ path: 'd/h', type: 'hardlink', linkname: 'd/f' });
    await writer.finish();
    source.end();
    const entries: string[] = [];
    for await (const { header, body } of readTar(rebaseTar(source, 'd', 'n'))) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c);
      entries.push(`${header.type} ${header.path}${header.type === 'hardlink' ? ` -> ${header.linkname}` : ''}${chunks.length ? ` ${Buffer.concat(chunks).toString()}` : ''}`);
    }
    assert.deepEqual(entries, ['directory n', 'file n/f abc', 'hardlink n/h -> n/f']);
  });

  it('ends the output with the error of a malformed input', async () => {
    const out = rebaseTar(Readable.from([Buffer.alloc(512, 7)]), 'a', 'b');
    await assert.rejects(async () => { for await (const chunk of out) void chunk; }, /checksum|tar/i);
  });
});
