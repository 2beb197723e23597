import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BLOCK_SIZE, TarFormatError, encodeHeaderBlock, parseHeaderBlock, parseNumber, splitUstarPath,
} from '../../core/archive/tar-header.js';
import { encodePaxRecords, parsePaxRecords } from '../../core/archive/pax-records.js';

describe('tar headers', () => {
  it('round-trips PAX records, binary values included, with self-counting lengths', () => {
    const records = new Map<string, Buffer>([
      ['path', Buffer.from('a/'.repeat(200) + 'é')],
      ['SCHILY.xattr.security.capability', Buffer.from([0, 1, 0x0a, 0x3d, 0xff])],
      ['x', Buffer.from('12345')], // 9 bytes after the length: 1 + 9 = 10 needs two digits, so 11
    ]);
    const encoded = encodePaxRecords(records);
    assert.match(encoded.toString('latin1'), /^\d+ path=/);
    assert.ok(encoded.toString('latin1').includes('11 x=12345\n'));
    assert.deepEqual(parsePaxRecords(encoded), records);
  });

  it('refuses malformed PAX records', () => {
    assert.throws(() => parsePaxRecords(Buffer.from('99 path=x\n')), TarFormatError);
    assert.throws(() => parsePaxRecords(Buffer.from('abc path=x\n')), TarFormatError);
    assert.throws(() => parsePaxRecords(Buffer.from('9 pathxxx\n')), TarFormatError);
  });

  it('reads octal (NUL or space terminated) and GNU base-256 numbers', () => {
    const block = Buffer.alloc(24);
    block.write('0000644\0', 0, 'latin1');
    block.write(' 755 \0\0\0', 8, 'latin1');
    block[16] = 0x80;
    block.writeUInt32BE(2 ** 31 + 5, 20);
    assert.equal(parseNumber(block, 0, 8, 'mode'), 0o644);
    assert.equal(parseNumber(block, 8, 8, 'mode'), 0o755);
    assert.equal(parseNumber(block, 16, 8, 'uid'), 2 ** 31 + 5);
    assert.throws(() => parseNumber(Buffer.from('0009\0'), 0, 5, 'size'), TarFormatError);
  });

  it('encodes a header that parses back, with the checksum checked', () => {
    const block = encodeHeaderBlock({ path: 'usr/bin/env', type: 'file', mode: 0o4755, uid: 1000, gid: 100, size: 42, mtime: 1700000000, uname: 'u' }, 'usr/bin/env');
    assert.equal(block.length, BLOCK_SIZE);
    const raw = parseHeaderBlock(block, 0);
    assert.deepEqual(
      [raw.name, raw.mode, raw.uid, raw.gid, raw.size, raw.mtime, raw.typeflag, raw.uname],
      ['usr/bin/env', 0o4755, 1000, 100, 42, 1700000000, '0', 'u'],
    );
    block[0] = 'x'.charCodeAt(0);
    assert.throws(() => parseHeaderBlock(block, 512), /bad header checksum at byte 512/);
  });

  it('splits long ASCII paths into ustar prefix and name, or asks for PAX', () => {
    assert.deepEqual(splitUstarPath('short'), { prefix: '', name: 'short' });
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    assert.deepEqual(splitUstarPath(long), { prefix: 'd'.repeat(120), name: 'f'.repeat(90) });
    assert.equal(splitUstarPath('f'.repeat(101)), null); // no slash to split at
    assert.equal(splitUstarPath(`${'d'.repeat(200)}/f`), null); // prefix too long
    assert.equal(splitUstarPath('café'), null); // not ASCII
  });
});
