/**
 * Event log benchmark (not a test): durable append throughput, and the time to open the log and
 * rebuild a container-like fold from 100k and 1M events, without and with a snapshot. Prints one
 * JSON object. Run: `node dist/bench/event-log.bench.js` (scratch space in
 * TINY_DOCKER_BENCH_SCRATCH or the OS temp dir, ~400 MB, removed afterwards).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerStream, DAEMON_STREAM, type EngineEvent, type EventEnvelope } from '../events/index.js';
import { FileEventLog } from '../core/eventlog/file-event-log.js';
import { checkpointPathOf } from '../core/eventlog/log-checkpoint.js';
import { anchorOf, rebuild } from '../core/eventlog/rebuild.js';
import { ENGINE_FOLD } from '../core/engine/event-store.js';
import { SnapshotStore } from '../core/eventlog/snapshot-store.js';

const REBUILD_FLAG = '--rebuild';
/** How many events a daemon would replay past its last snapshot: it snapshots every this many. */
const SNAPSHOT_TAIL = 10_000;
const REBUILD_RUNS = 3;

// ---- realistic events ----
const idOf = (n: number): string => n.toString(16).padStart(64, '0');

function lifecycle(n: number): EngineEvent[] {
  const id = idOf(n);
  const events: EngineEvent[] = [
    {
      type: 'ContainerCreated',
      data: {
        id, name: `bench-${n}`, image: { ref: 'busybox:latest', id: `sha256:${'3f'.repeat(32)}` },
        config: {
          Cmd: ['sh', '-c', `echo run ${n}; sleep 1`], Entrypoint: null,
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `RUN=${n}`],
          WorkingDir: '/', User: '', Hostname: id.slice(0, 12), Tty: false, OpenStdin: false, StdinOnce: false,
          AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: { 'com.example.bench': 'true' },
        },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: { 'max-size': '10m' } }, Memory: 67_108_864, NanoCpus: 500_000_000, PidsLimit: 100 },
      },
    },
    { type: 'ContainerStarted', data: { id, pid: 10_000 + (n % 50_000), shimPid: 9_999 + (n % 50_000), drivers: ['storage.v1.overlayfs', 'limiter.v1.cgroup', 'isolator.v1.namespaces', 'log.v1.file'] } },
    { type: 'ContainerExited', data: { id, name: `c${n}`, exitCode: n % 5 === 0 ? 137 : 0, signal: n % 5 === 0 ? 9 : null, oomKilled: false, finishedAt: '2026-11-28T16:04:51.592270080Z' } },
  ];
  // One container in ten is kept (ps -a shows it); the others are removed.
  if (n % 10 !== 0) events.push({ type: 'ContainerRemoved', data: { id } });
  return events;
}

// ---- the fold: the engine's own (core/state/evolve.ts), as the daemon runs it on start ----
const containerFold = ENGINE_FOLD;

// ---- measurements ----
const since = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));
const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function durableSingleAppends(directory: string, count: number): Promise<Record<string, number>> {
  const log = new FileEventLog(directory);
  await log.open();
  const latencies: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const t = process.hrtime.bigint();
    await log.append(DAEMON_STREAM, [{ type: 'ContainerPaused', data: { id: idOf(i) } }], 'any');
    latencies.push(since(t));
  }
  const ms = since(start);
  await log.close();
  latencies.sort((a, b) => a - b);
  return { appends: count, appendsPerSecond: round(count / (ms / 1000)), p50Ms: round(latencies[Math.floor(count / 2)]!, 2), p99Ms: round(latencies[Math.floor(count * 0.99)]!, 2) };
}

async function durableBatchedAppends(directory: string, appends: number, eventsPerAppend: number): Promise<Record<string, number>> {
  const log = new FileEventLog(directory);
  await log.open();
  const start = process.hrtime.bigint();
  let n = 1;
  for (let i = 0; i < appends; i++) {
    const events: EngineEvent[] = [];
    while (events.length < eventsPerAppend) events.push(...lifecycle(n++));
    await log.append(DAEMON_STREAM, events.slice(0, eventsPerAppend), 'any');
  }
  const ms = since(start);
  await log.close();
  return { appends, eventsPerAppend, eventsPerSecond: round((appends * eventsPerAppend) / (ms / 1000)) };
}

/** Many writers at once, one event each: group commit puts what queued up into one write + fdatasync. */
async function concurrentAppends(directory: string, count: number, inFlight: number): Promise<Record<string, number>> {
  const log = new FileEventLog(directory);
  await log.open();
  const start = process.hrtime.bigint();
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < count) {
      const n = ++next;
      await log.append(containerStream(idOf(n)), [lifecycle(n)[0]!], 'no-stream');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, writer));
  const ms = since(start);
  await log.close();
  return { appends: count, concurrentWriters: inFlight, appendsPerSecond: round(count / (ms / 1000)) };
}

/** Appends container lifecycles until the log holds `target` events, in waves of concurrent appends (group commits). */
async function growLog(log: FileEventLog, target: number, nextContainer: number): Promise<number> {
  let n = nextContainer;
  while (log.lastPosition() < target) {
    const wave: Promise<unknown>[] = [];
    let planned = log.lastPosition();
    while (planned < target && wave.length < 10_000) {
      const events = lifecycle(n++).slice(0, target - planned);
      const stream = containerStream(idOf(n - 1));
      events.forEach((event, version) => wave.push(log.append(stream, [event], version)));
      planned += events.length;
    }
    await Promise.all(wave);
  }
  return n;
}

/** Saves the snapshot a daemon would have: the fold as of SNAPSHOT_TAIL events before the end. */
async function snapshotBeforeEnd(directory: string): Promise<number> {
  const log = new FileEventLog(directory);
  await log.open();
  const position = log.lastPosition() - SNAPSHOT_TAIL;
  const { state } = await rebuild(log, containerFold, undefined, { until: position });
  let anchor: EventEnvelope | null = null;
  for await (const event of log.read({ after: position - 1, until: position })) anchor = event;
  await new SnapshotStore(directory).save({ formatVersion: containerFold.version, position, anchor: anchorOf(anchor!), state });
  await log.close();
  return position;
}

interface RebuildFigures {
  openMs: number;
  rebuildMs: number;
  totalMs: number;
  eventsReplayed: number;
  liveContainers: number;
  rssMB: number;
}

/** Child mode: a daemon start, measured from a fresh process: open (lock, scan, checks) then rebuild. */
async function measureRebuild(directory: string, useSnapshot: boolean): Promise<RebuildFigures> {
  const start = process.hrtime.bigint();
  const log = new FileEventLog(directory);
  await log.open();
  const openMs = since(start);
  const result = await rebuild(log, containerFold, useSnapshot ? new SnapshotStore(directory) : undefined);
  const totalMs = since(start);
  await log.close();
  if (useSnapshot && result.snapshotPosition === null) throw new Error('the snapshot was not used');
  return {
    openMs: round(openMs), rebuildMs: round(totalMs - openMs), totalMs: round(totalMs), eventsReplayed: result.eventsReplayed,
    liveContainers: Object.keys(result.state.containers).length, rssMB: round(process.memoryUsage().rss / 2 ** 20),
  };
}

/** Median of REBUILD_RUNS daemon starts; without `checkpoint`, the log checkpoint is removed first so open() checks every record. */
async function rebuildInChild(directory: string, useSnapshot: boolean, checkpoint: boolean): Promise<RebuildFigures> {
  const runs: RebuildFigures[] = [];
  for (let i = 0; i < REBUILD_RUNS; i++) {
    if (!checkpoint) await rm(checkpointPathOf(join(directory, FileEventLog.FILE_NAME)), { force: true });
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), REBUILD_FLAG, directory, String(useSnapshot)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`rebuild child failed: ${child.stderr}`);
    runs.push(JSON.parse(child.stdout) as RebuildFigures);
  }
  const best = median(runs.map((r) => r.totalMs));
  return runs.find((r) => r.totalMs === best)!;
}

async function rebuildFigures(directory: string, events: number): Promise<Record<string, unknown>> {
  const logBytes = (await stat(join(directory, FileEventLog.FILE_NAME))).size;
  const fullReplay = await rebuildInChild(directory, false, true);
  const snapshotPosition = await snapshotBeforeEnd(directory);
  const withSnapshot = await rebuildInChild(directory, true, true);
  const withSnapshotNoCheckpoint = await rebuildInChild(directory, true, false);
  await rm(join(directory, 'snapshots'), { recursive: true, force: true });
  return {
    events, logMB: round(logBytes / 2 ** 20), snapshotPosition,
    /** open (log checkpoint) + fold every event */
    fullReplay,
    /** the daemon's start: open (log checkpoint) + snapshot + the last SNAPSHOT_TAIL events */
    withSnapshot,
    /** open checking every record (no log checkpoint: first start of a copied log, or a lost checkpoint) + snapshot + tail */
    withSnapshotNoCheckpoint,
  };
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(process.env.TINY_DOCKER_BENCH_SCRATCH ?? tmpdir(), 'event-log-bench-'));
  try {
    const appends = {
      durableOneEventPerAppend: await durableSingleAppends(join(scratch, 'single'), 1000),
      durableBatched: await durableBatchedAppends(join(scratch, 'batched'), 200, 100),
      durableConcurrent: await concurrentAppends(join(scratch, 'concurrent'), 20_000, 256),
    };
    const directory = join(scratch, 'rebuild');
    const rebuilds: Record<string, unknown>[] = [];
    let nextContainer = 1;
    for (const target of [100_000, 1_000_000]) {
      const log = new FileEventLog(directory);
      await log.open();
      const start = process.hrtime.bigint();
      const before = log.lastPosition();
      nextContainer = await growLog(log, target, nextContainer);
      const generateMs = since(start);
      await log.close();
      rebuilds.push({ ...(await rebuildFigures(directory, target)), generatedEventsPerSecond: round((target - before) / (generateMs / 1000)) });
    }
    console.log(JSON.stringify({ node: process.version, cpus: (await import('node:os')).cpus().length, appends, rebuilds }, null, 2));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === REBUILD_FLAG) {
  console.log(JSON.stringify(await measureRebuild(process.argv[3]!, process.argv[4] === 'true')));
} else {
  await main();
}
