import type { ContainerState, EngineState } from '../../core/state/engine-state.js';
import { tryFindContainer } from '../../core/state/lookup.js';
import { afterTheEnd, pastTheEnd } from '../../core/state/replay-bounds.js';
import type { EventEnvelope } from '../../events/index.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { CliError } from '../lib/errors.js';
import { describeEffect, eventHeadline, isPast, referenceTime, renderReplayPs, replayInspect } from '../lib/replay-view.js';
import type { ReplayPoint } from '../lib/timestamps.js';
import { parseReplayPoint } from '../lib/timestamps.js';

/** One applied event and what it changed. */
interface TraceEntry {
  readonly envelope: EventEnvelope;
  readonly effects: readonly string[];
  /** The container it concerns, if any, with the names it had before and after. */
  readonly containerId?: string;
  readonly containerNames: readonly string[];
}

/** What `replay --json` returns. */
export interface ReplayReport {
  readonly position: number;
  readonly time: string;
  readonly containers?: readonly Record<string, unknown>[];
  readonly container?: Record<string, unknown>;
  readonly events?: readonly { readonly event: EventEnvelope; readonly effects: readonly string[] }[];
}

type Fold = Pick<typeof import('../lib/offline-replay.js'), 'evolve' | 'initialState'>;

/** `mini-docker replay`: ps and inspect as they were at a point of the event log. */
export default defineCommand({
  summary: 'Show ps and inspect as they were at a point of the event log.',

  description: `Rebuilds the engine state by folding the event log up to --until (a position such as 42, or a time: RFC 3339, "1700000000.5" unix seconds, or relative like 10m) and prints the ps table as of then (all containers). Status texts ("Up 3 minutes") are relative to the --until time, to the time of the last applied event when --until is a position, and to now otherwise.

Online (default) it asks the daemon (GET /tiny/replay). With --log FILE|DIR it reads a copied event log directly, offline, with no daemon: the log file, its directory, or a data root. Both print the same table for the same log. Replay only folds events; it never runs a driver.

--events prints each event with what it changed in the state; --container narrows to one container and adds its inspect document.`,

  examples: [
    '<%= config.bin %> replay --until 42',
    '<%= config.bin %> replay --until 2026-11-28T03:12:00Z --container web',
    '<%= config.bin %> replay --until 10m --events',
    '<%= config.bin %> replay --log /backup/mini-docker/events/events.log --until 120 --format json',
  ],

  json: true,

  flags: {
    until: flag.string({ summary: 'Replay up to this log position (an integer) or time (RFC 3339, unix seconds with a fraction, or relative like 10m).' }),
    container: flag.string({ summary: 'Show only this container (id, id prefix or name), with its inspect document.' }),
    format: flag.string({ summary: 'Output format.', options: ['table', 'json'], default: 'table' }),
    events: flag.boolean({ summary: 'Print each event with its effect on the state.' }),
    log: flag.string({ summary: 'Replay a copied event log offline (file, its directory, or a data root); no daemon needed.' }),
  },

  async run(ctx, { flags }) {
    let until: ReplayPoint | undefined;
    try {
      until = flags.until === undefined ? undefined : parseReplayPoint(flags.until);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const warn = (m: string): void => ctx.err(`warning: ${m}`);
    let state: EngineState;
    let trace: TraceEntry[] | undefined;
    if (flags.log !== undefined) {
      const offline = await import('../lib/offline-replay.js');
      const untilPosition = until && 'position' in until ? until.position : undefined;
      const folded = await foldEvents(offline, offline.readOfflineLog(flags.log, untilPosition, warn), until, flags.events);
      state = folded.state;
      trace = folded.trace;
    } else {
      const query = { until: until === undefined ? undefined : 'position' in until ? String(until.position) : until.time };
      state = await ctx.client.json<EngineState>('GET', '/tiny/replay', { query });
      if (flags.events) {
        const offline = await import('../lib/offline-replay.js');
        const target = state.position;
        const source = target === 0 ? emptySource() : ctx.client.stream<EventEnvelope>('GET', '/tiny/events', { query: { after: 0, until: String(target) } });
        const folded = await foldEvents(offline, source, { position: target }, true);
        trace = folded.trace;
      }
    }

    if (until && 'position' in until && state.position < until.position) throw new CliError(pastTheEnd(until.position, state.position));
    if (until && 'time' in until && Date.parse(until.time) > Date.parse(state.time) && Date.parse(until.time) > Date.now()) {
      ctx.err(`note: ${afterTheEnd(until.time, state)}`);
    }
    const now = referenceTime(state, until, Date.now());
    let only: ContainerState | undefined;
    if (flags.container !== undefined) {
      try {
        only = tryFindContainer(state, flags.container);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
    }
    const shownTrace = trace && flags.container !== undefined ? trace.filter((t) => matchesContainer(t, flags.container!, only)) : trace;
    const report: ReplayReport = {
      position: state.position,
      time: state.time,
      ...(only ? { container: replayInspect(only) } : flags.container === undefined ? { containers: Object.values(state.containers).map(replayInspect) } : {}),
      ...(shownTrace ? { events: shownTrace.map((t) => ({ event: t.envelope, effects: t.effects })) } : {}),
    };
    if (ctx.jsonEnabled) return report;

    if (flags.format === 'json') {
      ctx.out(JSON.stringify(report, null, 2));
    } else {
      for (const t of shownTrace ?? []) {
        ctx.out(eventHeadline(t.envelope));
        for (const line of t.effects) ctx.out(`    ${line}`);
      }
      if (shownTrace && shownTrace.length > 0) ctx.out('');
      ctx.err(`state as of position ${state.position} (${state.time})`);
      if (flags.container === undefined || only) process.stdout.write(renderReplayPs(state, now, only));
      if (only) ctx.out(`\n${JSON.stringify([replayInspect(only)], null, 4)}`);
    }
    if (flags.container !== undefined && !only) throw new CliError(`No such container: ${flags.container} (as of position ${state.position})`);
    return report;
  },
});

async function* emptySource(): AsyncGenerator<EventEnvelope> {
  // nothing to replay
}

/** Whether a traced event concerns the container the user named (by id, id prefix or any name it had). */
function matchesContainer(t: TraceEntry, ref: string, resolved: ContainerState | undefined): boolean {
  if (!t.containerId) return false;
  if (resolved) return t.containerId === resolved.id;
  const name = ref.replace(/^\//, '');
  return t.containerNames.includes(name) || (/^[0-9a-f]+$/.test(ref) && t.containerId.startsWith(ref));
}

/** Folds envelopes (stopping at `until`), recording each event's effect when asked. */
async function foldEvents(fold: Fold, source: AsyncIterable<EventEnvelope>, until: ReplayPoint | undefined, withTrace: boolean): Promise<{ state: EngineState; trace?: TraceEntry[] }> {
  let state = fold.initialState();
  const trace: TraceEntry[] = [];
  for await (const e of source) {
    if (isPast(e, until)) break;
    const before = state;
    state = fold.evolve(state, e);
    if (withTrace) {
      const containerId = e.streamId.startsWith('container-') ? e.streamId.slice('container-'.length) : undefined;
      const names = containerId ? [before.containers[containerId]?.name, state.containers[containerId]?.name].filter((n): n is string => n !== undefined) : [];
      trace.push({ envelope: e, effects: describeEffect(before, state), containerId, containerNames: names });
    }
    if (until && 'position' in until && e.position >= until.position) break;
  }
  return withTrace ? { state, trace } : { state };
}
