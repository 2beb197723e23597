import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { readTar } from '../archive/index.js';
import { gunzipIfGzip } from './decompress.js';
import { ImageArchiveError } from './archive-documents.js';
import { archivePath, type ArchiveReader } from './load-plan.js';

// ---------------------------------------------------------------------------------------------
// Reading: spooling an archive stream to disk.
// ---------------------------------------------------------------------------------------------

/** A file of a spooled archive, on disk. */
export interface SpooledFile {
  /** Where its bytes are on disk. */
  readonly file: string;
  readonly size: number;
  /** sha256 of its bytes. */
  readonly digest: string;
}

/** Documents and configs are read into memory; no real one comes close. */
const MAX_DOCUMENT_SIZE = 64 << 20;

/**
 * An image archive read from a stream into a folder: each regular file is written to disk (and
 * hashed) under a numbered name, so blobs can be read in any order afterwards whatever order the
 * archive has; symlinks and hardlinks (old docker archives link repeated layer.tar files) are
 * followed by archive path. The caller removes the folder.
 */
export class SpooledArchive implements ArchiveReader {
  private constructor(
    private readonly files: ReadonlyMap<string, SpooledFile>,
    private readonly links: ReadonlyMap<string, string>,
  ) {}

  /** Reads `source` (a tar, or a gzip-compressed tar) into `dir`, which must exist and be empty. */
  static async spool(source: AsyncIterable<Uint8Array | string>, dir: string, onProgress?: (bytes: number) => void): Promise<SpooledArchive> {
    const files = new Map<string, SpooledFile>();
    const links = new Map<string, string>();
    let count = 0;
    let entries = 0;
    for await (const { header, body } of readTar(gunzipIfGzip(source, (message) => new ImageArchiveError(`the gzip-compressed archive is corrupt: ${message}`)), { onProgress })) {
      if (++entries > 1_000_000) throw new ImageArchiveError('the archive has more than a million entries: not an image archive');
      if (header.type === 'directory') continue;
      const name = archivePath(header.path, 'an archive entry');
      if (header.type === 'symlink') {
        const target = header.linkname.startsWith('/') ? header.linkname : posix.join(posix.dirname(name), header.linkname);
        links.set(name, archivePath(target, `the symlink ${name}`));
        continue;
      }
      if (header.type === 'hardlink') {
        links.set(name, archivePath(header.linkname, `the hardlink ${name}`));
        continue;
      }
      if (header.type !== 'file') continue;
      const file = join(dir, String(count++));
      const handle = await open(file, 'wx', 0o600);
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of body) {
          hash.update(chunk);
          let offset = 0;
          while (offset < chunk.length) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
          size += chunk.length;
        }
      } finally {
        await handle.close();
      }
      files.set(name, { file, size, digest: `sha256:${hash.digest('hex')}` });
      links.delete(name);
    }
    return new SpooledArchive(files, links);
  }

  /** The spooled file at an archive path (links followed), or undefined. */
  lookup(path: string): SpooledFile | undefined {
    let current = path;
    for (let hops = 0; hops < 16; hops++) {
      const file = this.files.get(current);
      if (file) return file;
      const next = this.links.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return undefined;
  }

  /** The spooled file at an archive path; throws ImageArchiveError when the archive has none. */
  get(path: string): SpooledFile {
    const file = this.lookup(path);
    if (!file) throw new ImageArchiveError(`${path} is not in the archive`);
    return file;
  }

  has(path: string): boolean {
    return this.lookup(path) !== undefined;
  }

  async read(path: string): Promise<Buffer> {
    const file = this.get(path);
    if (file.size > MAX_DOCUMENT_SIZE) throw new ImageArchiveError(`${path} is ${file.size} bytes: too large for a manifest or config`);
    return readFile(file.file);
  }
}
