/**
 * The tar header format: ustar blocks, GNU long names and base-256 numbers, PAX records.
 * Pure functions over 512-byte blocks; the streaming reader and writer build on them.
 */

import { encodeName } from './byte-names.js';

export const BLOCK_SIZE = 512;

/** The kinds of entry this engine reads and writes. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

/** One entry's metadata, after PAX and GNU extensions are applied. */
export interface TarHeader {
  /** The entry's path as stored, without a trailing slash ("bin/sh", "./etc", "/abs"). */
  readonly path: string;
  readonly type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  /** Bytes of data that follow the header (0 for anything but files). */
  readonly size: number;
  /** Modification time in seconds since the epoch (PAX may give a fraction). */
  readonly mtime: number;
  /** Target of a symlink (as written) or of a hardlink (a path in the archive). */
  readonly linkname: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Extended attributes from `SCHILY.xattr.<name>` PAX records. */
  readonly xattrs: Readonly<Record<string, Buffer>>;
}

/** What a writer needs to say about an entry; missing fields take the usual defaults. */
export interface TarHeaderInput {
  readonly path: string;
  readonly type: TarEntryType;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly size?: number;
  readonly mtime?: number;
  readonly linkname?: string;
  readonly devmajor?: number;
  readonly devminor?: number;
  readonly xattrs?: Readonly<Record<string, Buffer>>;
}

/** A malformed archive: the message names what is wrong and where. */
export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

/** The raw fields of one header block, before extensions are applied. */
export interface RawHeader {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: number;
  readonly typeflag: string;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  readonly devmajor: number;
  readonly devminor: number;
}

const TYPEFLAGS: Readonly<Record<TarEntryType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  'char-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

/** The entry type a typeflag stands for; null for extension headers and unknown flags. */
export function entryTypeOf(typeflag: string): TarEntryType | null {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7': // contiguous file: a regular file everywhere that matters
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return null;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as UTF-8, or as Latin-1 when they are not valid UTF-8 (old archives). */
export function decodeText(bytes: Buffer): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function cString(block: Buffer, offset: number, length: number): Buffer {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return end === -1 ? field : field.subarray(0, end);
}

/** Reads a numeric field: octal (space or NUL padded) or GNU base-256 (high bit set). */
export function parseNumber(block: Buffer, offset: number, length: number, field: string): number {
  const bytes = block.subarray(offset, offset + length);
  if (bytes[0]! & 0x80) {
    if (bytes[0] === 0xff) throw new TarFormatError(`negative base-256 value in the ${field} field`);
    let value = bytes[0]! & 0x7f;
    for (let i = 1; i < bytes.length; i++) value = value * 256 + bytes[i]!;
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`${field} field is too large`);
    return value;
  }
  const text = bytes.toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`invalid octal number ${JSON.stringify(text)} in the ${field} field`);
  return parseInt(text, 8);
}

/** True when every byte of the block is zero (the end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumOf(block: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return { unsigned, signed };
}

/** Parses one 512-byte header block; throws TarFormatError when the checksum does not match. */
/** `decodeName` (byte-names.ts) decodes the name and link fields: decodeText by default. */
export function parseHeaderBlock(block: Buffer, position: number, decodeName: (bytes: Buffer) => string = decodeText): RawHeader {
  const stored = parseNumber(block, 148, 8, 'checksum');
  const sum = checksumOf(block);
  if (stored !== sum.unsigned && stored !== sum.signed) {
    throw new TarFormatError(`bad header checksum at byte ${position} (not a tar archive, or a corrupt one)`);
  }
  const magic = block.subarray(257, 263).toString('latin1');
  const posix = magic === 'ustar\0';
  let name = decodeName(cString(block, 0, 100));
  if (posix) {
    // GNU tar keeps atime/ctime where POSIX keeps the prefix, so only POSIX headers have one.
    const prefix = decodeName(cString(block, 345, 155));
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(block, 100, 8, 'mode'),
    uid: parseNumber(block, 108, 8, 'uid'),
    gid: parseNumber(block, 116, 8, 'gid'),
    size: parseNumber(block, 124, 12, 'size'),
    mtime: parseNumber(block, 136, 12, 'mtime'),
    typeflag: String.fromCharCode(block[156]!),
    linkname: decodeName(cString(block, 157, 100)),
    uname: decodeText(cString(block, 265, 32)),
    gname: decodeText(cString(block, 297, 32)),
    devmajor: posix || magic === 'ustar ' ? parseNumber(block, 329, 8, 'devmajor') : 0,
    devminor: posix || magic === 'ustar ' ? parseNumber(block, 337, 8, 'devminor') : 0,
  };
}

const MAX_OCTAL = (width: number): number => 8 ** (width - 1) - 1;

function writeString(block: Buffer, offset: number, length: number, bytes: Buffer): void {
  bytes.copy(block, offset, 0, Math.min(length, bytes.length));
}

function writeNumber(block: Buffer, offset: number, length: number, value: number): void {
  if (value <= MAX_OCTAL(length)) {
    block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
    return;
  }
  // GNU base-256: the PAX record carries the value for POSIX readers.
  let rest = value;
  for (let i = length - 1; i > 0; i--) {
    block[offset + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  block[offset] = 0x80;
}

/** True when the value fits the ustar field of that width. */
export function fitsOctal(value: number, width: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= MAX_OCTAL(width);
}

/** Printable ASCII only: what ustar's name fields may hold without a PAX record. */
export function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/**
 * Splits a path into ustar prefix and name fields; null when it needs a PAX record
 * (too long, or not plain ASCII).
 */
export function splitUstarPath(path: string): { prefix: string; name: string } | null {
  if (!isAscii(path)) return null;
  if (path.length <= 100) return { prefix: '', name: path };
  if (path.length > 256) return null;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (prefix.length <= 155 && name.length > 0 && name.length <= 100) return { prefix, name };
  }
  return null;
}

/** Encodes one ustar header block (with checksum). `entryPath` already carries a directory's slash. */
export function encodeHeaderBlock(header: TarHeaderInput, entryPath: string, typeflag?: string): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  const split = splitUstarPath(entryPath);
  if (split) {
    writeString(block, 0, 100, Buffer.from(split.name, 'latin1'));
    writeString(block, 345, 155, Buffer.from(split.prefix, 'latin1'));
  } else {
    writeString(block, 0, 100, encodeName(entryPath));
  }
  writeNumber(block, 100, 8, (header.mode ?? defaultMode(header.type)) & 0o7777);
  writeNumber(block, 108, 8, header.uid ?? 0);
  writeNumber(block, 116, 8, header.gid ?? 0);
  writeNumber(block, 124, 12, header.size ?? 0);
  writeNumber(block, 136, 12, Math.max(0, Math.floor(header.mtime ?? 0)));
  block.write(typeflag ?? TYPEFLAGS[header.type], 156, 1, 'latin1');
  writeString(block, 157, 100, encodeName(header.linkname ?? ''));
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeString(block, 265, 32, Buffer.from(header.uname ?? '', 'utf8'));
  writeString(block, 297, 32, Buffer.from(header.gname ?? '', 'utf8'));
  writeNumber(block, 329, 8, header.devmajor ?? 0);
  writeNumber(block, 337, 8, header.devminor ?? 0);
  const { unsigned } = checksumOf(block);
  block.write(unsigned.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

/** The mode an entry gets when the writer does not say. */
export function defaultMode(type: TarEntryType): number {
  return type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644;
}

/** Bytes of padding after `size` bytes of data, up to the next block boundary. */
export function paddingFor(size: number): number {
  const rest = size % BLOCK_SIZE;
  return rest === 0 ? 0 : BLOCK_SIZE - rest;
}
