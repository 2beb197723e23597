import { Subscription, type Observable } from 'rxjs';
import type { EventEnvelope } from '../../events/index.js';
import type { Engine, EventQuery } from '../engine/engine.js';
import { InvalidArgumentError } from '../engine/errors.js';
import type { Logger } from '../plugins/driver.js';
import { DockerEventMapper, EVENT_FILTER_KEYS, matchesEventFilters, serializeDockerEvent, type EventLookup } from './event-presenter.js';
import type { ApiResponse } from './exchange.js';
import { checkFilterKeys, parseFilters, queryString } from './http-params.js';
import type { Router } from './router.js';
import { messageOf, type RouteDeps } from './route-support.js';
import { fromUnixNanos, parseDockerTime, toUnixNanos } from './time.js';

/** setTimeout cannot wait longer than this (about 24.8 days); later `until`s rely on the engine. */
const MAX_TIMER_MS = 2_147_483_647;
const UNTIL_GRACE_MS = 1000;

/**
 * Streams an observable of envelopes as lines until it completes, the client leaves, or `untilMs`
 * (wall clock) arrives. `write` returns false to end the stream early.
 */
function streamEvents(
  source: Observable<EventEnvelope>,
  res: ApiResponse,
  logger: Logger,
  untilMs: number | undefined,
  write: (out: NodeJS.WritableStream, e: EventEnvelope) => boolean,
): Promise<void> {
  const out = res.stream('application/json');
  return new Promise<void>((resolve) => {
    let finished = false;
    // Added to a closed Subscription, the inner one is torn down at once (a synchronous complete).
    const subscription = new Subscription();
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      subscription.unsubscribe();
      if (timer) clearTimeout(timer);
      res.signal.removeEventListener('abort', finish);
      if (!res.signal.aborted && !out.writableEnded) out.end();
      resolve();
    };
    res.signal.addEventListener('abort', finish, { once: true });
    // The engine completes at `until` (after the backlog when it lies in the past); this timer is
    // only a safety net for a future `until`, a little after it so the engine's own end comes first.
    if (untilMs !== undefined) {
      const delay = untilMs - Date.now() + UNTIL_GRACE_MS;
      if (delay > UNTIL_GRACE_MS && delay <= MAX_TIMER_MS) timer = setTimeout(finish, delay);
    }
    subscription.add(source.subscribe({
      next: (e) => {
        if (!finished && !write(out, e)) finish();
      },
      error: (err: unknown) => {
        logger.warn(`event stream ended: ${messageOf(err)}`);
        finish();
      },
      complete: finish,
    }));
  });
}

function lookupIn(engine: Engine): EventLookup {
  return {
    container: (id) => {
      const c = engine.state().containers[id];
      return c ? { name: c.name, image: c.image.ref, labels: c.config.Labels ?? {}, volumes: c.volumes } : undefined;
    },
    volumeDriver: (name) => engine.state().volumes[name]?.driver,
    exec: (execId) => engine.state().execs[execId],
  };
}

/**
 * `until` in nanoseconds. Whole seconds mean the end of that second: the CLI sends `--until 0s`
 * (now) rounded down to the second, and moby's exact reading would hide what happened in the last
 * fraction of a second (`docker rm web; docker events --since 1m --until 0s` without the destroy).
 */
export function parseUntil(value: string): bigint {
  const nanos = parseDockerTime(value, 'until');
  return /^\s*\d+\s*$/.test(value) ? nanos + 999_999_999n : nanos;
}

/** A position or an RFC 3339 time (the tiny-docker endpoints). */
function positionOrTime(value: string, name: string): { position: number } | { time: string } {
  if (/^\d+$/.test(value)) return { position: Number(value) };
  if (toUnixNanos(value) === undefined) throw new InvalidArgumentError(`invalid value for ${name}: ${value}: expected a position or an RFC 3339 time`);
  return { time: value };
}

/** `GET /events` (Docker's messages) and `GET /tiny/events` (our envelopes, with positions). */
export function registerEventRoutes(router: Router, { engine, logger }: RouteDeps): void {
  router.get('/events', async ({ req, res }) => {
    const q = req.query;
    const filters = parseFilters(q.get('filters'));
    checkFilterKeys(filters, EVENT_FILTER_KEYS);
    const sinceRaw = queryString(q, 'since');
    const untilRaw = queryString(q, 'until');
    const since = sinceRaw === undefined ? undefined : parseDockerTime(sinceRaw, 'since');
    const until = untilRaw === undefined ? undefined : parseUntil(untilRaw);
    const query: EventQuery = {
      // From the start whenever there is a window (`until` alone replays from the start, as moby
      // does with its buffer): the mapper must see a container's create, even before `since`, to
      // name it in later events when it is gone by now. The window is applied below.
      ...(since !== undefined || until !== undefined ? { since: { position: 0 } } : {}),
      ...(until !== undefined ? { until: { time: fromUnixNanos(until) } } : {}),
    };
    // `steps=1` (ours, not Docker's): the intents and driver steps too (`mini-docker events --steps`).
    const steps = queryString(q, 'steps') === '1';
    const mapper = new DockerEventMapper(lookupIn(engine), engine.info().id, steps);
    const untilMs = until === undefined ? undefined : Number(until / 1_000_000n);
    await streamEvents(engine.events(query), res, logger, untilMs, (out, e) => {
      for (const ev of mapper.map(e)) {
        if (until !== undefined && ev.timeNano > until) return false;
        if (since !== undefined && ev.timeNano < since) continue;
        if (matchesEventFilters(ev, filters)) out.write(`${serializeDockerEvent(ev)}\n`);
      }
      return true;
    });
  });

  router.get('/tiny/events', async ({ req, res }) => {
    const after = queryString(req.query, 'after');
    const untilRaw = queryString(req.query, 'until');
    if (after !== undefined && !/^\d+$/.test(after)) throw new InvalidArgumentError(`invalid value for after: ${after}: expected a position`);
    const until = untilRaw === undefined ? undefined : positionOrTime(untilRaw, 'until');
    const query: EventQuery = {
      ...(after !== undefined ? { since: { position: Number(after) } } : {}),
      ...(until !== undefined ? { until } : {}),
    };
    const untilMs = until && 'time' in until ? Date.parse(until.time) : undefined;
    await streamEvents(engine.events(query), res, logger, untilMs, (out, e) => {
      if (until && 'position' in until && e.position > until.position) return false;
      out.write(`${JSON.stringify(e)}\n`);
      return !(until && 'position' in until && e.position >= until.position);
    });
  });
}
