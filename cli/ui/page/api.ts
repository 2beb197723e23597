/** The page's calls: every request goes to the `mini-docker ui` server it was loaded from (/api/…). */
import type { Timeline, UiEvent, UiState } from '../../../core/api/ui-types.js';

export type { Timeline, TimelineEntry, TimelineSegment, UiContainer, UiEvent, UiImage, UiLimits, UiState } from '../../../core/api/ui-types.js';

/** A point of the log: now (following), a position, or a time. */
export type Point = { readonly kind: 'now' } | { readonly kind: 'position'; readonly position: number } | { readonly kind: 'time'; readonly time: string };

/** `events`' filters as the page's boxes hold them. */
export interface EventFilters {
  readonly container: string;
  readonly image: string;
  readonly event: string;
  readonly type: string;
}

function untilOf(point: Point): Record<string, string> {
  return point.kind === 'position' ? { until: String(point.position) } : point.kind === 'time' ? { until: point.time } : {};
}

function url(path: string, query: Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  return `/api${path}${q ? `?${q}` : ''}`;
}

/** A failed call's one line: the server's `{"message"}` when it sent one. */
async function failure(res: Response, what: string): Promise<Error> {
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { message?: unknown };
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: keep the status line
  }
  return new Error(`${what}: ${message}`);
}

async function getJson<T>(path: string, query: Record<string, string>, what: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url(path, query), signal ? { signal } : {});
  if (!res.ok) throw await failure(res, what);
  return (await res.json()) as T;
}

export function fetchState(point: Point, signal?: AbortSignal): Promise<UiState> {
  return getJson<UiState>('/tiny/ui/state', untilOf(point), 'state', signal);
}

export function fetchTimeline(id: string, point: Point, signal?: AbortSignal): Promise<Timeline> {
  return getJson<Timeline>(`/tiny/ui/containers/${encodeURIComponent(id)}/timeline`, untilOf(point), 'timeline', signal);
}

/** Docker's filters JSON from the boxes (empty boxes left out). */
export function filtersJson(f: EventFilters): string {
  const out: Record<string, string[]> = {};
  for (const key of ['container', 'image', 'event', 'type'] as const) {
    const v = f[key].trim();
    if (v !== '') out[key] = [v];
  }
  return Object.keys(out).length > 0 ? JSON.stringify(out) : '';
}

export function fetchEvents(point: Point, filters: EventFilters, signal?: AbortSignal): Promise<{ position: number; matched: number; events: UiEvent[] }> {
  const f = filtersJson(filters);
  return getJson('/tiny/ui/events', { ...untilOf(point), limit: '200', ...(f ? { filters: f } : {}) }, 'events', signal);
}

/** The text of Docker's multiplexed stream (8-byte frame headers: stream, 0, 0, 0, length). */
export function demultiplex(bytes: Uint8Array): string {
  const decoder = new TextDecoder();
  let out = '';
  let i = 0;
  while (i + 8 <= bytes.length) {
    const length = ((bytes[i + 4]! << 24) >>> 0) + (bytes[i + 5]! << 16) + (bytes[i + 6]! << 8) + bytes[i + 7]!;
    out += decoder.decode(bytes.subarray(i + 8, i + 8 + length), { stream: true });
    i += 8 + length;
  }
  return out + decoder.decode();
}

/** The container's logs from `fromSeconds` to `toSeconds` (unix seconds), with timestamps, as text. */
export async function fetchLogs(id: string, fromSeconds: number, toSeconds: number, signal?: AbortSignal): Promise<string> {
  const res = await fetch(url(`/containers/${encodeURIComponent(id)}/logs`, {
    stdout: '1', stderr: '1', timestamps: '1', since: fromSeconds.toFixed(3), until: toSeconds.toFixed(3),
  }), signal ? { signal } : {});
  if (!res.ok) throw await failure(res, 'logs');
  const bytes = new Uint8Array(await res.arrayBuffer());
  const multiplexed = (res.headers.get('content-type') ?? '').includes('multiplexed');
  return multiplexed ? demultiplex(bytes) : new TextDecoder().decode(bytes);
}

/** One stats reading (Docker's document, the fields the page shows). */
export interface StatsReading {
  readonly memory_stats?: { readonly usage?: number; readonly limit?: number };
  readonly pids_stats?: { readonly current?: number };
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: number } };
}

export async function fetchStats(id: string, signal?: AbortSignal): Promise<StatsReading> {
  const res = await fetch(url(`/containers/${encodeURIComponent(id)}/stats`, { stream: 'false', 'one-shot': 'true' }), signal ? { signal } : {});
  if (!res.ok) throw await failure(res, 'stats');
  return (await res.json()) as StatsReading;
}

/** One kept stats reading (`GET /tiny/stats/{id}`): the daemon's history, for a past moment. */
export interface StatsPoint {
  readonly time: string;
  readonly cpuPercent: number | null;
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly pids: number;
}

/** The readings the daemon kept of a container between two Unix times (seconds). */
export async function fetchStatsHistory(id: string, since: number, until: number, signal?: AbortSignal): Promise<readonly StatsPoint[]> {
  const res = await fetch(url(`/tiny/stats/${encodeURIComponent(id)}`, { since: since.toFixed(3), until: until.toFixed(3) }), signal ? { signal } : {});
  if (!res.ok) throw await failure(res, 'stats history');
  return (await res.json()) as StatsPoint[];
}
