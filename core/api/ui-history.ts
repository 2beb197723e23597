/**
 * What the web page of the event log (docs/ui.md) is shown: the engine as of a log position or a
 * time, one container's timeline, and the last events before a position. All of it is computed
 * here, server-side, from a `HistorySource` (the daemon's engine, or a copied log held in memory by
 * `mini-docker ui --log`), so the page never downloads the log. Everything is the pure fold: no
 * driver runs.
 */
import type { Observable } from 'rxjs';
import { containerStream, type EventEnvelope, type Limits } from '../../events/index.js';
import type { ContainerState, EngineState, ImageState } from '../state/engine-state.js';
import { ZERO_TIME } from '../state/engine-state.js';
import { evolveOwned, initialState } from '../state/evolve.js';
import { DockerEventMapper, matchesEventFilters } from './event-presenter.js';
import type { Filters } from './http-params.js';
import { presentContainerSummary } from './presenters.js';
import { toUnixNanos } from './time.js';
import type { ScanFold } from './ui-scan-cache.js';
import type { Timeline, TimelineEntry, TimelineSegment, UiContainer, UiEvent, UiImage, UiLimits, UiState } from './ui-types.js';

export type { Timeline, TimelineEntry, TimelineSegment, UiContainer, UiEvent, UiImage, UiLimits, UiState };

/** A point of the log: a position, or an RFC 3339 time (the last event at or before it). */
export type HistoryPoint = { readonly position: number } | { readonly time: string };

/** Where the page's history comes from. */
export interface HistorySource {
  /** False for a copied log: nothing new will come. */
  readonly live: boolean;
  /** The state now (the last event). */
  current(): EngineState;
  /** The state as of a point: the fold of every event up to it. */
  replay(point: HistoryPoint): Promise<EngineState>;
  /** Visits the events with after < position <= until, in order. */
  scan(after: number, until: number, visit: (e: EventEnvelope) => void): Promise<void>;
  /** Events appended after `after`, as they come (live sources only). */
  follow?(after: number): Observable<EventEnvelope>;
  /** Time of the first event ("" for an empty log). */
  firstTime(): Promise<string>;
}

const LIMIT_FIELDS: readonly (keyof Limits)[] = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'PidsLimit', 'BlkioWeight',
];

/** The limits set on a container (zero, empty and unset ones left out). */
export function limitsOf(hostConfig: Partial<Limits>): UiLimits {
  const out: Record<string, string | number> = {};
  for (const key of LIMIT_FIELDS) {
    const v = hostConfig[key];
    if ((typeof v === 'number' && v !== 0) || (typeof v === 'string' && v !== '')) out[key] = v;
  }
  return out;
}

function restartPolicyOf(c: ContainerState): string {
  const p = c.hostConfig.RestartPolicy;
  if (!p || p.Name === '' || p.Name === 'no') return 'no';
  return p.Name === 'on-failure' && p.MaximumRetryCount > 0 ? `on-failure:${p.MaximumRetryCount}` : p.Name;
}

function presentContainer(c: ContainerState, now: Date): UiContainer {
  const s = presentContainerSummary(c, now);
  return {
    id: c.id, name: c.name, image: c.image.ref, command: s.Command, created: s.Created, state: c.status, status: s.Status,
    exitCode: c.exitCode, oomKilled: c.oomKilled, restartCount: c.restartCount, restartPolicy: restartPolicyOf(c),
    startedAt: c.startedAt, finishedAt: c.finishedAt, limits: limitsOf(c.hostConfig),
  };
}

function presentImage(i: ImageState): UiImage {
  return { id: i.id, tags: i.tags, size: i.size, created: i.created };
}

/**
 * "Now" for a state's status texts, the rule `replay` uses: the time asked for, the time of the
 * last applied event for a position, the real now when no point was given.
 */
export function referenceTimeOf(state: EngineState, point: HistoryPoint | undefined, nowMs: number): Date {
  if (!point) return new Date(nowMs);
  const time = 'time' in point ? point.time : state.time;
  const nanos = toUnixNanos(time);
  return nanos === undefined || nanos <= 0n ? new Date(nowMs) : new Date(Number(nanos / 1_000_000n));
}

/** The page's view of a folded state: containers newest first (as ps), images by creation. */
export function presentUiState(state: EngineState, point: HistoryPoint | undefined, context: { nowMs: number; lastPosition: number; lastTime: string; firstTime: string; live: boolean }): UiState {
  const now = referenceTimeOf(state, point, context.nowMs);
  const containers = Object.values(state.containers)
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : b.position - a.position))
    .map((c) => presentContainer(c, now));
  const images = Object.values(state.images).sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0)).map(presentImage);
  return {
    position: state.position, time: state.time, lastPosition: context.lastPosition, firstTime: context.firstTime, lastTime: context.lastTime,
    referenceTime: now.toISOString(), live: context.live, containers, images,
  };
}

function millisBetween(from: string, to: string): number | undefined {
  const a = toUnixNanos(from);
  const b = toUnixNanos(to);
  return a === undefined || b === undefined || a <= 0n || b < a ? undefined : Number((b - a) / 1_000_000n);
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}

function mebibytes(n: number): string {
  return n < 0 ? 'unlimited' : `${Number((n / 2 ** 20).toFixed(1))} MiB`;
}

/** "memory 32 MiB, 0.5 CPUs, pids 100" (Docker's field names for the rarer ones). */
export function describeLimits(limits: UiLimits): string {
  const parts = Object.entries(limits).map(([k, v]) => {
    if (k === 'Memory' && typeof v === 'number') return `memory ${mebibytes(v)}`;
    if (k === 'NanoCpus' && typeof v === 'number') return `${v / 1e9} CPUs`;
    if (k === 'PidsLimit') return `pids ${v}`;
    return `${k}=${typeof v === 'number' && k.startsWith('Memory') ? mebibytes(v) : v}`;
  });
  return parts.length > 0 ? parts.join(', ') : 'no limits';
}

/**
 * A container's timeline from its own events (in position order), folded alone: a container's
 * fold depends on its stream only, so the statuses are the engine's. `end` closes the last segment.
 */
export function buildTimeline(id: string, events: readonly EventEnvelope[], end: { position: number; time: string }): Timeline {
  let state = initialState();
  const entries: TimelineEntry[] = [];
  let name = '';
  for (const e of events) {
    const before = state.containers[id];
    state = evolveOwned(state, e);
    const after = state.containers[id];
    const status = after ? after.status : 'removed';
    if (after) name = after.name;
    const at = { position: e.position, time: e.time, status };
    switch (e.type) {
      case 'ContainerCreated': {
        const limits = limitsOf(e.data.hostConfig);
        entries.push({ ...at, kind: 'created', text: `created as ${e.data.name} from ${e.data.image.ref} (${describeLimits(limits)})`, limits });
        break;
      }
      case 'ContainerStarted':
        entries.push({ ...at, kind: e.data.restart === true ? 'restarted' : 'started', text: `${e.data.restart === true ? 'restarted by its policy' : 'started'} (pid ${e.data.pid})` });
        break;
      case 'ContainerStartFailed':
        entries.push({ ...at, kind: 'start-failed', text: `start failed, the command never ran: ${e.data.message} (State.ExitCode now ${e.data.exitCode})` });
        break;
      case 'ContainerExited': {
        const ran = before && before.startedAt !== ZERO_TIME ? millisBetween(before.startedAt, e.data.finishedAt) : undefined;
        if (e.data.oomKilled) entries.push({ ...at, kind: 'oom', text: 'killed by the kernel: out of memory' });
        const signal = e.data.signal !== null ? `, signal ${e.data.signal}` : '';
        entries.push({
          ...at, kind: 'died', exitCode: e.data.exitCode, ...(ran !== undefined ? { ranMs: ran } : {}),
          text: `died (exit ${e.data.exitCode}${signal}${ran !== undefined ? `, ran ${seconds(ran)}` : ''})`,
        });
        if (status === 'restarting') entries.push({ ...at, kind: 'restarting', text: `restarting (policy ${after ? restartPolicyOf(after) : ''})` });
        break;
      }
      case 'ContainerStopRequested':
        entries.push({ ...at, kind: 'stop', text: `stop requested (${e.data.signal}, ${e.data.timeoutSeconds} s)` });
        break;
      case 'ContainerKillRequested':
        entries.push({ ...at, kind: 'kill', text: `kill requested (${e.data.signal})` });
        break;
      case 'ContainerLimitsUpdated': {
        const limits = after ? limitsOf(after.hostConfig) : limitsOf(e.data.limits);
        const policy = after ? `, restart ${restartPolicyOf(after)}` : '';
        entries.push({ ...at, kind: 'update', text: `limits updated (${describeLimits(limits)}${policy})`, limits });
        break;
      }
      case 'ContainerPaused':
        entries.push({ ...at, kind: 'pause', text: 'paused' });
        break;
      case 'ContainerUnpaused':
        entries.push({ ...at, kind: 'unpause', text: 'unpaused' });
        break;
      case 'ContainerRenamed':
        entries.push({ ...at, kind: 'rename', text: `renamed ${e.data.oldName} → ${e.data.newName}` });
        break;
      case 'ContainerCommitted':
        entries.push({ ...at, kind: 'commit', text: `committed to ${e.data.ref ?? e.data.imageId.slice(0, 19)}` });
        break;
      case 'ExecCreated':
        entries.push({ ...at, kind: 'exec', text: `exec created: ${e.data.cmd.join(' ')}` });
        break;
      case 'ExecStarted':
        entries.push({ ...at, kind: 'exec', text: `exec started (pid ${e.data.pid})` });
        break;
      case 'ExecExited':
        entries.push({ ...at, kind: 'exec', text: `exec exited (${e.data.exitCode})`, exitCode: e.data.exitCode });
        break;
      case 'ContainerRemoved':
        entries.push({ ...at, kind: 'removed', text: 'removed' });
        break;
      default:
        break;
    }
  }
  const segments: TimelineSegment[] = [];
  entries.forEach((entry, i) => {
    if (entry.status === 'removed') return;
    const to = entries[i + 1]?.time ?? end.time;
    const last = segments[segments.length - 1];
    if (last && last.status === entry.status) segments[segments.length - 1] = { ...last, to };
    else segments.push({ status: entry.status, from: entry.time, to });
  });
  return { id, name, position: end.position, entries, segments };
}

interface RecentEvents {
  readonly mapper: DockerEventMapper;
  matched: number;
  readonly kept: UiEvent[];
}

/**
 * The last `limit` events that pass `events`' filters (moby's, on Docker's messages), oldest first,
 * and how many matched in all, as a fold over the log (for a ScanCache). Every event is mapped, so
 * names of containers gone since are known, but only `limit` are kept.
 */
export function recentEventsFold(filters: Filters, limit: number): ScanFold<RecentEvents, { matched: number; events: UiEvent[] }> {
  return {
    fresh: () => ({ mapper: new DockerEventMapper(), matched: 0, kept: [] }),
    visit(acc, e) {
      for (const ev of acc.mapper.map(e)) {
        if (!matchesEventFilters(ev, filters)) continue;
        acc.matched++;
        const { name = '', ...attributes } = ev.Actor.Attributes;
        acc.kept.push({ position: e.position, time: e.time, type: e.type, scope: ev.Type, action: ev.Action, actorId: ev.Actor.ID, name, attributes });
        if (acc.kept.length > limit * 2) acc.kept.splice(0, acc.kept.length - limit);
      }
    },
    read: (acc) => ({ matched: acc.matched, events: acc.kept.slice(-limit) }),
  };
}

/** One container's own events (its stream), as a fold over the log (for a ScanCache). */
export function containerEventsFold(id: string): ScanFold<EventEnvelope[], EventEnvelope[]> {
  const stream = containerStream(id);
  return {
    fresh: () => [],
    visit(acc, e) {
      if (e.streamId === stream) acc.push(e);
    },
    read: (acc) => acc.slice(),
  };
}

/** A fold over the events up to `until`, from the start, with nothing remembered. */
export async function foldLog<A, R>(source: HistorySource, until: number, fold: ScanFold<A, R>): Promise<R> {
  const acc = fold.fresh();
  await source.scan(0, until, (e) => fold.visit(acc, e));
  return fold.read(acc);
}

/** The last `limit` events up to `until` that pass the filters, read from the start. */
export function lastEvents(source: HistorySource, until: number, filters: Filters, limit: number): Promise<{ matched: number; events: UiEvent[] }> {
  return foldLog(source, until, recentEventsFold(filters, limit));
}

/**
 * States already folded at some positions, so a slider that moves on folds only the events in
 * between (from the nearest state at or before the position asked for) instead of the whole log.
 * Keeps the `max` most recently made states.
 */
export class ReplayCache {
  private states: EngineState[] = [];

  constructor(private readonly source: Pick<HistorySource, 'scan'>, private readonly max = 8) {}

  async at(position: number): Promise<EngineState> {
    let base = initialState();
    for (const s of this.states) if (s.position <= position && s.position > base.position) base = s;
    let state = copyState(base);
    await this.source.scan(base.position, position, (e) => {
      state = evolveOwned(state, e);
    });
    if (state.position !== base.position) {
      this.states = [...this.states.filter((s) => s.position !== state.position), copyState(state)].slice(-this.max);
    }
    return state;
  }
}

/** A copied log held in memory (`ui --log`), with a fold checkpoint every `every` events. */
export class MemoryHistory implements HistorySource {
  readonly live = false;
  private readonly checkpoints: EngineState[] = [];
  private readonly last: EngineState;

  constructor(private readonly events: readonly EventEnvelope[], private readonly every = 2000) {
    let state = initialState();
    this.checkpoints.push(copyState(state));
    events.forEach((e, i) => {
      state = evolveOwned(state, e);
      if ((i + 1) % every === 0) this.checkpoints.push(copyState(state));
    });
    this.last = copyState(state);
  }

  current(): EngineState {
    return this.last;
  }

  async firstTime(): Promise<string> {
    return this.events[0]?.time ?? '';
  }

  async replay(point: HistoryPoint): Promise<EngineState> {
    // How many events lie at or before the point (positions are 1..n, in order).
    let count: number;
    if ('position' in point) {
      count = Math.max(0, Math.min(this.events.length, this.indexAfterPosition(point.position)));
    } else {
      const limit = toUnixNanos(point.time);
      count = this.events.findIndex((e) => limit !== undefined && (toUnixNanos(e.time) ?? 0n) > limit);
      if (count < 0) count = this.events.length;
    }
    const k = Math.floor(count / this.every);
    let state = copyState(this.checkpoints[k]!);
    for (let i = k * this.every; i < count; i++) state = evolveOwned(state, this.events[i]!);
    return state;
  }

  async scan(after: number, until: number, visit: (e: EventEnvelope) => void): Promise<void> {
    for (let i = this.indexAfterPosition(after); i < this.events.length; i++) {
      const e = this.events[i]!;
      if (e.position > until) break;
      visit(e);
    }
  }

  /** The index of the first event with a position above `position`. */
  private indexAfterPosition(position: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]!.position <= position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A copy a later `evolveOwned` cannot change (entities are replaced, never mutated; the network records are replaced whole). */
function copyState(s: EngineState): EngineState {
  return {
    containers: { ...s.containers }, images: { ...s.images }, volumes: { ...s.volumes }, execs: { ...s.execs }, networks: s.networks, published: s.published,
    predefined: s.predefined, position: s.position, time: s.time,
  };
}
