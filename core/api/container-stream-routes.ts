import type { WaitCondition } from '../engine/engine.js';
import { EngineError, InvalidArgumentError, NotImplementedError } from '../engine/errors.js';
import type { LogEntry, ResourceStats } from '../plugins/driver.js';
import { BatchedWriter } from './batched-writer.js';
import { queryBool, queryString } from './http-params.js';
import { presentStats } from './presenters.js';
import type { Router } from './router.js';
import { messageOf, sleep, streamContentType, writeJsonLine, type RouteDeps } from './route-support.js';
import { pumpSession } from './session-pump.js';
import { frame, streamType } from './stdcopy.js';
import { fixedNanos, fromUnixNanos, parseDockerTime } from './time.js';

const WAIT_CONDITIONS: readonly WaitCondition[] = ['not-running', 'next-exit', 'removed'];

function waitCondition(value: string | undefined): WaitCondition {
  if (value === undefined) return 'not-running';
  const found = WAIT_CONDITIONS.find((c) => c === value);
  if (!found) throw new InvalidArgumentError(`invalid condition: "${value}"`);
  return found;
}

/** A `since`/`until` log parameter (unix seconds, "0" = unset) as RFC 3339. */
function logTime(query: URLSearchParams, key: string): string | undefined {
  const raw = queryString(query, key);
  if (raw === undefined) return undefined;
  const nanos = parseDockerTime(raw, key);
  return nanos === 0n ? undefined : fromUnixNanos(nanos);
}

/** Prefixes every line of a chunk with its time, as `logs --timestamps` shows it. */
function withTimestamps(time: string, data: Buffer): Buffer {
  const prefix = `${fixedNanos(time)} `;
  const text = data.toString('utf8');
  const lines = text.split(/(?<=\n)/);
  return Buffer.from(lines.map((l) => prefix + l).join(''), 'utf8');
}

/** How long `logs` waits for the driver's first entry (or its refusal) before it sends the headers. */
const FIRST_ENTRY_WAIT_MS = 100;

type Settled<T> = { state: 'fulfilled'; value: T } | { state: 'rejected'; error: unknown } | { state: 'pending'; promise: Promise<T> };

/** The outcome of a promise if it settles within `ms`, else the promise itself (a rejection then is the caller's). */
export function settledWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ state: 'pending', promise }), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve({ state: 'fulfilled', value }); },
      (error: unknown) => { clearTimeout(timer); resolve({ state: 'rejected', error }); },
    );
  });
}

/** A log driver's refusal to read as Docker answers it (501 for "does not support reading"). */
function refusalOf(err: unknown): unknown {
  if (err instanceof EngineError || !(err instanceof Error)) return err;
  if (/does not support reading/i.test(err.message)) return new NotImplementedError(err.message);
  return err;
}

/** The streamed container endpoints: wait, attach, logs, stats, export. */
export function registerContainerStreamRoutes(router: Router, { engine, logger }: RouteDeps): void {
  // The headers go out at once: the CLI sends `start` only after they arrived (rule 4).
  router.post('/containers/{id}/wait', async ({ req, res, params }) => {
    const condition = waitCondition(queryString(req.query, 'condition'));
    engine.container(params.id); // 404 before the headers
    const out = res.stream('application/json');
    let body: { StatusCode: number; Error: { Message: string } | null };
    try {
      const result = await engine.waitContainer(params.id, condition, res.signal);
      body = { StatusCode: result.exitCode, Error: result.error ? { Message: result.error } : null };
    } catch (err) {
      if (res.signal.aborted) return;
      body = { StatusCode: -1, Error: { Message: messageOf(err) } };
    }
    if (!res.signal.aborted) out.end(`${JSON.stringify(body)}\n`);
  });

  router.post('/containers/{id}/attach', async ({ req, res, params }) => {
    const q = req.query;
    const stdin = queryBool(q, 'stdin');
    const session = await engine.attachContainer(params.id, {
      stdin,
      stdout: queryBool(q, 'stdout'),
      stderr: queryBool(q, 'stderr'),
      logs: queryBool(q, 'logs'),
    });
    // Attached before the 101, so nothing the process writes after `start` can be missed.
    const conn = res.hijack(streamContentType(session.tty, req.apiVersion));
    await pumpSession(session, conn, { tty: session.tty, stdin });
  });

  router.get('/containers/{id}/logs', async ({ req, res, params }) => {
    const q = req.query;
    const stdout = queryBool(q, 'stdout');
    const stderr = queryBool(q, 'stderr');
    if (!stdout && !stderr) throw new InvalidArgumentError('Bad parameters: you must choose at least one stream');
    const c = engine.container(params.id);
    const tailRaw = queryString(q, 'tail');
    const tail = tailRaw === undefined || tailRaw === 'all' || !/^\d+$/.test(tailRaw) ? undefined : Number(tailRaw);
    const since = logTime(q, 'since');
    const until = logTime(q, 'until');
    const timestamps = queryBool(q, 'timestamps');
    const tty = c.config.Tty ?? false;
    const entries = engine.logs(c.id, {
      stdout,
      stderr,
      follow: queryBool(q, 'follow'),
      signal: res.signal,
      ...(tail !== undefined ? { tail } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
    });
    // A driver that cannot read (a shipper) fails its first step: wait briefly for that step so
    // such an error is an error response, not a 200 cut short. Then the headers go out even if no
    // entry came: a follow of a quiet container must not leave the client without a response.
    const iterator = entries[Symbol.asyncIterator]();
    const first = await settledWithin(iterator.next(), FIRST_ENTRY_WAIT_MS);
    if (first.state === 'rejected') throw refusalOf(first.error);
    const out = new BatchedWriter(res.stream(streamContentType(tty, req.apiVersion)));
    const rest: AsyncIterable<LogEntry> = {
      [Symbol.asyncIterator]: () => {
        let pending: Promise<IteratorResult<LogEntry>> | undefined = first.state === 'fulfilled' ? Promise.resolve(first.value) : first.promise;
        return {
          next: () => {
            const p = pending ?? iterator.next();
            pending = undefined;
            return p;
          },
          return: async () => (await iterator.return?.()) ?? { done: true, value: undefined },
        };
      },
    };
    try {
      for await (const entry of rest) {
        if (res.signal.aborted) break;
        if ((entry.stream === 'stdout' && stdout) || (entry.stream === 'stderr' && stderr)) {
          const data = timestamps ? withTimestamps(entry.time, entry.data) : entry.data;
          await out.write(tty ? data : frame(streamType(entry.stream), data));
        }
      }
    } catch (err) {
      out.discard();
      if (res.signal.aborted) return;
      logger.warn(`logs of ${c.id}: ${messageOf(err)}`);
      res.destroy();
      return;
    }
    if (res.signal.aborted) out.discard();
    else await out.end();
  });

  router.get('/containers/{id}/stats', async ({ req, res, params }) => {
    const c = engine.container(params.id);
    const stream = queryBool(req.query, 'stream', true);
    const oneShot = queryBool(req.query, 'one-shot');
    const out = res.stream('application/json');
    if (c.status !== 'running' && c.status !== 'paused') {
      // moby's answer for a container that is not running: one all-zero document.
      writeJsonLine(out, presentStats(c, undefined));
      out.end();
      return;
    }
    let previous: ResourceStats | undefined;
    try {
      if (!stream && !oneShot) {
        // Two readings a second apart, so the CLI can compute a CPU percentage.
        previous = await engine.stats(c.id);
        await sleep(1000, res.signal);
      }
      while (!res.signal.aborted) {
        const current = await engine.stats(c.id);
        writeJsonLine(out, presentStats(c, current, previous));
        if (!stream) break;
        previous = current;
        await sleep(1000, res.signal);
      }
    } catch (err) {
      // Typically the container stopped between two readings: the stream just ends.
      logger.info(`stats of ${c.id} ended: ${messageOf(err)}`);
    }
    if (!res.signal.aborted) out.end();
  });

  router.get('/containers/{id}/export', async ({ res, params }) => {
    const c = engine.container(params.id);
    const out = res.stream('application/x-tar');
    try {
      await engine.exportContainer(c.id, out);
    } catch (err) {
      logger.error(`export of ${c.id} failed: ${messageOf(err)}`);
      res.destroy();
      return;
    }
    if (!out.writableEnded) out.end();
  });
}
