import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerStream, InvalidEventError, type EngineEvent, type EventEnvelope } from '../../events/index.js';
import { ConcurrencyError, type EventLog } from '../../core/eventlog/event-log.js';

/** What a conformance run needs from an adapter: a fresh, open log, and how to reopen and dispose of it. */
export interface EventLogFixture {
  readonly log: EventLog;
  /** Closes the log and opens it again from its storage; absent for adapters without storage. */
  readonly reopen?: () => Promise<EventLog>;
  dispose(): Promise<void>;
}

/** A 64-hex container id made from a small number, so tests read well. */
export function containerIdFor(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** Realistic container events, valid against the catalogue. */
export const sampleEvents = {
  created(n: number, name = `c${n}`): EngineEvent {
    return {
      type: 'ContainerCreated',
      data: {
        id: containerIdFor(n), name,
        image: { ref: 'busybox', id: `sha256:${'ab'.repeat(32)}` },
        config: {
          Cmd: ['sh', '-c', 'echo hello'], Entrypoint: null, Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          WorkingDir: '/', User: '', Hostname: containerIdFor(n).slice(0, 12), Tty: false, OpenStdin: false, StdinOnce: false,
          AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: { 'com.example.test': 'yes' },
        },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} }, Memory: 0 },
      },
    };
  },
  started(n: number, pid = 1000 + n): EngineEvent {
    return { type: 'ContainerStarted', data: { id: containerIdFor(n), pid, shimPid: pid - 1, drivers: ['storage.v1.overlayfs', 'isolator.v1.namespaces'] } };
  },
  exited(n: number, exitCode = 0): EngineEvent {
    return { type: 'ContainerExited', data: { id: containerIdFor(n), name: `c${n}`, exitCode, signal: null, oomKilled: false, finishedAt: '2026-11-28T16:04:51.592270080Z' } };
  },
  removed(n: number): EngineEvent {
    return { type: 'ContainerRemoved', data: { id: containerIdFor(n) } };
  },
};

async function collect(iterable: AsyncIterable<EventEnvelope>): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  for await (const envelope of iterable) out.push(envelope);
  return out;
}

const RFC3339_NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

/**
 * The behaviour every EventLog adapter must have. Call it from an adapter's test with a factory
 * that returns a fresh, open log; each test gets its own.
 */
export function eventLogConformance(name: string, factory: () => Promise<EventLogFixture>): void {
  const withLog = (title: string, body: (fixture: EventLogFixture) => Promise<void>): void => {
    it(title, async () => {
      const fixture = await factory();
      try {
        await body(fixture);
      } finally {
        await fixture.dispose();
      }
    });
  };
  const s1 = containerStream(containerIdFor(1));
  const s2 = containerStream(containerIdFor(2));

  describe(`EventLog conformance: ${name}`, () => {
    withLog('starts empty', async ({ log }) => {
      assert.equal(log.lastPosition(), 0);
      assert.equal(log.streamVersion(s1), 0);
      assert.deepEqual(await collect(log.read()), []);
    });

    withLog('appends and reads back in order, with gap-free positions and per-stream versions', async ({ log }) => {
      const a = await log.append(s1, [sampleEvents.created(1)], 'no-stream', { correlationId: 'req-1' });
      const b = await log.append(s2, [sampleEvents.created(2)], 'no-stream');
      const c = await log.append(s1, [sampleEvents.started(1)], 1);
      const appended = [...a, ...b, ...c];
      assert.deepEqual(appended.map((e) => e.position), [1, 2, 3]);
      assert.deepEqual(appended.map((e) => [e.streamId, e.streamVersion]), [[s1, 1], [s2, 1], [s1, 2]]);
      assert.deepEqual(appended.map((e) => e.type), ['ContainerCreated', 'ContainerCreated', 'ContainerStarted']);
      assert.equal(a[0]!.metadata.correlationId, 'req-1');
      assert.deepEqual(b[0]!.metadata, {});
      for (const e of appended) {
        assert.match(e.time, RFC3339_NANO);
        assert.equal(e.schemaVersion, 1);
      }
      assert.deepEqual(await collect(log.read()), appended);
      assert.equal(log.lastPosition(), 3);
      assert.equal(log.streamVersion(s1), 2);
      assert.equal(log.streamVersion(s2), 1);
    });

    withLog('stores a copy: changing the appended event afterwards changes nothing', async ({ log }) => {
      const event = sampleEvents.created(1);
      const pending = log.append(s1, [event], 'no-stream');
      (event.data as { name: string }).name = 'changed';
      await pending;
      const [stored] = await collect(log.read());
      assert.equal((stored!.data as { name: string }).name, 'c1');
    });

    withLog("'no-stream' succeeds only on a new stream", async ({ log }) => {
      await log.append(s1, [sampleEvents.created(1)], 'no-stream');
      await assert.rejects(log.append(s1, [sampleEvents.started(1)], 'no-stream'), (error: unknown) => {
        assert.ok(error instanceof ConcurrencyError);
        assert.equal(error.streamId, s1);
        assert.equal(error.expected, 'no-stream');
        assert.equal(error.actual, 1);
        return true;
      });
      assert.equal(log.lastPosition(), 1);
    });

    withLog('a numeric expected version must match the stream version (0 = no events yet)', async ({ log }) => {
      await log.append(s1, [sampleEvents.created(1)], 0);
      await log.append(s1, [sampleEvents.started(1)], 1);
      await assert.rejects(log.append(s1, [sampleEvents.exited(1)], 1), (error: unknown) => error instanceof ConcurrencyError && error.actual === 2);
      await assert.rejects(log.append(s1, [sampleEvents.exited(1)], 5), ConcurrencyError);
      await assert.rejects(log.append(s2, [sampleEvents.created(2)], 1), (error: unknown) => error instanceof ConcurrencyError && error.actual === 0);
      await log.append(s1, [sampleEvents.exited(1)], 2);
      assert.equal(log.streamVersion(s1), 3);
      assert.equal(log.lastPosition(), 3);
    });

    withLog("'any' skips the check", async ({ log }) => {
      await log.append(s1, [sampleEvents.created(1)], 'any');
      await log.append(s1, [sampleEvents.started(1)], 'any');
      assert.equal(log.streamVersion(s1), 2);
    });

    withLog('two appends with the same expected version in the same tick: exactly one wins, nothing of the other is stored', async ({ log }) => {
      await log.append(s1, [sampleEvents.created(1)], 'no-stream');
      const results = await Promise.allSettled([
        log.append(s1, [sampleEvents.started(1, 111)], 1),
        log.append(s1, [sampleEvents.removed(1)], 1),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      assert.ok(lost[0]!.reason instanceof ConcurrencyError);
      const stored = await collect(log.read());
      assert.deepEqual(stored.map((e) => e.type), ['ContainerCreated', 'ContainerStarted']);
      assert.equal(log.streamVersion(s1), 2);
      assert.equal(log.lastPosition(), 2);
    });

    withLog('many racing writers on one stream: one winner; writers on other streams are unaffected', async ({ log }) => {
      const racers = Array.from({ length: 10 }, (_, i) => log.append(s1, [sampleEvents.created(1, `racer-${i}`)], 'no-stream'));
      const bystander = log.append(s2, [sampleEvents.created(2)], 'no-stream');
      const results = await Promise.allSettled([...racers, bystander]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
      assert.equal(log.streamVersion(s1), 1);
      assert.equal(log.streamVersion(s2), 1);
      assert.deepEqual((await collect(log.read())).map((e) => e.position), [1, 2]);
    });

    withLog('a multi-event append is atomic: consecutive positions and versions, or nothing at all', async ({ log }) => {
      await log.append(s2, [sampleEvents.created(2)], 'no-stream');
      const envelopes = await log.append(s1, [sampleEvents.created(1), sampleEvents.started(1), sampleEvents.exited(1, 3)], 'no-stream');
      assert.deepEqual(envelopes.map((e) => [e.position, e.streamVersion]), [[2, 1], [3, 2], [4, 3]]);
      const bad = { type: 'ContainerRemoved', data: { id: 'not-hex' } } as EngineEvent;
      await assert.rejects(log.append(s1, [sampleEvents.removed(1), bad], 3), InvalidEventError);
      await assert.rejects(log.append(s1, [sampleEvents.removed(1), sampleEvents.removed(1)], 1), ConcurrencyError);
      assert.equal(log.lastPosition(), 4);
      assert.equal(log.streamVersion(s1), 3);
      assert.equal((await collect(log.read())).length, 4);
    });

    withLog('refuses invalid events with InvalidEventError and stores nothing', async ({ log }) => {
      await log.append(s1, [sampleEvents.created(1)], 'no-stream');
      const invalid: unknown[] = [
        { type: 'ContainerExploded', data: { id: containerIdFor(1) } },
        { type: 'ContainerStarted', data: { id: containerIdFor(1), pid: 'one', shimPid: 1, drivers: [] } },
        { type: 'ContainerStarted', data: { id: containerIdFor(1), pid: 1.5, shimPid: 1, drivers: [] } },
        { type: 'ContainerRemoved', data: null },
      ];
      for (const event of invalid) {
        await assert.rejects(log.append(s1, [event as EngineEvent], 1), InvalidEventError);
      }
      await assert.rejects(log.append(s1, [], 1), InvalidEventError);
      await assert.rejects(log.append('', [sampleEvents.started(1)], 1), InvalidEventError);
      await assert.rejects(log.append(s1, [sampleEvents.started(1)], -1), InvalidEventError);
      await assert.rejects(log.append(s1, [sampleEvents.started(1)], 1, { nested: { no: 1 } } as never), InvalidEventError);
      assert.equal(log.lastPosition(), 1);
      assert.equal(log.streamVersion(s1), 1);
      assert.deepEqual((await collect(log.read())).map((e) => e.type), ['ContainerCreated']);
      await log.append(s1, [sampleEvents.started(1)], 1);
      assert.equal(log.lastPosition(), 2);
    });

    withLog('reads a window with after and until', async ({ log }) => {
      for (let n = 1; n <= 5; n++) await log.append(containerStream(containerIdFor(n)), [sampleEvents.created(n)], 'no-stream');
      const positions = async (options: { after?: number; until?: number }): Promise<number[]> =>
        (await collect(log.read(options))).map((e) => e.position);
      assert.deepEqual(await positions({}), [1, 2, 3, 4, 5]);
      assert.deepEqual(await positions({ after: 2 }), [3, 4, 5]);
      assert.deepEqual(await positions({ until: 2 }), [1, 2]);
      assert.deepEqual(await positions({ after: 1, until: 3 }), [2, 3]);
      assert.deepEqual(await positions({ after: 4, until: 4 }), []);
      assert.deepEqual(await positions({ after: 5 }), []);
      assert.deepEqual(await positions({ after: 3, until: 99 }), [4, 5]);
    });

    withLog('reads far into a long log (past the sparse index steps), and stays consistent with appends during the read', async ({ log }) => {
      const total = 3000;
      await Promise.all(Array.from({ length: total }, (_, i) => log.append(containerStream(containerIdFor(i + 1)), [sampleEvents.created(i + 1)], 'no-stream')));
      assert.equal(log.lastPosition(), total);
      for (const after of [0, 1023, 1024, 1025, 2047, 2048, 2500, 2999]) {
        const read = await collect(log.read({ after }));
        assert.equal(read.length, total - after, `after ${after}`);
        assert.equal(read[0]!.position, after + 1);
      }
      const seen: number[] = [];
      for await (const e of log.read({ after: total - 2 })) {
        seen.push(e.position);
        if (seen.length === 1) await log.append(s1, [sampleEvents.started(1)], 'any');
      }
      assert.deepEqual(seen.slice(0, 2), [total - 1, total]);
      assert.ok(seen.every((p, i) => p === total - 1 + i), 'positions stay in order');
    });

    withLog('keeps everything across a reopen', async (fixture) => {
      if (!fixture.reopen) return;
      await fixture.log.append(s1, [sampleEvents.created(1), sampleEvents.started(1)], 'no-stream', { correlationId: 'c' });
      await fixture.log.append(s2, [sampleEvents.created(2)], 'no-stream');
      const before = await collect(fixture.log.read());
      const reopened = await fixture.reopen();
      assert.deepEqual(await collect(reopened.read()), before);
      assert.equal(reopened.lastPosition(), 3);
      assert.equal(reopened.streamVersion(s1), 2);
      assert.equal(reopened.streamVersion(s2), 1);
      await assert.rejects(reopened.append(s1, [sampleEvents.exited(1)], 1), ConcurrencyError);
      const [next] = await reopened.append(s1, [sampleEvents.exited(1)], 2);
      assert.equal(next!.position, 4);
      assert.equal(next!.streamVersion, 3);
    });
  });
}
