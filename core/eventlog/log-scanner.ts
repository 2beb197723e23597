import type { FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { readLineChunks } from './line-chunk-reader.js';
import { crc32OfRange, SPARSE_INDEX_INTERVAL, type LogIndex } from './log-checkpoint.js';
import { LogCorruptionError } from './log-corruption-error.js';
import { NEWLINE, parseFrame, readRecordKey, RecordFrame } from './record-codec.js';

/** A damaged end of the log left by an interrupted commit: it is cut off (or ignored, read-only). */
export interface TornTail {
  /** Where the last whole commit ends: the log is good up to here. */
  readonly offset: number;
  readonly bytes: number;
  readonly reason: string;
  /** Intact events of the interrupted commit that go with it (it was never acknowledged). */
  readonly droppedEvents: number;
}

interface Damage {
  readonly offset: number;
  readonly reason: string;
  /** Where the damaged record's own length field says it ends, or -1. */
  readonly declaredEnd: number;
}

/**
 * Reads the records from index.committedBytes to `size`, checks each frame (checksum, length,
 * commit grouping) and the sequence (positions gap-free, stream versions +1), and moves `index`
 * forward commit by commit, so it ends at the last whole commit. Damage that only garbles the last
 * commit is a torn tail, returned; damage followed by a later intact commit is corruption inside
 * the log and throws LogCorruptionError naming the byte offset.
 */
export async function scanLog(handle: FileHandle, file: string, index: LogIndex, size: number): Promise<TornTail | null> {
  const frame = new RecordFrame();
  const { streamVersions, sparseIndex } = index;
  // The commit being read: its records' offsets and the stream versions it moves to.
  const groupOffsets: number[] = [];
  const groupVersions = new Map<string, number>();
  let groupCount = 0;
  let damage: Damage | null = null;
  // The CRC of every byte read so far, and the last chunk end that was also a commit end, with its CRC.
  let running = index.crc32;
  let verified = { offset: index.committedBytes, crc: index.crc32 };

  scan: for await (const chunk of readLineChunks(handle, index.committedBytes, () => size)) {
    const bytes = chunk.bytes;
    let start = 0;
    while (start < bytes.length) {
      const newline = chunk.complete ? bytes.indexOf(NEWLINE, start) : -1;
      const end = newline >= 0 ? newline : bytes.length;
      const offset = chunk.fileOffset + start;
      const reason = newline >= 0 ? parseFrame(bytes, start, end, frame) : 'the last line has no newline (an interrupted write)';
      if (reason !== null) {
        damage = { offset, reason, declaredEnd: newline >= 0 && frame.declaredEnd >= 0 ? chunk.fileOffset + frame.declaredEnd : -1 };
        break scan;
      }
      // From here the checksum is right, so any inconsistency is not a torn write but damage or a bug.
      const key = readRecordKey(bytes, frame.jsonStart, frame.jsonEnd);
      if (!key) throw new LogCorruptionError(file, offset, 'the record has a valid checksum but no readable position, streamId and streamVersion');
      if (groupOffsets.length === 0) {
        if (frame.index !== 1) throw new LogCorruptionError(file, offset, `a commit starts with record ${frame.index}/${frame.count}`);
        if (frame.count === 1) {
          // The common case, a commit of one event, without the bookkeeping of a group.
          if (key.position !== index.lastPosition + 1) throw new LogCorruptionError(file, offset, `position ${key.position} where ${index.lastPosition + 1} was due`);
          const current = streamVersions.get(key.streamId) ?? 0;
          if (key.streamVersion !== current + 1) {
            throw new LogCorruptionError(file, offset, `${key.streamId} version ${key.streamVersion} where ${current + 1} was due`);
          }
          streamVersions.set(key.streamId, key.streamVersion);
          if (index.lastPosition % SPARSE_INDEX_INTERVAL === 0) sparseIndex.push(offset);
          index.lastPosition++;
          index.committedBytes = chunk.fileOffset + end + 1;
          start = end + 1;
          continue;
        }
        groupCount = frame.count;
      } else if (frame.index !== groupOffsets.length + 1 || frame.count !== groupCount) {
        throw new LogCorruptionError(file, offset, `record ${frame.index}/${frame.count} where ${groupOffsets.length + 1}/${groupCount} was due`);
      }
      const expectedPosition = index.lastPosition + groupOffsets.length + 1;
      if (key.position !== expectedPosition) {
        throw new LogCorruptionError(file, offset, `position ${key.position} where ${expectedPosition} was due`);
      }
      const current = groupVersions.get(key.streamId) ?? streamVersions.get(key.streamId) ?? 0;
      if (key.streamVersion !== current + 1) {
        throw new LogCorruptionError(file, offset, `${key.streamId} version ${key.streamVersion} where ${current + 1} was due`);
      }
      groupVersions.set(key.streamId, key.streamVersion);
      groupOffsets.push(offset);
      if (frame.index === frame.count) {
        for (const recordOffset of groupOffsets) {
          if (index.lastPosition % SPARSE_INDEX_INTERVAL === 0) sparseIndex.push(recordOffset);
          index.lastPosition++;
        }
        for (const [streamId, version] of groupVersions) streamVersions.set(streamId, version);
        groupOffsets.length = 0;
        groupVersions.clear();
        index.committedBytes = chunk.fileOffset + end + 1;
      }
      start = end + 1;
    }
    running = crc32(bytes, running);
    if (index.committedBytes === chunk.fileOffset + bytes.length) verified = { offset: index.committedBytes, crc: running };
  }
  index.crc32 = await crc32OfRange(handle, verified.offset, index.committedBytes, verified.crc);
  if (!damage && groupOffsets.length > 0) {
    damage = { offset: groupOffsets[0]!, reason: `the last commit holds ${groupOffsets.length} of its ${groupCount} records`, declaredEnd: -1 };
  }
  if (!damage) return null;

  const torn = { startPosition: index.lastPosition + 1, count: groupOffsets.length > 0 ? groupCount : 0 };
  const later = await findLaterCommit(handle, damage, size, torn);
  if (later !== null) {
    throw new LogCorruptionError(file, damage.offset, `${damage.reason}; an intact commit follows at byte ${later}, so this is damage inside the log, not a torn tail`);
  }
  return { offset: index.committedBytes, bytes: size - index.committedBytes, reason: damage.reason, droppedEvents: groupOffsets.length };
}

/**
 * Looks past a damaged record for an intact record that is not part of the interrupted commit:
 * if there is one, the damage is not at the tail. Candidates start after each newline, and where
 * the damaged record's own length field says it ends (in case its newline is what was hit).
 */
async function findLaterCommit(
  handle: FileHandle,
  damage: Damage,
  size: number,
  torn: { startPosition: number; count: number },
): Promise<number | null> {
  const isPartOfTornCommit = (frame: RecordFrame, position: number): boolean =>
    frame.index > 1 && position === torn.startPosition + frame.index - 1 && (torn.count === 0 || frame.count === torn.count);
  const starts = [damage.offset];
  if (damage.declaredEnd >= 0 && damage.declaredEnd + 1 < size) starts.push(damage.declaredEnd + 1);
  for (const [n, from] of starts.entries()) {
    const frame = new RecordFrame();
    let skipFirstLine = n === 0;
    for await (const chunk of readLineChunks(handle, from, () => size)) {
      if (!chunk.complete) break;
      const bytes = chunk.bytes;
      let start = 0;
      while (start < bytes.length) {
        const end = bytes.indexOf(NEWLINE, start);
        if (skipFirstLine) {
          skipFirstLine = false;
        } else if (parseFrame(bytes, start, end, frame) === null) {
          const key = readRecordKey(bytes, frame.jsonStart, frame.jsonEnd);
          if (!key || !isPartOfTornCommit(frame, key.position)) return chunk.fileOffset + start;
        }
        start = end + 1;
      }
    }
  }
  return null;
}
