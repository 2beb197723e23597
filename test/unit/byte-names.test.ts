import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeName, encodeName } from '../../core/archive/byte-names.js';

describe('byte-names: a file name\'s bytes through a JavaScript string', () => {
  it('a UTF-8 name is the string it always was, and back', () => {
    for (const name of ['plain', 'café', '日本語', 'emoji 😀', '']) {
      const bytes = Buffer.from(name, 'utf8');
      assert.equal(decodeName(bytes), name);
      assert.deepEqual(encodeName(name), bytes);
    }
  });

  it('bytes that are not UTF-8 come back exactly (surrogate escapes), next to valid sequences', () => {
    const cases = [
      Buffer.from('caf\xe9', 'latin1'),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from([0xc3]), // a sequence cut short
      Buffer.from([0xc0, 0xaf]), // overlong "/"
      Buffer.from([0xed, 0xa0, 0x80]), // a surrogate encoded in UTF-8
      Buffer.concat([Buffer.from('é😀', 'utf8'), Buffer.from([0xe9, 0x80]), Buffer.from('x日', 'utf8')]),
    ];
    for (const bytes of cases) {
      const name = decodeName(bytes);
      assert.equal(name.includes('\ufffd'), false, bytes.toString('hex'));
      assert.deepEqual(encodeName(name), bytes, bytes.toString('hex'));
    }
    assert.equal(decodeName(Buffer.from('caf\xe9', 'latin1')), 'caf\udce9');
    assert.equal(decodeName(Buffer.concat([Buffer.from('é', 'utf8'), Buffer.from([0xe9])])), 'é\udce9');
  });

  it('every single byte and every pair of bytes comes back', () => {
    for (let a = 0; a < 256; a++) {
      assert.deepEqual(encodeName(decodeName(Buffer.from([a]))), Buffer.from([a]));
      for (let b = 0x80; b < 256; b += 7) assert.deepEqual(encodeName(decodeName(Buffer.from([a, b]))), Buffer.from([a, b]));
    }
  });
});
