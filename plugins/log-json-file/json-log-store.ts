import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEntry, Logger } from '../../core/plugin-api.js';
import type { JsonFileOptions } from './json-file-options.js';
import { decodeJsonLogLine, encodeJsonLogLine, type StoredEntry } from './json-log-line.js';
import { completeLength, linesBackward, LogFileSnapshot, logFileNames, rotationIndex } from './log-file-snapshot.js';

/**
 * One container's log files while a writer has them open: appends one line per chunk, rotates,
 * and knows the output offset stored so far. Writes, rotations and snapshots for readers run one
 * at a time, in call order.
 *
 * Durability: a write resolves once write(2) returned for the whole line, so the line survives a
 * kill -9 of the daemon (the kernel holds it); there is no fsync per chunk, so a power loss may
 * lose the last seconds, as with Docker's json-file.
 */
export class JsonLogStore {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly base: string,
    private options: JsonFileOptions,
    private handle: FileHandle,
    private size: number,
    private offset: number,
    private readonly onWritten: (stored: StoredEntry) => void,
  ) {}

  /**
   * Opens (creating) `<dir>/<base>`, cuts off a line torn by a crash, and recovers the stored
   * offset from the newest complete line across the rotated files.
   */
  static async open(
    dir: string,
    base: string,
    options: JsonFileOptions,
    logger: Logger,
    onWritten: (stored: StoredEntry) => void,
  ): Promise<JsonLogStore> {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const path = join(dir, base);
    const handle = await open(path, 'a+', 0o640);
    try {
      let size = (await handle.stat()).size;
      const complete = await completeLength(handle, size);
      if (complete < size) {
        logger.warn(`json-file: ${path}: cut ${size - complete} bytes of a line torn by a crash`);
        await handle.truncate(complete);
        size = complete;
      }
      const offset = await recoverOffset(dir, base, logger);
      return new JsonLogStore(dir, base, options, handle, size, offset, onWritten);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** The output offset up to which everything is stored. */
  get storedOffset(): number {
    return this.offset;
  }

  /** Options of the latest open() (a restarted container may bring new ones). */
  setOptions(options: JsonFileOptions): void {
    this.options = options;
  }

  /**
   * Stores one chunk. A chunk ending at or before the stored offset is already stored (the shim
   * re-sends what was not acknowledged before a restart) and is ignored; of a chunk stored in part
   * (split below, the daemon killed between two pieces) only the rest is stored.
   *
   * With max-size, a chunk whose line would be larger than max-size (the shim reads up to 16 KiB
   * at a time) is stored as several lines, split after newlines, each with the offset it ends at,
   * so the files stay within max-size; only a single line of output longer than that stays whole.
   */
  write(entry: LogEntry, endOffset: number): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new Error('json-file: the log writer is closed');
      if (endOffset <= this.offset) return;
      const start = endOffset - entry.data.length;
      const rest = start < this.offset ? { ...entry, data: entry.data.subarray(this.offset - start) } : entry;
      const { maxSize } = this.options;
      for (const piece of splitForMaxSize(rest, endOffset, maxSize)) {
        if (maxSize > 0 && this.size > 0 && this.size + piece.line.length > maxSize) await this.rotate();
        await this.append(piece.line);
        this.offset = piece.offset;
        this.onWritten({ entry: piece.entry, offset: piece.offset });
      }
    });
  }

  /** The files as they are between two writes, for a reader. */
  snapshot(): Promise<LogFileSnapshot> {
    return this.exclusive(() => LogFileSnapshot.open(this.dir, this.base));
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

  private async append(line: Buffer): Promise<void> {
    let done = 0;
    try {
      while (done < line.length) {
        const { bytesWritten } = await this.handle.write(line, done, line.length - done);
        done += bytesWritten;
      }
    } catch (err) {
      // Leave no half line behind (e.g. ENOSPC part way): the chunk is not acknowledged and comes again.
      if (done > 0) await this.handle.truncate(this.size).catch(() => undefined);
      throw err;
    }
    this.size += line.length;
  }

  /**
   * `<base>` becomes `<base>.1`, `.1` becomes `.2`, ..., and files past max-file go. Readers that
   * hold a file open keep reading it. With max-file=1 the current file is simply dropped.
   */
  private async rotate(): Promise<void> {
    const { maxFile } = this.options;
    await this.handle.close();
    try {
      for (const name of await logFileNames(this.dir, this.base)) {
        const n = rotationIndex(name, this.base);
        if (n > 0 && n >= maxFile - 1) await unlinkIfThere(join(this.dir, name));
      }
      for (let n = maxFile - 2; n >= 1; n--) {
        await renameIfThere(join(this.dir, `${this.base}.${n}`), join(this.dir, `${this.base}.${n + 1}`));
      }
      const current = join(this.dir, this.base);
      if (maxFile > 1) await rename(current, `${current}.1`);
      else await unlinkIfThere(current);
    } finally {
      this.handle = await open(join(this.dir, this.base), 'a+', 0o640);
      this.size = (await this.handle.stat()).size;
    }
  }
}

interface Piece {
  readonly entry: LogEntry;
  readonly offset: number;
  readonly line: Buffer;
}

/** One piece when the chunk's line fits in max-size (or there is none), else pieces of whole lines of output that fit. */
function splitForMaxSize(entry: LogEntry, endOffset: number, maxSize: number): Piece[] {
  const line = encodeJsonLogLine(entry, endOffset);
  if (maxSize <= 0 || line.length <= maxSize) return [{ entry, offset: endOffset, line }];
  const segments: Buffer[] = [];
  for (let from = 0; from < entry.data.length; ) {
    const nl = entry.data.indexOf(0x0a, from);
    const to = nl < 0 ? entry.data.length : nl + 1;
    segments.push(entry.data.subarray(from, to));
    from = to;
  }
  if (segments.length < 2) return [{ entry, offset: endOffset, line }];
  // Pack segments greedily by their encoded sizes (with the largest offset, an upper bound but for
  // a piece that mixes valid and invalid UTF-8, which is checked and halved below).
  const overhead = encodeJsonLogLine({ ...entry, data: Buffer.alloc(0) }, endOffset).length;
  const groups: Buffer[][] = [];
  let group: Buffer[] = [];
  let size = overhead;
  for (const segment of segments) {
    const cost = encodeJsonLogLine({ ...entry, data: segment }, endOffset).length - overhead;
    if (group.length > 0 && size + cost > maxSize) {
      groups.push(group);
      group = [];
      size = overhead;
    }
    group.push(segment);
    size += cost;
  }
  groups.push(group);
  const pieces: Piece[] = [];
  let offset = endOffset - entry.data.length;
  const emit = (parts: Buffer[]): void => {
    const data = Buffer.concat(parts);
    const piece = { ...entry, data };
    const encoded = encodeJsonLogLine(piece, offset + data.length);
    if (encoded.length > maxSize && parts.length > 1) {
      const half = Math.ceil(parts.length / 2);
      emit(parts.slice(0, half));
      emit(parts.slice(half));
      return;
    }
    offset += data.length;
    pieces.push({ entry: piece, offset, line: encoded });
  };
  for (const g of groups) emit(g);
  return pieces;
}

async function recoverOffset(dir: string, base: string, logger: Logger): Promise<number> {
  const snapshot = await LogFileSnapshot.open(dir, base);
  try {
    for (let file = snapshot.files.length - 1; file >= 0; file--) {
      const { handle, size } = snapshot.files[file]!;
      for await (const { line } of linesBackward(handle, size)) {
        const stored = decodeJsonLogLine(line);
        if (stored) return stored.offset;
        logger.warn(`json-file: ${dir}: skipped an unreadable line while recovering the stored offset`);
      }
    }
    return 0;
  } finally {
    await snapshot.close();
  }
}

async function unlinkIfThere(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
