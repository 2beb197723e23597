import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFilters } from '../../core/api/http-params.js';
import { presentContainerSummary } from '../../core/api/presenters.js';
import { buildTimeline, containerEventsFold, describeLimits, foldLog, lastEvents, limitsOf, MemoryHistory, presentUiState, recentEventsFold, ReplayCache, type HistorySource } from '../../core/api/ui-history.js';
import { ScanCache } from '../../core/api/ui-scan-cache.js';
import { parsePoint } from '../../core/api/ui-routes.js';
import { foldAll } from '../../core/state/evolve.js';
import { containerStream, type EngineEvent } from '../../events/index.js';
import { isLoopback, parseListen } from '../../cli/ui/ui-server.js';
import { containerCreated, envelopes } from '../fixtures/event-envelopes.js';

// Unit: what the web page of the event log is shown (core/api/ui-history.ts), computed from events
// alone, and the loopback rules of its server.

const ID = 'a'.repeat(63) + '1';
const ID2 = 'b'.repeat(63) + '2';

const created = (id: string, name: string, policy?: { Name: 'on-failure'; MaximumRetryCount: number }): EngineEvent =>
  containerCreated(id, name, { hostConfig: { Memory: 33_554_432, ...(policy ? { RestartPolicy: policy } : {}) } });
const started = (id: string, restart = false): EngineEvent => ({ type: 'ContainerStarted', data: { id, pid: 42, shimPid: 41, drivers: [], ...(restart ? { restart: true } : {}) } });
const exited = (id: string, exitCode: number, finishedAt: string, oomKilled = false): EngineEvent => ({ type: 'ContainerExited', data: { id, name: 'hog', exitCode, signal: oomKilled ? 9 : null, oomKilled, finishedAt } });

/** A life: created, started, OOM-killed and restarted by its policy, killed again, removed; a second container beside it. */
const LIFE = envelopes([
  created(ID, 'hog', { Name: 'on-failure', MaximumRetryCount: 1 }), // 1 @ :00
  started(ID), // 2 @ :01
  created(ID2, 'web'), // 3 @ :02
  exited(ID, 137, '2026-11-28T10:00:03.500Z', true), // 4 @ :03
  started(ID, true), // 5 @ :04
  started(ID2), // 6 @ :05
  exited(ID, 137, '2026-11-28T10:00:06Z', true), // 7 @ :06
  { type: 'ContainerLimitsUpdated', data: { id: ID2, limits: { Memory: 67_108_864, NanoCpus: 500_000_000 } } }, // 8 @ :07
  { type: 'ContainerRemoved', data: { id: ID } }, // 9 @ :08
]);

describe('unit: the web page of the event log (ui-history)', () => {
  it('a timeline: each step with the status after it, oom before died, the policy\'s restart, how long it ran', () => {
    const t = buildTimeline(ID, LIFE.filter((e) => e.streamId === containerStream(ID)), { position: 9, time: LIFE[8]!.time });
    assert.deepEqual(t.entries.map((e) => [e.position, e.kind, e.status]), [
      [1, 'created', 'created'], [2, 'started', 'running'], [4, 'oom', 'restarting'], [4, 'died', 'restarting'], [4, 'restarting', 'restarting'],
      [5, 'restarted', 'running'], [7, 'oom', 'exited'], [7, 'died', 'exited'], [9, 'removed', 'removed'],
    ]);
    const died = t.entries.filter((e) => e.kind === 'died');
    assert.deepEqual(died.map((e) => [e.exitCode, e.ranMs]), [[137, 2500], [137, 2000]]);
    assert.equal(t.entries[0]!.text, 'created as hog from busybox (memory 32 MiB)');
    assert.deepEqual(t.entries[0]!.limits, { Memory: 33_554_432 });
    assert.equal(t.name, 'hog');
    // The bar: one stretch per status, ending at the removal.
    assert.deepEqual(t.segments.map((s) => [s.status, s.from.slice(17, 19), s.to.slice(17, 19)]), [
      ['created', '00', '01'], ['running', '01', '03'], ['restarting', '03', '04'], ['running', '04', '06'], ['exited', '06', '08'],
    ]);
  });

  it('an update shows the limits in force after it', () => {
    const t = buildTimeline(ID2, LIFE.filter((e) => e.streamId === containerStream(ID2)), { position: 9, time: LIFE[8]!.time });
    const update = t.entries.find((e) => e.kind === 'update')!;
    assert.deepEqual(update.limits, { Memory: 67_108_864, NanoCpus: 500_000_000 });
    assert.equal(update.text, 'limits updated (memory 64 MiB, 0.5 CPUs, restart no)');
  });

  it('a failed start reads as one that never ran: its error and the State.ExitCode it left (the previous exit\'s 3), no exit of its own', () => {
    const log = envelopes([
      created(ID, 'hog'),
      started(ID),
      exited(ID, 3, '2026-11-28T10:00:02.500Z'),
      { type: 'ContainerStartFailed', data: { id: ID, driver: 'network.v1.bridge', message: 'network n not found', exitCode: 3 } },
    ]);
    const t = buildTimeline(ID, log, { position: 4, time: log[3]!.time });
    const failed = t.entries.find((e) => e.kind === 'start-failed')!;
    assert.equal(failed.text, 'start failed, the command never ran: network n not found (State.ExitCode now 3)');
    assert.equal(failed.exitCode, undefined, 'no exit code of its own: only deaths carry one');
    assert.deepEqual(t.entries.filter((e) => e.exitCode !== undefined).map((e) => [e.kind, e.exitCode]), [['died', 3]]);
  });

  it('MemoryHistory: the state at every position and at times equals the fold of the log up to there (checkpoints included)', async () => {
    const history = new MemoryHistory(LIFE, 2);
    for (let p = 0; p <= LIFE.length + 1; p++) {
      assert.deepEqual(await history.replay({ position: p }), foldAll(LIFE.slice(0, p)), `position ${p}`);
    }
    assert.deepEqual(await history.replay({ time: '2026-11-28T10:00:04.5Z' }), foldAll(LIFE.slice(0, 5)));
    assert.deepEqual(await history.replay({ time: '2026-11-28T09:00:00Z' }), foldAll([]));
    assert.deepEqual(history.current(), foldAll(LIFE));
    // A replay hands out a copy: folding on does not change what was handed out before.
    const at4 = await history.replay({ position: 4 });
    await history.replay({ position: 9 });
    assert.equal(at4.containers[ID]!.status, 'restarting');
    const seen: number[] = [];
    await history.scan(3, 6, (e) => seen.push(e.position));
    assert.deepEqual(seen, [4, 5, 6]);
    assert.equal(await history.firstTime(), LIFE[0]!.time);
  });

  it('presentUiState: ps\'s status texts relative to the point (as replay), newest first, limits and policy', async () => {
    const history = new MemoryHistory(LIFE);
    const state = await history.replay({ position: 6 });
    const ui = presentUiState(state, { position: 6 }, { nowMs: Date.now(), lastPosition: 9, lastTime: LIFE[8]!.time, firstTime: LIFE[0]!.time, live: false });
    assert.deepEqual(ui.containers.map((c) => c.name), ['web', 'hog']);
    const at = new Date(Date.parse(LIFE[5]!.time));
    assert.equal(ui.referenceTime, at.toISOString());
    assert.deepEqual(ui.containers.map((c) => c.status), [presentContainerSummary(state.containers[ID2]!, at).Status, presentContainerSummary(state.containers[ID]!, at).Status]);
    assert.equal(ui.containers[1]!.status, 'Up 1 second');
    assert.equal(ui.containers[1]!.restartCount, 1);
    assert.equal(ui.containers[1]!.restartPolicy, 'on-failure:1');
    assert.deepEqual(ui.containers[1]!.limits, { Memory: 33_554_432 });
    assert.equal(ui.position, 6);
    assert.equal(ui.lastPosition, 9);
  });

  it('lastEvents: events\' filters, the last `limit` kept, names of removed containers known', async () => {
    const history = new MemoryHistory(LIFE);
    const ooms = await lastEvents(history, 9, parseFilters('{"event":["oom"]}'), 10);
    assert.equal(ooms.matched, 2);
    assert.deepEqual(ooms.events.map((e) => [e.position, e.action, e.name]), [[4, 'oom', 'hog'], [7, 'oom', 'hog']]);
    const last = await lastEvents(history, 9, parseFilters('{"container":["hog"]}'), 3);
    assert.equal(last.matched, 8);
    assert.deepEqual(last.events.map((e) => [e.position, e.action]), [[7, 'oom'], [7, 'die'], [9, 'destroy']]);
    const before = await lastEvents(history, 3, parseFilters(null), 100);
    assert.deepEqual(before.events.map((e) => e.position), [1, 2, 3]);
  });

  it('ScanCache: a later ask reads only the events since the last one, and answers as a fold from the start would', async () => {
    const history = new MemoryHistory(LIFE);
    const scans: [number, number][] = [];
    const spy: HistorySource = { ...history, live: false, current: () => history.current(), replay: (p) => history.replay(p), firstTime: () => history.firstTime(),
      scan: (after, until, visit) => {
        scans.push([after, until]);
        return history.scan(after, until, visit);
      } };
    const cache = new ScanCache(spy, 2);
    const filters = parseFilters('{"container":["hog"]}');
    for (const until of [2, 4, 4, 7, 9]) {
      assert.deepEqual(await cache.run('hog events', until, recentEventsFold(filters, 3)), await lastEvents(history, until, filters, 3), `until ${until}`);
    }
    assert.deepEqual(scans, [[0, 2], [2, 4], [4, 4], [4, 7], [7, 9]]);
    // Back in the past: folded afresh, and the remembered position stays.
    scans.length = 0;
    assert.deepEqual(await cache.run('hog events', 3, recentEventsFold(filters, 3)), await lastEvents(history, 3, filters, 3));
    assert.deepEqual(await cache.run('hog events', 9, recentEventsFold(filters, 3)), await lastEvents(history, 9, filters, 3));
    assert.deepEqual(scans, [[0, 3], [9, 9]]);
    // Asks of one key run one after the other; beyond two keys the oldest is forgotten.
    const [a, b] = await Promise.all([cache.run('web', 6, containerEventsFold(ID2)), cache.run('web', 8, containerEventsFold(ID2))]);
    assert.deepEqual(a.map((e) => e.position), [3, 6]);
    assert.deepEqual(b.map((e) => e.position), [3, 6, 8]);
    assert.deepEqual(b, await foldLog(history, 8, containerEventsFold(ID2)));
    await cache.run('third', 1, containerEventsFold(ID));
    scans.length = 0;
    await cache.run('hog events', 9, recentEventsFold(filters, 3));
    assert.deepEqual(scans, [[0, 9]]);
  });

  it('ReplayCache: a position is folded on from the nearest state already made, equal to the fold from the start', async () => {
    const history = new MemoryHistory(LIFE);
    const scans: [number, number][] = [];
    const cache = new ReplayCache({ scan: (after, until, visit) => {
      scans.push([after, until]);
      return history.scan(after, until, visit);
    } }, 3);
    for (const p of [5, 7, 6, 2, 9, 12, 0, 4]) assert.deepEqual(await cache.at(p), foldAll(LIFE.slice(0, p)), `position ${p}`);
    assert.deepEqual(scans, [[0, 5], [5, 7], [5, 6], [0, 2], [7, 9], [9, 12], [0, 0], [2, 4]]);
    // What it handed out earlier does not change when it folds on.
    const at7 = await cache.at(7);
    await cache.at(9);
    assert.equal(at7.position, 7);
    assert.equal(at7.containers[ID]!.status, 'exited');
  });

  it('limits: only those set; described for people', () => {
    assert.deepEqual(limitsOf({ Memory: 0, NanoCpus: 250_000_000, CpusetCpus: '', PidsLimit: 64 }), { NanoCpus: 250_000_000, PidsLimit: 64 });
    assert.equal(describeLimits({}), 'no limits');
    assert.equal(describeLimits({ Memory: 1_610_612_736, PidsLimit: 64, CpusetCpus: '0-1' }), 'memory 1536 MiB, pids 64, CpusetCpus=0-1');
  });

  it('until: a position, an RFC 3339 time, or nothing; anything else is one clear error', () => {
    assert.deepEqual(parsePoint('12'), { position: 12 });
    assert.deepEqual(parsePoint('2026-11-28T10:00:00Z'), { time: '2026-11-28T10:00:00Z' });
    assert.equal(parsePoint(undefined), undefined);
    assert.throws(() => parsePoint('yesterday'), /invalid value for until: yesterday: expected a position or an RFC 3339 time/);
  });

  it('the server listens on loopback only', () => {
    assert.deepEqual(parseListen('127.0.0.1:7070'), { host: '127.0.0.1', port: 7070 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('localhost:1'), { host: 'localhost', port: 1 });
    assert.throws(() => parseListen('0.0.0.0:7070'), /loopback only/);
    assert.throws(() => parseListen('192.168.1.2:7070'), /loopback only/);
    assert.throws(() => parseListen('127.0.0.1:99999'), /invalid --listen/);
    assert.equal(isLoopback('127.3.4.5'), true);
    assert.equal(isLoopback('[::1]'), true);
    assert.equal(isLoopback('rebound.example'), false);
    assert.equal(isLoopback('127.0.0.1.nip.io'), false);
  });
});
