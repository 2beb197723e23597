import { encodeName } from './byte-names.js';
import { TarFormatError, fitsOctal, isAscii, splitUstarPath, type TarHeaderInput } from './tar-header.js';

/** PAX extended headers: records that carry what a ustar header cannot (long names, big numbers, xattrs). */

/** Parses the records of a PAX extended header (`<len> <key>=<value>\n`...). Values stay bytes. */
export function parsePaxRecords(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let offset = 0;
  while (offset < data.length) {
    if (data[offset] === 0) break; // some writers pad with NULs
    const space = data.indexOf(0x20, offset);
    if (space === -1) throw new TarFormatError('malformed PAX record (no length)');
    const lengthText = data.subarray(offset, space).toString('latin1');
    const length = /^[0-9]+$/.test(lengthText) ? parseInt(lengthText, 10) : NaN;
    if (!Number.isSafeInteger(length) || length <= space - offset + 1 || offset + length > data.length) {
      throw new TarFormatError(`malformed PAX record length ${JSON.stringify(lengthText)}`);
    }
    const record = data.subarray(space + 1, offset + length);
    if (record[record.length - 1] !== 0x0a) throw new TarFormatError('malformed PAX record (no newline)');
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new TarFormatError('malformed PAX record (no key)');
    const key = record.subarray(0, equals).toString('utf8');
    records.set(key, record.subarray(equals + 1, record.length - 1));
    offset += length;
  }
  return records;
}

const XATTR_PREFIX = 'SCHILY.xattr.';

/**
 * The PAX keyword of an extended attribute, as GNU tar writes it: `SCHILY.xattr.` and the name
 * with each `%` written `%25` and each `=` written `%3D`, since a record's first `=` ends its
 * keyword (an attribute name may hold both).
 */
export function xattrKeyword(name: string): string {
  return `${XATTR_PREFIX}${name.replace(/[%=]/g, (c) => (c === '%' ? '%25' : '%3D'))}`;
}

/** The attribute name of a `SCHILY.xattr.` keyword (GNU tar's decoding: `%3D` is `=`, `%25` is `%`); undefined for another keyword. */
export function xattrNameOf(keyword: string): string | undefined {
  if (!keyword.startsWith(XATTR_PREFIX)) return undefined;
  return keyword.slice(XATTR_PREFIX.length).replace(/%(25|3D)/g, (_, code: string) => (code === '25' ? '%' : '='));
}

/** Encodes PAX records; the length prefix counts itself. */
export function encodePaxRecords(records: ReadonlyMap<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length = String(length).length + body.length;
    parts.push(Buffer.from(String(length), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

/** The fields of a header that need a PAX record, with their values. */
export function paxRecordsFor(header: TarHeaderInput, entryPath: string): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  if (splitUstarPath(entryPath) === null) records.set('path', encodeName(entryPath));
  const linkname = header.linkname ?? '';
  if (linkname.length > 100 || !isAscii(linkname)) records.set('linkpath', encodeName(linkname));
  const size = header.size ?? 0;
  if (!fitsOctal(size, 12)) records.set('size', Buffer.from(String(size)));
  for (const key of ['uid', 'gid'] as const) {
    const value = header[key] ?? 0;
    if (!fitsOctal(value, 8)) records.set(key, Buffer.from(String(value)));
  }
  const mtime = header.mtime ?? 0;
  if (!fitsOctal(Math.floor(mtime), 12)) records.set('mtime', Buffer.from(String(Math.floor(mtime))));
  for (const key of ['uname', 'gname'] as const) {
    const value = header[key] ?? '';
    if (value.length > 32 || !isAscii(value)) records.set(key, Buffer.from(value, 'utf8'));
  }
  for (const name of Object.keys(header.xattrs ?? {}).sort()) {
    records.set(xattrKeyword(name), header.xattrs![name]!);
  }
  return records;
}
