import type { EngineEvent, EventType } from './catalogue.js';

/** Who and why, carried beside the data; never read by the fold. */
export interface EventMetadata {
  /** The API request or CLI command that caused the event. */
  readonly correlationId?: string;
  /** The daemon pid that appended it. */
  readonly daemonPid?: number;
  readonly [key: string]: string | number | boolean | undefined;
}

/**
 * An event as stored: the fact plus where it sits. `position` is the global order (1, 2, 3...);
 * `streamVersion` is the order within its stream (1 for the first event of a container).
 */
export interface EnvelopeOf<E extends EngineEvent> {
  readonly position: number;
  readonly streamId: string;
  readonly streamVersion: number;
  /** UTC, RFC 3339 with nanoseconds: 2026-11-28T16:04:51.592270080Z */
  readonly time: string;
  readonly type: E['type'];
  readonly schemaVersion: number;
  readonly data: E['data'];
  readonly metadata: EventMetadata;
}

/** A stored event; for the default parameter a union discriminated by `type` (switch on it to narrow). */
export type EventEnvelope<E extends EngineEvent = EngineEvent> = E extends EngineEvent ? EnvelopeOf<E> : never;

/** What a caller hands to append: the event and the stream it belongs to. */
export interface PendingEvent<E extends EngineEvent = EngineEvent> {
  readonly streamId: string;
  readonly event: E;
  readonly metadata?: EventMetadata;
}

/** Narrows an envelope to one event type. */
export function isEnvelopeOf<T extends EventType>(e: EventEnvelope, type: T): e is EventEnvelope<Extract<EngineEvent, { type: T }>> {
  return e.type === type;
}
