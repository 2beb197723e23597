import {
  SCHEMA_VERSIONS, upcast, validateEnvelope, type EngineEvent, type EventEnvelope, type EventMetadata, type RawEnvelope,
} from '../../events/index.js';
import type { EventLog, ExpectedVersion, OpenReport, ReadOptions } from './event-log.js';
import { utcNow } from './utc-clock.js';
import { expectedVersionConflict, validateAppend } from './validate-append.js';

/**
 * An event log held in memory, for unit tests: the same validation, positions, stream versions,
 * expected-version conflicts and serialised appends as the file log, without the disk. Stored
 * events are copies made through JSON (as the file log stores them) and frozen, so neither the
 * appender nor a reader can change them afterwards.
 */
export class MemoryEventLog implements EventLog {
  private readonly records: RawEnvelope[] = [];
  private readonly versions = new Map<string, number>();
  private tail: Promise<unknown> = Promise.resolve();

  async open(): Promise<OpenReport> {
    return { warnings: [], lastPosition: this.records.length };
  }

  append(streamId: string, events: readonly EngineEvent[], expected: ExpectedVersion, metadata?: EventMetadata): Promise<readonly EventEnvelope[]> {
    const result = new Promise<readonly EventEnvelope[]>((resolve, reject) => {
      try {
        validateAppend(streamId, events, expected, metadata);
      } catch (error) {
        reject(error);
        return;
      }
      const copies = events.map((event) => JSON.parse(JSON.stringify(event.data)) as unknown);
      const metadataCopy = JSON.parse(JSON.stringify(metadata ?? {})) as Record<string, unknown>;
      const committed = this.tail.then(() => {
        const current = this.versions.get(streamId) ?? 0;
        const conflict = expectedVersionConflict(streamId, expected, current);
        if (conflict) throw conflict;
        const time = utcNow();
        const stored = events.map((event, i): RawEnvelope => deepFreeze({
          position: this.records.length + i + 1, streamId, streamVersion: current + i + 1, time,
          type: event.type, schemaVersion: SCHEMA_VERSIONS[event.type], data: copies[i], metadata: metadataCopy,
        }));
        this.records.push(...stored);
        this.versions.set(streamId, current + events.length);
        return stored.map((raw) => upcast(raw));
      });
      this.tail = committed.catch(() => undefined);
      committed.then(resolve, reject);
    });
    return result;
  }

  async *read(options: ReadOptions = {}): AsyncIterable<EventEnvelope> {
    const after = options.after ?? 0;
    const until = options.until ?? Number.POSITIVE_INFINITY;
    // Positions are 1-based and gap-free, so position p is records[p - 1]; the length is re-read as appends land.
    for (let index = Math.max(0, after); index < this.records.length && index + 1 <= until; index++) {
      const envelope = upcast(this.records[index]!);
      validateEnvelope(envelope);
      yield envelope;
    }
  }

  streamVersion(streamId: string): number {
    return this.versions.get(streamId) ?? 0;
  }

  lastPosition(): number {
    return this.records.length;
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
