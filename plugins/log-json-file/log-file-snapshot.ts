import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a line starts: an index into the snapshot's files (oldest first) and a byte in that file. */
export interface LinePosition {
  readonly file: number;
  readonly byte: number;
}

interface SnapshotFile {
  readonly handle: FileHandle;
  /** The size when the snapshot was taken: reads stop there, on a line boundary. */
  readonly size: number;
}

const NEWLINE = 0x0a;
const BACKWARD_BLOCK = 64 * 1024;
const FORWARD_BLOCK = 256 * 1024;

/**
 * The names of a log's files, oldest first: `<base>.<n>` (highest n first), then `<base>` itself.
 * The folder missing means no files.
 */
export async function logFileNames(dir: string, base: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rotated = names
    .map((name) => ({ name, n: rotationIndex(name, base) }))
    .filter((f) => f.n > 0)
    .sort((a, b) => b.n - a.n)
    .map((f) => f.name);
  return names.includes(base) ? [...rotated, base] : rotated;
}

/** n for `<base>.<n>`, 0 for anything else. */
export function rotationIndex(name: string, base: string): number {
  if (!name.startsWith(base + '.')) return 0;
  const suffix = name.slice(base.length + 1);
  return /^[1-9]\d*$/.test(suffix) ? Number(suffix) : 0;
}

/**
 * The complete lines of one file from the last to the first, each without its newline, with the
 * byte where it starts. Bytes after the last newline (a write torn by a crash) are not a line.
 * The yielded buffers are only valid until the next iteration.
 */
export async function* linesBackward(handle: FileHandle, size: number): AsyncGenerator<{ line: Buffer; byte: number }> {
  let carry: Buffer | undefined; // the start of a line whose beginning lies in an earlier block
  let inTornTail = true; // until the file's last newline is found
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - BACKWARD_BLOCK);
    const block = await readExactly(handle, start, end - start);
    const buf = carry ? Buffer.concat([block, carry]) : block;
    let lineEnd = buf.length;
    for (let nl = buf.lastIndexOf(NEWLINE, lineEnd - 1); nl >= 0; nl = lineEnd > 0 ? buf.lastIndexOf(NEWLINE, lineEnd - 1) : -1) {
      if (!inTornTail) yield { line: buf.subarray(nl + 1, lineEnd), byte: start + nl + 1 };
      inTornTail = false;
      lineEnd = nl;
    }
    carry = buf.subarray(0, lineEnd);
    end = start;
  }
  if (!inTornTail && carry) yield { line: carry, byte: 0 };
}

/** The length of the file up to and including its last newline (what is left after cutting a torn write). */
export async function completeLength(handle: FileHandle, size: number): Promise<number> {
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - BACKWARD_BLOCK);
    const block = await readExactly(handle, start, end - start);
    const nl = block.lastIndexOf(NEWLINE);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * A log's files as they were at one moment, each held open, so a rotation during a long read
 * neither hides nor repeats lines. Take it while no write is in flight (the store's queue) and
 * every file ends on a line boundary.
 */
export class LogFileSnapshot {
  private constructor(readonly files: readonly SnapshotFile[]) {}

  static async open(dir: string, base: string): Promise<LogFileSnapshot> {
    const files: SnapshotFile[] = [];
    try {
      for (const name of await logFileNames(dir, base)) {
        let handle: FileHandle;
        try {
          handle = await open(join(dir, name), 'r');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // rotated away meanwhile
          throw err;
        }
        try {
          files.push({ handle, size: (await handle.stat()).size });
        } catch (err) {
          await handle.close();
          throw err;
        }
      }
    } catch (err) {
      await Promise.all(files.map((f) => f.handle.close()));
      throw err;
    }
    return new LogFileSnapshot(files);
  }

  /** Where the oldest line starts. */
  get start(): LinePosition {
    return { file: 0, byte: 0 };
  }

  /** Where the next line after the newest will be. */
  get end(): LinePosition {
    const last = this.files.length - 1;
    return last < 0 ? { file: 0, byte: 0 } : { file: last, byte: this.files[last]!.size };
  }

  /** Every complete line, newest first, across the rotated files. */
  async *linesBackward(): AsyncGenerator<{ line: Buffer; position: LinePosition }> {
    for (let file = this.files.length - 1; file >= 0; file--) {
      const { handle, size } = this.files[file]!;
      for await (const { line, byte } of linesBackward(handle, size)) yield { line, position: { file, byte } };
    }
  }

  /** Every complete line from `from` on, oldest first. The yielded buffers are only valid until the next iteration. */
  async *linesForward(from: LinePosition): AsyncGenerator<Buffer> {
    for (let file = from.file; file < this.files.length; file++) {
      const { handle, size } = this.files[file]!;
      let carry: Buffer | undefined;
      for (let pos = file === from.file ? from.byte : 0; pos < size; ) {
        const length = Math.min(FORWARD_BLOCK, size - pos);
        const block = await readExactly(handle, pos, length);
        pos += length;
        const buf = carry ? Buffer.concat([carry, block]) : block;
        let lineStart = 0;
        for (let nl = buf.indexOf(NEWLINE); nl >= 0; nl = buf.indexOf(NEWLINE, lineStart)) {
          yield buf.subarray(lineStart, nl);
          lineStart = nl + 1;
        }
        carry = lineStart < buf.length ? buf.subarray(lineStart) : undefined;
      }
      // A carry left at the end of a file is a torn write, not a line.
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.handle.close()));
  }
}

async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) return buf.subarray(0, done); // the file shrank: only if something else truncated it
    done += bytesRead;
  }
  return buf;
}
