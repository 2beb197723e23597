import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { TarFormatError, readTar } from '../archive/index.js';
import type { TarHeader } from '../archive/tar-header.js';
import type { LayerExpectation, LayerSink, LayerSource } from '../plugins/distribution.js';
import { failpoint } from '../failpoints.js';
import type { ContentStore } from './content-store.js';
import { gunzipIfGzip, peek } from './decompress.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

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

/**
 * The content store as a distribution driver's `LayerSink`: each layer streams into a temporary
 * file under `<store>/tmp/` while the fetched bytes and the uncompressed tar are hashed and its
 * entries checked; it is renamed to `blobs/sha256/<diff id>` only when everything matched.
 */
export class ContentStoreLayerSink implements LayerSink {
  constructor(private readonly store: ContentStore) {}

  hasLayer(diffId: string): Promise<boolean> {
    return this.store.hasBlob(diffId);
  }

  async storeLayer(bytes: AsyncIterable<Buffer>, expected: LayerExpectation, onBytes?: (fetched: number) => void): Promise<void> {
    const short = expected.digest.slice(7, 19);
    const fail = (why: string): LayerVerificationError => new LayerVerificationError(`layer ${short} (${expected.digest}): ${why}`);
    const tmpDir = join(this.store.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `pull-${process.pid}-${randomBytes(6).toString('hex')}`);
    const file = await open(tmp, 'wx', 0o644);
    const fetchedHash = createHash('sha256');
    const tarHash = createHash('sha256');
    let fetched = 0;
    try {
      async function* counted(): AsyncGenerator<Buffer> {
        for await (const chunk of bytes) {
          fetched += chunk.length;
          if (fetched > expected.size) throw fail(`the registry sent more than the ${expected.size} bytes the manifest says`);
          fetchedHash.update(chunk);
          onBytes?.(fetched);
          yield chunk;
        }
      }
      const { head, all } = await peek(counted(), ZSTD_MAGIC.length);
      if (head.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC)) throw fail('compressed with zstd, which this engine does not read (only gzip and plain tar layers)');
      async function* stored(): AsyncGenerator<Buffer> {
        for await (const chunk of gunzipIfGzip(all, (message) => fail(`gzip data is corrupt: ${message}`))) {
          tarHash.update(chunk);
          let offset = 0;
          while (offset < chunk.length) offset += (await file.write(chunk, offset, chunk.length - offset)).bytesWritten;
          yield chunk;
        }
      }
      try {
        for await (const entry of readTar(stored())) {
          const why = unsafeEntry(entry.header);
          if (why) throw fail(`${why}: refused`);
        }
      } catch (error) {
        if (error instanceof TarFormatError) throw fail(`not a valid tar archive: ${error.message}`);
        throw error;
      }
      const digest = `sha256:${fetchedHash.digest('hex')}`;
      if (fetched !== expected.size) throw fail(`${fetched} bytes arrived, the manifest says ${expected.size} (truncated)`);
      if (digest !== expected.digest) throw fail(`the bytes fetched have the digest ${digest}: the blob is corrupt or not the one asked for`);
      const diffId = `sha256:${tarHash.digest('hex')}`;
      if (diffId !== expected.diffId) throw fail(`uncompressed it is ${diffId}, but the image config says ${expected.diffId}`);
      await file.sync();
      await file.close();
      await mkdir(join(this.store.root, 'blobs', 'sha256'), { recursive: true });
      await rename(tmp, this.store.blobPath(diffId));
      failpoint('pull.after-layer');
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

/** The content store as a push's `LayerSource`. */
export class ContentStoreLayerSource implements LayerSource {
  readonly scratchDir: string;

  constructor(private readonly store: ContentStore) {
    this.scratchDir = join(store.root, 'tmp');
  }

  openLayer(diffId: string): AsyncIterable<Buffer> {
    return createReadStream(this.store.blobPath(diffId)) as AsyncIterable<Buffer>;
  }
}
