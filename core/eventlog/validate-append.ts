import { InvalidEventError, validateEvent, type EngineEvent, type EventMetadata } from '../../events/index.js';
import { ConcurrencyError, type ExpectedVersion } from './event-log.js';

/**
 * Checks everything about an append that does not depend on the log's state: the stream id, the
 * expected version's shape, each event against the catalogue, and the metadata. Throws
 * InvalidEventError; both adapters call it before queueing, so a refused append stores nothing.
 */
export function validateAppend(
  streamId: string,
  events: readonly EngineEvent[],
  expected: ExpectedVersion,
  metadata: EventMetadata | undefined,
): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new InvalidEventError('stream id must be a non-empty string');
  if (!(expected === 'any' || expected === 'no-stream' || (Number.isInteger(expected) && expected >= 0))) {
    throw new InvalidEventError(`expected version must be a non-negative integer, 'no-stream' or 'any', got ${JSON.stringify(expected)}`);
  }
  if (!Array.isArray(events) || events.length === 0) throw new InvalidEventError(`append to ${streamId} needs at least one event`);
  for (const event of events) validateEvent(event);
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new InvalidEventError('metadata must be an object');
    for (const [key, value] of Object.entries(metadata)) {
      const ok = value === undefined || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
      if (!ok) throw new InvalidEventError(`metadata.${key} must be a string, a finite number or a boolean`);
    }
  }
}

/** The ConcurrencyError an append must fail with when the stream is at `actual`, or null if it may go ahead. */
export function expectedVersionConflict(streamId: string, expected: ExpectedVersion, actual: number): ConcurrencyError | null {
  if (expected === 'any') return null;
  const wanted = expected === 'no-stream' ? 0 : expected;
  return wanted === actual ? null : new ConcurrencyError(streamId, expected, actual);
}
