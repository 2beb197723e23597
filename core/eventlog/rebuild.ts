import type { EventEnvelope } from '../../events/index.js';
import type { EventLog } from './event-log.js';
import type { Snapshot, SnapshotAnchor, SnapshotStore } from './snapshot-store.js';

/**
 * A pure fold of the log: the state before any event, and how one event changes it. `version`
 * names the shape of the state; bump it when the shape or the meaning of evolve changes, so
 * snapshots of the old shape are ignored and the state is rebuilt by a full replay.
 */
export interface Fold<S> {
  initial(): S;
  evolve(state: S, event: EventEnvelope): S;
  readonly version: number;
}

export interface RebuildOptions {
  /** Rebuild the state as of this position (replay --until); default: the end of the log. */
  readonly until?: number;
  /** Save a snapshot at the end when at least this many events were replayed after the one loaded. Default: never. */
  readonly snapshotAfter?: number;
  /** Told when a snapshot is skipped because it belongs to another log. */
  readonly warn?: (message: string) => void;
}

export interface RebuildResult<S> {
  readonly state: S;
  /** The position of the last event in `state` (0: none). */
  readonly position: number;
  /** The position of the snapshot it started from, or null for a full replay. */
  readonly snapshotPosition: number | null;
  readonly eventsReplayed: number;
  readonly snapshotSaved: boolean;
}

/**
 * Rebuilds a fold's state: the newest usable snapshot, then the events after it. A snapshot is
 * usable when it is of the fold's version, not past `until` or the log's end, and the log's event
 * at its position is the one it was taken at. The result equals a full replay of the same events.
 * Only the fold runs: replay never triggers side effects.
 */
export async function rebuild<S>(log: EventLog, fold: Fold<S>, snapshots?: SnapshotStore, options: RebuildOptions = {}): Promise<RebuildResult<S>> {
  const warn = options.warn ?? (() => undefined);
  const limit = Math.min(options.until ?? Number.POSITIVE_INFINITY, log.lastPosition());
  const isUsable = async (snapshot: Snapshot<S>): Promise<boolean> => {
    if (snapshot.position > limit) return false;
    if (await anchorMatches(log, snapshot)) return true;
    warn(`ignored the snapshot at position ${snapshot.position}: the log holds a different event there (a snapshot of another log?)`);
    return false;
  };
  const snapshot = snapshots ? await snapshots.loadNewest<S>(fold.version, isUsable) : null;
  let state = snapshot ? snapshot.state : fold.initial();
  let position = snapshot?.position ?? 0;
  let last: EventEnvelope | null = null;
  let eventsReplayed = 0;
  for await (const event of log.read({ after: position, ...(options.until !== undefined ? { until: options.until } : {}) })) {
    state = fold.evolve(state, event);
    position = event.position;
    last = event;
    eventsReplayed++;
  }
  let snapshotSaved = false;
  if (snapshots && last && options.snapshotAfter !== undefined && eventsReplayed >= options.snapshotAfter) {
    await snapshots.save({ formatVersion: fold.version, position, anchor: anchorOf(last), state });
    snapshotSaved = true;
  }
  return { state, position, snapshotPosition: snapshot?.position ?? null, eventsReplayed, snapshotSaved };
}

/** What a snapshot taken after `event` records as its anchor. */
export function anchorOf(event: EventEnvelope): SnapshotAnchor {
  return { streamId: event.streamId, streamVersion: event.streamVersion, time: event.time };
}

async function anchorMatches<S>(log: EventLog, snapshot: Snapshot<S>): Promise<boolean> {
  if (snapshot.position === 0) return snapshot.anchor === null;
  if (!snapshot.anchor) return false;
  for await (const event of log.read({ after: snapshot.position - 1, until: snapshot.position })) {
    const anchor = anchorOf(event);
    return anchor.streamId === snapshot.anchor.streamId && anchor.streamVersion === snapshot.anchor.streamVersion && anchor.time === snapshot.anchor.time;
  }
  return false;
}
