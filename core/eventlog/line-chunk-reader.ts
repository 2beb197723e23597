import type { FileHandle } from 'node:fs/promises';
import { NEWLINE } from './record-codec.js';

/** A run of whole lines read from a file, or the unterminated bytes at the end of the range. */
export interface LineChunk {
  /** Whole lines, each ending with a newline; if `complete` is false, the unterminated rest. Reused: valid until the next chunk. */
  readonly bytes: Buffer;
  /** File offset of bytes[0]. */
  readonly fileOffset: number;
  /** False only for the last chunk when the range does not end with a newline. */
  readonly complete: boolean;
}

export const DEFAULT_CHUNK_BYTES = 1 << 20;

/**
 * Reads the file from `from` up to `end()` (re-evaluated as it goes, so a reader of a growing log
 * sees what was committed meanwhile) in large chunks and yields whole lines, so callers can walk
 * records synchronously without ever holding the file in memory. A line longer than the buffer
 * grows it.
 */
export async function* readLineChunks(handle: FileHandle, from: number, end: () => number, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<LineChunk> {
  let buffer = Buffer.allocUnsafe(chunkBytes);
  let bufferOffset = from;
  let filled = 0;
  for (;;) {
    const want = Math.min(buffer.length - filled, end() - (bufferOffset + filled));
    let bytesRead = 0;
    if (want > 0) ({ bytesRead } = await handle.read(buffer, filled, want, bufferOffset + filled));
    filled += bytesRead;
    const exhausted = want <= 0 || bytesRead === 0 || bufferOffset + filled >= end();
    const lastNewline = filled > 0 ? buffer.lastIndexOf(NEWLINE, filled - 1) : -1;
    if (lastNewline >= 0) {
      yield { bytes: buffer.subarray(0, lastNewline + 1), fileOffset: bufferOffset, complete: true };
      buffer.copy(buffer, 0, lastNewline + 1, filled);
      bufferOffset += lastNewline + 1;
      filled -= lastNewline + 1;
    } else if (!exhausted && filled === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, filled);
      buffer = bigger;
    }
    if (exhausted) {
      if (filled > 0) yield { bytes: buffer.subarray(0, filled), fileOffset: bufferOffset, complete: false };
      return;
    }
  }
}
