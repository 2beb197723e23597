import { isUtf8 } from 'node:buffer';
import type { LogEntry } from '../../core/plugin-api.js';

/**
 * One stored line: Docker's json-file shape plus `offset`, the shim's output offset just after
 * this chunk. `log_base64` carries the exact bytes when the chunk is not valid UTF-8 (`log` then
 * holds a lossy copy for people and tools that only read `log`).
 */
interface JsonLogRecord {
  log: string;
  log_base64?: string;
  stream: 'stdout' | 'stderr';
  time: string;
  offset: number;
}

/** A stored entry with the output offset it ends at. */
import type { StoredLogEntry as StoredEntry } from '../../core/plugin-api.js';
export type { StoredEntry };

/** The line (with its trailing newline) that stores one chunk. */
export function encodeJsonLogLine(entry: LogEntry, offset: number): Buffer {
  const text = entry.data.toString('utf8');
  const record: JsonLogRecord = isUtf8(entry.data)
    ? { log: text, stream: entry.stream, time: entry.time, offset }
    : { log: text, log_base64: entry.data.toString('base64'), stream: entry.stream, time: entry.time, offset };
  return Buffer.from(JSON.stringify(record) + '\n', 'utf8');
}

/** Parses one line (without its newline); undefined when it is not a complete record. */
export function decodeJsonLogLine(line: Buffer): StoredEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<Record<keyof JsonLogRecord, unknown>>;
  if (typeof r.log !== 'string' || typeof r.time !== 'string' || typeof r.offset !== 'number') return undefined;
  if (r.stream !== 'stdout' && r.stream !== 'stderr') return undefined;
  const data = typeof r.log_base64 === 'string' ? Buffer.from(r.log_base64, 'base64') : Buffer.from(r.log, 'utf8');
  return { entry: { stream: r.stream, time: r.time, data }, offset: r.offset };
}
