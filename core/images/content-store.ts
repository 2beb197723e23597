import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TarFormatError, readTar } from '../archive/index.js';
import type { CompressedLayer } from '../plugins/distribution.js';
import { gunzipIfGzip, peek } from './decompress.js';
import { digestHex, imageConfigBytes, sha256Digest, type ImageConfigDocument } from './image-config.js';

/** Compressed copies are named `<digest hex>-<tar size>`; an earlier build named them `<digest hex>` (its tar beside them). */
const COPY_NAME = /^([a-f0-9]{64})(?:-(\d{1,15}))?$/;

/** Appended to the name of a compressed copy found damaged: kept for a look, read by nothing, deleted with its folder or when the layer is kept again. */
const DAMAGED_SUFFIX = '.damaged';

/** Pieces of a layer read from the store: under glibc's mmap threshold, as the pull's (docs/benchmarks.md). */
const READ_CHUNK = 64 << 10;

/** A compressed copy on disk, with the uncompressed tar's size when its name records it. */
interface StoredCopy extends CompressedLayer {
  readonly tarSize?: number;
}

/** The store has neither the layer's tar nor a compressed copy of it. */
export class LayerMissingError extends Error {
  constructor(readonly diffId: string) {
    super(`layer ${diffId} is missing from the image store: remove the image and pull, load, import or commit it again`);
    this.name = 'LayerMissingError';
  }
}

/** A layer tar in the store. */
export interface LayerBlob {
  /** sha256 of the uncompressed tar: the OCI diff id, "sha256:<hex>". */
  readonly diffId: string;
  /** Bytes of the uncompressed tar. */
  readonly size: number;
  /** Where the blob is: `<data-root>/images/blobs/sha256/<hex>`. */
  readonly path: string;
}

export interface ImportOptions {
  /** Called with the number of uncompressed bytes stored so far. */
  readonly onProgress?: (bytes: number) => void;
}

const COMPRESSIONS: readonly { readonly name: string; readonly magic: Buffer }[] = [
  { name: 'bzip2', magic: Buffer.from('BZh') },
  { name: 'xz', magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  { name: 'zstd', magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) },
];

/** Yields the input uncompressed: gzip (by its magic bytes) goes through zlib; other compressions are refused. */
async function* uncompressed(source: AsyncIterable<Uint8Array | string>, what: string): AsyncGenerator<Buffer> {
  const { head, all } = await peek(source, 6);
  if (head.length === 0) throw new Error(`${what}: empty, not a tar archive`);
  const compression = COMPRESSIONS.find((c) => head.subarray(0, c.magic.length).equals(c.magic));
  if (compression) throw new Error(`${what}: compressed with ${compression.name}; only plain and gzip-compressed tar archives can be imported`);
  yield* gunzipIfGzip(all, (message) => new Error(`${what}: gzip data is corrupt: ${message}`));
}

/**
 * The content-addressed store of image blobs under `<data-root>/images/`: image configs and the
 * tars of layers made here, each at `blobs/sha256/<hex>` named by the sha256 of its (uncompressed)
 * bytes, and gzip copies of layers under `compressed/<diff id hex>/` (a pulled layer has only
 * that: `openLayer` gunzips it when its tar is needed). It keeps no record of which images exist
 * (that is the engine's fold of the event log); it only stores and hands out bytes. Writes go to
 * `tmp/` first and are renamed into place, so a blob under its final name is always complete.
 */
export class ContentStore {
  /** `<data-root>/images`. */
  readonly root: string;

  constructor(dataRoot: string) {
    this.root = join(dataRoot, 'images');
  }

  /** Where the blob with this digest lives (whether or not it exists). */
  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      return (await stat(this.blobPath(digest))).isFile();
    } catch {
      return false;
    }
  }

  /**
   * Copies a layer tar (a file path or a stream; gzip-compressed or not) into the store while
   * hashing it, checks that it is a tar archive, and returns its diff id (sha256 of the
   * uncompressed bytes) and size. Importing the same content again returns the same blob.
   */
  async importLayerTar(source: string | AsyncIterable<Uint8Array | string>, options: ImportOptions = {}): Promise<LayerBlob> {
    const what = typeof source === 'string' ? source : 'the layer';
    if (typeof source === 'string') {
      const stats = await stat(source).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`${source}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
      });
      if (!stats.isFile()) throw new Error(`${source}: not a file`);
    }
    const input = typeof source === 'string' ? createReadStream(source) : source;
    const tmp = await this.tempPath();
    const file = await open(tmp, 'wx', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    try {
      async function* stored(): AsyncGenerator<Buffer> {
        for await (const chunk of uncompressed(input, what)) {
          hash.update(chunk);
          let offset = 0;
          while (offset < chunk.length) offset += (await file.write(chunk, offset, chunk.length - offset)).bytesWritten;
          size += chunk.length;
          options.onProgress?.(size);
          yield chunk;
        }
      }
      try {
        for await (const entry of readTar(stored())) void entry; // walks the headers; bodies are skipped
      } catch (error) {
        if (error instanceof TarFormatError) throw new Error(`${what}: not a valid tar archive: ${error.message}`);
        throw error;
      }
      await file.sync();
      await file.close();
      const diffId = `sha256:${hash.digest('hex')}`;
      const path = this.blobPath(diffId);
      await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
      await rename(tmp, path);
      return { diffId, size, path };
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    } finally {
      await rm(tmp, { force: true });
      if (input instanceof Readable) input.destroy();
    }
  }

  /** Stores an image config as canonical JSON; returns the image id (the blob's digest). */
  async writeImageConfig(config: ImageConfigDocument): Promise<string> {
    return this.writeBlob(imageConfigBytes(config));
  }

  /**
   * Stores bytes exactly as they are under their digest (a loaded image's config: re-serialising
   * it would change the image id); returns the digest. Written to a temp name, synced, renamed.
   */
  async writeBlob(bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(digest)) return digest;
    const tmp = await this.tempPath();
    try {
      await writeFile(tmp, bytes, { mode: 0o644, flag: 'wx', flush: true });
      await mkdir(join(this.root, 'blobs', 'sha256'), { recursive: true });
      await rename(tmp, this.blobPath(digest));
    } finally {
      await rm(tmp, { force: true });
    }
    return digest;
  }

  /** The bytes of a blob (meant for configs; a layer's tar is read as a stream with `openLayer`, which also reads a compressed copy). */
  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`blob ${digest} is not in the image store`);
      throw error;
    }
  }

  /**
   * The digests of every blob in the store ("sha256:<hex>"), for the garbage collection: the
   * configs and layer tars of `blobs/sha256/`, and the diff ids of the layers kept only compressed
   * (`compressed/<diff id hex>/`; a folder a crash emptied is listed too, so the collection ends it).
   */
  async list(): Promise<string[]> {
    const names = await readdir(join(this.root, 'blobs', 'sha256')).catch(() => [] as string[]);
    const layers = await readdir(join(this.root, 'compressed')).catch(() => [] as string[]);
    const hexes = new Set([...names, ...layers].filter((name) => /^[a-f0-9]{64}$/.test(name)));
    return [...hexes].map((hex) => `sha256:${hex}`);
  }

  /** Deletes what imports left in `tmp/` (a crash mid-import); only when none is under way (at start). */
  async clearTemp(): Promise<void> {
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
  }

  /**
   * Deletes a blob and the compressed copies of it (those first: a crash in between leaves the tar,
   * or some whole copies, or an empty folder, which `list` finds again); a no-op when it is not there.
   */
  async removeBlob(digest: string): Promise<void> {
    await rm(this.compressedDir(digest), { recursive: true, force: true });
    await rm(this.blobPath(digest), { force: true });
  }

  /** The folder of a layer's compressed copies: `compressed/<diff id hex>/<digest hex>[-<tar size>]`. */
  private compressedDir(diffId: string): string {
    return join(this.root, 'compressed', digestHex(diffId));
  }

  /** The layer's compressed copies, with the uncompressed tar's size where the name records it (every copy this build keeps). */
  private async compressedCopies(diffId: string): Promise<StoredCopy[]> {
    const dir = this.compressedDir(diffId);
    const names = await readdir(dir).catch(() => [] as string[]);
    const copies: StoredCopy[] = [];
    for (const name of names.sort()) {
      const match = COPY_NAME.exec(name);
      if (!match) continue; // a name of another build, or not a copy
      const stats = await stat(join(dir, name)).catch(() => undefined);
      if (!stats?.isFile()) continue;
      copies.push({ path: join(dir, name), digest: `sha256:${match[1]!}`, size: stats.size, ...(match[2] === undefined ? {} : { tarSize: Number(match[2]) }) });
    }
    return copies;
  }

  /** A gzip-compressed copy of a stored layer (a pull's fetched bytes, or what a push compressed); undefined when there is none. */
  async compressedCopy(diffId: string): Promise<CompressedLayer | undefined> {
    const copy = (await this.compressedCopies(diffId))[0];
    return copy && { path: copy.path, digest: copy.digest, size: copy.size };
  }

  /** Whether the store keeps a compressed copy of the layer `diffId` whose own digest is `digest`. */
  async hasCompressedCopy(diffId: string, digest: string): Promise<boolean> {
    return (await this.compressedCopies(diffId)).some((c) => c.digest === digest);
  }

  /**
   * Keeps `file` (gzip bytes whose sha256 is `digest`, already verified or just computed; `tarSize`
   * bytes once gunzipped) as a compressed copy of the layer `diffId`: synced, then renamed into
   * place (so a copy under its name is always whole). The name records the tar's size, so a layer
   * kept only compressed (a pulled one) has a size without being gunzipped. The file must be on the
   * store's filesystem (its `tmp/`).
   */
  async keepCompressed(diffId: string, file: string, digest: string, tarSize: number): Promise<CompressedLayer> {
    const handle = await open(file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const dir = this.compressedDir(diffId);
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${digestHex(digest)}-${tarSize}`);
    await rename(file, path);
    await rm(`${path}${DAMAGED_SUFFIX}`, { force: true }); // the same bytes fetched again after a damaged copy was moved aside
    return { path, digest, size: (await stat(path)).size };
  }

  /**
   * Whether the store has the layer: its uncompressed tar (a layer made here: commit, import,
   * load; or pulled by an earlier build), or a compressed copy (a layer pulled: only the gzip bytes
   * fetched are kept, as containerd keeps them, beside the driver's unpacked tree).
   */
  async hasLayer(diffId: string): Promise<boolean> {
    return (await this.hasBlob(diffId)) || (await this.compressedCopies(diffId)).length > 0;
  }

  /** Bytes of the layer's uncompressed tar; throws when the store lacks the layer. */
  async layerSize(diffId: string): Promise<number> {
    const tar = await stat(this.blobPath(diffId)).catch(() => undefined);
    if (tar?.isFile()) return tar.size;
    const copies = await this.compressedCopies(diffId);
    const recorded = copies.find((c) => c.tarSize !== undefined)?.tarSize;
    if (recorded !== undefined) return recorded;
    if (copies.length === 0) throw new LayerMissingError(diffId);
    let size = 0; // a copy named without its size and no tar beside it: no build leaves that, but count rather than fail
    for await (const chunk of this.openLayer(diffId)) size += (chunk as Buffer).length;
    return size;
  }

  /**
   * The layer's uncompressed tar as a stream (save, a push of a layer without a compressed copy,
   * a re-unpack): the stored tar as it is, or else a compressed copy gunzipped as it is read, its
   * sha256 checked against the diff id: a copy that does not match ends the stream with an error
   * instead of its end, so a consumer (the storage driver's unpack) never takes it as whole.
   */
  openLayer(diffId: string): Readable {
    const tarPath = this.blobPath(diffId);
    const copies = (): Promise<StoredCopy[]> => this.compressedCopies(diffId);
    async function* tar(): AsyncGenerator<Buffer> {
      const path = tarPath;
      if ((await stat(path).catch(() => undefined))?.isFile()) {
        yield* createReadStream(path, { highWaterMark: READ_CHUNK }) as AsyncIterable<Buffer>;
        return;
      }
      const copy = (await copies())[0];
      if (copy === undefined) throw new LayerMissingError(diffId);
      const hash = createHash('sha256');
      const gunzip = createGunzip({ chunkSize: READ_CHUNK });
      pipeline(createReadStream(copy.path, { highWaterMark: READ_CHUNK }), gunzip, () => undefined); // errors come out of the loop below
      try {
        for await (const chunk of gunzip as AsyncIterable<Buffer>) {
          hash.update(chunk);
          yield chunk;
        }
      } catch (error) {
        if (((error as NodeJS.ErrnoException).code ?? '').startsWith('Z_')) throw await damaged(copy, (error as Error).message);
        throw error;
      } finally {
        gunzip.destroy();
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== diffId) throw await damaged(copy, `uncompressed it is ${actual}`);
    }
    /**
     * A damaged copy is moved aside (`<name>.damaged`, which no lookup reads): the store no longer
     * has the layer through it, so the next pull of any image with the layer fetches it again
     * (even while another image keeps the folder from the garbage collection).
     */
    async function damaged(copy: StoredCopy, why: string): Promise<Error> {
      await rename(copy.path, `${copy.path}${DAMAGED_SUFFIX}`).catch(() => undefined); // a concurrent reader moved it already
      return new Error(`the compressed copy of layer ${diffId} in the image store is damaged (${why}); it was moved aside: pull an image that has the layer again`);
    }
    return Readable.from(tar(), { objectMode: false });
  }

  private async tempPath(): Promise<string> {
    const dir = join(this.root, 'tmp');
    await mkdir(dir, { recursive: true });
    return join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  }
}
