import { presentContainerInspect, presentContainerSummary } from '../../core/api/presenters.js';
import { toUnixNanos } from '../../core/api/time.js';
import type { ContainerState, EngineState } from '../../core/state/engine-state.js';
import type { EventEnvelope } from '../../events/index.js';
import type { ContainerSummary } from './api-types.js';
import { shortId } from './human.js';
import { renderPs } from './ps-view.js';
import type { ReplayPoint } from './timestamps.js';

/** True when an event lies beyond the replay point (so it and everything after is not applied). */
export function isPast(e: EventEnvelope, until: ReplayPoint | undefined): boolean {
  if (!until) return false;
  if ('position' in until) return e.position > until.position;
  const t = toUnixNanos(e.time);
  const limit = toUnixNanos(until.time);
  return t !== undefined && limit !== undefined && t > limit;
}

/**
 * "Now" for the status texts of a replayed state: the --until time when one was given, the time
 * of the last applied event for a position, the real now otherwise. Online and offline replays
 * use the same rule, so they print the same table.
 */
export function referenceTime(state: EngineState, until: ReplayPoint | undefined, nowMs: number): number {
  if (!until) return nowMs;
  const time = 'time' in until ? until.time : state.time;
  const nanos = toUnixNanos(time);
  return nanos === undefined || nanos <= 0n ? nowMs : Number(nanos / 1_000_000n);
}

/** Docker's storage driver name of a container's last start, for inspect. */
function storageDriverOf(c: ContainerState): string {
  return c.drivers.find((d) => d.startsWith('storage.')) ?? '';
}

/** The containers of a replayed state as `GET /containers/json` items, newest first. */
export function replaySummaries(state: EngineState, nowMs: number): ContainerSummary[] {
  return Object.values(state.containers)
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : b.position - a.position))
    .map((c) => presentContainerSummary(c, new Date(nowMs), state));
}

/** The inspect document of a replayed container (the daemon's own presenter). */
export function replayInspect(c: ContainerState): Record<string, unknown> {
  return presentContainerInspect(c, { storageDriver: storageDriverOf(c) });
}

/** The ps table of a replayed state (the same renderer as `ps`). */
export function renderReplayPs(state: EngineState, nowMs: number, only?: ContainerState): string {
  const summaries = replaySummaries(state, nowMs).filter((s) => !only || s.Id === only.id);
  return renderPs(summaries, { now: nowMs });
}

/** `#12 2026-11-28T16:04:51.592270080Z ContainerStarted container-3f2a12345678`. */
export function eventHeadline(e: EventEnvelope): string {
  const stream = e.streamId.replace(/^(container|image)-([0-9a-f]{12})[0-9a-f]+$/, '$1-$2');
  return `#${e.position} ${e.time} ${e.type} ${stream}`;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}

/** Changed fields between two versions of a record, as `field: old → new` (bookkeeping fields skipped). */
function fieldChanges(before: object, after: object, skip: readonly string[]): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (skip.includes(key)) continue;
    const x = a[key];
    const y = b[key];
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) {
      out.push(...fieldChanges(x, y, []).map((c) => `${key}.${c}`));
    } else {
      out.push(`${key}: ${show(x)} → ${show(y)}`);
    }
  }
  return out;
}

/** What one event did to the state, one line per container, image or exec it touched. */
export function describeEffect(before: EngineState, after: EngineState): string[] {
  const lines: string[] = [];
  const kinds = [
    ['container', before.containers, after.containers, ['version', 'position']],
    ['image', before.images, after.images, ['version']],
    ['exec', before.execs, after.execs, []],
  ] as const;
  for (const [kind, was, now, skip] of kinds) {
    if (was === now) continue;
    for (const id of new Set([...Object.keys(was), ...Object.keys(now)])) {
      const x = (was as Readonly<Record<string, object>>)[id];
      const y = (now as Readonly<Record<string, object>>)[id];
      if (x === y) continue;
      const label = `${kind} ${shortId(id)}`;
      if (!x && y) {
        const r = y as Record<string, unknown>;
        const detail = kind === 'container' ? ` (name=${show(r.name)}, status=${show(r.status)})` : kind === 'exec' ? ` (cmd=${show(r.cmd)})` : ` (origin=${show(r.origin)})`;
        lines.push(`${label}: added${detail}`);
      } else if (x && !y) {
        lines.push(`${label}: removed`);
      } else if (x && y) {
        const changes = fieldChanges(x, y, skip);
        if (changes.length > 0) lines.push(`${label}: ${changes.join(', ')}`);
      }
    }
  }
  return lines.length > 0 ? lines : ['no change to ps or inspect'];
}
