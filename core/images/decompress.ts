import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** A chunk as a Buffer over the same memory (`Buffer.from(buffer)` would copy it). */
function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The first `bytes` of a stream (fewer if it is shorter), and the whole stream again, head included. */
export async function peek(source: AsyncIterable<Uint8Array | string>, bytes: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  while (head.length < bytes && !ended) {
    const next = await iterator.next();
    if (next.done) ended = true;
    else head = head.length === 0 ? asBuffer(next.value) : Buffer.concat([head, asBuffer(next.value)]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield asBuffer(next.value);
  }
  return { head, all: all() };
}

/**
 * The input in chunks of at least `bytes` (the last may be shorter): fewer, larger pieces for the
 * stages after it (a zlib job, a write, a hash update each cost the same per call however small).
 */
export async function* coalesce(source: AsyncIterable<Buffer>, bytes: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    parts.push(chunk);
    held += chunk.length;
    if (held >= bytes) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
      parts = [];
      held = 0;
    }
  }
  if (held > 0) yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
}

/**
 * Yields the input, gunzipped when it starts with gzip's magic bytes (`docker save | gzip`, a
 * .tar.gz layer). Corrupt gzip data becomes the error `corrupt` makes of zlib's message.
 * `chunkSize` is zlib's output buffer (its default is 16 KiB); zlib works in libuv's thread pool.
 */
export async function* gunzipIfGzip(source: AsyncIterable<Uint8Array | string>, corrupt: (message: string) => Error, chunkSize = 16 << 10): AsyncGenerator<Buffer> {
  const { head, all } = await peek(source, GZIP_MAGIC.length);
  if (!head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC)) {
    yield* all;
    return;
  }
  const gunzip = createGunzip({ chunkSize });
  // Errors of either side come out of the iteration below.
  pipeline(Readable.from(all), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    if (((error as NodeJS.ErrnoException).code ?? '').startsWith('Z_')) throw corrupt((error as Error).message);
    throw error;
  } finally {
    gunzip.destroy();
  }
}
