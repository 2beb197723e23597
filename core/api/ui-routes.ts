import { Observable, Subscription, lastValueFrom } from 'rxjs';
import type { EventEnvelope } from '../../events/index.js';
import type { Engine } from '../engine/engine.js';
import { InvalidArgumentError, NotFoundError } from '../engine/errors.js';
import { EVENT_FILTER_KEYS } from './event-presenter.js';
import { checkFilterKeys, parseFilters, queryString } from './http-params.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';
import { toUnixNanos } from './time.js';
import { buildTimeline, containerEventsFold, presentUiState, recentEventsFold, ReplayCache, type HistoryPoint, type HistorySource } from './ui-history.js';
import { ScanCache } from './ui-scan-cache.js';

/** The most events one `GET /tiny/ui/events` returns. */
const MAX_EVENTS = 1000;
/** An SSE comment this often keeps proxies and the browser from giving up on a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** The daemon's engine as a history: its fold, its replay and its event stream. */
export function engineHistory(engine: Engine): HistorySource {
  const scan: HistorySource['scan'] = async (after, until, visit) => {
    const last = Math.min(until, engine.info().lastPosition);
    if (last <= after) return;
    await lastValueFrom(observeUntil(engine.events({ since: { position: after }, until: { position: last } }), last, visit), { defaultValue: undefined });
  };
  // A slider moved on folds from the nearest state already folded; a time is the engine's replay.
  const states = new ReplayCache({ scan });
  return {
    live: true,
    current: () => engine.state(),
    replay: (point) => ('position' in point ? states.at(point.position) : engine.replay(point)),
    scan,
    follow: (after) => engine.events({ since: { position: after } }),
    async firstTime() {
      let time = '';
      await lastValueFrom(observeUntil(engine.events({ since: { position: 0 }, until: { position: 1 } }), 1, (e) => { time = e.time; }), { defaultValue: undefined });
      return time;
    },
  };
}

/** Calls `visit` for each event up to position `last`, completing there. */
function observeUntil(source: Observable<EventEnvelope>, last: number, visit: (e: EventEnvelope) => void): Observable<void> {
  return new Observable<void>((subscriber) => {
    const sub = source.subscribe({
      next: (e) => {
        if (e.position > last) {
          subscriber.complete();
          return;
        }
        visit(e);
        if (e.position >= last) subscriber.complete();
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
    return () => sub.unsubscribe();
  });
}

/** `until` of the page's routes: a position, or an RFC 3339 time; absent means now. */
export function parsePoint(raw: string | undefined): HistoryPoint | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return { position: Number(raw) };
  if (toUnixNanos(raw) === undefined) throw new InvalidArgumentError(`invalid value for until: ${raw}: expected a position or an RFC 3339 time`);
  return { time: raw };
}

/**
 * The routes of the web page (docs/ui.md), all read-only, on any history: `GET /tiny/ui/state`
 * (the engine as of `until`), `GET /tiny/ui/containers/{id}/timeline` (one container's life up to
 * `until`), `GET /tiny/ui/events` (the last `limit` events up to `until`, with `events`' filters)
 * and `GET /tiny/ui/live` (new events as server-sent events, live histories only).
 */
export function registerUiRoutesOn(router: Router, history: HistorySource): void {
  // Timelines and event lists go on from where the last ask of the same kind stopped.
  const scans = new ScanCache(history);
  const stateAt = async (point: HistoryPoint | undefined) => {
    const now = history.current();
    const state = point ? await history.replay(point) : now;
    return { state, now };
  };

  router.get('/tiny/ui/state', async ({ req, res }) => {
    const point = parsePoint(queryString(req.query, 'until'));
    const { state, now } = await stateAt(point);
    res.json(200, presentUiState(state, point, { nowMs: Date.now(), lastPosition: now.position, lastTime: now.time, firstTime: await history.firstTime(), live: history.live }));
  });

  router.get('/tiny/ui/containers/{id}/timeline', async ({ req, res, params }) => {
    const point = parsePoint(queryString(req.query, 'until'));
    const { state } = await stateAt(point);
    const id = params.id!;
    if (!/^[0-9a-f]{64}$/.test(id)) throw new InvalidArgumentError(`invalid container id: ${id}: the timeline takes a full id (64 hex digits)`);
    const events = await scans.run(`timeline ${id}`, state.position, containerEventsFold(id));
    if (events.length === 0) throw new NotFoundError(`No such container: ${id} (as of position ${state.position})`);
    const endTime = point && 'time' in point ? point.time : point ? state.time : new Date().toISOString();
    res.json(200, buildTimeline(id, events, { position: state.position, time: endTime }));
  });

  router.get('/tiny/ui/events', async ({ req, res }) => {
    const point = parsePoint(queryString(req.query, 'until'));
    const filters = parseFilters(req.query.get('filters'));
    checkFilterKeys(filters, EVENT_FILTER_KEYS);
    const limitRaw = queryString(req.query, 'limit') ?? '200';
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > MAX_EVENTS) throw new InvalidArgumentError(`invalid value for limit: ${limitRaw}: expected 1 to ${MAX_EVENTS}`);
    const { state } = await stateAt(point);
    const limit = Number(limitRaw);
    const key = `events ${limit} ${JSON.stringify([...filters].sort(([a], [b]) => (a < b ? -1 : 1)))}`;
    res.json(200, { position: state.position, ...(await scans.run(key, state.position, recentEventsFold(filters, limit))) });
  });

  router.get('/tiny/ui/live', ({ req, res }) => {
    const follow = history.follow?.bind(history);
    if (!follow) throw new NotFoundError('no live updates: this history is a copied log (mini-docker ui --log)');
    // A browser that reconnects sends the id of the last event it got: it goes on from there.
    const lastEventId = req.headers['last-event-id'];
    const afterRaw = queryString(req.query, 'after') ?? (typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : String(history.current().position));
    if (!/^\d+$/.test(afterRaw)) throw new InvalidArgumentError(`invalid value for after: ${afterRaw}: expected a position`);
    const out = res.stream('text/event-stream');
    out.write(': live\n\n');
    return new Promise<void>((resolve) => {
      const subscription = new Subscription();
      const keepalive = setInterval(() => out.write(': keepalive\n\n'), KEEPALIVE_MS);
      const finish = (): void => {
        subscription.unsubscribe();
        clearInterval(keepalive);
        if (!out.writableEnded && !res.signal.aborted) out.end();
        resolve();
      };
      res.signal.addEventListener('abort', finish, { once: true });
      subscription.add(follow(Number(afterRaw)).subscribe({
        next: (e) => {
          const id = e.streamId.startsWith('container-') ? e.streamId.slice('container-'.length) : '';
          out.write(`id: ${e.position}\nevent: logged\ndata: ${JSON.stringify({ position: e.position, time: e.time, type: e.type, containerId: id })}\n\n`);
        },
        error: finish,
        complete: finish,
      }));
    });
  });
}

/** The page's routes on the daemon, over its engine (registered with the API's routes). */
export function registerUiRoutes(router: Router, { engine }: RouteDeps): void {
  registerUiRoutesOn(router, engineHistory(engine));
}
