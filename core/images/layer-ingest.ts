import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TarFormatError, readTar } from '../archive/index.js';
import type { TarHeader } from '../archive/tar-header.js';
import type { CompressedLayer, LayerExpectation, LayerSink, LayerSource } from '../plugins/distribution.js';
import type { StorageDriver } from '../plugins/driver.js';
import { failpoint } from '../failpoints.js';
import type { ContentStore } from './content-store.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** A layer that is not what its descriptor and the image config say; the message names it. */
export class LayerVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LayerVerificationError';
  }
}

/** True when a path, cleaned as if from the root, climbs above it ("../x", "a/../../x"). */
function climbsOut(path: string): boolean {
  let depth = 0;
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (--depth < 0) return true;
    } else depth++;
  }
  return false;
}

/**
 * Why an entry of a pulled layer is refused, or undefined: names with "..", hardlinks to outside
 * the archive's root, and relative symlinks that climb above the root from where they are.
 * (Absolute symlinks are fine: they resolve inside the container's root.)
 */
export function unsafeEntry(header: TarHeader): string | undefined {
  const name = header.path.replace(/^\/+/, '');
  if (climbsOut(name)) return `entry ${JSON.stringify(header.path)} points outside the root`;
  if (header.type === 'hardlink' && climbsOut(header.linkname.replace(/^\/+/, ''))) {
    return `hardlink ${JSON.stringify(header.path)} -> ${JSON.stringify(header.linkname)} points outside the root`;
  }
  if (header.type === 'symlink' && !header.linkname.startsWith('/') && climbsOut(posix.join(posix.dirname(name), header.linkname))) {
    return `symlink ${JSON.stringify(header.path)} -> ${JSON.stringify(header.linkname)} points outside the root`;
  }
  return undefined;
}

/** The part of a storage driver a pull unpacks layers with. */
export type LayerUnpacker = Pick<StorageDriver, 'hasLayer' | 'applyLayer'>;

/*
 * Sizes. Pieces stay under glibc's mmap threshold (128 KiB): larger ones (tried: 128 and 512 KiB)
 * cost less CPU per byte but, freed only when V8 next collects, left the daemon's RSS 20-35 MB
 * higher during a pull (up to 155 MB, over the 150 MB goal); these kept it where it was (113-126 MB).
 */
/** Compressed bytes are handed on in pieces of this size at least (one zlib job each; a socket read is often a few KiB). */
const INPUT_CHUNK = 64 << 10;
/** zlib's output buffer (its default is 16 KiB): the tar arrives in pieces of up to this size. */
const TAR_CHUNK = 64 << 10;
/** The fetched bytes are written in batches of this size (writev), one write in flight while the next fills. */
const WRITE_BATCH = 256 << 10;

/** A pooled input piece holds this much: a piece is at least INPUT_CHUNK bytes plus the rest of a socket read (at most 64 KiB). */
const PIECE_CAPACITY = INPUT_CHUNK + (64 << 10);
/**
 * Pooled pieces per layer, at most. In practice one is made: a piece (64 KiB at least) is over
 * zlib's 16 KiB write limit, so the feed waits for 'drain', which comes after the write callback
 * gave the piece back, and the next piece takes the same buffer. The others are room for a stream
 * that would take a second piece before the first was consumed.
 */
const POOLED_PIECES = 3;

/**
 * zlib's input pieces of one layer, taken from a few buffers allocated once and given back by
 * zlib's write callback, instead of a new 64 KiB Buffer for every piece: fewer ArrayBuffers per
 * pull, which V8 counts against the old generation's limit (docs/benchmarks.md).
 */
class PiecePool {
  private readonly free: Buffer[] = [];
  private readonly all = new Set<ArrayBufferLike>();
  private readonly waiting: (() => void)[] = [];

  /** A free buffer of PIECE_CAPACITY bytes; waits while all are with zlib. */
  async take(): Promise<Buffer> {
    for (;;) {
      const free = this.free.pop();
      if (free !== undefined) return free;
      if (this.all.size < POOLED_PIECES) {
        const made = Buffer.allocUnsafeSlow(PIECE_CAPACITY);
        this.all.add(made.buffer);
        return made;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** The pool's buffer under `piece` (a view of it), or undefined when the piece is not the pool's. */
  owns(piece: Buffer): Buffer | undefined {
    return this.all.has(piece.buffer) ? Buffer.from(piece.buffer, 0, PIECE_CAPACITY) : undefined;
  }

  give(buffer: Buffer): void {
    this.free.push(buffer);
    this.waiting.shift()?.();
  }
}

/** Writes every byte of `parts` at the file's position (writev; a short write is finished with write). */
async function writeFully(file: FileHandle, parts: readonly Buffer[]): Promise<void> {
  let total = 0;
  for (const part of parts) total += part.length;
  let written = (await file.writev(parts)).bytesWritten;
  if (written === total) return;
  const rest = Buffer.concat(parts, total);
  while (written < total) written += (await file.write(rest, written, total - written)).bytesWritten;
}

/** Resolves when `stream` drained, or closed (destroyed: the writer checks). */
function drained(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * A layer's tar handed to the storage driver while it is being downloaded: `applyLayer` extracts
 * from this stream into its temporary folder as the bytes come, and renames the folder into place
 * only when the stream ends, which `finish` does once everything was verified. `abort` ends it
 * with an error instead, and the driver removes what it extracted.
 */
class UnpackTee {
  private readonly stream = new PassThrough({ highWaterMark: 256 << 10 });
  private readonly applied: Promise<void>;
  private failure: { readonly error: unknown } | undefined;

  constructor(unpacker: LayerUnpacker, diffId: string) {
    this.stream.on('error', () => undefined); // the driver sees it through its reads
    this.applied = unpacker.applyLayer(diffId, this.stream, { verified: true }); // ended only once the sink verified it
    this.applied.catch((error: unknown) => {
      this.failure ??= { error };
    });
  }

  /**
   * Passes a piece on, waiting while the extraction is behind. Once the driver stopped reading (it
   * failed, or it waits for another pull's extraction of the same layer) the pieces go nowhere:
   * `finish` says how it ended.
   */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure || this.stream.destroyed) return;
    if (this.stream.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
    });
  }

  /** Ends the tar: the driver finishes and renames the layer into place. */
  async finish(): Promise<void> {
    if (!this.stream.destroyed) this.stream.end();
    await this.applied;
  }

  /** Ends the tar with `error`; resolves once the driver removed what it extracted. */
  async abort(error: unknown): Promise<void> {
    this.stream.destroy(error instanceof Error ? error : new Error(String(error)));
    await this.applied.catch(() => undefined);
  }
}

/**
 * The content store as a distribution driver's `LayerSink`. Each layer is read once, as it
 * arrives: the fetched bytes are counted, hashed and written to a temporary file under
 * `<store>/tmp/` in large batches, gunzipped (zlib in the thread pool, in large pieces), the tar is
 * hashed (its diff id), its entries checked, and, given an `unpacker` (the storage driver) that
 * lacks the layer, extracted at the same time into the driver's temporary folder. The tar itself
 * is not written. Only when the size, the digest and the diff id all matched is the file synced
 * and renamed into the store (a gzip layer's bytes as its compressed copy, `compressed/<diff id>/`,
 * the layer's only stored form, which a push sends as it is; a plain layer's as its tar,
 * `blobs/sha256/<diff id>`), and then the extraction's stream ended, so the driver renames the
 * layer into place; on any failure both are removed.
 */
export class ContentStoreLayerSink implements LayerSink {
  constructor(
    private readonly store: ContentStore,
    private readonly unpacker?: LayerUnpacker,
  ) {}

  hasLayer(diffId: string): Promise<boolean> {
    return this.store.hasLayer(diffId);
  }

  async storeLayer(bytes: AsyncIterable<Buffer>, expected: LayerExpectation, onBytes?: (fetched: number) => void): Promise<void> {
    const short = expected.digest.slice(7, 19);
    const fail = (why: string): LayerVerificationError => new LayerVerificationError(`layer ${short} (${expected.digest}): ${why}`);
    const tmpDir = join(this.store.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    // The bytes as fetched are the only file written: a gzip layer's compressed copy (its tar is
    // not stored: `openLayer` gunzips the copy when it is needed), or a plain layer's tar itself.
    const kept = await BatchedFile.create(join(tmpDir, `pull-${process.pid}-${randomBytes(6).toString('hex')}`));
    let tee: UnpackTee | undefined;
    const fetchedHash = createHash('sha256');
    const tarHash = createHash('sha256');
    let fetched = 0;
    let tarSize = 0;
    let input: AsyncIterator<Buffer> | undefined;
    let tarStream: Duplex | undefined;
    let feeding: Promise<void> | undefined;
    try {
      tee = this.unpacker && !(await this.unpacker.hasLayer(expected.diffId)) ? new UnpackTee(this.unpacker, expected.diffId) : undefined;
      // One loop reads the download (count, hash, keep the bytes, gather 64 KiB pieces) and
      // feeds zlib; one generator reads zlib's output (hash, unpack) into the tar check:
      // few async hops per piece, the garbage collector's largest share of a pull before.
      const source = bytes[Symbol.asyncIterator]();
      input = source;
      /** Once the layer is known to be gzip: zlib's input pieces, reused once zlib consumed them. */
      let pool: PiecePool | undefined;
      /**
       * The next piece of at least INPUT_CHUNK bytes (the last may be shorter), counted, hashed and
       * kept; undefined at the end. Gathered into a pooled buffer once `pool` is set, so a download
       * allocates no Buffer per piece beside the socket's own reads.
       */
      const nextPiece = async (): Promise<Buffer | undefined> => {
        const parts: Buffer[] = [];
        let held = 0;
        while (held < INPUT_CHUNK) {
          const next = await source.next();
          if (next.done) break;
          const chunk = next.value;
          fetched += chunk.length;
          if (fetched > expected.size) throw fail(`the registry sent more than the ${expected.size} bytes the manifest says`);
          fetchedHash.update(chunk);
          onBytes?.(fetched);
          await kept.add(chunk);
          parts.push(chunk);
          held += chunk.length;
        }
        if (held === 0) return undefined;
        if (parts.length === 1) return parts[0]!;
        if (pool === undefined || held > PIECE_CAPACITY) return Buffer.concat(parts, held);
        const piece = await pool.take();
        let at = 0;
        for (const part of parts) at += part.copy(piece, at);
        return piece.subarray(0, held);
      };
      const first = await nextPiece();
      const head = first ?? Buffer.alloc(0);
      if (head.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) throw fail('compressed with zstd, which this engine does not read (only gzip and plain tar layers)');
      const gzipped = head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC);
      const stream: Duplex = gzipped ? createGunzip({ chunkSize: TAR_CHUNK }) : new PassThrough({ highWaterMark: TAR_CHUNK });
      stream.on('error', () => undefined); // read by the loop below
      tarStream = stream;
      // zlib's write callback comes once it consumed the piece (or the stream was destroyed): a pooled one is free again.
      // A PassThrough hands its pieces on as they are, so a plain layer's are never reused.
      if (gzipped) pool = new PiecePool();
      const reusable = pool;
      const feed = async (): Promise<void> => {
        try {
          for (let piece = first; piece !== undefined && !stream.destroyed; piece = await nextPiece()) {
            const pooled = reusable?.owns(piece);
            if (!stream.write(piece, pooled ? () => reusable?.give(pooled) : undefined)) await drained(stream);
          }
          if (!stream.destroyed) stream.end();
        } catch (error) {
          stream.destroy(error instanceof Error ? error : new Error(String(error)));
        }
      };
      const fed = feed();
      feeding = fed;

      const unpacking = tee;
      async function* hashed(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            tarHash.update(chunk);
            tarSize += chunk.length;
            await unpacking?.write(chunk);
            yield chunk;
          }
        } catch (error) {
          if (((error as NodeJS.ErrnoException).code ?? '').startsWith('Z_')) throw fail(`gzip data is corrupt: ${(error as Error).message}`);
          throw error;
        } finally {
          stream.destroy();
          await fed;
        }
      }
      try {
        for await (const entry of readTar(hashed())) {
          const why = unsafeEntry(entry.header);
          if (why) throw fail(`${why}: refused`);
        }
      } catch (error) {
        if (error instanceof TarFormatError) throw fail(`not a valid tar archive: ${error.message}`);
        throw error;
      }
      await kept.flush();
      const digest = `sha256:${fetchedHash.digest('hex')}`;
      if (fetched !== expected.size) throw fail(`${fetched} bytes arrived, the manifest says ${expected.size} (truncated)`);
      if (digest !== expected.digest) throw fail(`the bytes fetched have the digest ${digest}: the blob is corrupt or not the one asked for`);
      const diffId = `sha256:${tarHash.digest('hex')}`;
      if (diffId !== expected.diffId) throw fail(`uncompressed it is ${diffId}, but the image config says ${expected.diffId}`);
      if (gzipped) {
        await kept.close(false); // keepCompressed syncs it
        await this.store.keepCompressed(diffId, kept.path, digest, tarSize);
      } else {
        await kept.close(true);
        await mkdir(join(this.store.root, 'blobs', 'sha256'), { recursive: true });
        await rename(kept.path, this.store.blobPath(diffId));
      }
      failpoint('pull.after-layer');
      const unpacker = this.unpacker;
      if (tee && unpacker) {
        await tee.finish().catch(async (error: unknown) => {
          // The extraction beside the download failed, or the one it waited for did (another pull of
          // this layer, cancelled): the verified layer is stored, so unpack that; if this fails too, so does the pull.
          if (await unpacker.hasLayer(diffId)) return;
          await unpacker.applyLayer(diffId, this.store.openLayer(diffId)).catch(() => {
            throw error;
          });
        });
      }
    } catch (error) {
      // A stop before the end (the tar check refused an entry): the feeding loop ends, the download is closed.
      tarStream?.destroy();
      await feeding;
      await input?.return?.().catch(() => undefined);
      await tee?.abort(error);
      await kept.discard();
      throw error;
    } finally {
      await rm(kept.path, { force: true });
    }
  }
}

/** A file written in batches of WRITE_BATCH bytes, one write in flight while the next batch fills. */
class BatchedFile {
  private batch: Buffer[] = [];
  private batched = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(readonly path: string, private readonly file: FileHandle) {}

  static async create(path: string): Promise<BatchedFile> {
    return new BatchedFile(path, await open(path, 'wx', 0o644));
  }

  /** Adds a piece (kept by reference: it must not change); waits only when a full batch meets a write still in flight. */
  async add(chunk: Buffer): Promise<void> {
    this.batch.push(chunk);
    this.batched += chunk.length;
    if (this.batched >= WRITE_BATCH) await this.startWrite();
  }

  private async startWrite(): Promise<void> {
    await this.writing;
    if (this.batched === 0) return;
    this.writing = writeFully(this.file, this.batch);
    this.writing.catch(() => undefined); // awaited by the next write or flush
    this.batch = [];
    this.batched = 0;
  }

  /** Writes what is left and waits for every write. */
  async flush(): Promise<void> {
    await this.startWrite();
    await this.writing;
  }

  /** Closes the file (synced first when `sync`). */
  async close(sync: boolean): Promise<void> {
    if (sync) await this.file.sync();
    this.closed = true;
    await this.file.close();
  }

  /** After a failure: lets a write in flight end and closes the file (the caller removes it). */
  async discard(): Promise<void> {
    await this.writing.catch(() => undefined);
    if (!this.closed) await this.file.close().catch(() => undefined);
    this.closed = true;
  }
}

/** The content store as a push's `LayerSource`: the layer tars, and the compressed copies pulls and pushes kept. */
export class ContentStoreLayerSource implements LayerSource {
  readonly scratchDir: string;

  constructor(private readonly store: ContentStore) {
    this.scratchDir = join(store.root, 'tmp');
  }

  openLayer(diffId: string): AsyncIterable<Buffer> {
    return this.store.openLayer(diffId) as AsyncIterable<Buffer>;
  }

  compressedLayer(diffId: string): Promise<CompressedLayer | undefined> {
    return this.store.compressedCopy(diffId);
  }

  async keepCompressed(diffId: string, file: string, digest: string): Promise<CompressedLayer> {
    return this.store.keepCompressed(diffId, file, digest, await this.store.layerSize(diffId));
  }
}
