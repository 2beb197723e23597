import { constants } from 'node:fs';
import { crc32 } from 'node:zlib';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  SCHEMA_VERSIONS, upcast, validateEnvelope, type EngineEvent, type EventEnvelope, type EventMetadata, type RawEnvelope,
} from '../../events/index.js';
import type { EventLog, ExpectedVersion, OpenReport, ReadOptions } from './event-log.js';
import { readLineChunks } from './line-chunk-reader.js';
import { LogCorruptionError } from './log-corruption-error.js';
import { LogLock } from './log-lock.js';
import {
  checkpointPathOf, crc32OfRange, loadCheckpoint, removeLeftoverCheckpoints, serializeCheckpoint, SPARSE_INDEX_INTERVAL, writeCheckpoint,
  type LogIndex,
} from './log-checkpoint.js';
import { scanLog } from './log-scanner.js';
import {
  encodeCommit, envelopeJson, LOG_FORMAT_VERSION, LOG_HEADER, LOG_HEADER_PATTERN, NEWLINE, parseFrame, readPositionFast, RecordFrame,
} from './record-codec.js';
import { utcNow } from './utc-clock.js';
import { expectedVersionConflict, validateAppend } from './validate-append.js';

export interface FileEventLogOptions {
  /**
   * Read a copied log offline (`replay --log FILE`): `location` may be the log file or its
   * directory; no lock is taken, nothing is written, and a torn tail is skipped with a warning.
   */
  readonly readOnly?: boolean;
  /** Called with each warning (also returned in OpenReport): a torn tail cut off, a stale lock taken over. */
  readonly warn?: (message: string) => void;
  /** Write a checkpoint of the log index whenever the log grew by this many bytes since the last one. Default 64 MiB. */
  readonly checkpointEveryBytes?: number;
}

const DEFAULT_CHECKPOINT_EVERY_BYTES = 64 * 2 ** 20;

/** An append waiting for its commit. */
interface QueuedAppend {
  readonly streamId: string;
  readonly events: readonly EngineEvent[];
  readonly expected: ExpectedVersion;
  readonly metadataJson: string;
  readonly dataJsons: readonly string[];
  readonly resolve: (envelopes: readonly EventEnvelope[]) => void;
  readonly reject: (error: unknown) => void;
}

/** The state of an open log. */
interface OpenState {
  readonly file: string;
  readonly handle: FileHandle;
  readonly lock: LogLock | null;
  readonly headerBytes: number;
  readonly index: LogIndex;
  /** How far the last checkpoint written (or loaded) reaches. */
  checkpointedBytes: number;
  checkpointing: Promise<void> | null;
}

/**
 * The daemon's event log: one append-only file, `<directory>/events.log`, of self-checking JSON
 * lines (format in docs/log-format.md). Appends are validated, queued and committed in order;
 * appends that queue up while a commit is being written go together into the next one (group
 * commit): one write() and one fdatasync for all of them, each append still checked against its
 * expected version on its own. A commit is acknowledged only after fdatasync returns. open()
 * checks every record, cuts off a torn tail with a warning, refuses a log damaged elsewhere, and
 * keeps stream versions and a sparse position index in memory; read() streams from disk. A
 * checkpoint of that in-memory index (`events.log.checkpoint`, written every 64 MiB and on close)
 * lets open() check the bytes it covers with one CRC-32 instead of record by record.
 */
export class FileEventLog implements EventLog {
  static readonly FILE_NAME = 'events.log';

  private readonly readOnly: boolean;
  private readonly warn: (message: string) => void;
  private readonly checkpointEveryBytes: number;
  private state: OpenState | null = null;
  private queue: QueuedAppend[] = [];
  private committing: Promise<void> | null = null;
  /** Set when a write or fdatasync failed: the file's durable content is unknown until reopened. */
  private failure: Error | null = null;

  /**
   * @param location the log directory (created if needed); read-only, the log file itself may be given
   * @param options a warn callback, or options
   */
  constructor(
    readonly location: string,
    options: FileEventLogOptions | ((message: string) => void) = {},
  ) {
    const resolved = typeof options === 'function' ? { warn: options } : options;
    this.readOnly = resolved.readOnly ?? false;
    this.warn = resolved.warn ?? (() => undefined);
    this.checkpointEveryBytes = resolved.checkpointEveryBytes ?? DEFAULT_CHECKPOINT_EVERY_BYTES;
  }

  async open(): Promise<OpenReport> {
    if (this.state) throw new Error(`event log ${this.location} is already open`);
    const warnings: string[] = [];
    const warn = (message: string): void => {
      warnings.push(message);
      this.warn(message);
    };
    const { file, handle, lock } = this.readOnly ? await this.openForReading() : await this.openForWriting(warn);
    try {
      const headerBytes = await this.checkHeader(file, handle, warn);
      const size = (await handle.stat()).size;
      const index = await this.startingIndex(file, handle, headerBytes, size, warn);
      const checkpointedBytes = index.committedBytes;
      const tornTail = await scanLog(handle, file, index, size);
      if (tornTail) {
        const { offset, bytes, reason, droppedEvents } = tornTail;
        const dropped = droppedEvents > 0 ? `, with ${droppedEvents} intact event(s) of that unacknowledged commit` : '';
        if (this.readOnly) {
          warn(`ignored a torn last record in ${file} at byte ${offset} (${bytes} bytes${dropped}): ${reason}`);
        } else {
          await handle.truncate(offset);
          await handle.datasync();
          warn(`cut off a torn last record in ${file} at byte ${offset} (${bytes} bytes${dropped}): ${reason}`);
        }
      }
      const state: OpenState = { file, handle, lock, headerBytes, index, checkpointedBytes, checkpointing: null };
      this.state = state;
      this.failure = null;
      this.checkpointIfDue(state);
      return { warnings, lastPosition: index.lastPosition };
    } catch (error) {
      await handle.close();
      await lock?.release();
      throw error;
    }
  }

  append(streamId: string, events: readonly EngineEvent[], expected: ExpectedVersion, metadata?: EventMetadata): Promise<readonly EventEnvelope[]> {
    return new Promise((resolve, reject) => {
      try {
        this.assertWritable();
        validateAppend(streamId, events, expected, metadata);
        // Serialised now, so an unserialisable event fails alone and later changes by the caller do not leak in.
        const dataJsons = events.map((event) => JSON.stringify(event.data));
        this.queue.push({ streamId, events, expected, metadataJson: JSON.stringify(metadata ?? {}), dataJsons, resolve, reject });
      } catch (error) {
        reject(error);
        return;
      }
      // Deferred a microtask so that appends issued in the same tick share one commit.
      this.committing ??= Promise.resolve().then(() => this.commitQueued());
    });
  }

  async *read(options: ReadOptions = {}): AsyncIterable<EventEnvelope> {
    const state = this.assertOpen();
    const after = options.after ?? 0;
    const until = options.until ?? Number.POSITIVE_INFINITY;
    if (until <= after || after >= state.index.lastPosition) return;
    const handle = this.readOnly ? state.handle : await open(state.file, 'r');
    const frame = new RecordFrame();
    try {
      for await (const chunk of readLineChunks(handle, this.offsetOfPosition(after + 1), () => state.index.committedBytes)) {
        const batch: EventEnvelope[] = [];
        const bytes = chunk.bytes;
        let start = 0;
        let done = false;
        while (start < bytes.length) {
          const newline = chunk.complete ? bytes.indexOf(NEWLINE, start) : -1;
          const end = newline >= 0 ? newline : bytes.length;
          const reason = newline >= 0 ? parseFrame(bytes, start, end, frame) : 'unterminated record inside the committed log';
          if (reason !== null) throw new LogCorruptionError(state.file, chunk.fileOffset + start, `${reason} (the log changed on disk after it was opened)`);
          // Records before `after` (from the sparse index's step) are skipped without being parsed.
          const position = readPositionFast(bytes, frame.jsonStart, frame.jsonEnd);
          if (position < 0 || position > after) {
            const envelope = position > until ? null : decodeEnvelope(bytes.toString('utf8', frame.jsonStart, frame.jsonEnd), state.file, chunk.fileOffset + start);
            if (!envelope || envelope.position > until) {
              done = true;
              break;
            }
            if (envelope.position > after) batch.push(envelope);
          }
          start = end + 1;
        }
        for (const envelope of batch) yield envelope;
        if (done) return;
      }
    } finally {
      if (handle !== state.handle) await handle.close();
    }
  }

  streamVersion(streamId: string): number {
    return this.assertOpen().index.streamVersions.get(streamId) ?? 0;
  }

  lastPosition(): number {
    return this.assertOpen().index.lastPosition;
  }

  async close(): Promise<void> {
    const state = this.state;
    if (!state) return;
    while (this.committing) await this.committing;
    this.state = null;
    await state.checkpointing;
    if (!this.readOnly && !this.failure && state.index.committedBytes !== state.checkpointedBytes) {
      await this.checkpoint(state);
    }
    await state.handle.close();
    await state.lock?.release();
  }

  private async openForWriting(warn: (message: string) => void): Promise<{ file: string; handle: FileHandle; lock: LogLock }> {
    await mkdir(this.location, { recursive: true });
    const lock = await LogLock.acquire(this.location, warn);
    const file = join(this.location, FileEventLog.FILE_NAME);
    try {
      await removeLeftoverCheckpoints(file);
      const handle = await open(file, constants.O_RDWR | constants.O_CREAT);
      return { file, handle, lock };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private async openForReading(): Promise<{ file: string; handle: FileHandle; lock: null }> {
    const info = await stat(this.location).catch((error: unknown) => {
      throw new Error(`no event log at ${this.location}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const file = info.isDirectory() ? join(this.location, FileEventLog.FILE_NAME) : this.location;
    const handle = await open(file, 'r').catch((error: unknown) => {
      throw new Error(`no event log at ${file}: ${error instanceof Error ? error.message : String(error)}`);
    });
    return { file, handle, lock: null };
  }

  /**
   * Where the scan starts: the checkpoint's index if the log's first bytes still have the CRC it
   * recorded, else just past the header (every record is then checked one by one).
   */
  private async startingIndex(file: string, handle: FileHandle, headerBytes: number, size: number, warn: (message: string) => void): Promise<LogIndex> {
    const checkpointPath = checkpointPathOf(file);
    const checkpoint = await loadCheckpoint(checkpointPath);
    if (checkpoint !== null) {
      if (typeof checkpoint === 'string') {
        warn(`ignored the checkpoint ${checkpointPath} (${checkpoint}); checking every record of the log`);
      } else if (checkpoint.committedBytes < headerBytes || checkpoint.committedBytes > size) {
        warn(`ignored the checkpoint ${checkpointPath}: it covers ${checkpoint.committedBytes} bytes, the log has ${size}; checking every record of the log`);
      } else if ((await crc32OfRange(handle, 0, checkpoint.committedBytes)) !== checkpoint.crc32) {
        warn(`the log ${file} no longer matches its checkpoint (changed or damaged within its first ${checkpoint.committedBytes} bytes); checking every record`);
      } else {
        return checkpoint;
      }
    }
    return {
      committedBytes: headerBytes, crc32: await crc32OfRange(handle, 0, headerBytes), lastPosition: 0,
      streamVersions: new Map(), sparseIndex: [],
    };
  }

  /** Writes a checkpoint of the index as it is now; a failure only costs a longer open, so it is a warning. */
  private async checkpoint(state: OpenState): Promise<void> {
    const text = serializeCheckpoint(state.index);
    const bytes = state.index.committedBytes;
    try {
      await writeCheckpoint(checkpointPathOf(state.file), text);
      state.checkpointedBytes = bytes;
    } catch (error) {
      this.warn(`could not write the checkpoint of ${state.file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Checks (or, for a new or torn-at-birth file, writes) the header line; returns its length. */
  private async checkHeader(file: string, handle: FileHandle, warn: (message: string) => void): Promise<number> {
    const head = Buffer.alloc(64);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const text = head.toString('latin1', 0, bytesRead);
    const match = LOG_HEADER_PATTERN.exec(text);
    if (match) {
      if (Number(match[1]) !== LOG_FORMAT_VERSION) {
        throw new Error(`${file} is an event log of format ${match[1]}; this engine reads format ${LOG_FORMAT_VERSION}`);
      }
      return match[0].length;
    }
    if (!LOG_HEADER.startsWith(text)) {
      throw new Error(`${file} is not a tiny-docker event log: it does not start with "${LOG_HEADER.trim()}"`);
    }
    if (bytesRead > 0) warn(`${file} holds only part of its header (${bytesRead} bytes): it was created when the daemon stopped; starting it afresh`);
    if (this.readOnly) return bytesRead;
    await handle.truncate(0);
    await handle.write(LOG_HEADER, 0, 'latin1');
    await handle.datasync();
    await syncDirectory(dirname(file));
    return LOG_HEADER.length;
  }

  private async commitQueued(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.commit(batch);
      }
    } finally {
      this.committing = null;
    }
  }

  /** Checks each append against the stream versions, writes the winners as one commit, fdatasyncs, acknowledges. */
  private async commit(batch: readonly QueuedAppend[]): Promise<void> {
    const state = this.state;
    if (!state || this.failure) {
      const error = this.failure ?? new Error(`event log ${this.location} was closed`);
      for (const append of batch) append.reject(error);
      return;
    }
    const versions = new Map<string, number>();
    const accepted: { append: QueuedAppend; envelopes: EventEnvelope[] }[] = [];
    const jsons: string[] = [];
    const time = utcNow();
    const { index } = state;
    let position = index.lastPosition;
    for (const append of batch) {
      const current = versions.get(append.streamId) ?? index.streamVersions.get(append.streamId) ?? 0;
      const conflict = expectedVersionConflict(append.streamId, append.expected, current);
      if (conflict) {
        append.reject(conflict);
        continue;
      }
      const envelopes = append.events.map((event, i) => {
        const fields = {
          position: ++position, streamId: append.streamId, streamVersion: current + i + 1, time,
          type: event.type, schemaVersion: SCHEMA_VERSIONS[event.type],
        };
        jsons.push(envelopeJson({ ...fields, dataJson: append.dataJsons[i]!, metadataJson: append.metadataJson }));
        return { ...fields, data: JSON.parse(append.dataJsons[i]!), metadata: JSON.parse(append.metadataJson) } as EventEnvelope;
      });
      versions.set(append.streamId, current + append.events.length);
      accepted.push({ append, envelopes });
    }
    if (accepted.length === 0) return;

    const { bytes, recordOffsets } = encodeCommit(jsons);
    try {
      await writeFully(state.handle, bytes, index.committedBytes);
      await state.handle.datasync();
    } catch (error) {
      // Nothing past committedBytes was acknowledged: cut it off again. When that cut is durable
      // the file is exactly what was acknowledged (everything before it was fdatasynced by earlier
      // commits) and the log goes on (a full disk refuses this commit, not every later one); when
      // it is not, what reached the disk is unknown and appends are refused until the log is reopened.
      const failed = commitFailure(state.file, accepted.length, error);
      try {
        await state.handle.truncate(index.committedBytes);
        await state.handle.datasync();
      } catch (cutError) {
        this.failure = new Error(`event log ${state.file} failed to write a commit and could not cut it off again (${describeFsError(cutError)}), so it refuses appends until the daemon restarts`);
      }
      for (const { append } of accepted) append.reject(failed);
      return;
    }
    for (const relative of recordOffsets) {
      if (index.lastPosition % SPARSE_INDEX_INTERVAL === 0) index.sparseIndex.push(index.committedBytes + relative);
      index.lastPosition++;
    }
    index.committedBytes += bytes.length;
    index.crc32 = crc32(bytes, index.crc32);
    for (const [streamId, version] of versions) index.streamVersions.set(streamId, version);
    for (const { append, envelopes } of accepted) append.resolve(envelopes);
    this.checkpointIfDue(state);
  }

  /** Starts writing a checkpoint in the background when the log grew enough since the last one. */
  private checkpointIfDue(state: OpenState): void {
    if (this.readOnly || state.checkpointing || state.index.committedBytes - state.checkpointedBytes < this.checkpointEveryBytes) return;
    state.checkpointing = this.checkpoint(state).finally(() => {
      state.checkpointing = null;
    });
  }

  /** Byte offset to start reading at to reach `position`: the indexed record at or before it. */
  private offsetOfPosition(position: number): number {
    const state = this.assertOpen();
    const { sparseIndex } = state.index;
    const slot = Math.min(Math.floor((position - 1) / SPARSE_INDEX_INTERVAL), sparseIndex.length - 1);
    return slot >= 0 ? sparseIndex[slot]! : state.headerBytes;
  }

  private assertOpen(): OpenState {
    if (!this.state) throw new Error(`event log ${this.location} is not open: call open() first`);
    return this.state;
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new Error(`event log ${this.location} was opened read-only`);
    if (this.failure) throw this.failure;
  }
}

/** Parses, upcasts and validates one stored envelope. */
function decodeEnvelope(json: string, file: string, offset: number): EventEnvelope {
  let raw: RawEnvelope;
  try {
    raw = JSON.parse(json) as RawEnvelope;
  } catch (error) {
    throw new LogCorruptionError(file, offset, `a record with a valid checksum holds invalid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const envelope = upcast(raw);
  validateEnvelope(envelope);
  return envelope;
}

/** An fs error in one line: "no space left on device (ENOSPC)", or its message. */
function describeFsError(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') {
    const text = error.message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
    return `${text} (${error.code})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The error of a commit that did not reach the disk: nothing of it was recorded. */
function commitFailure(file: string, events: number, error: unknown): Error {
  const full = error instanceof Error && 'code' in error && (error.code === 'ENOSPC' || error.code === 'EDQUOT');
  const hint = full ? `free space on the file system of ${dirname(file)} and try again` : 'the command was not carried out';
  const failed = new Error(`recording ${events} event(s) in the event log failed: ${describeFsError(error)}; nothing was recorded: ${hint}`);
  if (error instanceof Error && 'code' in error) Object.assign(failed, { code: error.code });
  return failed;
}

async function writeFully(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

/** fsyncs a directory so a file created in it survives a crash. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
