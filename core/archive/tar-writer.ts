import { Writable } from 'node:stream';
import {
  BLOCK_SIZE,
  encodeHeaderBlock,
  paddingFor,
  type TarHeaderInput,
} from './tar-header.js';
import { encodePaxRecords, paxRecordsFor } from './pax-records.js';

export interface TarWriterOptions {
  /** Called with the number of bytes written so far. */
  readonly onProgress?: (bytes: number) => void;
}

/**
 * Writes a tar archive entry by entry to a stream, honouring back-pressure. Paths, links, sizes,
 * ids and xattrs that do not fit ustar fields get a PAX extended header. Call `finish()` last.
 */
export class TarWriter {
  private written = 0;
  private finished = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly options: TarWriterOptions = {},
  ) {}

  /** Bytes written so far (the archive size once finished). */
  get bytesWritten(): number {
    return this.written;
  }

  /**
   * Adds one entry. A regular file needs `size` and a body of exactly that many bytes (a shorter
   * body is padded with zeros and a longer one is an error); other types take no body.
   */
  async add(header: TarHeaderInput, body?: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
    if (this.finished) throw new Error('the tar archive is already finished');
    const size = header.type === 'file' ? header.size ?? (Buffer.isBuffer(body) ? body.length : 0) : 0;
    const normalized: TarHeaderInput = { ...header, size };
    const entryPath = header.type === 'directory' && !header.path.endsWith('/') ? `${header.path}/` : header.path;
    const pax = paxRecordsFor(normalized, entryPath);
    if (pax.size > 0) {
      const data = encodePaxRecords(pax);
      const paxName = `PaxHeaders/${entryPath.replace(/\/$/, '').split('/').pop() ?? ''}`.slice(0, 100);
      await this.write(encodeHeaderBlock({ path: paxName, type: 'file', size: data.length, mode: 0o644, mtime: normalized.mtime ?? 0 }, paxName, 'x'));
      await this.write(data);
      await this.write(Buffer.alloc(paddingFor(data.length)));
    }
    await this.write(encodeHeaderBlock(normalized, entryPath));
    if (header.type !== 'file') return;
    let copied = 0;
    if (body !== undefined) {
      const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = Buffer.isBuffer(body) ? [body] : body;
      for await (const chunk of chunks) {
        if (copied + chunk.length > size) throw new Error(`${header.path}: more data than its size of ${size} bytes (the file grew while being archived?)`);
        copied += chunk.length;
        await this.write(chunk);
      }
    }
    if (copied < size) await this.write(Buffer.alloc(size - copied));
    await this.write(Buffer.alloc(paddingFor(size)));
  }

  /** Writes the end-of-archive marker (two zero blocks); resolves with the archive size. */
  async finish(): Promise<number> {
    if (!this.finished) {
      await this.write(Buffer.alloc(BLOCK_SIZE * 2));
      this.finished = true;
    }
    return this.written;
  }

  private async write(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (isDestroyed(this.out)) throw new Error('the output stream closed before the archive was written');
    const ok = this.out.write(data);
    this.written += data.length;
    this.options.onProgress?.(this.written);
    if (!ok) await waitForDrain(this.out);
  }
}

/** A stream destroyed meanwhile (its reader went away) emits no more drain, error or close to wait for. */
function isDestroyed(out: NodeJS.WritableStream): boolean {
  return out instanceof Writable && out.destroyed;
}

function waitForDrain(out: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (isDestroyed(out)) {
      reject(new Error('the output stream closed before the archive was written'));
      return;
    }
    const cleanup = (): void => {
      out.removeListener('drain', onDrain);
      out.removeListener('error', onError);
      out.removeListener('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the output stream closed before the archive was written'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
