import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { containerStream, type EventEnvelope } from '../../events/index.js';
import type { EventLog } from '../../core/eventlog/event-log.js';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import { anchorOf, rebuild, type Fold } from '../../core/eventlog/rebuild.js';
import { SnapshotStore } from '../../core/eventlog/snapshot-store.js';
import { containerIdFor, sampleEvents } from './event-log-conformance.js';

/** A toy fold: live containers with their status, counts by event type, and the order events came in. */
interface ToyState {
  readonly containers: Readonly<Record<string, { name: string; status: string; exitCode: number | null; starts: number }>>;
  readonly counts: Readonly<Record<string, number>>;
  readonly checksum: number;
}

const toyFold: Fold<ToyState> = {
  version: 1,
  initial: () => ({ containers: {}, counts: {}, checksum: 0 }),
  evolve(state, event) {
    const containers = { ...state.containers };
    const counts = { ...state.counts, [event.type]: (state.counts[event.type] ?? 0) + 1 };
    // Order-sensitive, so a snapshot that skipped or repeated an event would show.
    const checksum = (state.checksum * 31 + event.position * 7 + event.streamVersion) % 1_000_000_007;
    switch (event.type) {
      case 'ContainerCreated':
        containers[event.data.id] = { name: event.data.name, status: 'created', exitCode: null, starts: 0 };
        break;
      case 'ContainerStarted': {
        const c = containers[event.data.id]!;
        containers[event.data.id] = { ...c, status: 'running', starts: c.starts + 1 };
        break;
      }
      case 'ContainerExited':
        containers[event.data.id] = { ...containers[event.data.id]!, status: 'exited', exitCode: event.data.exitCode };
        break;
      case 'ContainerRemoved':
        delete containers[event.data.id];
        break;
      default:
        break;
    }
    return { containers, counts, checksum };
  },
};

let scratch = '';
before(async () => {
  scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'snapshot-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});
let counter = 0;
async function freshDirectory(): Promise<string> {
  const directory = join(scratch, `case-${++counter}`);
  await mkdir(directory, { recursive: true });
  return directory;
}

/** Container lifecycles, interleaved: container n is created, started, exits and (mostly) is removed. */
async function appendLifecycles(log: EventLog, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++) {
    const stream = containerStream(containerIdFor(n));
    await log.append(stream, [sampleEvents.created(n)], 'no-stream');
    await log.append(stream, [sampleEvents.started(n)], 1);
    if (n % 3 !== 0) await log.append(stream, [sampleEvents.exited(n, n % 7)], 2);
    if (n % 4 === 1) await log.append(stream, [sampleEvents.removed(n)], 'any');
  }
}

async function lastEvent(log: EventLog, position: number): Promise<EventEnvelope> {
  for await (const event of log.read({ after: position - 1, until: position })) return event;
  throw new Error(`no event at ${position}`);
}

/** Saves a snapshot of the fold as of `position`, the way the daemon would. */
async function snapshotAt(log: EventLog, store: SnapshotStore, position: number, fold: Fold<ToyState> = toyFold): Promise<void> {
  const { state } = await rebuild(log, fold, undefined, { until: position });
  await store.save({ formatVersion: fold.version, position, anchor: anchorOf(await lastEvent(log, position)), state });
}

const adapters: readonly [string, (directory: string) => EventLog][] = [
  ['MemoryEventLog', () => new MemoryEventLog()],
  ['FileEventLog', (directory) => new FileEventLog(directory)],
];

describe('snapshots (unit)', () => {
  for (const [name, makeLog] of adapters) {
    it(`snapshot + tail equals a full replay, from any snapshot position (${name})`, async () => {
      const directory = await freshDirectory();
      const log = makeLog(directory);
      await log.open();
      try {
        await appendLifecycles(log, 1, 40);
        const store = new SnapshotStore(directory, { keep: 100 });
        const positions = [1, 2, 17, 64, log.lastPosition() - 1, log.lastPosition()];
        for (const position of positions) await snapshotAt(log, store, position);
        await appendLifecycles(log, 41, 60);
        const full = await rebuild(log, toyFold);
        assert.equal(full.snapshotPosition, null);
        assert.equal(full.eventsReplayed, log.lastPosition());
        // Newest first; removing it each time proves every snapshot position on its own.
        for (const position of [...positions].reverse()) {
          const fromSnapshot = await rebuild(log, toyFold, store);
          assert.equal(fromSnapshot.snapshotPosition, position);
          assert.equal(fromSnapshot.eventsReplayed, log.lastPosition() - position);
          assert.equal(fromSnapshot.position, full.position);
          assert.deepStrictEqual(fromSnapshot.state, full.state);
          await rm(join(store.directory, `state-${String(position).padStart(16, '0')}.snapshot`));
        }
      } finally {
        await log.close();
      }
    });
  }

  it('saves a snapshot after a long replay when asked, and the next rebuild starts from it', async () => {
    const directory = await freshDirectory();
    const log = new FileEventLog(directory);
    await log.open();
    try {
      await appendLifecycles(log, 1, 30);
      const store = new SnapshotStore(directory);
      const first = await rebuild(log, toyFold, store, { snapshotAfter: 50 });
      assert.equal(first.snapshotSaved, true);
      const second = await rebuild(log, toyFold, store, { snapshotAfter: 50 });
      assert.equal(second.snapshotPosition, log.lastPosition());
      assert.equal(second.eventsReplayed, 0);
      assert.equal(second.snapshotSaved, false);
      assert.deepStrictEqual(second.state, first.state);
    } finally {
      await log.close();
    }
  });

  it('ignores a snapshot of another fold version and replays instead', async () => {
    const directory = await freshDirectory();
    const log = new MemoryEventLog();
    await appendLifecycles(log, 1, 10);
    const store = new SnapshotStore(directory);
    await snapshotAt(log, store, log.lastPosition());
    const foldV2: Fold<ToyState> = { ...toyFold, version: 2 };
    const result = await rebuild(log, foldV2, store);
    assert.equal(result.snapshotPosition, null);
    assert.deepStrictEqual(result.state, (await rebuild(log, toyFold)).state);
  });

  it('skips a damaged snapshot with a warning and falls back to the previous one', async () => {
    const directory = await freshDirectory();
    const log = new MemoryEventLog();
    await appendLifecycles(log, 1, 10);
    const warnings: string[] = [];
    const store = new SnapshotStore(directory, { warn: (message) => warnings.push(message) });
    await snapshotAt(log, store, 5);
    await snapshotAt(log, store, 20);
    const newest = join(store.directory, `state-${String(20).padStart(16, '0')}.snapshot`);
    const text = await readFile(newest, 'utf8');
    await writeFile(newest, text.replace('"checksum":', '"checksun":'));
    const result = await rebuild(log, toyFold, store);
    assert.equal(result.snapshotPosition, 5);
    assert.match(warnings[0]!, /ignored snapshot .*state-0000000000000020\.snapshot: state does not match its length and checksum/);
    assert.deepStrictEqual(result.state, (await rebuild(log, toyFold)).state);
  });

  it('ignores a snapshot taken from another log (its anchor event differs)', async () => {
    const directory = await freshDirectory();
    const original = new MemoryEventLog();
    await appendLifecycles(original, 1, 10);
    const store = new SnapshotStore(directory);
    await snapshotAt(original, store, 12);
    const other = new MemoryEventLog();
    await appendLifecycles(other, 100, 110);
    const warnings: string[] = [];
    const result = await rebuild(other, toyFold, store, { warn: (message) => warnings.push(message) });
    assert.equal(result.snapshotPosition, null);
    assert.match(warnings[0]!, /ignored the snapshot at position 12: the log holds a different event there/);
  });

  it('rebuilds as of a position (replay --until) from a snapshot at or before it only', async () => {
    const directory = await freshDirectory();
    const log = new MemoryEventLog();
    await appendLifecycles(log, 1, 20);
    const store = new SnapshotStore(directory, { keep: 10 });
    await snapshotAt(log, store, 10);
    await snapshotAt(log, store, 30);
    for (const until of [5, 10, 25, 30, 40]) {
      const replayed = await rebuild(log, toyFold, store, { until });
      assert.equal(replayed.snapshotPosition, until >= 30 ? 30 : until >= 10 ? 10 : null, `until ${until}`);
      assert.equal(replayed.position, until);
      assert.deepStrictEqual(replayed.state, (await rebuild(log, toyFold, undefined, { until })).state);
    }
  });

  it('ignores a snapshot past the end of the log (a log restored from an older copy)', async () => {
    const directory = await freshDirectory();
    const log = new MemoryEventLog();
    await appendLifecycles(log, 1, 10);
    const store = new SnapshotStore(directory);
    await snapshotAt(log, store, log.lastPosition());
    const shorter = new MemoryEventLog();
    await appendLifecycles(shorter, 1, 5);
    const result = await rebuild(shorter, toyFold, store);
    assert.equal(result.snapshotPosition, null);
    assert.deepStrictEqual(result.state, (await rebuild(shorter, toyFold)).state);
  });

  it('keeps the newest snapshots only, leaves no temporary files, and keeps folds apart by name', async () => {
    const directory = await freshDirectory();
    const log = new MemoryEventLog();
    await appendLifecycles(log, 1, 10);
    const store = new SnapshotStore(directory, { keep: 2 });
    const images = new SnapshotStore(directory, { name: 'images' });
    await snapshotAt(log, images, 3);
    for (const position of [4, 8, 12, 16]) await snapshotAt(log, store, position);
    assert.deepEqual((await readdir(store.directory)).sort(), [
      'images-0000000000000003.snapshot', 'state-0000000000000012.snapshot', 'state-0000000000000016.snapshot',
    ]);
    const header = JSON.parse((await readFile(join(store.directory, 'state-0000000000000016.snapshot'), 'utf8')).split('\n')[0]!) as Record<string, unknown>;
    assert.equal(header.formatVersion, 1);
    assert.equal(header.position, 16);
    assert.throws(() => new SnapshotStore(directory, { name: '../escape' }), /must be letters/);
    const leftover = join(store.directory, '.state-0000000000000020.snapshot.999999999.0badc0de.tmp');
    await writeFile(leftover, 'half a snapshot');
    await snapshotAt(log, store, 20);
    await assert.rejects(readFile(leftover), /ENOENT/, 'a temporary file of a dead process is removed');
  });
});
