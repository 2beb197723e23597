import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { LogEntry, Logger } from '../../core/plugin-api.js';
import { decodeTextLogLine, encodeTextLogLine, type StoredEntry } from './text-log-line.js';

/**
 * One container's text log while a writer has it open: appends one line per chunk, one write at a
 * time, and knows the stored offset. A write resolves after write(2) (no fsync: it survives a
 * kill -9 of the daemon, not a power loss).
 */
export class TextLogFile {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private size: number,
    private offset: number,
    private readonly onWritten: (stored: StoredEntry) => void,
  ) {}

  /** Opens (creating) the file, cuts a line torn by a crash and recovers the stored offset. */
  static async open(path: string, logger: Logger, onWritten: (stored: StoredEntry) => void): Promise<TextLogFile> {
    const handle = await open(path, 'a+', 0o640);
    try {
      const size = (await handle.stat()).size;
      let complete = 0;
      let offset = 0;
      for await (const { line, end } of fileLines(path, size)) {
        complete = end;
        offset = decodeTextLogLine(line)?.offset ?? offset;
      }
      if (complete < size) {
        logger.warn(`text-file: ${path}: cut ${size - complete} bytes of a line torn by a crash`);
        await handle.truncate(complete);
      }
      return new TextLogFile(handle, complete, offset, onWritten);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get storedOffset(): number {
    return this.offset;
  }

  /** Stores one chunk; one ending at or before the stored offset is already there and is ignored. */
  write(entry: LogEntry, endOffset: number): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new Error('text-file: the log writer is closed');
      if (endOffset <= this.offset) return;
      const line = encodeTextLogLine(entry, endOffset);
      let done = 0;
      try {
        while (done < line.length) done += (await this.handle.write(line, done, line.length - done)).bytesWritten;
      } catch (err) {
        if (done > 0) await this.handle.truncate(this.size).catch(() => undefined);
        throw err;
      }
      this.size += line.length;
      this.offset = endOffset;
      this.onWritten({ entry, offset: endOffset });
    });
  }

  /** The size between two writes: reading up to it reads whole lines. */
  currentSize(): Promise<number> {
    return this.exclusive(async () => this.size);
  }

  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

/** The size of a log file nobody writes to now; 0 when there is none. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** The complete lines in the first `size` bytes of a file, with the byte after each line's newline. */
export async function* fileLines(path: string, size: number): AsyncGenerator<{ line: string; end: number }> {
  if (size === 0) return;
  const stream = createReadStream(path, { start: 0, end: size - 1, highWaterMark: 256 * 1024 });
  let carry: Buffer | undefined;
  let position = 0;
  try {
    for await (const chunk of stream) {
      const buf: Buffer = carry ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
        position += nl - start + 1;
        yield { line: buf.toString('utf8', start, nl), end: position };
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : undefined;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  } finally {
    stream.destroy();
  }
}
