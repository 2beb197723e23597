import {
  BLOCK_SIZE,
  TarFormatError,
  decodeText,
  entryTypeOf,
  isZeroBlock,
  paddingFor,
  parseHeaderBlock,
  type RawHeader,
  type TarHeader,
} from './tar-header.js';
import { decodeName } from './byte-names.js';
import { parsePaxRecords, xattrNameOf } from './pax-records.js';

/** One entry of an archive being read. Read `body` before asking for the next entry, or it is skipped. */
export interface TarEntry {
  readonly header: TarHeader;
  /** The entry's data (`header.size` bytes), readable once. */
  readonly body: AsyncIterable<Buffer>;
}

export interface ReadTarOptions {
  /** Called with the number of archive bytes consumed so far. */
  readonly onProgress?: (bytes: number) => void;
  /** Told about entries that are skipped (unknown types, GNU sparse files...). */
  readonly onWarning?: (message: string) => void;
  /**
   * Entry names and link targets as bytes (byte-names.ts: a name that is not UTF-8 keeps its
   * bytes, for a file system that takes them so); default: UTF-8, else Latin-1 (old archives).
   */
  readonly byteNames?: boolean;
}

/** Byte-exact reads over an async iterable of chunks. */
class ByteSource {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  position = 0;

  constructor(private readonly iterator: AsyncIterator<Uint8Array | string>) {}

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Up to `max` bytes (at least one), or null at the end of the input. */
  async readSome(max: number): Promise<Buffer | null> {
    while (this.buffered === 0) if (!(await this.fill())) return null;
    const first = this.chunks[0]!;
    const out = first.length <= max ? first : first.subarray(0, max);
    if (out.length === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(max);
    this.buffered -= out.length;
    this.position += out.length;
    return out;
  }

  /** Exactly `length` bytes; null when the input ended before the first byte; throws on a partial read. */
  async readExact(length: number, what: string): Promise<Buffer | null> {
    while (this.buffered < length) {
      if (!(await this.fill())) {
        if (this.buffered === 0) return null;
        throw new TarFormatError(`unexpected end of archive in ${what}`);
      }
    }
    const parts: Buffer[] = [];
    let missing = length;
    while (missing > 0) {
      const part = (await this.readSome(missing))!;
      parts.push(part);
      missing -= part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  async skip(length: number, what: string): Promise<void> {
    let missing = length;
    while (missing > 0) {
      const part = await this.readSome(Math.min(missing, 1 << 20));
      if (part === null) throw new TarFormatError(`unexpected end of archive in ${what}`);
      missing -= part.length;
    }
  }

  /** Consumes whatever follows the end-of-archive marker, so a pipe feeding it never stalls. */
  async drain(): Promise<void> {
    while ((await this.readSome(1 << 20)) !== null) {
      /* discard */
    }
  }
}

interface Extensions {
  pax: Map<string, Buffer> | null;
  longName: string | null;
  longLink: string | null;
}

function cText(data: Buffer, decode: (bytes: Buffer) => string): string {
  const end = data.indexOf(0);
  return decode(end === -1 ? data : data.subarray(0, end));
}

function paxNumber(records: Map<string, Buffer>, key: string, fallback: number, fractional = false): number {
  const value = records.get(key);
  if (value === undefined) return fallback;
  const text = value.toString('latin1');
  const number = fractional ? Number(text) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(number) || (!fractional && !Number.isSafeInteger(number))) {
    throw new TarFormatError(`invalid PAX ${key} ${JSON.stringify(text)}`);
  }
  return number;
}

function applyExtensions(raw: RawHeader, ext: Extensions, globals: Map<string, Buffer>, byteNames: boolean): TarHeader | null {
  const records = new Map([...globals, ...(ext.pax ?? [])]);
  const typeName = entryTypeOf(raw.typeflag);
  const text = (bytes: Buffer): string => (byteNames ? decodeName(bytes) : bytes.toString('utf8'));
  let path = records.has('path') ? text(records.get('path')!) : ext.longName ?? raw.name;
  const linkname = records.has('linkpath') ? text(records.get('linkpath')!) : ext.longLink ?? raw.linkname;
  let type = typeName;
  if (raw.typeflag === 'D') type = 'directory'; // GNU dump directory
  if (type === null) return null;
  // Old archives mark directories with a slash on a regular-file entry.
  if (type === 'file' && path.endsWith('/')) type = 'directory';
  if (path.length > 1) path = path.replace(/\/+$/, '');
  const xattrs: Record<string, Buffer> = {};
  for (const [key, value] of records) {
    const name = xattrNameOf(key);
    if (name !== undefined) xattrs[name] = value;
  }
  return {
    path,
    type,
    mode: raw.mode & 0o7777,
    uid: paxNumber(records, 'uid', raw.uid),
    gid: paxNumber(records, 'gid', raw.gid),
    uname: records.has('uname') ? records.get('uname')!.toString('utf8') : raw.uname,
    gname: records.has('gname') ? records.get('gname')!.toString('utf8') : raw.gname,
    size: type === 'file' ? paxNumber(records, 'size', raw.size) : 0,
    mtime: paxNumber(records, 'mtime', raw.mtime, true),
    linkname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs,
  };
}

function toIterator(source: AsyncIterable<Uint8Array | string>): AsyncIterator<Uint8Array | string> {
  return source[Symbol.asyncIterator]();
}

/**
 * Reads a tar archive as a stream of entries (ustar, GNU long names and links, PAX, v7).
 * Extension headers are folded into the entry they describe; the input is read to its end.
 */
export async function* readTar(source: AsyncIterable<Uint8Array | string>, options: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const input = new ByteSource(toIterator(source));
  const globals = new Map<string, Buffer>();
  let ext: Extensions = { pax: null, longName: null, longLink: null };
  const progress = (): void => options.onProgress?.(input.position);
  const byteNames = options.byteNames === true;
  const decode = byteNames ? decodeName : decodeText;

  for (;;) {
    const headerAt = input.position;
    const block = await input.readExact(BLOCK_SIZE, 'a header');
    if (block === null || isZeroBlock(block)) break;
    const raw = parseHeaderBlock(block, headerAt, decode);
    const dataSize = raw.size;

    if (raw.typeflag === 'x' || raw.typeflag === 'g' || raw.typeflag === 'L' || raw.typeflag === 'K') {
      if (dataSize > 16 << 20) throw new TarFormatError(`extension header of ${dataSize} bytes at byte ${headerAt} is too large`);
      const data = (await input.readExact(dataSize, 'an extension header')) ?? Buffer.alloc(0);
      if (data.length < dataSize) throw new TarFormatError('unexpected end of archive in an extension header');
      await input.skip(paddingFor(dataSize), 'padding');
      if (raw.typeflag === 'x') ext.pax = new Map([...(ext.pax ?? []), ...parsePaxRecords(data)]);
      else if (raw.typeflag === 'g') for (const [k, v] of parsePaxRecords(data)) globals.set(k, v);
      else if (raw.typeflag === 'L') ext.longName = cText(data, decode);
      else ext.longLink = cText(data, decode);
      continue;
    }

    const header = applyExtensions(raw, ext, globals, byteNames);
    if (header === null) {
      const size = ext.pax?.has('size') ? Number(ext.pax.get('size')!.toString('latin1')) : raw.size;
      options.onWarning?.(`skipped ${JSON.stringify(raw.name)}: unsupported entry type ${JSON.stringify(raw.typeflag)}`);
      await input.skip(size + paddingFor(size), 'an unsupported entry');
      ext = { pax: null, longName: null, longLink: null };
      progress();
      continue;
    }
    ext = { pax: null, longName: null, longLink: null };
    // Like Go's archive/tar: only regular files carry data, whatever size other headers claim.
    const bodySize = header.type === 'file' ? header.size : 0;
    let remaining = bodySize;
    let started = false;
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: async function* () {
        if (started) throw new Error(`the body of ${header.path} was already read`);
        started = true;
        while (remaining > 0) {
          const chunk = await input.readSome(Math.min(remaining, 1 << 20));
          if (chunk === null) throw new TarFormatError(`unexpected end of archive in the data of ${header.path}`);
          remaining -= chunk.length;
          progress();
          yield chunk;
        }
      },
    };
    yield { header, body };
    await input.skip(remaining + paddingFor(bodySize), `the data of ${header.path}`);
    remaining = 0;
    started = true;
    progress();
  }
  await input.drain();
  progress();
}
