import { Observable } from 'rxjs';
import type { EventEnvelope } from '../../events/index.js';
import { DOCKER_ACTIONS } from '../../events/index.js';
import type { EngineState } from '../state/engine-state.js';
import type { EventQuery } from './engine.js';
import type { EventStore } from './event-store.js';

/** The id of the container or image an event concerns ("" for daemon events). */
export function subjectId(e: EventEnvelope): string {
  const data: object = e.data;
  return 'id' in data && typeof data.id === 'string' ? data.id : '';
}

/** Docker-style filters: type=container|image|daemon, container=<id|prefix|name>, event=<action>, image=<ref|id>. */
export function matchesFilters(e: EventEnvelope, filters: EventQuery['filters'], state: EngineState): boolean {
  if (!filters) return true;
  const [type, action] = DOCKER_ACTIONS[e.type];
  const id = subjectId(e);
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'type':
          return v === type;
        case 'event':
        case 'action':
          return v === action;
        case 'container': {
          if (type !== 'container') return false;
          const c = state.containers[id];
          const createdName = e.type === 'ContainerCreated' ? e.data.name : undefined;
          return id === v || id.startsWith(v) || c?.name === v || createdName === v;
        }
        case 'image': {
          if (type === 'image') return id === v || id.replace('sha256:', '').startsWith(v.replace('sha256:', ''));
          const c = state.containers[id];
          return c !== undefined && (c.image.ref === v || c.image.id === v);
        }
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}

function afterSince(e: EventEnvelope, q: EventQuery): boolean {
  if (q.since?.position !== undefined && e.position <= q.since.position) return false;
  if (q.since?.time !== undefined && e.time < q.since.time) return false;
  return true;
}

function pastUntil(e: EventEnvelope, q: EventQuery): boolean {
  if (q.until?.position !== undefined && e.position > q.until.position) return true;
  if (q.until?.time !== undefined && e.time > q.until.time) return true;
  return false;
}

/**
 * Past events from the log, then live ones from the bus, with no gap and no repeat: the bus is
 * subscribed first and buffered while the log is read. Completes at `until` (at once when it lies
 * in the past); without `since`, only new events are sent, as in `docker events`.
 */
export function queryEvents(store: EventStore, q: EventQuery): Observable<EventEnvelope> {
  return new Observable<EventEnvelope>((subscriber) => {
    let lastSent = q.since ? 0 : store.state().position;
    let replaying = true;
    const buffered: EventEnvelope[] = [];
    const untilTimeMs = q.until?.time !== undefined ? Date.parse(q.until.time) : undefined;
    let timer: NodeJS.Timeout | undefined;
    const emit = (e: EventEnvelope): void => {
      if (e.position <= lastSent) return;
      lastSent = e.position;
      if (pastUntil(e, q)) {
        subscriber.complete();
        return;
      }
      if (afterSince(e, q) && matchesFilters(e, q.filters, store.state())) subscriber.next(e);
    };
    const live = store.events.subscribe({
      next: (e) => (replaying ? buffered.push(e) : emit(e)),
      complete: () => subscriber.complete(),
    });
    void (async () => {
      try {
        if (q.since) {
          const after = q.since.position ?? (q.since.time !== undefined && store.timeIndex ? await store.timeIndex.readAfterFor(q.since.time) : 0);
          for await (const e of store.log.read({ after })) {
            if (subscriber.closed) return;
            emit(e);
          }
        }
        replaying = false;
        for (const e of buffered.splice(0)) emit(e);
        const untilPast = q.until?.position !== undefined ? q.until.position <= lastSent || q.until.position <= store.state().position
          : untilTimeMs !== undefined ? untilTimeMs <= Date.now() : false;
        if (untilPast) subscriber.complete();
        else if (untilTimeMs !== undefined) timer = setTimeout(() => subscriber.complete(), untilTimeMs - Date.now());
      } catch (err) {
        subscriber.error(err);
      }
    })();
    return () => {
      live.unsubscribe();
      if (timer) clearTimeout(timer);
    };
  });
}
