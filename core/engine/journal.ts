import type { EngineEvent } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import type { EventStore } from './event-store.js';

/**
 * The events a command's process manager records after its intent: each driver step's outcome,
 * then the final event. `record` hands the events to the log at once without waiting (the log
 * keeps the order of appends, and appends queued while a commit is written share the next
 * fdatasync), so a step's event is written while the next driver works; `flush` waits until every
 * recorded event is durable, and `commit` records the final event and waits for all of it.
 *
 * The intent itself is appended by the caller with the stream version its decision read; what
 * follows it is a consequence of that accepted intent and is appended in order ('any' version).
 */
export class Journal {
  private pending: Promise<unknown>[] = [];

  constructor(private readonly store: EventStore, private readonly containerId: string) {}

  record(events: readonly EngineEvent[]): void {
    const p = this.store.append(containerStream(this.containerId), events, 'any');
    p.catch(() => undefined); // surfaced by flush()
    this.pending.push(p);
  }

  async flush(): Promise<void> {
    const all = this.pending.splice(0);
    await Promise.all(all);
  }

  async commit(events: readonly EngineEvent[]): Promise<void> {
    this.record(events);
    await this.flush();
  }
}
