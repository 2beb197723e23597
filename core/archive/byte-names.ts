/*
 * File names are bytes on Linux, not text: `caf\xe9` (Latin-1) is a name as good as `café`.
 * Docker copies them as bytes. In JavaScript they are strings, so a name's bytes are decoded
 * with Python's "surrogateescape": valid UTF-8 as itself, each byte of an invalid sequence as
 * the lone surrogate U+DC80..U+DCFF (which no valid UTF-8 decodes to), and encoded back the same
 * way, so `encodeName(decodeName(bytes))` is `bytes` for every name and a UTF-8 name is the
 * string it always was. Used where names cross into and out of the cp path: mini-docker-cproot's
 * pipe (core/archive/container-fs.ts) and tar headers.
 */

const fatal = new TextDecoder('utf-8', { fatal: true });

/** The length of the UTF-8 sequence a byte starts (1 for a byte that starts none). */
function sequenceLength(lead: number): number {
  if (lead < 0xc2) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  return lead < 0xf5 ? 4 : 1;
}

/** A name's bytes as a string: UTF-8, with each byte of an invalid sequence as U+DC00 + byte. */
export function decodeName(bytes: Buffer): string {
  try {
    return fatal.decode(bytes);
  } catch {
    let out = '';
    for (let i = 0; i < bytes.length;) {
      const byte = bytes[i]!;
      if (byte < 0x80) {
        out += String.fromCharCode(byte);
        i++;
        continue;
      }
      const length = sequenceLength(byte);
      if (length > 1 && i + length <= bytes.length) {
        try {
          out += fatal.decode(bytes.subarray(i, i + length));
          i += length;
          continue;
        } catch {
          // not a valid sequence: this byte is escaped below
        }
      }
      out += String.fromCharCode(0xdc00 + byte);
      i++;
    }
    return out;
  }
}

/** A string of decodeName's back to its bytes (UTF-8; a lone U+DC80..U+DCFF is its byte). */
export function encodeName(name: string): Buffer {
  if (!/[\udc80-\udcff]/.test(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let text = '';
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < name.length) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        text += name[i]! + name[i + 1]!; // a pair: one character
        i++;
        continue;
      }
    }
    if (unit >= 0xdc80 && unit <= 0xdcff) {
      parts.push(Buffer.from(text, 'utf8'), Buffer.from([unit - 0xdc00]));
      text = '';
      continue;
    }
    text += name[i]!;
  }
  parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}
