import type { EngineEvent, EventEnvelope, EventMetadata } from '../../events/index.js';

/**
 * What a writer expects of a stream before its append: a version number (the stream's last
 * streamVersion it read; 0 = the stream has no events yet), 'no-stream', or 'any' (no check).
 */
export type ExpectedVersion = number | 'no-stream' | 'any';

/** Two writers raced on one stream: the loser gets this, and nothing of its append is stored. */
export class ConcurrencyError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`conflict on ${streamId}: expected version ${String(expected)}, found ${actual}; another command changed it first, try again`);
    this.name = 'ConcurrencyError';
  }
}

export interface OpenReport {
  /** Human-readable warnings, e.g. "cut off a torn last record at byte 81920 (312 bytes)". */
  readonly warnings: readonly string[];
  readonly lastPosition: number;
}

export interface ReadOptions {
  /** Only events with position > after (default 0: from the start). */
  readonly after?: number;
  /** Only events with position <= until. */
  readonly until?: number;
}

/**
 * The port every event log adapter implements: the durable file log for the daemon, the in-memory
 * one for unit tests. An append is atomic (all of its events or none) and durable (fsync'd) before
 * the returned promise resolves; appends are serialised, so positions are gap-free and ordered.
 */
export const EventLog = Symbol.for('tiny-docker.core.EventLog');
export interface EventLog {
  /** Opens (creating if needed) and checks the log; a torn or corrupt tail is cut off with a warning. */
  open(): Promise<OpenReport>;
  /** Appends events to one stream if its version matches; returns the stored envelopes. */
  append(streamId: string, events: readonly EngineEvent[], expected: ExpectedVersion, metadata?: EventMetadata): Promise<readonly EventEnvelope[]>;
  /** All events in position order (upcast and validated). */
  read(options?: ReadOptions): AsyncIterable<EventEnvelope>;
  /** The current version of a stream (0 if it has no events). */
  streamVersion(streamId: string): number;
  /** Position of the last stored event (0 if empty). */
  lastPosition(): number;
  close(): Promise<void>;
}
