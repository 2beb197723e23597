import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { crc32 } from 'node:zlib';

/** Every this many positions the log remembers a record's byte offset, so a read can start near `after`. */
export const SPARSE_INDEX_INTERVAL = 1024;

/**
 * What the file log keeps in memory about its file, all derived from the records: where the last
 * whole commit ends, the CRC-32 of every byte up to there, the last position, each stream's
 * version, and a sparse index of byte offsets.
 */
export interface LogIndex {
  committedBytes: number;
  /** CRC-32 of the file's bytes [0, committedBytes). */
  crc32: number;
  lastPosition: number;
  readonly streamVersions: Map<string, number>;
  /** sparseIndex[i] is the byte offset of the record at position i * SPARSE_INDEX_INTERVAL + 1. */
  readonly sparseIndex: number[];
}

const CHECKPOINT_FORMAT = 1;

/** The first line of a checkpoint file; the second holds the stream versions and the sparse index. */
interface CheckpointHeader {
  readonly checkpointFormat: number;
  readonly logBytes: number;
  readonly logCrc32: string;
  readonly lastPosition: number;
  readonly sparseIndexInterval: number;
  readonly bodyBytes: number;
  readonly bodyCrc32: string;
}

interface CheckpointBody {
  readonly sparseIndex: number[];
  readonly streamIds: string[];
  readonly streamVersions: number[];
}

/** The checkpoint that goes with a log file: `<log file>.checkpoint`. */
export function checkpointPathOf(logFile: string): string {
  return `${logFile}.checkpoint`;
}

export function checksumHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

/**
 * The log index as a checkpoint file's text, made synchronously so it is a consistent picture of
 * the index at the moment of the call. It lets open() skip re-reading every record: a CRC-32 of the
 * file's first logBytes bytes that matches logCrc32 proves those records are the ones it describes.
 */
export function serializeCheckpoint(index: LogIndex): string {
  const body: CheckpointBody = {
    sparseIndex: index.sparseIndex, streamIds: [...index.streamVersions.keys()], streamVersions: [...index.streamVersions.values()],
  };
  const bodyJson = JSON.stringify(body);
  const header: CheckpointHeader = {
    checkpointFormat: CHECKPOINT_FORMAT, logBytes: index.committedBytes, logCrc32: checksumHex(index.crc32),
    lastPosition: index.lastPosition, sparseIndexInterval: SPARSE_INDEX_INTERVAL,
    bodyBytes: Buffer.byteLength(bodyJson), bodyCrc32: checksumHex(crc32(bodyJson)),
  };
  return `${JSON.stringify(header)}\n${bodyJson}\n`;
}

/** Writes a checkpoint atomically: a temporary file, fsync, rename. */
export async function writeCheckpoint(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temporary, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }

}

/** Removes temporary checkpoint files left by a writer that was killed; call only while holding the log's lock. */
export async function removeLeftoverCheckpoints(logFile: string): Promise<void> {
  const prefix = `${basename(checkpointPathOf(logFile))}.`;
  const directory = dirname(logFile);
  for (const name of await readdir(directory).catch(() => [])) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) await unlink(join(directory, name)).catch(() => undefined);
  }
}

/** A checkpoint's index, with the CRC its log prefix must have; null if there is none; a string says why it cannot be used. */
export async function loadCheckpoint(path: string): Promise<LogIndex | null | string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'ENOENT' ? null : String(error);
  }
  const newline = text.indexOf('\n');
  if (newline < 0 || !text.endsWith('\n')) return 'incomplete checkpoint';
  let header: CheckpointHeader;
  try {
    header = JSON.parse(text.slice(0, newline)) as CheckpointHeader;
  } catch {
    return 'unreadable checkpoint header';
  }
  if (header.checkpointFormat !== CHECKPOINT_FORMAT || header.sparseIndexInterval !== SPARSE_INDEX_INTERVAL) return 'checkpoint of another format';
  const bodyJson = text.slice(newline + 1, -1);
  if (Buffer.byteLength(bodyJson) !== header.bodyBytes || checksumHex(crc32(bodyJson)) !== header.bodyCrc32) return 'damaged checkpoint';
  const body = JSON.parse(bodyJson) as CheckpointBody;
  const streamVersions = new Map<string, number>();
  for (let i = 0; i < body.streamIds.length; i++) streamVersions.set(body.streamIds[i]!, body.streamVersions[i]!);
  return {
    committedBytes: header.logBytes, crc32: Number.parseInt(header.logCrc32, 16), lastPosition: header.lastPosition,
    streamVersions, sparseIndex: body.sparseIndex,
  };
}

/** CRC-32 of the file's bytes [from, to), continuing from `crc` (the CRC of the bytes before `from`). */
export async function crc32OfRange(handle: FileHandle, from: number, to: number, crc = 0): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, to - from)));
  let running = crc;
  for (let offset = from; offset < to;) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, to - offset), offset);
    if (bytesRead === 0) throw new Error(`file ended at byte ${offset}, before ${to}`);
    running = crc32(buffer.subarray(0, bytesRead), running);
    offset += bytesRead;
  }
  return running >>> 0;
}
