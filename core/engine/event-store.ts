import { Subject, type Observable } from 'rxjs';
import type { EngineEvent, EventEnvelope, EventMetadata } from '../../events/index.js';
import type { EventLog, ExpectedVersion } from '../eventlog/event-log.js';
import { anchorOf, rebuild, type Fold } from '../eventlog/rebuild.js';
import type { SnapshotStore } from '../eventlog/snapshot-store.js';
import type { EventTimeIndex } from '../eventlog/time-index.js';
import type { EngineState } from '../state/engine-state.js';
import { FOLD_VERSION, evolve, evolveOwned, initialState } from '../state/evolve.js';

/** The engine's fold, in the shape the log's rebuild helper takes. */
export const ENGINE_FOLD: Fold<EngineState> = { initial: initialState, evolve: evolveOwned, version: FOLD_VERSION };

/**
 * The log, the fold and the bus in one place. `append` writes durably, folds the new events into
 * the state, and only then notifies subscribers: the bus is a notifier, never the truth.
 */
export class EventStore {
  private current: EngineState = initialState();
  private readonly bus = new Subject<EventEnvelope>();
  private last: EventEnvelope | undefined;
  private sinceSnapshot = 0;

  constructor(readonly log: EventLog, private readonly snapshots?: SnapshotStore, readonly timeIndex?: EventTimeIndex) {}

  /** Rebuilds the state: the newest usable snapshot, then the log's tail (or a full replay). */
  async load(warn?: (message: string) => void): Promise<{ eventsReplayed: number; snapshotPosition: number | null }> {
    const result = await rebuild(this.log, ENGINE_FOLD, this.snapshots, { snapshotAfter: 10_000, ...(warn ? { warn } : {}) });
    this.current = result.state;
    return { eventsReplayed: result.eventsReplayed, snapshotPosition: result.snapshotPosition };
  }

  /** Saves a snapshot of the current state (on shutdown, and every few thousand events). */
  async snapshot(): Promise<void> {
    if (!this.snapshots || !this.last) return;
    this.sinceSnapshot = 0;
    await this.snapshots.save({ formatVersion: FOLD_VERSION, position: this.last.position, anchor: anchorOf(this.last), state: this.current });
  }

  state(): EngineState {
    return this.current;
  }

  /** Live events, after they are stored and folded. */
  get events(): Observable<EventEnvelope> {
    return this.bus.asObservable();
  }

  async append(streamId: string, events: readonly EngineEvent[], expected: ExpectedVersion, metadata?: EventMetadata): Promise<readonly EventEnvelope[]> {
    const stored = await this.log.append(streamId, events, expected, metadata);
    for (const e of stored) this.current = evolve(this.current, e);
    this.last = stored[stored.length - 1] ?? this.last;
    this.sinceSnapshot += stored.length;
    for (const e of stored) void this.timeIndex?.observe(e).catch(() => undefined);
    for (const e of stored) this.bus.next(e);
    if (this.sinceSnapshot >= 5_000) void this.snapshot().catch(() => undefined);
    return stored;
  }

  complete(): void {
    this.bus.complete();
  }
}
