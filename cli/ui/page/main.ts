/**
 * The web page of the event log (docs/ui.md): the engine as of any log position or time, each
 * container's timeline, logs around a moment, live updates. Preact + htm, bundled by esbuild at
 * build time (scripts/build.mjs); every request goes to the `mini-docker ui` server.
 */
import { html, render } from 'htm/preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  fetchEvents, fetchLogs, fetchState, fetchStats, fetchStatsHistory, fetchTimeline,
  type EventFilters, type Point, type StatsPoint, type StatsReading, type Timeline, type TimelineEntry, type UiContainer, type UiEvent, type UiState,
} from './api.js';
import { bytes, clock, describeLimits, secondsOf, shortId, spanMs } from './format.js';

const NO_FILTERS: EventFilters = { container: '', image: '', event: '', type: '' };

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** Runs `load` whenever `deps` change, aborting the previous run; returns its value and error. */
function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): { value: T | undefined; error: string } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then((v) => {
      setValue(v);
      setError('');
    }, (err: unknown) => {
      if (!isAbort(err)) setError(messageOf(err));
    });
    return () => abort.abort();
  }, deps);
  return { value, error };
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10m" (as `replay --until` takes it) becomes the RFC 3339 time that long ago; anything else is sent as typed. */
function absoluteTime(value: string, nowMs: number): string {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value);
  return m ? new Date(nowMs - Number(m[1]) * UNIT_MS[m[2]!]!).toISOString() : value;
}

function PositionBar(props: { state: UiState | undefined; point: Point; following: boolean; fresh: number; onPoint: (p: Point) => void; onFollow: () => void }) {
  const { state, point, following, fresh } = props;
  const last = state?.lastPosition ?? 0;
  const shown = state?.position ?? 0;
  const [box, setBox] = useState('');
  const [timeBox, setTimeBox] = useState('');
  useEffect(() => setBox(String(shown)), [shown]);
  useEffect(() => setTimeBox(state?.time ?? ''), [state?.time]);
  const go = (e: Event): void => {
    e.preventDefault();
    const v = box.trim();
    if (/^\d+$/.test(v)) props.onPoint({ kind: 'position', position: Number(v) });
  };
  const goTime = (e: Event): void => {
    e.preventDefault();
    const v = timeBox.trim();
    if (v !== '') props.onPoint({ kind: 'time', time: absoluteTime(v, Date.now()) });
  };
  return html`
    <section class="bar" aria-label="log position">
      <label class="slider-label" for="slider">Position <output id="position" data-position=${shown}>${shown}</output> of <span id="last-position">${last}</span></label>
      <input id="slider" type="range" min="0" max=${last} value=${shown} aria-label="log position slider"
        onInput=${(e: Event) => props.onPoint({ kind: 'position', position: Number((e.target as HTMLInputElement).value) })} />
      <div class="bar-forms">
        <form onSubmit=${go}>
          <label>At position <input id="position-input" inputmode="numeric" size="8" value=${box} onInput=${(e: Event) => setBox((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Go</button>
        </form>
        <form onSubmit=${goTime}>
          <label>At time <input id="time-input" size="32" value=${timeBox} placeholder="2026-11-28T03:12:00Z or 10m" onInput=${(e: Event) => setTimeBox((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Go</button>
        </form>
        ${state?.live
          ? html`<button id="follow" type="button" aria-pressed=${following} onClick=${props.onFollow}>${following ? 'Following live' : `Follow live${fresh > 0 ? ` (${fresh} new)` : ''}`}</button>`
          : html`<span class="offline">copied log (offline): no live updates</span>`}
      </div>
      <p class="as-of">State as of <strong id="as-of-position">#${shown}</strong> <time id="as-of-time">${state?.time ?? ''}</time>${point.kind === 'now' ? ' (now)' : ''}</p>
    </section>`;
}

function Filters(props: { filters: EventFilters; onChange: (f: EventFilters) => void }) {
  const field = (key: keyof EventFilters, label: string, hint: string) => html`
    <label>${label} <input id=${`filter-${key}`} value=${props.filters[key]} placeholder=${hint}
      onInput=${(e: Event) => props.onChange({ ...props.filters, [key]: (e.target as HTMLInputElement).value })} /></label>`;
  return html`
    <section class="filters" aria-label="filters (as events --filter)">
      ${field('container', 'container', 'name or id')}
      ${field('image', 'image', 'busybox')}
      ${field('event', 'event', 'die, oom, start…')}
      ${field('type', 'type', 'container, image')}
      <button type="button" onClick=${() => props.onChange(NO_FILTERS)}>Clear</button>
    </section>`;
}

function matchesRow(c: UiContainer, f: EventFilters): boolean {
  const ref = f.container.trim().replace(/^\//, '');
  const image = f.image.trim();
  return (ref === '' || c.name === ref || c.id.startsWith(ref)) && (image === '' || c.image === image || c.image === `${image}:latest` || `${c.image}:latest` === image);
}

function Containers(props: { state: UiState; filters: EventFilters; selected: string; onSelect: (id: string) => void }) {
  const rows = props.state.containers.filter((c) => matchesRow(c, props.filters));
  return html`
    <section class="panel" aria-labelledby="containers-title">
      <h2 id="containers-title">Containers <span class="count">${rows.length}</span></h2>
      <div class="scroll">
        <table id="containers">
          <thead><tr><th>CONTAINER ID</th><th>NAMES</th><th>IMAGE</th><th>STATUS</th><th>RESTARTS</th><th>LIMITS</th></tr></thead>
          <tbody>
            ${rows.map((c) => html`
              <tr key=${c.id} data-id=${c.id} data-state=${c.state} class=${`state-${c.state}${c.id === props.selected ? ' selected' : ''}`}>
                <td class="id"><code>${shortId(c.id)}</code></td>
                <td class="name"><button type="button" class="link" aria-pressed=${c.id === props.selected} onClick=${() => props.onSelect(c.id)}>${c.name}</button></td>
                <td class="image">${c.image}</td>
                <td class="status">${c.status}</td>
                <td class="restarts">${c.restartCount}${c.restartPolicy !== 'no' ? ` (${c.restartPolicy})` : ''}</td>
                <td class="limits">${describeLimits(c.limits)}</td>
              </tr>`)}
          </tbody>
        </table>
        ${rows.length === 0 ? html`<p class="empty">No containers as of this position.</p>` : null}
      </div>
    </section>`;
}

function Images(props: { state: UiState }) {
  return html`
    <section class="panel" aria-labelledby="images-title">
      <h2 id="images-title">Images <span class="count">${props.state.images.length}</span></h2>
      <div class="scroll">
        <table id="images">
          <thead><tr><th>IMAGE ID</th><th>TAGS</th><th>SIZE</th></tr></thead>
          <tbody>${props.state.images.map((i) => html`<tr key=${i.id}><td><code>${shortId(i.id.replace(/^sha256:/, ''))}</code></td><td>${i.tags.join(', ') || '<none>'}</td><td>${bytes(i.size)}</td></tr>`)}</tbody>
        </table>
      </div>
    </section>`;
}

function TimelineBar(props: { timeline: Timeline }) {
  const segs = props.timeline.segments;
  if (segs.length === 0) return null;
  const start = Date.parse(segs[0]!.from);
  const total = Math.max(1, Date.parse(segs[segs.length - 1]!.to) - start);
  return html`
    <div class="timeline-bar" role="img" aria-label=${`statuses over time: ${segs.map((s) => s.status).join(', ')}`}>
      ${segs.map((s) => {
        const width = Math.max(0.5, (spanMs(s.from, s.to) / total) * 100);
        return html`<span class=${`seg state-${s.status}`} style=${`width:${width}%`} title=${`${s.status} ${clock(s.from)} → ${clock(s.to)} (${secondsOf(spanMs(s.from, s.to))})`}></span>`;
      })}
    </div>`;
}

function Details(props: { id: string; point: Point; refresh: number; live: boolean; row: UiContainer | undefined; onClose: () => void; onPoint: (p: Point) => void }) {
  const { id, point } = props;
  const timeline = useLoad((signal) => fetchTimeline(id, point, signal), [id, JSON.stringify(point), props.refresh]);
  const [moment, setMoment] = useState<TimelineEntry | undefined>(undefined);
  useEffect(() => setMoment(undefined), [id]);
  const logs = useLoad(async (signal) => {
    if (!moment) return '';
    const t = Date.parse(moment.time) / 1000;
    return fetchLogs(id, t - 30, t + 30, signal);
  }, [id, moment?.position]);
  const kept = useLoad<readonly StatsPoint[]>(async (signal) => {
    if (!moment || !props.live) return [];
    const t = Date.parse(moment.time) / 1000;
    return fetchStatsHistory(id, t - 60, t + 60, signal);
  }, [id, moment?.position, props.live]);
  const running = props.live && point.kind === 'now' && props.row?.state === 'running';
  const stats = useLoad<StatsReading | undefined>((signal) => (running ? fetchStats(id, signal) : Promise.resolve(undefined)), [id, running, props.refresh]);
  const t = timeline.value;
  return html`
    <section class="panel details" id="details" aria-labelledby="details-title">
      <h2 id="details-title">${t?.name ?? shortId(id)} <code>${shortId(id)}</code>
        <button type="button" class="close" aria-label="close the container's details" onClick=${props.onClose}>×</button></h2>
      ${timeline.error ? html`<p class="error" role="alert">${timeline.error}</p>` : null}
      ${t ? html`
        <${TimelineBar} timeline=${t} />
        <ol class="timeline" id="timeline">
          ${t.entries.map((e) => html`
            <li key=${`${e.position}-${e.kind}`} data-kind=${e.kind} class=${`kind-${e.kind}${moment?.position === e.position ? ' chosen' : ''}`}>
              <button type="button" class="link" title="logs around this moment" onClick=${() => setMoment(e)}>
                <span class="pos">#${e.position}</span> <time>${clock(e.time)}</time> <span class="text">${e.text}</span>
              </button>
              <button type="button" class="small" title="show the whole engine as of this event" onClick=${() => props.onPoint({ kind: 'position', position: e.position })}>state here</button>
            </li>`)}
        </ol>` : timeline.error ? null : html`<p>Loading the timeline…</p>`}
      ${props.row ? html`<p class="limits-now">Limits in force: <span id="limits-now">${describeLimits(props.row.limits)}</span>; restart policy ${props.row.restartPolicy}</p>` : null}
      ${running && stats.value ? html`<p class="stats" id="stats">Now: memory ${bytes(stats.value.memory_stats?.usage ?? 0)} of ${bytes(stats.value.memory_stats?.limit ?? 0)}, ${stats.value.pids_stats?.current ?? 0} processes</p>` : null}
      <h3>Logs around a moment</h3>
      ${moment
        ? html`<p>From 30 s before to 30 s after #${moment.position} (${clock(moment.time)}):</p>
            ${logs.error ? html`<p class="error">${logs.error}</p>` : html`<pre id="logs" tabindex="0">${logs.value || '(no output in that minute)'}</pre>`}`
        : html`<p class="hint">Choose a step of the timeline to see the container's output in the minute around it.</p>`}
      ${moment && props.live ? html`<${KeptStats} points=${kept.value ?? []} error=${kept.error} />` : null}
    </section>`;
}

/** The daemon's kept readings in the two minutes around the chosen moment, newest last. */
function KeptStats(props: { points: readonly StatsPoint[]; error: string }) {
  if (props.error) return html`<p class="error">${props.error}</p>`;
  if (props.points.length === 0) return html`<p class="hint" id="kept-stats-none">No stats were kept in the two minutes around this moment (the container was not running, or the daemon keeps none).</p>`;
  const peak = props.points.reduce((m, p) => Math.max(m, p.memoryUsage), 0);
  return html`
    <h3>Stats around the moment</h3>
    <p>Peak memory <span id="kept-peak">${bytes(peak)}</span> of ${bytes(props.points[props.points.length - 1]!.memoryLimit)}.</p>
    <table class="kept-stats" id="kept-stats">
      <thead><tr><th scope="col">time</th><th scope="col">CPU</th><th scope="col">memory</th><th scope="col">processes</th></tr></thead>
      <tbody>${props.points.map((p) => html`<tr key=${p.time}><td><time>${clock(p.time)}</time></td><td>${p.cpuPercent === null ? '–' : `${p.cpuPercent.toFixed(1)} %`}</td><td>${bytes(p.memoryUsage)}</td><td>${p.pids}</td></tr>`)}</tbody>
    </table>`;
}

function Events(props: { events: readonly UiEvent[]; matched: number; error: string; onPoint: (p: Point) => void }) {
  return html`
    <section class="panel" aria-labelledby="events-title">
      <h2 id="events-title">Events <span class="count">${props.events.length < props.matched ? `last ${props.events.length} of ${props.matched}` : props.matched}</span></h2>
      ${props.error ? html`<p class="error" role="alert">${props.error}</p>` : null}
      <ol class="events" id="events" reversed>
        ${[...props.events].reverse().map((e) => html`
          <li key=${`${e.position}-${e.action}`} data-position=${e.position}>
            <button type="button" class="link" onClick=${() => props.onPoint({ kind: 'position', position: e.position })}>
              <span class="pos">#${e.position}</span> <time>${clock(e.time)}</time> ${e.scope} <strong>${e.action}</strong> ${e.name || shortId(e.actorId)}${e.attributes.exitCode !== undefined ? ` (exit ${e.attributes.exitCode})` : ''}
            </button>
          </li>`)}
      </ol>
    </section>`;
}

function App() {
  const [point, setPoint] = useState<Point>({ kind: 'now' });
  const [filters, setFilters] = useState<EventFilters>(NO_FILTERS);
  const [selected, setSelected] = useState('');
  const [refresh, setRefresh] = useState(0);
  const [fresh, setFresh] = useState(0);
  const [liveLast, setLiveLast] = useState(0);
  const following = point.kind === 'now';
  const pointKey = JSON.stringify(point);
  const state = useLoad((signal) => fetchState(point, signal), [pointKey, refresh]);
  const events = useLoad((signal) => fetchEvents(point, filters, signal), [pointKey, refresh, JSON.stringify(filters)]);
  const live = state.value?.live ?? false;
  const followingRef = useRef(following);
  followingRef.current = following;

  // Live updates: the daemon pushes each new event; following, the page reloads what it shows.
  useEffect(() => {
    if (!live) return;
    const source = new EventSource('/api/tiny/ui/live');
    let timer: number | undefined;
    let opened = false;
    // After a reconnect (the daemon restarted), what the page shows may be behind: reload it.
    source.addEventListener('open', () => {
      if (opened && followingRef.current) setRefresh((r) => r + 1);
      opened = true;
    });
    source.addEventListener('logged', (m: MessageEvent<string>) => {
      const e = JSON.parse(m.data) as { position: number };
      setLiveLast((p) => Math.max(p, e.position));
      if (!followingRef.current) {
        setFresh((n) => n + 1);
        return;
      }
      if (timer === undefined) timer = window.setTimeout(() => {
        timer = undefined;
        setRefresh((r) => r + 1);
      }, 100);
    });
    return () => {
      source.close();
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [live]);

  const choose = useCallback((p: Point) => setPoint(p), []);
  const follow = useCallback(() => {
    setFresh(0);
    setPoint({ kind: 'now' });
    setRefresh((r) => r + 1);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') setSelected('');
      const target = e.target as HTMLElement | null;
      if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA')) return;
      if (e.key === '/') {
        e.preventDefault();
        document.getElementById('filter-container')?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const s = state.value;
  const shownState = useMemo(() => (s && liveLast > s.lastPosition ? { ...s, lastPosition: liveLast } : s), [s, liveLast]);
  const row = s?.containers.find((c) => c.id === selected);
  return html`
    <header><h1>tiny-docker <span>event log</span></h1><p class="mode" id="mode">${s ? (s.live ? 'live daemon' : 'copied log') : ''}</p></header>
    <main>
      <${PositionBar} state=${shownState} point=${point} following=${following} fresh=${fresh} onPoint=${choose} onFollow=${follow} />
      <${Filters} filters=${filters} onChange=${setFilters} />
      ${state.error ? html`<p class="error" role="alert" id="state-error">${state.error}</p>` : null}
      <div class="grid">
        <div class="col">
          ${s ? html`<${Containers} state=${s} filters=${filters} selected=${selected} onSelect=${setSelected} />` : html`<p>Loading…</p>`}
          ${selected ? html`<${Details} id=${selected} point=${point} refresh=${refresh} live=${live} row=${row} onClose=${() => setSelected('')} onPoint=${choose} />` : null}
          ${s ? html`<${Images} state=${s} />` : null}
        </div>
        <div class="col">
          <${Events} events=${events.value?.events ?? []} matched=${events.value?.matched ?? 0} error=${events.error} onPoint=${choose} />
        </div>
      </div>
    </main>`;
}

const root = document.getElementById('app')!;
root.textContent = '';
render(html`<${App} />`, root);
