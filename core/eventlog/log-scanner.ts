import type { FileHandle } from 'node:fs/promises';
import { readLineChunks } from './line-chunk-reader.js';
import { LogCorruptionError } from './log-corruption-error.js';
import { NEWLINE, parseFrame, readRecordKey, RecordFrame } from './record-codec.js';

/** Every this many positions the scan remembers a record's byte offset, so a read can start near `after`. */
export const SPARSE_INDEX_INTERVAL = 1024;

/** A damaged end of the log left by an interrupted commit: it is cut off (or ignored, read-only). */
export interface TornTail {
  /** Where the last whole commit ends: the log is good up to here. */
  readonly offset: number;
  readonly bytes: number;
  readonly reason: string;
  /** Intact events of the interrupted commit that go with it (it was never acknowledged). */
  readonly droppedEvents: number;
}

/** What a scan of the whole log learnt: how far it is good, and the in-memory state of the log. */
export interface ScanResult {
  readonly committedBytes: number;
  readonly lastPosition: number;
  readonly streamVersions: Map<string, number>;
  /** sparseIndex[i] is the byte offset of the record at position i * SPARSE_INDEX_INTERVAL + 1. */
  readonly sparseIndex: number[];
  readonly tornTail: TornTail | null;
}

interface Damage {
  readonly offset: number;
  readonly reason: string;
  /** Where the damaged record's own length field says it ends, or -1. */
  readonly declaredEnd: number;
}

/**
 * Reads the records in [from, size), checks each frame (checksum, length, commit grouping) and the
 * sequence (positions gap-free, stream versions +1), and finds where the last whole commit ends.
 * Damage that only garbles the last commit is a torn tail; damage followed by a later valid commit
 * is corruption inside the log and throws LogCorruptionError naming the byte offset.
 */
export async function scanLog(handle: FileHandle, file: string, from: number, size: number): Promise<ScanResult> {
  const frame = new RecordFrame();
  const streamVersions = new Map<string, number>();
  const sparseIndex: number[] = [];
  let committedBytes = from;
  let lastPosition = 0;
  // The commit being read: its records' offsets and the stream versions it moves to.
  const groupOffsets: number[] = [];
  const groupVersions = new Map<string, number>();
  let groupCount = 0;
  let damage: Damage | null = null;

  scan: for await (const chunk of readLineChunks(handle, from, () => size)) {
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
        groupCount = frame.count;
      } else if (frame.index !== groupOffsets.length + 1 || frame.count !== groupCount) {
        throw new LogCorruptionError(file, offset, `record ${frame.index}/${frame.count} where ${groupOffsets.length + 1}/${groupCount} was due`);
      }
      const expectedPosition = lastPosition + groupOffsets.length + 1;
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
          if (lastPosition % SPARSE_INDEX_INTERVAL === 0) sparseIndex.push(recordOffset);
          lastPosition++;
        }
        for (const [streamId, version] of groupVersions) streamVersions.set(streamId, version);
        groupOffsets.length = 0;
        groupVersions.clear();
        committedBytes = chunk.fileOffset + end + 1;
      }
      start = end + 1;
    }
  }
  if (!damage && groupOffsets.length > 0) {
    damage = { offset: groupOffsets[0]!, reason: `the last commit holds ${groupOffsets.length} of its ${groupCount} records`, declaredEnd: -1 };
  }
  if (!damage) return { committedBytes, lastPosition, streamVersions, sparseIndex, tornTail: null };

  const torn = { startPosition: lastPosition + 1, count: groupOffsets.length > 0 ? groupCount : 0 };
  const later = await findLaterCommit(handle, damage, size, torn);
  if (later !== null) {
    throw new LogCorruptionError(file, damage.offset, `${damage.reason}; an intact commit follows at byte ${later}, so this is damage inside the log, not a torn tail`);
  }
  return {
    committedBytes,
    lastPosition,
    streamVersions,
    sparseIndex,
    tornTail: { offset: committedBytes, bytes: size - committedBytes, reason: damage.reason, droppedEvents: groupOffsets.length },
  };
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
