import { crc32 } from 'node:zlib';

/**
 * The on-disk record format of the file event log (docs/log-format.md is the reference):
 *
 *   tiny-docker-event-log 1\n                          <- header line, once
 *   <crc32> <length> <index>/<count> <envelope json>\n  <- one line per event
 *
 * crc32 is 8 lowercase hex digits, the CRC-32 (zlib's) of every byte after its space up to the
 * newline; length is the byte length of the JSON; index/count place the event in its commit (one
 * write + fdatasync, holding one or more whole appends), so a commit is kept whole or not at all.
 */
export const LOG_FORMAT_VERSION = 1;
export const LOG_HEADER = `tiny-docker-event-log ${LOG_FORMAT_VERSION}\n`;
export const LOG_HEADER_PATTERN = /^tiny-docker-event-log (\d+)\n/;

export const NEWLINE = 0x0a;
const SPACE = 0x20;
const SLASH = 0x2f;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
/** The longest a decimal field may be: ten digits is more than any length or count we write. */
const MAX_DIGITS = 10;

/** An event's envelope fields with data and metadata already serialised. */
export interface EncodableEvent {
  readonly position: number;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly time: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly dataJson: string;
  readonly metadataJson: string;
}

/**
 * The envelope as JSON, keys in a fixed order (position, streamId, streamVersion first, so a scan
 * can read them without parsing the rest). Identical to JSON.stringify of the envelope object.
 */
export function envelopeJson(e: EncodableEvent): string {
  return `{"position":${e.position},"streamId":${JSON.stringify(e.streamId)},"streamVersion":${e.streamVersion},`
    + `"time":${JSON.stringify(e.time)},"type":${JSON.stringify(e.type)},"schemaVersion":${e.schemaVersion},`
    + `"data":${e.dataJson},"metadata":${e.metadataJson}}`;
}

export interface EncodedCommit {
  readonly bytes: Buffer;
  /** Where each record starts, relative to the first byte of `bytes`. */
  readonly recordOffsets: readonly number[];
}

/** Frames the envelopes of one commit, in order, as the bytes of a single write. */
export function encodeCommit(envelopeJsons: readonly string[]): EncodedCommit {
  const count = envelopeJsons.length;
  const lines: string[] = [];
  const recordOffsets: number[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const json = envelopeJsons[i]!;
    const body = `${Buffer.byteLength(json)} ${i + 1}/${count} ${json}`;
    const line = `${checksumHex(crc32(body))} ${body}\n`;
    recordOffsets.push(offset);
    offset += Buffer.byteLength(line);
    lines.push(line);
  }
  return { bytes: Buffer.from(lines.join(''), 'utf8'), recordOffsets };
}

function checksumHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}

/** What a record's frame says about it, filled in by parseFrame (one instance reused across records). */
export class RecordFrame {
  index = 0;
  count = 0;
  jsonStart = 0;
  jsonEnd = 0;
  /** Where the newline should be according to the length field, or -1 if the header is unreadable. */
  declaredEnd = -1;
}

/**
 * Checks the line buf[start, end) (end: where its newline is, or the end of the data for an
 * unterminated line) and fills `frame`. Returns null if the record is intact, else why not.
 */
export function parseFrame(buf: Buffer, start: number, end: number, frame: RecordFrame): string | null {
  frame.declaredEnd = -1;
  if (end - start < 16) return `record too short (${end - start} bytes)`;
  let crc = 0;
  for (let i = start; i < start + 8; i++) {
    const digit = hexValue(buf[i]!);
    if (digit < 0) return 'checksum field is not 8 hex digits';
    crc = crc * 16 + digit;
  }
  if (buf[start + 8] !== SPACE) return 'no space after the checksum';
  const cursor: Cursor = { at: start + 9 };
  const length = readDecimal(buf, cursor.at, end, SPACE, cursor);
  if (length < 0) return 'unreadable length field';
  const index = readDecimal(buf, cursor.at + 1, end, SLASH, cursor);
  if (index < 0) return 'unreadable index field';
  const count = readDecimal(buf, cursor.at + 1, end, SPACE, cursor);
  if (count < 0) return 'unreadable count field';
  const p = cursor.at + 1;
  frame.jsonStart = p;
  frame.declaredEnd = p + length;
  if (frame.declaredEnd !== end) {
    return `length field says ${length} bytes of JSON but the line holds ${end - p}`;
  }
  if ((crc32(buf.subarray(start + 9, end)) >>> 0) !== crc) return 'checksum mismatch';
  if (index < 1 || index > count) return `record index ${index}/${count} is out of range`;
  frame.index = index;
  frame.count = count;
  frame.jsonEnd = end;
  return null;
}

/** Where the last readDecimal stopped: the index of its terminator. */
interface Cursor {
  at: number;
}

/** Reads digits from p up to `terminator` and leaves cursor.at on the terminator. -1 if malformed. */
function readDecimal(buf: Buffer, p: number, end: number, terminator: number, cursor: Cursor): number {
  let value = 0;
  let digits = 0;
  while (p < end && digits <= MAX_DIGITS) {
    const c = buf[p]!;
    if (c === terminator) {
      if (digits === 0) return -1;
      cursor.at = p;
      return value;
    }
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
    digits++;
    p++;
  }
  return -1;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** The fields a scan needs from a record, read without parsing its data. */
export interface RecordKey {
  readonly position: number;
  readonly streamId: string;
  readonly streamVersion: number;
}

const POSITION_PREFIX = Buffer.from('{"position":');
const STREAM_ID_PREFIX = Buffer.from(',"streamId":"');
const STREAM_VERSION_PREFIX = Buffer.from('","streamVersion":');

/**
 * Position, stream id and stream version of the record whose JSON is buf[start, end). Fast path
 * over the fixed key order this codec writes; falls back to JSON.parse for anything else (an
 * escaped stream id, a record written by another encoder). Null if the JSON lacks them.
 */
export function readRecordKey(buf: Buffer, start: number, end: number): RecordKey | null {
  const fast = readKeyFast(buf, start, end);
  if (fast) return fast;
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8', start, end));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { position, streamId, streamVersion } = parsed as Record<string, unknown>;
  if (!Number.isInteger(position) || typeof streamId !== 'string' || !Number.isInteger(streamVersion)) return null;
  return { position: position as number, streamId, streamVersion: streamVersion as number };
}

/** Just the position (fast path only; -1 if the record is not in this codec's key order). */
export function readPositionFast(buf: Buffer, start: number, end: number): number {
  if (!hasPrefix(buf, start, end, POSITION_PREFIX)) return -1;
  return readDecimal(buf, start + POSITION_PREFIX.length, end, COMMA, { at: 0 });
}

function readKeyFast(buf: Buffer, start: number, end: number): RecordKey | null {
  if (!hasPrefix(buf, start, end, POSITION_PREFIX)) return null;
  const cursor: Cursor = { at: 0 };
  const position = readDecimal(buf, start + POSITION_PREFIX.length, end, COMMA, cursor);
  if (position < 0) return null;
  let p = cursor.at;
  if (!hasPrefix(buf, p, end, STREAM_ID_PREFIX)) return null;
  p += STREAM_ID_PREFIX.length;
  const idStart = p;
  let ascii = true;
  for (let c = buf[p]!; p < end && c !== QUOTE; c = buf[++p]!) {
    if (c === BACKSLASH) return null;
    if (c >= 0x80) ascii = false;
  }
  const idEnd = p;
  if (!hasPrefix(buf, p, end, STREAM_VERSION_PREFIX)) return null;
  const streamVersion = readDecimal(buf, p + STREAM_VERSION_PREFIX.length, end, COMMA, cursor);
  if (streamVersion < 0) return null;
  // latin1 decodes ASCII faster than utf8, to the same string.
  return { position, streamId: buf.toString(ascii ? 'latin1' : 'utf8', idStart, idEnd), streamVersion };
}

function hasPrefix(buf: Buffer, p: number, end: number, prefix: Buffer): boolean {
  if (end - p < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[p + i] !== prefix[i]) return false;
  return true;
}
