import type { DockerEvent } from './api-types.js';
import { CliError } from './errors.js';
import { formatRfc3339Nano } from './timestamps.js';

/** Nanoseconds of an event: timeNano when present, else time (seconds). */
export function eventNanos(e: DockerEvent): bigint {
  if (e.timeNano !== undefined) return BigInt(Math.round(e.timeNano));
  return BigInt(e.time) * 1_000_000_000n;
}

/** One streamed event: the decoded object, its exact time, and the line as the daemon sent it. */
export interface ReceivedEvent {
  readonly event: DockerEvent;
  readonly nanos: bigint;
  readonly raw: string;
}

/**
 * Decodes one `GET /events` line. `timeNano` does not fit a JS number, so its digits are read
 * from the text before JSON.parse rounds them.
 */
export function parseEventLine(line: string): ReceivedEvent {
  const event = JSON.parse(line) as DockerEvent;
  const exact = /"timeNano"\s*:\s*(\d+)/.exec(line);
  const nanos = exact ? BigInt(exact[1]!) : eventNanos(event);
  return { event, nanos, raw: line };
}

/**
 * Docker's events line: `2026-11-28T16:04:51.592270080Z container create <id> (image=alpine, name=demo)`,
 * attributes sorted by key.
 */
export function formatEventLine(e: DockerEvent, nanos: bigint = eventNanos(e)): string {
  const attrs = Object.entries(e.Actor.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const tail = attrs.length > 0 ? ` (${attrs.map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
  return `${formatRfc3339Nano(nanos)} ${e.Type} ${e.Action} ${e.Actor.ID}${tail}`;
}

/** `--filter key=value` flags → the API's `{"key":{"value":true}}` filters JSON (undefined for none); a bad one is the CLI's one-line error. */
export function filtersJson(filters: readonly string[] | undefined): string | undefined {
  if (!filters || filters.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new CliError(`bad format of filter (expected name=value): ${f}`);
    const key = f.slice(0, eq).trim().toLowerCase();
    (out[key] ??= {})[f.slice(eq + 1)] = true;
  }
  return JSON.stringify(out);
}
